//! Real grep'd and `-S CHAIN` fragments (`conformance/real-nodes/`) hold kube-proxy's Service
//! chains without the rules that lead into them. `read` assumes those as kube-proxy writes them,
//! says so, and a packet then goes where it goes on the node — not "nothing happens".

mod common;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use chainlens_core::model::values::Protocol;
use chainlens_core::sim::{
    Assumption, Entry, NodeFacts, Packet, Simulation, Snat, Verdict, simulate,
};
use chainlens_core::{Ruleset, Severity, print, read};

fn real(name: &str) -> String {
    let path = common::shared().join("conformance/real-nodes").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn trace<'r>(ruleset: &'r Ruleset, dst: &str, dport: u16, local: &[&str]) -> Simulation<'r> {
    let (facts, _) = NodeFacts::infer(ruleset);
    let facts = NodeFacts {
        local_ips: local.iter().map(|a| ip(a)).collect(),
        ..facts
    };
    let packet = Packet::new(
        ip("198.51.100.7"),
        ip(dst),
        Protocol::TCP,
        dport,
        Entry::Outside,
    );
    simulate(ruleset, &packet, &facts)
}

/// (verdict, DNAT, masqueraded) → probability.
fn outcomes(sim: &Simulation) -> BTreeMap<(Verdict, Option<SocketAddr>, bool), f64> {
    let mut out = BTreeMap::new();
    for o in &sim.outcomes {
        *out.entry((o.verdict, o.dnat, o.snat.is_some()))
            .or_insert(0.0) += o.probability;
    }
    out
}

/// The diagnostics of one code.
fn said<'p>(parsed: &'p chainlens_core::Parsed, code: &str) -> Vec<&'p chainlens_core::Diagnostic> {
    parsed
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect()
}

#[test]
fn grepd_kind_fragment_traces_to_its_endpoints() {
    let text = real("09-kind-etp-local-grep-transcript.txt");
    let parsed = read(&text);
    let assumed = said(&parsed, "assumed-kube-proxy-rules");
    assert_eq!(
        assumed.len(),
        2,
        "nat and filter: {:#?}",
        parsed.diagnostics
    );
    assert!(assumed.iter().all(|d| d.severity == Severity::Info));
    // What is assumed is not also said to be missing.
    assert!(
        !parsed.diagnostics.iter().any(|d| d.code == "missing-chain"),
        "{:#?}",
        parsed.diagnostics
    );
    assert!(
        assumed[0].message.contains("-A PREROUTING")
            && assumed[0].message.contains("KUBE-POSTROUTING"),
        "{}",
        assumed[0].message
    );
    // What was pasted is what prints: nothing assumed is written back.
    let printed = print::ruleset(&parsed.ruleset);
    assert!(
        !printed.contains("PREROUTING") && !printed.contains("*filter"),
        "{printed}"
    );
    assert_eq!(printed.matches("\n-A ").count(), 13, "{printed}");

    // From outside to the cluster IP: both endpoints, half each, masqueraded (! -s pod CIDR).
    let sim = trace(&parsed.ruleset, "10.96.115.88", 80, &["192.0.2.10"]);
    let got = outcomes(&sim);
    let want: BTreeMap<_, _> = [
        (
            (
                Verdict::Accept,
                Some("10.244.1.3:80".parse().expect("addr")),
                true,
            ),
            0.5,
        ),
        (
            (
                Verdict::Accept,
                Some("10.244.2.3:80".parse().expect("addr")),
                true,
            ),
            0.5,
        ),
    ]
    .into();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{got:?}"
    );
    for (k, p) in &want {
        assert!((got[k] - p).abs() < 1e-9, "{k:?}: {}", got[k]);
    }
    assert!(
        sim.outcomes
            .iter()
            .all(|o| o.snat == Some(Snat::Masquerade(None))
                || matches!(o.snat, Some(Snat::Masquerade(Some(_)))))
    );

    // The NodePort from outside with no local endpoint: KUBE-MARK-DROP, then the firewall.
    let sim = trace(&parsed.ruleset, "192.0.2.10", 32070, &["192.0.2.10"]);
    let got = outcomes(&sim);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got.keys().next().map(|k| k.0),
        Some(Verdict::Drop),
        "{got:?}"
    );
    let o = &sim.outcomes[0];
    assert!(
        o.path.iter().any(|s| s.chain == "KUBE-FIREWALL"),
        "{:?}",
        o.path.iter().map(|s| s.chain).collect::<Vec<_>>()
    );
}

