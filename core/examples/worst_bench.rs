//! Worst-case benchmark, run by `cargo xtask bench`: one hostile input of one size (`KIND N`),
//! generated here, through each stage — parse, analysis, a trace, diff, the graph and
//! Markdown renders — with each stage's time and the process's peak memory. `cargo xtask bench`
//! runs every kind at N, 2N and 4N (one process each) and prints how time grows.
//! Prints one JSON line.

use std::fmt::Write as _;
use std::time::Instant;

use chainlens_core::model::values::Protocol;
use chainlens_core::render::graph::ChainGraph;
use chainlens_core::render::{svg, text};
use chainlens_core::sim::{NodeFacts, Query};

/// The input of `kind` at size `n`, and the packet to trace (destination, port).
fn input(kind: &str, n: usize) -> Option<(String, [u8; 4], u16)> {
    let mut d = String::new();
    let cidr = |i: usize| format!("10.{}.{}.{}/32", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    match kind {
        // One `-L` row of n bytes of match text.
        "listing-line" => {
            d.push_str("Chain KUBE-SERVICES (2 references)\ntarget     prot opt source               destination\nACCEPT  tcp  --  0.0.0.0/0  10.96.0.1 ");
            while d.len() < n {
                let _ = write!(d, " dpt:{}", d.len() % 65_535);
            }
            d.push('\n');
        }
        // A rule of n/2 `!`s.
        "bangs" => {
            d.push_str("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT ");
            d.push_str(&"! ".repeat(n / 2));
            d.push_str("-j DROP\nCOMMIT\n");
        }
        // n rules inserted at the head of one chain.
        "inserts" => {
            d.push_str("*filter\n:INPUT ACCEPT [0:0]\n");
            for i in 0..n {
                let _ = writeln!(d, "-I INPUT -s {} -j ACCEPT", cidr(i));
            }
            d.push_str("COMMIT\n");
        }
        // n tables.
        "tables" => {
            for i in 0..n {
                let _ = write!(
                    d,
                    "*t{i}\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n"
                );
            }
        }
        // n nested chains, each split by a probability and by an undecidable test.
        "nested-splits" => {
            d.push_str("*nat\n:PREROUTING ACCEPT [0:0]\n");
            for i in 0..n {
                let _ = writeln!(d, ":C{i} - [0:0]");
            }
            d.push_str("-A PREROUTING -j C0\n");
            for i in 0..n {
                let _ = writeln!(
                    d,
                    "-A C{i} -m statistic --mode random --probability 0.5 -j LOG"
                );
                let _ = writeln!(d, "-A C{i} -m set --match-set s{i} src -j LOG");
                if i + 1 < n {
                    let _ = writeln!(d, "-A C{i} -j C{}", i + 1);
                }
            }
            d.push_str("-A PREROUTING -d 198.51.100.10/32 -p tcp -j DNAT --to-destination 203.0.113.10:80\nCOMMIT\n");
        }
        // A cascade of n endpoints, as kube-proxy writes one.
        "cascade" => {
            d.push_str("*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -d 198.51.100.10/32 -p tcp -m comment --comment \"default/big:http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n");
            for i in 0..n {
                let sep = format!("KUBE-SEP-{i:016}");
                let _ = writeln!(d, ":{sep} - [0:0]");
                let rest = n - i;
                if rest > 1 {
                    let _ = writeln!(
                        d,
                        "-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment \"default/big:http\" -m statistic --mode random --probability {:.10} -j {sep}",
                        1.0 / rest as f64
                    );
                } else {
                    let _ = writeln!(
                        d,
                        "-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment \"default/big:http\" -j {sep}"
                    );
                }
                let _ = writeln!(
                    d,
                    "-A {sep} -p tcp -m comment --comment \"default/big:http\" -m tcp -j DNAT --to-destination 10.{}.{}.1:80",
                    (i >> 8) & 255,
                    i & 255
                );
            }
            d.push_str("COMMIT\n");
        }
        // A goto chain n deep.
        "deep-goto" => {
            d.push_str("*nat\n:PREROUTING ACCEPT [0:0]\n");
            for i in 0..n {
                let _ = writeln!(d, ":C{i} - [0:0]");
            }
            d.push_str("-A PREROUTING -j C0\n");
            for i in 0..n - 1 {
                let _ = writeln!(d, "-A C{i} -g C{}", i + 1);
            }
            let _ = writeln!(
                d,
                "-A C{} -p tcp -j DNAT --to-destination 203.0.113.10:80",
                n - 1
            );
            d.push_str("COMMIT\n");
        }
        _ => return None,
    }
    Some((d, [198, 51, 100, 10], 80))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(kind), Some(n)) = (
        args.next(),
        args.next().and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: worst_bench KIND N");
        std::process::exit(2);
    };
    let Some((text, dst, dport)) = input(&kind, n.max(2)) else {
        eprintln!("worst_bench: unknown kind {kind}");
        std::process::exit(2);
    };
    let t = Instant::now();
    let parsed = chainlens_core::parse(&text);
    let parse_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = chainlens_core::kube::Analysis::of(&parsed.ruleset, &facts);
    let analyze_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let query = Query::new([203, 0, 113, 77].into(), dst.into(), Protocol::TCP, dport);
    let traced = query.trace(&parsed.ruleset);
    let trace_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let diff = chainlens_core::kube::diff(
        &parsed.ruleset,
        &analysis.services,
        &parsed.ruleset,
        &analysis.services,
    );
    let diff_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let mut rendered = 0;
    for table in &parsed.ruleset.tables {
        rendered += svg::chain_graph(&ChainGraph::of(table)).len();
    }
    rendered += text::markdown("bench", &analysis).len();
    let render_ms = t.elapsed().as_secs_f64() * 1e3;
    let peak_kb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!(
        "{{\"kind\":\"{kind}\",\"n\":{n},\"bytes\":{},\"parse_ms\":{parse_ms:.2},\"analyze_ms\":{analyze_ms:.2},\"trace_ms\":{trace_ms:.2},\"diff_ms\":{diff_ms:.2},\"render_ms\":{render_ms:.2},\"peak_kb\":{peak_kb},\"outcomes\":{},\"unexplored\":{},\"diagnostics\":{},\"diff_rules\":{},\"rendered\":{rendered}}}",
        text.len(),
        traced.simulation.outcomes.len(),
        traced.simulation.unexplored.len(),
        parsed.diagnostics.len(),
        diff.rules_only_in_a.len()
    );
}
