//! kube-proxy's own packet-flow tests (`shared/conformance/kube-proxy/cases/*.json`, 81 flows in
//! 26 cases) run through the simulator. Results per case are a committed snapshot
//! (`tests/snapshots/kube-proxy-flows.tsv`); `UPDATE_SNAPSHOTS=1` rewrites it, `SHOW_MISSES=1`
//! lists the flows that differ.
//!
//! The expectations come from kube-proxy's simplified tracer (TRACER.md), read here as what
//! they mean for the real kernel: the DNAT endpoints as the set of branches of the cascade, and
//! "masquerade" as MASQUERADE in POSTROUTING for delivered packets; for packets the filter
//! table drops or rejects (which never reach POSTROUTING) the tracer's flag means the 0x4000
//! mark was set, and that is what is compared.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use chainlens_core::model::values::{Cidr, Protocol};
use chainlens_core::sim::{Entry, NodeFacts, Packet, Snat, Verdict, simulate};
use chainlens_core::{kube, parse};

#[test]
fn kube_proxy_flows() {
    let names = common::kube_proxy_cases();
    let show = std::env::var_os("SHOW_MISSES").is_some();
    let mut snapshot = String::from("# case\tflows passed\n");
    let (mut passed, mut total) = (0, 0);
    for path in names {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
                .unwrap_or_default();
        let flows = case["flows"].as_array().cloned().unwrap_or_default();
        if flows.is_empty() {
            continue;
        }
        // The cases do not hold the jumps from the built-in chains (kube-proxy's test tracer
        // walks its chains directly): `read` assumes them as kube-proxy writes them.
        let raw = case["iptables_save"].as_str().unwrap_or("");
        let mut parsed = parse(raw);
        let assumed = kube::complete(&mut parsed);
        // Every jump kube-proxy's fake holds beyond the dump is one `complete` assumed.
        for jump in case["base_chain_jumps_present_in_fake_but_not_in_dump"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|j| j.as_str())
        {
            let (table, rule) = jump.split_once(' ').unwrap_or_default();
            let table = table.trim_start_matches('*');
            assert!(
                assumed
                    .iter()
                    .any(|a| a.table == table && a.rules.iter().any(|r| r == rule)),
                "{}: `{jump}` was not assumed; assumed {assumed:?}",
                path.display()
            );
        }
        let local_ips: Vec<IpAddr> = case["tracer"]["local_ips"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.parse().ok())
            .collect();
        let pod_cidr = case["pod_cidr"].as_str().and_then(|c| Cidr::parse(c).ok());
        let facts = NodeFacts {
            local_ips: local_ips.clone(),
            pod_cidr,
            ..NodeFacts::default()
        };
        let mut case_passed = 0;
        for flow in &flows {
            let src: IpAddr = flow["source_ip"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            let dst: IpAddr = flow["dest_ip"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            let protocol = Protocol::parse(flow["protocol"].as_str().unwrap_or("tcp"))
                .unwrap_or(Protocol::TCP);
            let port = flow["dest_port"].as_u64().unwrap_or(0) as u16;
            let entry = if facts.is_local(src) {
                Entry::Local
            } else if pod_cidr.is_some_and(|c| c.contains(src)) {
                Entry::Pod
            } else {
                Entry::Outside
            };
            let sim = simulate(
                &parsed.ruleset,
                &Packet::new(src, dst, protocol, port, entry),
                &facts,
            );
            let expected = flow["expected_output"].as_str().unwrap_or("");
            let expected_masq = flow["expected_masq"].as_bool().unwrap_or(false);
            let verdicts: BTreeSet<Verdict> = sim.outcomes.iter().map(|o| o.verdict).collect();
            let endpoints: BTreeSet<String> = sim
                .outcomes
                .iter()
                .filter(|o| o.verdict == Verdict::Accept)
                .filter_map(|o| o.dnat.map(|d| d.to_string()))
                .collect();
            let output_ok = match expected {
                "DROP" => verdicts == BTreeSet::from([Verdict::Drop]),
                "REJECT" => verdicts == BTreeSet::from([Verdict::Reject]),
                "ACCEPT" => verdicts == BTreeSet::from([Verdict::Accept]),
                "" => verdicts == BTreeSet::from([Verdict::Accept]) && endpoints.is_empty(),
                list => {
                    verdicts == BTreeSet::from([Verdict::Accept])
                        && endpoints == list.split(", ").map(str::to_string).collect()
                }
            };
            let masq = if verdicts == BTreeSet::from([Verdict::Accept]) {
                sim.outcomes
                    .iter()
                    .any(|o| matches!(o.snat, Some(Snat::Masquerade(_))))
            } else {
                sim.outcomes.iter().any(|o| o.mark & 0x4000 != 0)
            };
            if output_ok && masq == expected_masq {
                case_passed += 1;
            } else if show {
                println!(
                    "{}: {}: {src} -> {dst}:{port}/{protocol} ({entry:?}): want {expected:?} masq={expected_masq}, got {verdicts:?} {endpoints:?} masq={masq}",
                    path.file_name().unwrap_or_default().to_string_lossy(),
                    flow["name"].as_str().unwrap_or("")
                );
            }
        }
        let _ = writeln!(
            snapshot,
            "{}\t{case_passed}/{}",
            path.file_name().unwrap_or_default().to_string_lossy(),
            flows.len()
        );
        passed += case_passed;
        total += flows.len();
    }
    let _ = writeln!(snapshot, "TOTAL\t{passed}/{total}");
    assert_eq!(total, 81, "the conformance data holds 81 flows");
    common::snapshot("kube-proxy-flows.tsv", &snapshot, "the flow results");
}
