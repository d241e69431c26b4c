//! Installs only what is missing, at the versions the repository pins: the wasm target, the
//! wasm-bindgen CLI at the Cargo.lock version, the npm tools from package-lock.json, and
//! Debian's Chromium for the browser tests.

use std::path::Path;

use crate::{output, root, run};

/// Everything needed to build the web bundle.
pub fn web_tools() -> Result<(), String> {
    wasm_target()?;
    wasm_bindgen_cli()?;
    npm_tools()
}

/// Everything `cargo xtask test` needs on top of the web tools.
pub fn browser() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// Installs Debian packages when running as root; otherwise says what to run.
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    if output("id", &["-u"]).is_none_or(|u| u.trim() != "0") {
        return Err(format!(
            "missing Debian packages: run `sudo apt-get install -y --no-install-recommends {}`",
            packages.join(" ")
        ));
    }
    run("apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run("apt-get", &args)
}

fn wasm_target() -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])
}

/// The CLI must be the exact version of the `wasm-bindgen` crate in Cargo.lock.
fn wasm_bindgen_cli() -> Result<(), String> {
    let wanted = locked_version("wasm-bindgen")?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(wanted.as_str()) {
        return Ok(());
    }
    eprintln!("xtask: installing wasm-bindgen-cli {wanted} (about 5 minutes on 2 cores)");
    // Not --locked: the CLI's own lockfile pins a crate version the registry no longer serves.
    // --force: cargo may still list the package as installed after its binary went away.
    run(
        "cargo",
        &[
            "install",
            "--force",
            "wasm-bindgen-cli",
            "--version",
            &wanted,
        ],
    )
}

fn npm_tools() -> Result<(), String> {
    let bin = root().join("node_modules/.bin");
    if bin.join("wasm-opt").exists() && bin.join("playwright").exists() {
        return Ok(());
    }
    eprintln!("$ npm ci");
    // Playwright must never download a browser of its own; the tests use Debian's Chromium.
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm ci failed ({status})"))
    }
}

/// The version of `package` in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}
