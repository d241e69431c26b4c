//! The founding story, simulated from the pasted rules alone: a DNS query from outside to the
//! BIND Service's externalIP is DNATed to the pod and masqueraded by kube-proxy's rules; the same
//! query against the hand-written DNAT is DNATed and not masqueraded.

mod common;

use chainlens_core::model::values::Protocol;
use chainlens_core::parse;
use std::net::SocketAddr;

use chainlens_core::Ruleset;
use chainlens_core::sim::{Entry, Inferred, NodeFacts, Packet, Snat, Verdict, simulate};

fn seed(name: &str) -> String {
    let shared = common::shared();
    std::fs::read_to_string(shared.join("fixtures/seeds").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn query<'r>(ruleset: &'r Ruleset, in_iface: &str) -> chainlens_core::sim::Simulation<'r> {
    let (facts, _) = NodeFacts::infer(ruleset);
    // The externalIP is an address of the node.
    let facts = NodeFacts {
        local_ips: vec!["10.5.6.29".parse().expect("ip")],
        ..facts
    };
    let mut packet = Packet::new(
        "198.51.100.20".parse().expect("ip"),
        "10.5.6.29".parse().expect("ip"),
        Protocol::UDP,
        53,
        Entry::Outside,
    );
    packet.in_iface = Some(in_iface.into());
    simulate(ruleset, &packet, &facts)
}

#[test]
fn kube_proxy_dnats_and_masquerades_the_external_query() {
    let parsed = parse(&seed("bind-kube-proxy-v1.4.21.iptables-save"));
    let sim = query(&parsed.ruleset, "eth0");
    assert_eq!(sim.outcomes.len(), 1, "{:#?}", sim.outcomes);
    let o = &sim.outcomes[0];
    assert_eq!(
        (o.verdict, o.dnat, o.snat),
        (
            Verdict::Accept,
            Some(SocketAddr::from(([10, 100, 13, 3], 53))),
            Some(Snat::Masquerade(None))
        )
    );
    assert!((o.probability - 1.0).abs() < 1e-12);
    let chains: Vec<&str> = o.path.iter().map(|s| s.chain).collect();
    assert!(
        chains
            .windows(2)
            .any(|w| w == ["KUBE-SERVICES", "KUBE-MARK-MASQ"]),
        "{chains:?}"
    );
    assert!(
        chains.contains(&"KUBE-SEP-BCSN2HMZQJBRJOX4") && chains.contains(&"KUBE-POSTROUTING"),
        "{chains:?}"
    );
}

#[test]
fn the_fix_works_with_the_facts_its_own_rules_give() {
    // Compare's question: the same query from outside, each ruleset with its own node facts.
    use chainlens_core::sim::Query;
    let manual = parse(&seed("bind-manual-dnat-v1.4.21.iptables-save"));
    let mut q = Query::new(
        "198.51.100.20".parse().expect("ip"),
        "10.5.6.29".parse().expect("ip"),
        Protocol::UDP,
        53,
    );
    q.local_ips = vec!["10.5.6.29".parse().expect("ip")];
    let sim = q.trace(&manual.ruleset).simulation;
    assert_eq!(sim.outcomes.len(), 1, "{:#?}", sim.outcomes);
    assert_eq!(
        (sim.outcomes[0].dnat, sim.outcomes[0].snat),
        (Some(SocketAddr::from(([10, 100, 13, 3], 53))), None)
    );
}

#[test]
fn hand_written_dnat_does_not_masquerade() {
    let parsed = parse(&seed("bind-manual-dnat-v1.4.21.iptables-save"));
    let sim = query(&parsed.ruleset, "eth3");
    assert_eq!(sim.outcomes.len(), 1);
    let o = &sim.outcomes[0];
    assert_eq!(
        (o.verdict, o.dnat, o.snat),
        (
            Verdict::Accept,
            Some(SocketAddr::from(([10, 100, 13, 3], 53))),
            None
        )
    );
}

#[test]
fn facts_are_inferred_and_said() {
    let parsed = parse(&seed("bind-kube-proxy-v1.4.21.iptables-save"));
    let (facts, said) = NodeFacts::infer(&parsed.ruleset);
    // kube-proxy's `! -s CLUSTER_CIDR` is the pod network; Docker's bridge rule says which
    // subnet is behind docker0 (the BIND container's).
    assert_eq!(
        facts.pod_cidr.map(|c| c.to_string()).as_deref(),
        Some("10.24.0.0/16")
    );
    assert_eq!(
        facts
            .bridges
            .iter()
            .map(|(c, i)| (c.to_string(), i.as_str()))
            .collect::<Vec<_>>(),
        [("10.100.13.0/24".to_string(), "docker0")]
    );
    assert!(
        said.iter().any(
            |s| matches!(s, Inferred::PodNetworkBehindBridge { cidr, iface }
            if cidr.to_string() == "10.100.13.0/24" && iface == "docker0")
        ),
        "{said:?}"
    );
    // The hand-written DNAT tests where traffic comes in: that is the external interface.
    let manual = parse(&seed("bind-manual-dnat-v1.4.21.iptables-save"));
    let (facts, said) = NodeFacts::infer(&manual.ruleset);
    assert_eq!(facts.external_iface, "eth3");
    assert!(said.contains(&Inferred::ExternalInterfaceFromRules("eth3".into())));
    let kind = parse(&seed("kind-v1.23-iptables-v1.8.4.iptables-save"));
    let (facts, _) = NodeFacts::infer(&kind.ruleset);
    assert!(
        facts.pod_cidr.is_some(),
        "kind's rules show its pod network"
    );
}
