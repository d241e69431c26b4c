//! The Kubernetes reading of the seed fixtures: what issue 5 says each must show.

mod common;

use chainlens_core::kube::{
    Analysis, Cascade, CascadeForm, Policy, decode, diff, explain_rule, monte_carlo,
};
use chainlens_core::model::values::Protocol;
use chainlens_core::parse;
use chainlens_core::sim::{Entry, NodeFacts, Packet, Verdict, simulate};

fn seed(name: &str) -> String {
    let path = common::shared().join("fixtures/seeds").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn analysis(text: &str) -> Analysis {
    let parsed = parse(text);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    Analysis::of(&parsed.ruleset, &facts)
}

#[test]
fn aliyun_listing_has_one_service_with_seven_endpoints_near_a_seventh() {
    let a = analysis(&seed("aliyun-v1.12-nat-listing.iptables-L"));
    assert_eq!(a.services.len(), 1);
    let s = &a.services[0];
    assert_eq!(s.name, "default/testsvc");
    assert_eq!(s.cluster_ip.as_deref(), Some("172.30.5.207:443"));
    assert_eq!(s.load_balancer_ips, ["172.6.6.6:443"]);
    assert_eq!(s.external_traffic_policy, Some(Policy::Local));
    assert!(s.chains.contains(&"KUBE-FW-M42ZCW2EYUCRBVAF".to_string()));
    assert!(s.chains.contains(&"KUBE-XLB-M42ZCW2EYUCRBVAF".to_string()));
    assert_eq!(s.endpoints.len(), 7);
    // Six KUBE-SEP chains are not in the paste: their addresses are unknown.
    let unknown = s.endpoints.iter().filter(|e| e.address.is_none()).count();
    assert_eq!(unknown, 6);
    assert!(
        s.endpoints
            .iter()
            .filter(|e| e.address.is_none())
            .all(|e| !e.chain_present)
    );
    assert_eq!(s.endpoints[6].address.as_deref(), Some("172.31.9.52:80"));
    let c = Cascade::of(s);
    assert_eq!(c.form, CascadeForm::Legacy);
    assert!((c.sum - 1.0).abs() < 1e-12, "{}", c.sum);
    assert!(
        c.steps
            .iter()
            .all(|s| (s.probability - 1.0 / 7.0).abs() < 1e-5)
    );
    assert!(c.spread > 4e-6 && c.spread < 6e-6, "{}", c.spread);
    assert!(a.findings.iter().any(|f| f.code == "no-local-endpoints"));
    assert!(a.findings.iter().any(|f| f.code == "missing-chain"));
    // The kernel's draws, sampled: every endpoint within 4 standard deviations of its share.
    let n = 400_000;
    let shares = monte_carlo(s, n, 7);
    for (e, got) in s.endpoints.iter().zip(&shares) {
        let sd = (e.probability * (1.0 - e.probability) / f64::from(n)).sqrt();
        assert!(
            (got - e.probability).abs() < 4.0 * sd,
            "{got} vs {}",
            e.probability
        );
    }
    assert_eq!(shares[7], 0.0);
}

#[test]
fn kind_dump_has_its_services_and_endpoints() {
    let a = analysis(&seed("kind-v1.23-iptables-v1.8.4.iptables-save"));
    let got: Vec<(String, Vec<String>)> = a
        .services
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.endpoints
                    .iter()
                    .filter_map(|e| e.address.clone())
                    .collect(),
            )
        })
        .collect();
    let want = [
        ("default/traefik:web", vec!["10.244.0.5:8000"]),
        ("default/traefik:websecure", vec!["10.244.0.5:8443"]),
        ("default/kubernetes:https", vec!["172.18.0.5:6443"]),
        (
            "kube-system/kube-dns:dns",
            vec!["10.244.0.3:53", "10.244.0.4:53"],
        ),
        (
            "kube-system/kube-dns:dns-tcp",
            vec!["10.244.0.3:53", "10.244.0.4:53"],
        ),
        (
            "kube-system/kube-dns:metrics",
            vec!["10.244.0.3:9153", "10.244.0.4:9153"],
        ),
    ];
    let want: Vec<(String, Vec<String>)> = want
        .iter()
        .map(|(n, e)| (n.to_string(), e.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(got, want);
    let dns = &a.services[3];
    assert_eq!(dns.protocol, Some(Protocol::UDP));
    assert_eq!(Cascade::of(dns).form, CascadeForm::Modern);
}

/// The decoded probabilities are the simulator's: a packet to kube-dns's cluster IP branches
/// exactly as the cascade says.
#[test]
fn cascade_agrees_with_the_simulator() {
    let parsed = parse(&seed("kind-v1.23-iptables-v1.8.4.iptables-save"));
    let services = decode(&parsed.ruleset);
    let dns = services
        .iter()
        .find(|s| s.name == "kube-system/kube-dns:dns")
        .expect("kube-dns");
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let sim = simulate(
        &parsed.ruleset,
        &Packet::new(
            [10, 244, 0, 9].into(),
            [10, 96, 0, 10].into(),
            Protocol::UDP,
            53,
            Entry::Pod,
        ),
        &facts,
    );
    for e in &dns.endpoints {
        let p: f64 = sim
            .outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Accept && o.dnat.map(|d| d.to_string()) == e.address)
            .map(|o| o.probability)
            .sum();
        assert!(
            (p - e.probability).abs() < 1e-12,
            "{p} vs {}",
            e.probability
        );
    }
}

