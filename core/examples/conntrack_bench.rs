//! Conntrack model benchmark, run by `cargo xtask bench`: one simulated hour at 100,000 new
//! flows/s in analytic mode (goal: under 50 ms), and the per-flow mode's throughput (flows/s)
//! on 60 s at 10,000 flows/s, both through one SNAT pool and one endpoint (the seed's shape).
//! Prints one JSON line.

use std::time::Instant;

use chainlens_core::conntrack::{Pool, Profile, Routing, Traffic, analytic, flows};
use chainlens_core::model::values::Protocol;

fn main() {
    let routing = Routing {
        pools: vec![Pool {
            endpoint: std::net::SocketAddr::from(([203, 0, 113, 3], 53)),
            snat: Some(std::net::IpAddr::from([192, 0, 2, 1])),
            share: 1.0,
            ceiling: chainlens_core::conntrack::PORT_RANGE,
            random_fully: true,
        }],
        unpooled: 0.0,
        refused: 0.0,
        unexplored: 0.0,
        assumptions: Vec::new(),
    };
    let mut hour = Traffic::new(routing.clone(), Protocol::UDP, Profile::Constant(100_000.0));
    hour.duration = 3600;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let s = analytic(&hour);
        best = best.min(start.elapsed().as_secs_f64());
        assert_eq!(s.points.len(), 3600);
    }
    let mut minute = Traffic::new(routing, Protocol::UDP, Profile::Constant(10_000.0));
    minute.duration = 60;
    let start = Instant::now();
    let s = flows(&minute);
    let secs = start.elapsed().as_secs_f64();
    let total: f64 = s
        .points
        .iter()
        .map(|p| p.accepted_per_s + p.dropped_per_s)
        .sum();
    println!(
        "{{\"analytic_hour_ms\":{:.3},\"flows\":{total},\"flows_s\":{:.3},\"flows_per_s\":{:.0}}}",
        best * 1e3,
        secs,
        total / secs
    );
}
