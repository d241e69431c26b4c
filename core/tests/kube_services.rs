//! Service decoding against kube-proxy's own test data (`shared/conformance/kube-proxy/cases`,
//! 45 dumps): every endpoint chain and load-balancing chain kube-proxy wrote must belong to a
//! decoded Service, and every flow's expected endpoints must be endpoints of the Service its
//! destination names. Per-case figures are a committed snapshot
//! (`tests/snapshots/kube-proxy-services.tsv`; `UPDATE_SNAPSHOTS=1` rewrites it).

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use chainlens_core::ext::targets::Action;
use chainlens_core::kube::{ServicePort, decode};
use chainlens_core::parse;

/// The Service ports a flow's destination reaches: by address, or by node port on a node IP.
fn reached<'s>(
    services: &'s [ServicePort],
    dst: SocketAddr,
    node_ips: &[IpAddr],
) -> Vec<&'s ServicePort> {
    let text = dst.to_string();
    services
        .iter()
        .filter(|s| {
            s.cluster_ip.as_deref() == Some(text.as_str())
                || s.external_ips.contains(&text)
                || s.load_balancer_ips.contains(&text)
                || (s.node_port == Some(dst.port()) && node_ips.contains(&dst.ip()))
        })
        .collect()
}

#[test]
fn every_service_and_endpoint_kube_proxy_wrote_is_recovered() {
    let names = common::kube_proxy_cases();
    let mut snapshot = String::from(
        "# case\tservice ports\tendpoints\tendpoint chains recovered\tflows whose endpoints are the Service's\n",
    );
    let (mut cases, mut chains_found, mut chains_total, mut flows_ok, mut flows_checked) =
        (0, 0, 0, 0, 0);
    let mut misses = Vec::new();
    for path in &names {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
                .unwrap_or_default();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let parsed = parse(case["iptables_save"].as_str().unwrap_or(""));
        let services = decode(&parsed.ruleset);
        cases += 1;
        // Every KUBE-SEP chain with a DNAT, and every KUBE-SVC chain with rules, is claimed.
        let claimed: BTreeSet<&str> = services
            .iter()
            .flat_map(|s| s.chains.iter().map(String::as_str))
            .collect();
        let written: Vec<&str> = parsed
            .ruleset
            .table("nat")
            .into_iter()
            .flat_map(|t| &t.chains)
            .filter(|c| {
                (c.name.starts_with("KUBE-SEP-")
                    && c.rules.iter().any(|r| {
                        matches!(r.target.as_ref().map(|t| &t.action), Some(Action::Dnat(_)))
                    }))
                    || (c.name.starts_with("KUBE-SVC-") && !c.rules.is_empty())
            })
            .map(|c| c.name.as_str())
            .collect();
        let found = written.iter().filter(|c| claimed.contains(*c)).count();
        for c in written.iter().filter(|c| !claimed.contains(*c)) {
            misses.push(format!("{name}: chain {c} belongs to no Service"));
        }
        chains_found += found;
        chains_total += written.len();
        let node_ips: Vec<IpAddr> = case["tracer"]["local_ips"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str()?.parse().ok())
            .collect();
        let (mut ok, mut checked) = (0, 0);
        for flow in case["flows"].as_array().into_iter().flatten() {
            let expected = flow["expected_output"].as_str().unwrap_or("");
            let dst: Option<IpAddr> = flow["dest_ip"].as_str().and_then(|s| s.parse().ok());
            let (Some(dst), Some(port)) = (dst, flow["dest_port"].as_u64()) else {
                continue;
            };
            let dst = SocketAddr::new(dst, port as u16);
            let want: BTreeSet<&str> = expected.split(", ").filter(|e| e.contains(':')).collect();
            let services = reached(&services, dst, &node_ips);
            let have: BTreeSet<String> = services
                .iter()
                .flat_map(|s| &s.endpoints)
                .filter_map(|e| e.address.clone())
                .collect();
            let good = if !want.is_empty() {
                want.iter().all(|w| have.contains(*w))
            } else if expected == "REJECT" {
                services.iter().any(|s| s.no_endpoints.is_some())
            } else {
                continue;
            };
            checked += 1;
            if good {
                ok += 1;
            } else {
                misses.push(format!(
                    "{name}: {}: {dst} wants {expected}, the Services reached have {have:?}",
                    flow["name"].as_str().unwrap_or("")
                ));
            }
        }
        flows_ok += ok;
        flows_checked += checked;
        let _ = writeln!(
            snapshot,
            "{name}\t{}\t{}\t{found}/{}\t{ok}/{checked}",
            services.len(),
            services.iter().map(|s| s.endpoints.len()).sum::<usize>(),
            written.len()
        );
    }
    let _ = writeln!(
        snapshot,
        "TOTAL {cases} cases\t\t\t{chains_found}/{chains_total}\t{flows_ok}/{flows_checked}"
    );
    assert_eq!(cases, 45, "the conformance data holds 45 cases");
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    common::snapshot("kube-proxy-services.tsv", &snapshot, "the decoded Services");
}