#[test]
fn bind_kube_proxy_raises_external_masquerade_and_manual_dnat_does_not() {
    let kube = analysis(&seed("bind-kube-proxy-v1.4.21.iptables-save"));
    let f = kube
        .findings
        .iter()
        .find(|f| f.code == "external-masquerade" && f.message.contains("10.5.6.29:53/udp"))
        .expect("the external-masquerade finding for 10.5.6.29:53/udp");
    assert!(f.message.contains("2150"), "{}", f.message);
    assert!(f.rules.iter().any(|r| r.chain == "KUBE-SERVICES"));
    assert!(f.rules.iter().any(|r| r.chain == "KUBE-POSTROUTING"));
    let manual = analysis(&seed("bind-manual-dnat-v1.4.21.iptables-save"));
    assert!(
        !manual
            .findings
            .iter()
            .any(|f| f.code == "external-masquerade")
    );
}

#[test]
fn the_hairpin_rule_of_kube_dns_is_explained() {
    let parsed = parse(&seed("kube-dns-chains-resolved-names.iptables-L"));
    let services = decode(&parsed.ruleset);
    let nat = parsed.ruleset.table("nat").expect("nat");
    let chain = nat
        .chain("KUBE-SEP-V7KWRXXOBQHQVWAT")
        .expect("the SEP chain");
    let text = explain_rule(nat, chain, 0, &services);
    assert!(text.starts_with("Hairpin"), "{text}");
    assert!(text.contains("172.18.1.5"), "{text}");
    assert!(text.contains("kube-system/kube-dns:dns-tcp"), "{text}");
}

#[test]
fn comparing_the_bind_pair_shows_the_services_kube_proxy_had() {
    let a = parse(&seed("bind-kube-proxy-v1.4.21.iptables-save"));
    let b = parse(&seed("bind-manual-dnat-v1.4.21.iptables-save"));
    let d = diff(
        &a.ruleset,
        &decode(&a.ruleset),
        &b.ruleset,
        &decode(&b.ruleset),
    );
    assert!(
        d.services_only_in_a
            .contains(&"default/ares-k29-bindapp:dns-udp-53".to_string())
    );
    assert!(d.services_only_in_b.is_empty());
    assert!(
        d.rules_only_in_b
            .iter()
            .any(|r| r.text.contains("--to-destination 10.100.13.3:53"))
    );
}

/// Every seed reads without a panic, and every finding points at rules inside its paste.
#[test]
fn every_seed_analyses() {
    let dir = common::shared().join("fixtures/seeds");
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let text =
            String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default()).into_owned();
        let a = analysis(&text);
        for f in &a.findings {
            for r in &f.rules {
                assert!(
                    r.span.end <= text.len(),
                    "{}: {f:?}",
                    entry.path().display()
                );
            }
        }
    }
}

