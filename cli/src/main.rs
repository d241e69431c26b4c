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
    /// Walk the first packet of a connection through the rules: every outcome with its
    /// probability, verdict, NAT and the path of rules it took.
    Trace(TraceArgs),
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

#[derive(Debug, clap::Args)]
struct TraceArgs {
    /// The rules; `-` reads standard input.
    file: PathBuf,
    #[arg(long)]
    src: std::net::IpAddr,
    #[arg(long)]
    dst: std::net::IpAddr,
    /// tcp, udp, sctp, … or a number.
    #[arg(long, default_value = "tcp")]
    proto: String,
    #[arg(long)]
    dport: u16,
    #[arg(long, default_value_t = 40000)]
    sport: u16,
    /// Where the packet enters; by default a local source is `local`, one in the pod network
    /// `pod`, anything else `outside`.
    #[arg(long, value_parser = ["outside", "pod", "local"])]
    from: Option<String>,
    /// The interface it arrives on (default: the node's external or pod interface).
    #[arg(long = "in")]
    in_iface: Option<String>,
    /// An address of the node (repeat for several); needed for `addrtype LOCAL`.
    #[arg(long = "local-ip")]
    local_ips: Vec<std::net::IpAddr>,
    /// Which packet of the connection: the first (decides NAT), a later one from the client,
    /// or the server's reply.
    #[arg(long, value_parser = ["first", "next", "reply"], default_value = "first")]
    packet: String,
    /// A `recent` list that already holds the source (session affinity set by an earlier
    /// connection, e.g. `KUBE-SEP-…`); repeat for several.
    #[arg(long = "recent")]
    recent: Vec<String>,
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Trace(args) => match read(&args.file) {
            Ok(text) => trace(&text, &args),
            Err(message) => {
                eprintln!("chainlens: {message}");
                ExitCode::from(2)
            }
        },
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

fn trace(text: &str, args: &TraceArgs) -> ExitCode {
    use chainlens_core::model::values::Protocol;
    use chainlens_core::sim::{Entry, NodeFacts, Packet, Simulator, Snat, Which};

    let parsed = parse(text);
    let protocol = match Protocol::parse(&args.proto) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chainlens: --proto: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut facts, mut assumptions) = NodeFacts::infer(&parsed.ruleset);
    facts.local_ips.extend(args.local_ips.iter().copied());
    facts
        .recent
        .extend(args.recent.iter().map(|name| (name.clone(), args.src)));
    if !args.local_ips.is_empty() {
        assumptions.retain(|a| !a.contains("own addresses are unknown"));
    }
    let entry = match args.from.as_deref() {
        Some("local") => Entry::Local,
        Some("pod") => Entry::Pod,
        Some(_) => Entry::Outside,
        None if facts.is_local(args.src) => Entry::Local,
        None if facts.pod_cidr.is_some_and(|c| c.contains(args.src)) => Entry::Pod,
        None => Entry::Outside,
    };
    let mut packet = Packet::new(args.src, args.dst, protocol, args.dport, entry);
    packet.sport = args.sport;
    packet.in_iface = args.in_iface.clone();
    let which = match args.packet.as_str() {
        "next" => Which::Next,
        "reply" => Which::Reply,
        _ => Which::First,
    };
    let sim = Simulator::new(&parsed.ruleset).trace(&packet, &facts, which);
    assumptions.extend(sim.assumptions.iter().cloned());
    let snat_text = |s: &Option<Snat>| match s {
        Some(Snat::Masquerade) => Some("masquerade".to_string()),
        Some(Snat::To(to)) => Some(to.clone()),
        None => None,
    };
    if args.json {
        let outcomes: Vec<serde_json::Value> = sim
            .outcomes
            .iter()
            .map(|o| {
                serde_json::json!({
                    "probability": o.probability,
                    "verdict": o.verdict,
                    "dnat": o.dnat,
                    "snat": snat_text(&o.snat),
                    "mark": o.mark,
                    "src": o.src,
                    "dst": o.dst,
                    "recent_set": o.recent_set,
                    "assumptions": o.assumptions,
                    "path": o.path.iter().map(|s| serde_json::json!({
                        "table": s.table, "chain": s.chain, "rule": s.rule.map_or(serde_json::json!("policy"), |r| serde_json::json!(r)), "action": s.action,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let out = serde_json::json!({ "assumptions": assumptions, "outcomes": outcomes });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        println!(
            "{} -> {}:{}/{} entering from {entry:?} ({} packet)",
            args.src, args.dst, args.dport, protocol, args.packet
        );
        for a in &assumptions {
            println!("  assumed: {a}");
        }
        for o in &sim.outcomes {
            let nat = [
                o.dnat.as_ref().map(|d| match which {
                    Which::Reply => format!("destination restored to {d}"),
                    _ => format!("DNAT to {d}"),
                }),
                snat_text(&o.snat).map(|s| match which {
                    Which::Reply => format!("source restored to {s}"),
                    _ => format!("SNAT {s}"),
                }),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            println!(
                "\n{:>8.4}%  {:?}  {} -> {}  {nat}",
                o.probability * 100.0,
                o.verdict,
                o.src,
                o.dst
            );
            for s in &o.path {
                let rule = s.rule.map_or("policy".to_string(), |r| format!("#{r}"));
                println!(
                    "           {:<7} {:<28} {:>6}  {}",
                    s.table, s.chain, rule, s.action
                );
            }
            for a in &o.assumptions {
                println!("           assumed: {a}");
            }
        }
    }
    ExitCode::SUCCESS
}