#[test]
fn early_iptables_proxy_fragment_keeps_its_own_entry_rules() {
    // This fragment pastes PREROUTING/OUTPUT/POSTROUTING itself: only KUBE-POSTROUTING, which
    // it jumps to but did not paste ("..."), is assumed.
    let text = real("20-iptables-proxy-nodeport-S-fragment.txt");
    let parsed = read(&text);
    let assumed = said(&parsed, "assumed-kube-proxy-rules");
    assert_eq!(assumed.len(), 1, "{:#?}", parsed.diagnostics);
    assert!(
        assumed[0].message.contains("-A KUBE-POSTROUTING")
            && !assumed[0].message.contains("-A PREROUTING"),
        "{}",
        assumed[0].message
    );
    // The NodePort from outside: either endpoint, masqueraded by the NodePort's own rule.
    let sim = trace(&parsed.ruleset, "192.0.2.10", 30964, &["192.0.2.10"]);
    let got = outcomes(&sim);
    let dnats: Vec<_> = got.keys().map(|k| (k.0, k.1, k.2)).collect();
    assert_eq!(
        dnats,
        vec![
            (
                Verdict::Accept,
                Some("192.168.125.129:3306".parse().expect("addr")),
                true
            ),
            (
                Verdict::Accept,
                Some("192.168.125.131:3306".parse().expect("addr")),
                true
            ),
        ],
        "{got:?}"
    );
}

#[test]
fn a_full_dump_assumes_nothing() {
    for seed in [
        "kind-v1.23-iptables-v1.8.4.iptables-save",
        "bind-kube-proxy-v1.4.21.iptables-save",
        "bind-manual-dnat-v1.4.21.iptables-save",
    ] {
        let path = common::shared().join("fixtures/seeds").join(seed);
        let Ok(text) = std::fs::read_to_string(&path) else {
            panic!("{}", path.display());
        };
        let parsed = read(&text);
        assert!(
            !parsed
                .diagnostics
                .iter()
                .any(|d| d.code == "assumed-kube-proxy-rules"),
            "{seed}: {:#?}",
            parsed.diagnostics
        );
    }
}

#[test]
fn ipvsadm_output_pasted_with_the_rules_gives_the_services() {
    // `ipvsadm -Ln` as kube-proxy's IPVS mode leaves it, after a shell prompt, then `-Sn` lines.
    let text = "$ sudo ipvsadm -Ln\n\
        IP Virtual Server version 1.2.1 (size=4096)\n\
        Prot LocalAddress:Port Scheduler Flags\n\
        \x20 -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
        TCP  10.96.0.1:443 rr\n\
        \x20 -> 192.0.2.10:6443              Masq    1      3          0\n\
        UDP  10.96.0.10:53 rr persistent 10800\n\
        \x20 -> 203.0.113.2:53               Masq    1      0          0\n\
        \x20 -> 203.0.113.3:53               Masq    3      0          0\n\
        $ sudo ipvsadm -Sn\n\
        -A -t 10.96.0.20:80 -s wrr\n\
        -a -t 10.96.0.20:80 -r 203.0.113.9:8080 -m -w 1\n";
    let parsed = read(text);
    assert!(
        parsed
            .diagnostics
            .iter()
            .all(|d| d.severity != Severity::Error),
        "{:#?}",
        parsed.diagnostics
    );
    assert_eq!(parsed.ruleset.ipvs.len(), 3);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = chainlens_core::kube::Analysis::of(&parsed.ruleset, &facts);
    let dns = analysis
        .services
        .iter()
        .find(|s| s.cluster_ip.as_deref() == Some("10.96.0.10:53"))
        .expect("the DNS virtual server");
    assert!(dns.ipvs && dns.endpoints_known);
    assert_eq!(dns.affinity_seconds, Some(10800));
    let shares: Vec<(Option<&str>, f64)> = dns
        .endpoints
        .iter()
        .map(|e| (e.address.as_deref(), e.probability))
        .collect();
    assert_eq!(
        shares,
        [
            (Some("203.0.113.2:53"), 0.25),
            (Some("203.0.113.3:53"), 0.75)
        ]
    );
    assert!(
        analysis
            .findings
            .iter()
            .any(|f| f.code == "ipvs-mode" && f.message.contains("3 virtual servers"))
    );
}