/// Large-cluster kube-proxy drops comments: the structure alone still gives every Service
/// port, its addresses and endpoints (named after its chain).
#[test]
fn without_comments_the_structure_still_decodes() {
    let text = seed("kind-v1.23-iptables-v1.8.4.iptables-save");
    let mut bare = String::new();
    for line in text.lines() {
        let mut line = line.to_string();
        while let Some(start) = line.find(" -m comment --comment \"") {
            let rest = &line[start + 23..];
            let end = rest.find('"').map_or(line.len(), |e| start + 23 + e + 1);
            line.replace_range(start..end, "");
        }
        bare.push_str(&line);
        bare.push('\n');
    }
    assert!(!bare.contains("--comment \""));
    let with = decode(&parse(&text).ruleset);
    let without = decode(&parse(&bare).ruleset);
    assert_eq!(with.len(), without.len());
    for (a, b) in with.iter().zip(&without) {
        assert!(!b.named && b.name.starts_with("KUBE-SVC-"), "{}", b.name);
        assert_eq!(a.chains, b.chains);
        assert_eq!(a.cluster_ip, b.cluster_ip);
        let key = |s: &chainlens_core::kube::ServicePort| {
            s.endpoints
                .iter()
                .map(|e| {
                    (
                        e.address.clone(),
                        e.chain.clone(),
                        e.p32,
                        e.probability,
                        e.local,
                        e.hairpin.is_some(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(key(a), key(b));
    }
}

/// kube-proxy's probability table (`conformance/kube-proxy/probability_table.tsv`): what it
/// writes for 1/n reads as the kernel's fixed-point value and prints as iptables-save does, and
/// a cascade of n endpoints written that way is recognised as the modern form, summing to 1.
#[test]
fn the_probability_table_reads_as_the_kernel_rounds_it() {
    let path = common::shared().join("conformance/kube-proxy/probability_table.tsv");
    let table =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows = 0;
    for line in table.lines().skip(1) {
        let cells: Vec<&str> = line.split('\t').collect();
        let [n, written, printed, fixed] = cells[..] else {
            panic!("bad row {line}")
        };
        let n: usize = n.parse().expect("n");
        let text = format!("-m statistic --mode random --probability {written} -j ACCEPT");
        let (rule, diagnostics) = chainlens_core::parse::parse_rule(&text, false);
        assert!(diagnostics.is_empty(), "n={n}: {diagnostics:?}");
        let p32 = rule.matches.iter().find_map(|m| match m {
            chainlens_core::ext::matches::Match::Statistic(
                chainlens_core::ext::matches::Statistic::Random { p32, .. },
            ) => Some(*p32),
            _ => None,
        });
        assert_eq!(p32.map(u64::from), fixed.parse().ok(), "n={n}");
        let printed_back = chainlens_core::print::rule(&rule, false);
        assert!(
            printed_back.contains(&format!("--probability {printed}")),
            "n={n}: {printed_back}"
        );
        if n > 1 {
            let mut dump = String::from(
                "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n",
            );
            for i in 0..n {
                let statistic = if i + 1 < n {
                    format!(
                        "-m statistic --mode random --probability {:.10} ",
                        1.0 / (n - i) as f64
                    )
                } else {
                    String::new()
                };
                dump.push_str(&format!(
                    "-A KUBE-SVC-AAAAAAAAAAAAAAAA {statistic}-j KUBE-SEP-{i:016}\n"
                ));
            }
            dump.push_str("COMMIT\n");
            let services = decode(&parse(&dump).ruleset);
            let c = Cascade::of(&services[0]);
            assert_eq!(c.form, CascadeForm::Modern, "n={n}");
            assert!((c.sum - 1.0).abs() < 1e-9, "n={n}: {}", c.sum);
            assert!(
                c.steps
                    .iter()
                    .all(|s| (s.probability - 1.0 / n as f64).abs() < 1e-6),
                "n={n}"
            );
        }
        rows += 1;
    }
    assert_eq!(rows, 23);
}
