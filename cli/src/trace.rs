//! `chainlens trace`: one packet walked through the rules, every outcome with its path.

use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::model::values::Protocol;
use chainlens_core::parse;
use chainlens_core::sim::{Entry, NodeFacts, Packet, Simulation, Simulator, Snat, Which};

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The rules; `-` reads standard input.
    pub file: PathBuf,
    #[command(flatten)]
    pub packet: PacketArgs,
    #[arg(long)]
    json: bool,
}

/// The packet and the node facts, as options (shared by `trace` and `diff`).
#[derive(Debug, clap::Args)]
pub struct PacketArgs {
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
}

/// A packet walked through one paste: what was assumed and every outcome.
pub struct Traced {
    pub which: Which,
    pub entry: Entry,
    pub assumptions: Vec<String>,
    pub simulation: Simulation,
}

pub fn trace(text: &str, args: &TraceArgs) -> ExitCode {
    match run(text, &args.packet) {
        Ok(traced) if args.json => print_json(&traced),
        Ok(traced) => print_text(&args.packet, &traced),
        Err(message) => {
            eprintln!("chainlens: {message}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// Parses `text` and walks the packet `args` describe through it.
pub fn run(text: &str, args: &PacketArgs) -> Result<Traced, String> {
    let parsed = parse(text);
    let protocol = Protocol::parse(&args.proto).map_err(|e| format!("--proto: {e}"))?;
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
    let simulation = Simulator::new(&parsed.ruleset).trace(&packet, &facts, which);
    assumptions.extend(simulation.assumptions.iter().cloned());
    Ok(Traced {
        which,
        entry,
        assumptions,
        simulation,
    })
}

fn snat_text(s: &Option<Snat>) -> Option<String> {
    match s {
        Some(Snat::Masquerade) => Some("masquerade".to_string()),
        Some(Snat::To(to)) => Some(to.clone()),
        None => None,
    }
}

fn print_json(t: &Traced) {
    let outcomes: Vec<serde_json::Value> = t
        .simulation
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
    let out = serde_json::json!({ "assumptions": t.assumptions, "outcomes": outcomes });
    say!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}

pub fn print_text(args: &PacketArgs, t: &Traced) {
    say!(
        "{} -> {}:{}/{} entering from {:?} ({} packet)",
        args.src,
        args.dst,
        args.dport,
        args.proto,
        t.entry,
        args.packet
    );
    for a in &t.assumptions {
        say!("  assumed: {a}");
    }
    for o in &t.simulation.outcomes {
        let nat = [
            o.dnat.as_ref().map(|d| match t.which {
                Which::Reply => format!("destination restored to {d}"),
                _ => format!("DNAT to {d}"),
            }),
            snat_text(&o.snat).map(|s| match t.which {
                Which::Reply => format!("source restored to {s}"),
                _ => format!("SNAT {s}"),
            }),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        say!(
            "\n{:>8.4}%  {:?}  {} -> {}  {nat}",
            o.probability * 100.0,
            o.verdict,
            o.src,
            o.dst
        );
        for s in &o.path {
            let rule = s.rule.map_or("policy".to_string(), |r| format!("#{r}"));
            say!(
                "           {:<7} {:<28} {:>6}  {}",
                s.table,
                s.chain,
                rule,
                s.action
            );
        }
        for a in &o.assumptions {
            say!("           assumed: {a}");
        }
    }
}
