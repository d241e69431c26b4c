//! `chainlens conntrack`: the conntrack table and SNAT pools over time for traffic to one
//! Service address, from the rules, with a measured log laid over it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::conntrack::{
    ClientPorts, Kernel, Pattern, Profile, Series, Traffic, analytic, fit, flows, parse_samples,
    pool_occupancy, pools,
};
use chainlens_core::model::values::Protocol;
use chainlens_core::parse;
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

/// The per-flow mode models about 1.5 million flows a second: beyond this it is refused.
const FLOWS_AT_MOST: f64 = 100_000_000.0;

fn target(text: &str) -> Result<(SocketAddr, Protocol), String> {
    let (addr, proto) = text.rsplit_once('/').unwrap_or((text, "tcp"));
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("--to: `{addr}` is not IP:PORT (e.g. 10.5.6.29:53/udp)"))?;
    let proto = Protocol::parse(proto).map_err(|e| format!("--to: {e}"))?;
    Ok((addr, proto))
}

pub fn conntrack(text: &str, args: &ConntrackArgs) -> ExitCode {
    match run(text, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("chainlens: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(text: &str, args: &ConntrackArgs) -> Result<(), String> {
    let (to, protocol) = target(&args.to)?;
    let parsed = parse(text);
    let (mut facts, _) = NodeFacts::infer(&parsed.ruleset);
    facts.local_ips.extend(args.local_ips.iter().copied());
    if let Some(iface) = &args.in_iface {
        facts.external_iface.clone_from(iface);
    }
    let (entry, client) = match args.from.as_str() {
        "pod" => (
            Entry::Pod,
            facts
                .pod_cidr
                .map_or(IpAddr::from([10, 244, 0, 99]), |c| c.addr),
        ),
        _ => (Entry::Outside, IpAddr::from([198, 51, 100, 10])),
    };
    let routing = pools(&parsed.ruleset, &facts, to, protocol, client, entry);
    let profile = match args.ramp_from {
        Some(from) => Profile::Ramp {
            from,
            to: args.rate,
            over: args.ramp_over,
        },
        None => Profile::Constant(args.rate),
    };
    let measured_text = match &args.measured {
        Some(path) => {
            Some(std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    // A `conntrack -L` paste is read as entries grouped by pool, not as a series.
    let listed = measured_text
        .as_deref()
        .map(|t| parse(t).conntrack)
        .filter(|entries| !entries.is_empty());
    let pools_seen = listed.as_deref().map(pool_occupancy);
    let measured = measured_text
        .as_deref()
        .filter(|_| listed.is_none())
        .map(parse_samples);
    let mut traffic = Traffic::new(routing, protocol, profile);
    traffic.duration = args.duration;
    traffic.kernel = Kernel::parse(&args.kernel)?;
    traffic.clients = args.clients.max(1);
    traffic.ports = args
        .reuse_ports
        .map_or(ClientPorts::Fresh, ClientPorts::Reuse);
    traffic.pattern = if args.pattern == "stream" {
        Pattern::Stream
    } else {
        Pattern::QueryAnswer
    };
    traffic.seed = args.seed;
    if let Some(max) = args
        .conntrack_max
        .or_else(|| measured.as_ref().and_then(|m| m.max).map(|m| m as u64))
    {
        traffic.conntrack_max = max;
    }
    if !(args.rate.is_finite() && args.rate >= 0.0) {
        return Err(format!(
            "--rate {} is not a number of new flows per second",
            args.rate
        ));
    }
    let total = args.rate * f64::from(args.duration);
    if args.mode != "analytic" && total > FLOWS_AT_MOST {
        return Err(format!(
            "the per-flow mode would model {total:.0} flows; it takes at most {FLOWS_AT_MOST:.0} (about a minute): shorten --duration or use --mode analytic"
        ));
    }
    let runs: Vec<Series> = match args.mode.as_str() {
        "flows" => vec![flows(&traffic)],
        "both" => vec![analytic(&traffic), flows(&traffic)],
        _ => vec![analytic(&traffic)],
    };
    let fitted = measured
        .as_ref()
        .and_then(|m| fit(&m.samples, traffic.lifetime()));
    if args.json {
        let out = serde_json::json!({
            "pools": traffic.routing.pools,
            "unpooled": traffic.routing.unpooled,
            "refused_by_rules": traffic.routing.refused,
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
    if traffic.routing.pools.is_empty() {
        say!("no SNAT pool: the rules do not source-NAT this traffic, so no port ceiling");
    }
    for p in &traffic.routing.pools {
        say!(
            "pool {} → {} ({:.1}% of flows, {} ports{})",
            p.snat,
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
    for s in &runs {
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
    if let (Some(m), Some(f)) = (&measured, fitted) {
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
