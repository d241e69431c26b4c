//! `chainlens`: the browser app's analysis on the command line, for terminals, CI and docs.

use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::text::LineIndex;
use chainlens_core::{Severity, Summary, parse};
use clap::{Parser, Subcommand};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(
    name = "chainlens",
    version,
    about = "See what kube-proxy's iptables rules do"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read a paste (iptables-save output or a fragment of it) and report what was read:
    /// the format, per-table counts, and diagnostics with line:column. Exits 1 on errors.
    Check {
        /// The file to read; `-` reads standard input.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { file, json } => match read(&file) {
            Ok(text) => check(&text, &file.display().to_string(), json),
            Err(message) => {
                eprintln!("chainlens: {message}");
                ExitCode::from(2)
            }
        },
    }
}

fn read(path: &PathBuf) -> Result<String, String> {
    let bytes = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
    } else {
        std::fs::read(path)
    }
    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // Bytes that are not UTF-8 become U+FFFD and are reported by the parser, not refused here.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Serialize)]
struct CheckJson<'a> {
    format: &'static str,
    tables: &'a [chainlens_core::summary::TableCount],
    diagnostics: Vec<DiagnosticJson<'a>>,
}

#[derive(Serialize)]
struct DiagnosticJson<'a> {
    severity: Severity,
    code: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
    help: Option<&'a str>,
}

fn check(text: &str, name: &str, json: bool) -> ExitCode {
    let parsed = parse(text);
    let summary = Summary::of(&parsed);
    let index = LineIndex::new(text);
    if json {
        let out = CheckJson {
            format: summary.format,
            tables: &summary.tables,
            diagnostics: parsed
                .diagnostics
                .iter()
                .map(|d| {
                    let at = index.line_col(text, d.span.start);
                    DiagnosticJson {
                        severity: d.severity,
                        code: d.code,
                        line: at.line,
                        column: at.column,
                        message: &d.message,
                        help: d.help.as_deref(),
                    }
                })
                .collect(),
        };
        match serde_json::to_string_pretty(&out) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("chainlens: {e}"),
        }
    } else {
        for d in &parsed.diagnostics {
            print!("{name}: {}", d.render(text, &index));
        }
        println!("{name}: {}: {summary}", summary.format);
    }
    if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