#[test]
fn a_jump_into_an_endpoint_chain_not_pasted_is_unknown_not_the_next_endpoint() {
    // Fragments of a Calico node: kuard's ten-endpoint cascade was pasted with one of its
    // KUBE-SEP chains. The nine others take 90% of connections somewhere the paste does not
    // show; only 10% are known to reach 192.168.236.133:8080.
    let parsed = read(&real("15-calico-kuard-10ep-5decimal-fragments.txt"));
    let sim = trace(&parsed.ruleset, "10.97.169.67", 80, &[]);
    let got = outcomes(&sim);
    let known = got
        .get(&(
            Verdict::Accept,
            Some("192.168.236.133:8080".parse().expect("addr")),
            true,
        ))
        .copied()
        .unwrap_or(0.0);
    let unknown: f64 = got
        .iter()
        .filter(|(k, _)| k.0 == Verdict::Unknown)
        .map(|(_, p)| p)
        .sum();
    assert!((known - 0.1).abs() < 1e-6, "{got:?}");
    assert!((unknown - 0.9).abs() < 1e-6, "{got:?}");
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn a_cascade_pasted_twice_keeps_its_endpoints_once() {
    // `iptables-save | grep`, pasted twice: the second copy of each Service chain rule comes
    // after the rule every connection takes, so it is unreachable and says so.
    let parsed = read(&real("22-aks-azv-etp-local-lb-grep-fragment.txt"));
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = chainlens_core::kube::Analysis::of(&parsed.ruleset, &facts);
    let http = analysis
        .services
        .iter()
        .find(|s| s.name.ends_with("nginx:http"))
        .expect("nginx:http");
    let got: Vec<(String, f64)> = http
        .endpoints
        .iter()
        .map(|e| (e.address.clone().unwrap_or_default(), e.probability))
        .collect();
    assert_eq!(
        got,
        vec![
            ("10.244.0.203:8080".to_string(), 0.5),
            ("10.244.2.1:8080".to_string(), 0.5)
        ]
    );
    let repeated = analysis
        .findings
        .iter()
        .find(|f| f.code == "repeated-rule")
        .expect("repeated-rule finding");
    assert_eq!(repeated.rules.len(), 6, "{repeated:?}");
}

#[test]
fn a_userspace_portal_redirects_to_the_node_itself() {
    // kube-proxy's userspace mode: a connection to the cluster IP is REDIRECTed to the proxy's
    // port on the node's address on the incoming interface; without that address the trace
    // says it is not known (it once took the first local address, or none at all).
    let parsed = read(&real("19-userspace-proxy-nodeport-S-fragment.txt"));
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let mut packet = Packet::new(
        ip("198.51.100.7"),
        ip("10.254.132.107"),
        Protocol::TCP,
        2222,
        Entry::Outside,
    );
    packet.in_iface = Some("eth0".into());
    let sim = simulate(&parsed.ruleset, &packet, &facts);
    assert_eq!(sim.outcomes.len(), 1);
    let o = &sim.outcomes[0];
    assert_eq!(o.verdict, Verdict::Accept);
    assert_eq!(o.dst.port(), 36463);
    assert!(
        o.assumptions.iter().any(|a| matches!(
            a,
            Assumption::RedirectAddressUnknown { iface } if iface == "eth0"
        )),
        "{:?}",
        o.assumptions
    );
}

#[test]
fn a_service_chain_pasted_with_its_ext_chain_gets_its_cluster_ip_back() {
    // `iptables -t nat -S KUBE-EXT-…`, `-S KUBE-SVL-…`, `-S KUBE-SVC-…`: the KUBE-EXT chain
    // jumps to KUBE-SVC, but nothing leads to either; KUBE-SVC's masquerade rule names the
    // cluster IP (10.43.159.55:80/tcp), which was shown as "?" with no address.
    let parsed = read(&real("16-k3s-metallb-etp-local-S-v-transcript.txt"));
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = chainlens_core::kube::Analysis::of(&parsed.ruleset, &facts);
    assert_eq!(analysis.services.len(), 1);
    let s = &analysis.services[0];
    assert_eq!(s.cluster_ip.as_deref(), Some("10.43.159.55:80"), "{s:?}");
    assert_eq!(s.protocol, Some(Protocol::TCP));
    assert_eq!(s.endpoints.len(), 6);
}
