//! `chainlens trace`: one packet walked through the rules, every outcome with its path.

use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::model::values::Protocol;
use chainlens_core::read;
use chainlens_core::sim::{Assumption, Entry, Query, Traced, Verdict, Which};

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

impl PacketArgs {
    /// The options as the core's query.
    pub fn query(&self) -> Result<Query, String> {
        let protocol = Protocol::parse(&self.proto).map_err(|e| format!("--proto: {e}"))?;
        let mut q = Query::new(self.src, self.dst, protocol, self.dport);
        q.sport = self.sport;
        q.from = self.from.as_deref().map(|f| match f {
            "local" => Entry::Local,
            "pod" => Entry::Pod,
            _ => Entry::Outside,
        });
        q.in_iface = self.in_iface.clone();
        q.local_ips = self.local_ips.clone();
        q.which = match self.packet.as_str() {
            "next" => Which::Next,
            "reply" => Which::Reply,
            _ => Which::First,
        };
        q.recent = self.recent.clone();
        Ok(q)
    }
}

pub fn trace(text: &str, args: &TraceArgs) -> ExitCode {
    let query = match args.packet.query() {
        Ok(q) => q,
        Err(message) => {
            warn!("{message}");
            return ExitCode::from(2);
        }
    };
    let parsed = read(text);
    let traced = query.trace(&parsed.ruleset);
    if args.json {
        print_json(&traced);
    } else {
        print_text(&traced);
    }
    ExitCode::SUCCESS
}

fn entry_text(e: Entry) -> &'static str {
    match e {
        Entry::Outside => "outside the node",
        Entry::Pod => "a pod",
        Entry::Local => "the node itself",
    }
}

fn which_text(w: Which) -> &'static str {
    match w {
        Which::First => "first packet",
        Which::Next => "a later packet",
        Which::Reply => "the reply",
    }
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "accepted",
        Verdict::Drop => "dropped",
        Verdict::Reject => "rejected",
        Verdict::Unknown => "unknown",
    }
}

fn print_json(t: &Traced<'_>) {
    let outcomes: Vec<serde_json::Value> = t
        .simulation
        .outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "probability": o.probability,
                "paths": o.paths,
                "verdict": o.verdict,
                "dnat": o.dnat,
                "snat": o.snat.map(|s| s.to_string()),
                "mark": o.mark,
                "src": o.src,
                "dst": o.dst,
                "recent_set": o.recent_set,
                "looped_at": o.looped_at,
                "assumptions": o.assumptions.iter().map(|a| serde_json::json!({
                    "what": a, "says": a.to_string(),
                })).collect::<Vec<_>>(),
                "path": o.path.iter().map(|s| serde_json::json!({
                    "hook": s.hook, "table": s.table, "chain": s.chain,
                    "rule": match s.rule {
                        Some(r) => serde_json::json!(r),
                        None => serde_json::json!(Some(s.position()).filter(|p| !p.is_empty())),
                    },
                    "action": s.effect.to_string(), "effect": s.effect,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let assumptions: Vec<String> = t
        .inferred
        .iter()
        .map(ToString::to_string)
        .chain(t.simulation.assumptions.iter().map(ToString::to_string))
        .collect();
    let out = serde_json::json!({
        "assumptions": assumptions,
        "outcomes": outcomes,
        "unexplored": t.simulation.unexplored.iter().map(|u| serde_json::json!({
            "probability": u.probability, "branches": u.branches, "why": u.why, "says": u.to_string(),
        })).collect::<Vec<_>>(),
    });
    say!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}

pub fn print_text(t: &Traced<'_>) {
    let p = &t.packet;
    say!(
        "{} -> {} /{} entering from {} ({})",
        std::net::SocketAddr::new(p.src, p.sport),
        std::net::SocketAddr::new(p.dst, p.dport),
        p.protocol,
        entry_text(p.entry),
        which_text(t.which)
    );
    for a in &t.inferred {
        say!("  assumed: {a}");
    }
    for a in &t.simulation.assumptions {
        say!("  assumed: {a}");
    }
    for o in &t.simulation.outcomes {
        let nat = [
            o.dnat.map(|d| match t.which {
                Which::Reply => format!("destination restored to {d}"),
                _ => format!("DNAT to {d}"),
            }),
            o.snat.map(|s| match t.which {
                Which::Reply => format!("source restored to {s}"),
                _ => format!("SNAT {s}"),
            }),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let paths = if o.paths > 1 {
            format!(
                "  ({} paths alike; the likeliest shown)",
                if o.paths == u64::MAX {
                    "very many".to_string()
                } else {
                    o.paths.to_string()
                }
            )
        } else {
            String::new()
        };
        say!(
            "\n{:>8.4}%  {}  {} -> {}  {nat}{paths}",
            o.probability * 100.0,
            verdict_text(o.verdict),
            o.src,
            o.dst
        );
        for (i, s) in o.path.iter().enumerate() {
            if o.looped_at == Some(i) {
                say!("           -- out through lo and in again --");
            }
            if i == 0 || o.looped_at == Some(i) || o.path[i - 1].hook != s.hook {
                say!("         {}", s.hook.chain());
            }
            let rule = format!("{}{}", s.position(), assumed(s));
            let draw = o.chance(i).map_or(String::new(), |p| {
                format!("  (random draw: {:.4}%)", p * 100.0)
            });
            say!(
                "           {:<7} {:<28} {:>6}  {}{draw}",
                s.table,
                s.chain,
                rule,
                s.effect
            );
        }
        let mut either = Vec::new();
        for a in &o.assumptions {
            match a {
                Assumption::Either { test } => either.push(test.to_string()),
                a => say!("           assumed: {a}"),
            }
        }
        if !either.is_empty() {
            let shown: Vec<&str> = either.iter().take(5).map(String::as_str).collect();
            let more = either.len().saturating_sub(shown.len());
            say!(
                "           {} tests the rules cannot decide make no difference here: {}{}",
                either.len(),
                shown.join("; "),
                if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    for u in &t.simulation.unexplored {
        say!("\n  not followed: {u}");
    }
}

/// " (assumed)" for a step through a rule `read` assumed for a fragment.
fn assumed(s: &chainlens_core::sim::Step) -> &'static str {
    if s.source
        .is_some_and(|r| r.origin == chainlens_core::model::Origin::Assumed)
    {
        " (assumed)"
    } else {
        ""
    }
}
