//! Simulator benchmark, run by `cargo xtask bench`: parses FILE, picks the last Service rule in
//! nat KUBE-SERVICES (the worst case: KUBE-SERVICES is walked linearly), traces a packet from
//! outside to it REPEAT times with one `Simulator` (built once, as the app keeps it), and prints
//! one JSON line: outcomes, the time to build the simulator, best time per trace and outcomes per
//! second.

use std::time::Instant;

use chainlens_core::ext::matches::Match;
use chainlens_core::model::values::{Address, Protocol};
use chainlens_core::sim::{Entry, NodeFacts, Packet, Simulator};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), repeat) = (
        args.next(),
        args.next().and_then(|r| r.parse().ok()).unwrap_or(20usize),
    ) else {
        eprintln!("usage: trace_bench FILE [REPEAT]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("trace_bench: {path}: {e}");
        std::process::exit(2)
    });
    let parsed = chainlens_core::parse(&text);
    let services = parsed
        .ruleset
        .table("nat")
        .and_then(|t| t.chain("KUBE-SERVICES"));
    let last = services
        .into_iter()
        .flat_map(|c| c.rules.iter().rev())
        .find_map(|r| {
            let dst = match &r.header.dst.as_ref()?.value {
                Address::Net(c) => c.addr,
                Address::Placeholder(_) => return None,
            };
            let port = r.matches.iter().find_map(|m| match m {
                Match::Tcp(t) => t.ports.dport.as_ref().map(|p| p.value.min),
                _ => None,
            })?;
            Some((dst, port))
        });
    let Some((dst, dport)) = last else {
        eprintln!("trace_bench: no ClusterIP rule with a TCP port in nat KUBE-SERVICES");
        std::process::exit(2);
    };
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let packet = Packet::new(
        "198.51.100.20".parse().expect("address"),
        dst,
        Protocol::TCP,
        dport,
        Entry::Outside,
    );
    let start = Instant::now();
    let simulator = Simulator::new(&parsed.ruleset);
    let build = start.elapsed().as_secs_f64();
    let mut best = f64::MAX;
    let mut outcomes = 0;
    for _ in 0..repeat {
        let start = Instant::now();
        let sim = simulator.run(&packet, &facts);
        best = best.min(start.elapsed().as_secs_f64());
        outcomes = sim.outcomes.len();
    }
    println!(
        "{{\"dst\":\"{dst}\",\"dport\":{dport},\"outcomes\":{outcomes},\"build_ms\":{:.3},\"best_ms\":{:.3},\"outcomes_per_s\":{:.0}}}",
        build * 1e3,
        best * 1e3,
        outcomes as f64 / best
    );
}
