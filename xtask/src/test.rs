//! `cargo xtask test`: every check CI runs, in order, ending with one line
//! `N passed, N failed` over all suites. Exits non-zero if anything failed.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{bundle, root, run as run_cmd, serve, setup};

#[derive(Debug, Default)]
struct Tally {
    passed: usize,
    failed: usize,
    lines: Vec<String>,
}

impl Tally {
    /// A check that is one pass or one failure (fmt, clippy, a build).
    fn check(&mut self, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                self.lines.push(format!("ok      {name}"));
            }
            Err(e) => {
                self.failed += 1;
                self.lines.push(format!("FAILED  {name}: {e}"));
            }
        }
    }

    /// A suite of many tests.
    fn suite(&mut self, name: &str, result: Result<(usize, usize), String>) {
        match result {
            Ok((passed, failed)) => {
                self.passed += passed;
                self.failed += failed;
                let status = if failed == 0 { "ok    " } else { "FAILED" };
                self.lines.push(format!(
                    "{status}  {name}: {passed} passed, {failed} failed"
                ));
            }
            Err(e) => {
                self.failed += 1;
                self.lines.push(format!("FAILED  {name}: {e}"));
            }
        }
    }
}

pub fn run() -> Result<(), String> {
    let started = std::time::Instant::now();
    setup::web_tools()?;
    setup::browser()?;
    // Every suite reads the shared fixtures through this one variable.
    let shared = crate::shared_dir()?;
    eprintln!("xtask: shared test data at {}", shared.display());

    let mut tally = Tally::default();
    tally.check(
        "rustfmt",
        run_cmd("cargo", &["fmt", "--all", "--", "--check"]),
    );
    tally.check(
        "clippy",
        run_cmd(
            "cargo",
            &[
                "clippy",
                "--quiet",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
    );
    tally.suite("native tests", cargo_tests(&shared));
    match crate::kernel::differential(&shared) {
        Ok(Ok(counts)) => tally.suite("simulator vs the real kernel (ktrace.py)", Ok(counts)),
        Ok(Err(why)) => tally
            .lines
            .push(format!("NOT RUN simulator vs the real kernel: {why}")),
        Err(e) => tally.suite("simulator vs the real kernel (ktrace.py)", Err(e)),
    }
    tally.check(
        "core builds for wasm32",
        run_cmd(
            "cargo",
            &[
                "build",
                "--quiet",
                "-p",
                "chainlens-core",
                "--target",
                "wasm32-unknown-unknown",
            ],
        ),
    );
    let bundle = bundle::build();
    let bundled = bundle.is_ok();
    tally.check("release bundle", bundle.map(|_| ()));
    if bundled {
        tally.suite("e2e (Playwright, Chromium)", e2e(&shared));
    } else {
        tally
            .lines
            .push("skipped e2e: there is no bundle to test".into());
    }
    println!(
        "\n== cargo xtask test ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    for line in &tally.lines {
        println!("{line}");
    }
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 {
        Ok(())
    } else {
        Err(format!("{} failed", tally.failed))
    }
}

/// Runs the workspace's native tests, echoing their output, and adds up their result lines.
fn cargo_tests(shared: &Path) -> Result<(usize, usize), String> {
    eprintln!("$ cargo test --no-fail-fast --workspace --exclude chainlens-app");
    let mut child = Command::new("cargo")
        .args([
            "test",
            "--no-fail-fast",
            "--workspace",
            "--exclude",
            "chainlens-app",
        ])
        .env("CHAINLENS_SHARED", shared)
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start cargo test: {e}"))?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count(rest, " passed");
                failed += count(rest, " failed");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() && failed == 0 {
        return Err(format!(
            "cargo test failed ({status}) before reporting a failing test"
        ));
    }
    Ok((passed, failed))
}

/// The number before `word` in a line like `ok. 13 passed; 0 failed; …`.
fn count(line: &str, word: &str) -> usize {
    line.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(word.trim_start())
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Serves `dist/` on a free loopback port and runs the Playwright suite against it.
fn e2e(shared: &Path) -> Result<(usize, usize), String> {
    // The suite runs the CLI (a share link it writes must open in the app): built here, so no
    // test waits on a compile inside its own timeout.
    eprintln!("$ cargo build --quiet -p chainlens");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "chainlens"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !built.success() {
        return Err(format!("building the CLI failed ({built})"));
    }
    let (url, _server) = serve::start(0)?;
    let report = root().join("target/e2e-results.json");
    let _ = std::fs::remove_file(&report);
    eprintln!("$ playwright test (BASE_URL={url})");
    let status = Command::new(root().join("node_modules/.bin/playwright"))
        .args(["test", "--config", "e2e/playwright.config.mjs"])
        .env("BASE_URL", &url)
        .env("E2E_JSON", &report)
        .env("CHAINLENS_SHARED", shared)
        .env("CHAINLENS_CLI", root().join("target/debug/chainlens"))
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start playwright: {e}"))?;
    let json = std::fs::read_to_string(&report)
        .map_err(|e| format!("no Playwright report ({status}): {e}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| format!("Playwright report: {e}"))?;
    let stat = |k: &str| value["stats"][k].as_u64().unwrap_or(0) as usize;
    // A flaky or skipped test is not a pass.
    let failed = stat("unexpected") + stat("flaky") + stat("skipped");
    if !status.success() && failed == 0 {
        return Err(format!(
            "playwright failed ({status}) without a failing test: {}",
            value["errors"]
        ));
    }
    Ok((stat("expected"), failed))
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn reads_cargo_result_lines() {
        let line =
            "ok. 13 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s";
        assert_eq!((count(line, " passed"), count(line, " failed")), (13, 2));
        assert_eq!(count("FAILED. 4 passed; 1 failed; 0 ignored", " failed"), 1);
    }
}
