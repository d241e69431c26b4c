//! Parse benchmark, run by `cargo xtask bench` once per dump so each run's peak memory is its
//! own: reads FILE, parses it REPEAT times, prints one JSON line with the best time, MB/s and
//! the process's peak resident memory (Linux `VmHWM`).

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse_bench FILE [REPEAT]");
        std::process::exit(2);
    };
    let repeat: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("parse_bench: {path}: {e}");
            std::process::exit(2);
        }
    };
    let rss_before = peak_rss_kb();
    let mut best = f64::MAX;
    let mut rules = 0;
    let mut diagnostics = 0;
    for _ in 0..repeat {
        let start = Instant::now();
        let parsed = chainlens_core::parse(&text);
        best = best.min(start.elapsed().as_secs_f64());
        rules = parsed.ruleset.tables.iter().map(|t| t.rule_count()).sum();
        diagnostics = parsed.diagnostics.len();
    }
    let mb = text.len() as f64 / 1e6;
    println!(
        "{{\"bytes\":{},\"rules\":{rules},\"diagnostics\":{diagnostics},\"best_ms\":{:.1},\"mb_per_s\":{:.1},\"peak_rss_kb\":{},\"rss_before_parse_kb\":{}}}",
        text.len(),
        best * 1e3,
        mb / best,
        peak_rss_kb(),
        rss_before
    );
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
