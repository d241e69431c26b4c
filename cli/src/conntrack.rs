//! `chainlens conntrack`: the conntrack table and SNAT pools over time for traffic to one
//! Service address, from the rules, with a measured log laid over it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::conntrack::{
    ClientPorts, Kernel, Mode, Pattern, Profile, Request, parse_target,
};
use chainlens_core::read;
use chainlens_core::sim::{Entry, NodeFacts};

#[derive(Debug, clap::Args)]
pub struct ConntrackArgs {
    /// The rules; `-` reads standard input.
    pub file: PathBuf,
    /// The Service address the clients send to, as IP:PORT/PROTO (e.g. 10.5.6.29:53/udp).
    #[arg(long)]
    to: String,
    /// New flows per second (the end rate with --ramp-from).
    #[arg(long)]
    rate: f64,
    /// Start at this rate and ramp linearly to --rate over --ramp-over seconds.
    #[arg(long)]
    ramp_from: Option<f64>,
    #[arg(long, default_value_t = 60.0)]
    ramp_over: f64,
    /// Seconds to model.
    #[arg(long, default_value_t = 120)]
    duration: u32,
    /// Where the clients are.
    #[arg(long, value_parser = ["outside", "pod"], default_value = "outside")]
    from: String,
    /// The interface their packets arrive on.
    #[arg(long = "in")]
    in_iface: Option<String>,
    /// An address of the node (repeat for several).
    #[arg(long = "local-ip")]
    local_ips: Vec<IpAddr>,
    /// The node's kernel, MAJOR.MINOR: timeouts and the SNAT port search depend on it.
    #[arg(long, default_value = "6.1")]
    kernel: String,
    /// Client addresses sharing the rate.
    #[arg(long, default_value_t = 8)]
    clients: u32,
    /// Clients pick random ports from a range of this many (28232 is Linux's default
    /// ephemeral range) instead of a fresh port per flow.
    #[arg(long)]
    reuse_ports: Option<u32>,
    /// `query` (one request, one answer) or `stream` (more packets: the stream timeout).
    #[arg(long, value_parser = ["query", "stream"], default_value = "query")]
    pattern: String,
    /// nf_conntrack_max (default: kube-proxy's 131072, or the measured log's).
    #[arg(long)]
    conntrack_max: Option<u64>,
    /// analytic (fast, fluid), flows (every flow and its port search, seeded) or both.
    #[arg(long, value_parser = ["analytic", "flows", "both"], default_value = "analytic")]
    mode: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A measured log to lay over the curve: `DATE : count / max` lines, plain counts, or CSV.
    #[arg(long)]
    measured: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn conntrack(text: &str, args: &ConntrackArgs) -> ExitCode {
    match run(text, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            warn!("{message}");
            ExitCode::from(2)
        }
    }
}

/// The options as the core's plan.
fn request(args: &ConntrackArgs) -> Result<Request, String> {
    let (to, protocol) = parse_target(&args.to).map_err(|e| format!("--to: {}", e.message))?;
    let profile = match args.ramp_from {
        Some(from) => Profile::Ramp {
            from,
            to: args.rate,
            over: args.ramp_over,
        },
        None => Profile::Constant(args.rate),
    };
    let mut r = Request::new(to, protocol, profile);
    r.duration = args.duration;
    r.from = if args.from == "pod" {
        Entry::Pod
    } else {
        Entry::Outside
    };
    r.in_iface = args.in_iface.clone();
    r.local_ips = args.local_ips.clone();
    r.kernel = Kernel::parse(&args.kernel).map_err(|e| format!("--kernel: {e}"))?;
    r.clients = args.clients;
    r.ports = args
        .reuse_ports
        .map_or(ClientPorts::Fresh, ClientPorts::Reuse);
    r.pattern = if args.pattern == "stream" {
        Pattern::Stream
    } else {
        Pattern::QueryAnswer
    };
    r.conntrack_max = args.conntrack_max;
    r.mode = match args.mode.as_str() {
        "flows" => Mode::Flows,
        "both" => Mode::Both,
        _ => Mode::Analytic,
    };
    r.seed = args.seed;
    if let Some(path) = &args.measured {
        r.measured = Some(crate::read(path)?);
    }
    r.check().map_err(|e| e.to_string())?;
    Ok(r)
}

