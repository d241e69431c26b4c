//! `chainlens`: the browser app's analysis on the command line, for terminals, CI and docs.

use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::text::LineIndex;
use chainlens_core::{Severity, Summary};
use clap::{Parser, Subcommand};
use serde::Serialize;

/// `println!` through [`output::out`]: printable, quiet on a closed pipe, loud on other
/// write errors.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::output::out(&line);
    }};
}

/// `eprintln!("chainlens: …")` through [`output::err`].
macro_rules! warn {
    ($($arg:tt)*) => {
        $crate::output::err(&format!($($arg)*))
    };
}

mod analyze;
mod conntrack;
mod output;
mod render;
mod trace;

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
    /// Walk the first packet of a connection through the rules: every outcome with its
    /// probability, verdict, NAT and the path of rules it took.
    Trace(trace::TraceArgs),
    /// Read the rules in Kubernetes terms: Services, their endpoints with the probability
    /// each gets, and findings (what is wrong or worth knowing), each pointing at its rules.
    Analyze {
        /// The rules; `-` reads standard input.
        file: PathBuf,
        /// An address of the node (repeat for several): lets the NodePort probes use it.
        #[arg(long = "local-ip")]
        local_ips: Vec<std::net::IpAddr>,
        #[arg(long)]
        json: bool,
    },
    /// Model the conntrack table and SNAT port pools over time for traffic to one Service
    /// address: entries, refusals, when the pools fill; optionally with a measured log.
    Conntrack(conntrack::ConntrackArgs),
    /// Draw a view for static docs: the chain graph (svg, mermaid, dot), a Service's cascade
    /// (svg), the conntrack curve (svg), or the analysis as Markdown.
    Render(render::RenderArgs),
    /// Print a link that opens this analysis in the app (everything in the URL fragment,
    /// which browsers never send to a server).
    Share(render::ShareArgs),
    /// Say in plain language what a chain is for and what each of its rules (or one rule) does.
    Explain {
        /// The rules; `-` reads standard input.
        file: PathBuf,
        /// The chain, e.g. KUBE-SEP-V7KWRXXOBQHQVWAT.
        #[arg(long)]
        chain: String,
        /// The table (default: the first that has the chain).
        #[arg(long)]
        table: Option<String>,
        /// Only this rule (1-based, as in the kernel's trace).
        #[arg(long)]
        rule: Option<usize>,
    },
    /// Compare two rulesets: Services and endpoints that differ, rules only in one, and
    /// optionally the same packet traced through both.
    Diff(analyze::DiffArgs),
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
        Command::Trace(args) => with_text(&args.file, |text| trace::trace(&text, &args)),
        Command::Analyze {
            file,
            local_ips,
            json,
        } => with_text(&file, |text| {
            analyze::analyze(&text, &file.display().to_string(), &local_ips, json)
        }),
        Command::Render(args) => with_text(&args.file, |text| {
            render::render(&text, &args.file.display().to_string(), &args)
        }),
        Command::Share(args) => with_text(&args.file, |text| render::share(&text, &args)),
        Command::Conntrack(args) => {
            with_text(&args.file, |text| conntrack::conntrack(&text, &args))
        }
        Command::Explain {
            file,
            chain,
            table,
            rule,
        } => with_text(&file, |text| {
            analyze::explain(&text, &chain, table.as_deref(), rule)
        }),
        Command::Diff(args) => with_text(&args.a, |a| {
            with_text(&args.b, |b| analyze::diff(&a, &b, &args))
        }),
        Command::Check { file, json } => with_text(&file, |text| {
            check(&text, &file.display().to_string(), json)
        }),
    }
}

/// Runs `then` on the file's text, or says why it cannot be read (exit status 2).
fn with_text(path: &PathBuf, then: impl FnOnce(String) -> ExitCode) -> ExitCode {
    match read(path) {
        Ok(text) => then(text),
        Err(message) => {
            warn!("{message}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn read(path: &PathBuf) -> Result<String, String> {
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
    let parsed = chainlens_core::read(text);
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
            Ok(s) => say!("{s}"),
            Err(e) => warn!("{e}"),
        }
    } else {
        for d in &parsed.diagnostics {
            output::out(&format!("{name}: {}", d.render(text, &index)));
        }
        say!("{name}: {}: {summary}", summary.format);
    }
    if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
