//! Analysis benchmark, run by `cargo xtask bench`: parses FILE once, then times the full
//! Kubernetes analysis (`kube::Analysis::of`: Services, cascades, findings with their packet
//! probes) REPEAT times and prints one JSON line: services, findings, best time.

use std::time::Instant;

use chainlens_core::kube::Analysis;
use chainlens_core::sim::NodeFacts;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), repeat) = (
        args.next(),
        args.next().and_then(|r| r.parse().ok()).unwrap_or(5usize),
    ) else {
        eprintln!("usage: analyze_bench FILE [REPEAT]");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("analyze_bench: {path}: {e}");
        std::process::exit(2)
    });
    let parsed = chainlens_core::parse(&text);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let mut best = f64::MAX;
    let mut counts = (0, 0);
    for _ in 0..repeat {
        let start = Instant::now();
        let a = Analysis::of(&parsed.ruleset, &facts);
        best = best.min(start.elapsed().as_secs_f64());
        counts = (a.services.len(), a.findings.len());
    }
    println!(
        "{{\"services\":{},\"findings\":{},\"best_ms\":{:.3}}}",
        counts.0,
        counts.1,
        best * 1e3
    );
}
