//! The 27 real pastes of `conformance/real-nodes/`, as people paste them, read end to end: the
//! format, the counts, the diagnostics by code, the Services with their endpoints and shares,
//! the findings, and for each Service (the first eight) the first packet from outside and from
//! a pod, with where it went. One committed snapshot (`tests/snapshots/real-nodes.txt`),
//! `UPDATE_SNAPSHOTS=1` rewrites it; read a change against the rules before committing it.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chainlens_core::kube::{self, presets};
use chainlens_core::sim::{NodeFacts, Query, Snat};
use chainlens_core::{Summary, read};

/// Services traced per paste.
const TRACED: usize = 8;

fn paste_report(text: &str) -> String {
    let mut out = String::new();
    let parsed = read(text);
    common::assert_spans_valid("paste", text, &parsed.diagnostics);
    let summary = Summary::of(&parsed);
    let _ = writeln!(out, "format: {}", summary.format);
    let tables: Vec<String> = summary
        .tables
        .iter()
        .map(|t| format!("{} {}/{}", t.name, t.chains, t.rules))
        .collect();
    let _ = writeln!(
        out,
        "tables (chains/rules): {}; conntrack entries: {}",
        if tables.is_empty() {
            "none".into()
        } else {
            tables.join(", ")
        },
        summary.conntrack
    );
    let mut codes: BTreeMap<(String, &str), usize> = BTreeMap::new();
    for d in &parsed.diagnostics {
        *codes
            .entry((format!("{:?}", d.severity).to_lowercase(), d.code))
            .or_default() += 1;
    }
    let codes: Vec<String> = codes
        .iter()
        .map(|((sev, code), n)| format!("{sev} {code} ×{n}"))
        .collect();
    let _ = writeln!(
        out,
        "diagnostics: {}",
        if codes.is_empty() {
            "none".into()
        } else {
            codes.join(", ")
        }
    );
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = kube::Analysis::of(&parsed.ruleset, &facts);
    let _ = writeln!(out, "services: {}", analysis.services.len());
    for s in &analysis.services {
        let mut reached = Vec::new();
        reached.extend(s.cluster_ip.iter().map(|c| format!("cluster {c}")));
        reached.extend(s.node_port.iter().map(|p| format!("nodeport {p}")));
        reached.extend(s.external_ips.iter().map(|e| format!("external {e}")));
        reached.extend(s.load_balancer_ips.iter().map(|e| format!("lb {e}")));
        let _ = writeln!(
            out,
            "  {} {}: {}",
            s.name,
            s.protocol.map_or("?".into(), |p| p.to_string()),
            reached.join(", ")
        );
        let eps: Vec<String> = s
            .endpoints
            .iter()
            .map(|e| {
                format!(
                    "{} {:.4}",
                    e.address.as_deref().unwrap_or("(unknown)"),
                    e.probability
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "    endpoints: {}",
            if !s.endpoints_known {
                "not in the paste".into()
            } else if eps.is_empty() {
                "none".into()
            } else {
                eps.join(", ")
            }
        );
    }
    for f in &analysis.findings {
        let _ = writeln!(out, "finding {}: {}", f.code, f.message);
    }
    for s in analysis.services.iter().take(TRACED) {
        for (label, form) in presets(s, &facts) {
            if !(label.starts_with("from outside") || label.starts_with("from a pod")) {
                continue;
            }
            let Ok(query) = Query::from_form(&form) else {
                let _ = writeln!(out, "trace {label}: not a query");
                continue;
            };
            let traced = query.trace(&parsed.ruleset);
            let mut ways: Vec<String> = traced
                .simulation
                .outcomes
                .iter()
                .map(|o| {
                    let mut w = format!("{:.3} {:?}", o.probability, o.verdict).to_lowercase();
                    if let Some(d) = o.dnat {
                        let _ = write!(w, " dnat {d}");
                    }
                    match o.snat {
                        Some(Snat::Masquerade(_)) => w.push_str(" masq"),
                        Some(Snat::To(ip, _)) => {
                            let _ = write!(w, " snat {ip}");
                        }
                        None => {}
                    }
                    let _ = write!(w, " ({} steps)", o.path.len());
                    w
                })
                .collect();
            ways.sort();
            ways.dedup();
            let more = ways.len().saturating_sub(6);
            ways.truncate(6);
            if more > 0 {
                ways.push(format!("… {more} more"));
            }
            let unexplored: f64 = traced
                .simulation
                .unexplored
                .iter()
                .map(|u| u.probability)
                .sum();
            let _ = writeln!(
                out,
                "trace {} {label}: {}{}",
                s.name,
                ways.join("; "),
                if unexplored > 0.0 {
                    format!(" [unexplored {unexplored:.3}]")
                } else {
                    String::new()
                }
            );
        }
    }
    out
}

#[test]
fn real_nodes() {
    let dir = common::shared().join("conformance/real-nodes");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 27, "the real pastes");
    let mut snapshot = String::new();
    for path in &names {
        let bytes = std::fs::read(path).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let _ = writeln!(snapshot, "== {name}\n{}", paste_report(&text));
    }
    common::snapshot("real-nodes.txt", &snapshot, "what the real pastes read as");
}

#[test]
fn pod_network_from_the_cni_plugin_when_kube_proxy_has_no_cluster_cidr() {
    use chainlens_core::model::values::Cidr;
    use chainlens_core::sim::Inferred;
    let text = std::fs::read_to_string(
        common::shared().join("conformance/real-nodes/07-docker-desktop-k8s-nat-nvL.txt"),
    )
    .unwrap_or_default();
    let parsed = read(&text);
    let (facts, said) = NodeFacts::infer(&parsed.ruleset);
    let pods = Cidr::parse("10.1.0.0/16").expect("cidr");
    // Docker's 172.17.0.0/16 behind docker0 is a bridge of the node, not the pod network.
    assert_eq!(facts.pod_cidr, Some(pods), "{said:?}");
    assert!(
        said.contains(&Inferred::PodNetworkFromCni(pods)),
        "{said:?}"
    );
    assert!(
        facts.bridges.iter().any(|(_, i)| i == "docker0"),
        "{:?}",
        facts.bridges
    );
}

#[test]
fn ipvs_mode_is_recognised_and_iptables_leftovers_are_not_services() {
    let text = std::fs::read_to_string(
        common::shared()
            .join("conformance/real-nodes/25-ipvs-cilium-nodelocaldns-garbled-dnat.txt"),
    )
    .unwrap_or_default();
    let parsed = read(&text);
    assert!(kube::ipvs_mode(&parsed.ruleset));
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = kube::Analysis::of(&parsed.ruleset, &facts);
    // Only the Services kube-proxy's filter rules name (no endpoints); none from a lone KUBE-SVC.
    assert!(
        analysis
            .services
            .iter()
            .all(|s| s.named && s.cluster_ip.is_some()),
        "{:?}",
        analysis
            .services
            .iter()
            .map(|s| &s.name)
            .collect::<Vec<_>>()
    );
    let ipvs: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| f.code == "ipvs-mode")
        .collect();
    assert_eq!(ipvs.len(), 1);
    assert_eq!(ipvs[0].rules.len(), 7, "{:?}", ipvs[0].rules);
    assert!(
        ipvs[0]
            .rules
            .iter()
            .all(|r| r.chain.starts_with("KUBE-SVC-"))
    );
    // An iptables-mode node is not.
    let kind = std::fs::read_to_string(
        common::shared().join("fixtures/seeds/kind-v1.23-iptables-v1.8.4.iptables-save"),
    )
    .unwrap_or_default();
    assert!(!kube::ipvs_mode(&read(&kind).ruleset));
}