fn run(text: &str, args: &ConntrackArgs) -> Result<(), String> {
    let request = request(args)?;
    let parsed = read(text);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let planned = request
        .run(&parsed.ruleset, &facts)
        .map_err(|e| e.to_string())?;
    let (to, protocol) = (request.to, request.protocol);
    let traffic = &planned.traffic;
    let runs = &planned.runs;
    let measured = &planned.samples;
    let fitted = planned.fit;
    let pools_seen = &planned.measured_pools;
    if args.json {
        let out = serde_json::json!({
            "pools": traffic.routing.pools,
            "unpooled": traffic.routing.unpooled,
            "refused_by_rules": traffic.routing.refused,
            "unexplored": traffic.routing.unexplored,
            "notes": planned.notes,
            "assumptions": traffic.routing.assumptions,
            "lifetime_s": traffic.lifetime(),
            "saturation_rate": traffic.saturation_rate(),
            "runs": runs.iter().map(|s| serde_json::json!({
                "mode": s.mode,
                "first_drop": s.first_drop,
                "exhausted_at": s.exhausted_at,
                "steady_entries": s.steady_entries,
                "dropped_share": s.dropped_share,
                "series": s.points,
            })).collect::<Vec<_>>(),
            "series": runs.first().map(|s| &s.points),
            "measured": measured.as_ref().map(|m| serde_json::json!({
                "samples": m.samples, "max": m.max, "skipped": m.skipped, "fit": fitted,
            })),
            "measured_pools": pools_seen.as_ref().map(|p| p.iter().map(|(pool, n)| serde_json::json!({
                "pool": pool, "entries": n, "occupancy": *n as f64 / f64::from(chainlens_core::conntrack::PORT_RANGE),
            })).collect::<Vec<_>>()),
        });
        say!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    say!(
        "{} new flows/s to {to}/{protocol} from {}: entries live {} s each",
        args.rate,
        args.from,
        traffic.lifetime()
    );
    for a in &traffic.routing.assumptions {
        say!("  assumed: {a}");
    }
    for n in &planned.notes {
        say!("  note: {n}");
    }
    if traffic.routing.pools.is_empty() {
        say!("no SNAT pool: the rules do not source-NAT this traffic, so no port ceiling");
    }
    for p in &traffic.routing.pools {
        say!(
            "pool {} → {} ({:.1}% of flows, {} ports{})",
            p.snat_text(),
            p.endpoint,
            p.share * 100.0,
            p.ceiling,
            if p.random_fully {
                ", --random-fully"
            } else {
                ""
            }
        );
    }
    if let Some(r) = traffic.saturation_rate() {
        say!("the first pool fills at {r:.0} new flows/s");
    }
    for s in runs {
        say!(
            "\n{} mode: {} live entries at the end; {}; {:.2}% of new flows refused",
            s.mode,
            s.steady_entries.round(),
            match (s.first_drop, s.exhausted_at) {
                (Some(d), Some(e)) => format!("first refusal at {d} s, pool full at {e} s"),
                (Some(d), None) => format!("first refusal at {d} s"),
                _ => "no refusals".to_string(),
            },
            s.dropped_share * 100.0
        );
        say!(
            "{:>6} {:>10} {:>10} {:>10} {:>10}",
            "t s",
            "entries",
            "count",
            "accepted/s",
            "refused/s"
        );
        let step = (s.points.len() / 20).max(1);
        for p in s.points.iter().step_by(step) {
            say!(
                "{:>6} {:>10.0} {:>10.0} {:>10.0} {:>10.0}",
                p.t,
                p.entries,
                p.count,
                p.accepted_per_s,
                p.dropped_per_s
            );
        }
    }
    for (pool, n) in pools_seen.iter().flatten() {
        say!(
            "measured pool {pool}: {n} entries ({:.2}% of {} ports)",
            *n as f64 * 100.0 / f64::from(chainlens_core::conntrack::PORT_RANGE),
            chainlens_core::conntrack::PORT_RANGE
        );
    }
    if let (Some(m), Some(f)) = (measured, fitted) {
        say!(
            "\nmeasured: {} samples (peak {:.0}); they rise like {:.0} new flows/s from t = {:.1} s (rms {:.0})",
            m.samples.len(),
            m.samples.iter().map(|s| s.count).fold(0.0, f64::max),
            f.rate,
            f.start,
            f.rms
        );
        for (line, text) in &m.skipped {
            say!("  line {line} not understood: {text}");
        }
    }
    Ok(())
}
