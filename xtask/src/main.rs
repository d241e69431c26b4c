//! `cargo xtask`: the single source of truth for setting up, building, serving and testing
//! chainlens. CI runs `cargo xtask test`, exactly what a person runs.

mod bench;
mod bundle;
mod dumps;
mod kernel;
mod serve;
mod setup;
mod test;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  serve [--port N] [--no-build]   install what is missing, build the release bundle, serve it on 127.0.0.1
  test                            everything CI runs: fmt, clippy, tests, wasm32 check, bundle, e2e
  bundle                          build the release bundle into dist/ and report its size
  bench                           parse benchmarks: native, iptables-xml, and in the browser
  kernel                          the simulator against the real kernel (root; network namespaces)
  dump SERVICES [ENDPOINTS]       print a kube-proxy-shaped iptables-save dump (3 endpoints by default)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve::run(&args[1..]),
        Some("test") => test::run(),
        Some("bench") => bench::run_all(),
        Some("kernel") => shared_dir().and_then(|shared| match kernel::differential(&shared)? {
            Ok((passed, failed)) => {
                println!("{passed} passed, {failed} failed");
                if failed == 0 {
                    Ok(())
                } else {
                    Err(format!("{failed} kernel paths differ"))
                }
            }
            Err(why) => Err(format!("cannot run here: {why}")),
        }),
        Some("bundle") => setup::web_tools().and_then(|()| bundle::build().map(|_| ())),
        Some("dump") => {
            let num = |i: usize, default: usize| {
                args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
            };
            let text = dumps::kube_proxy_dump(num(1, 1000), num(2, 3));
            use std::io::Write as _;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write the dump: {e}"))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The shared test data (`shared/`, with `fixtures/seeds/`): `$CHAINLENS_SHARED` if set, else
/// the nearest `shared/` beside the repository or one of its ancestors.
pub fn shared_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CHAINLENS_SHARED") {
        return Ok(PathBuf::from(dir));
    }
    root()
        .ancestors()
        .map(|a| a.join("shared"))
        .find(|s| s.join("fixtures/seeds").is_dir())
        .ok_or_else(|| {
            "cannot find the shared test data: put `shared/` beside the repository or set CHAINLENS_SHARED=/path/to/shared".into()
        })
}

/// Runs a command in the repository root, echoing it, and fails with its exit status.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Runs a command and returns its standard output, echoing nothing.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
