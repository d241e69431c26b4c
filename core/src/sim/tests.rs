//! The simulator's own tests: small rulesets with one thing each to get right.

use std::net::{IpAddr, SocketAddr};

use super::*;
use crate::model::values::Protocol;
use crate::parse::parse;

/// A ruleset that lives as long as the test (simulations borrow names from it).
fn rules(dump: &str) -> &'static crate::Ruleset {
    Box::leak(Box::new(parse(dump).ruleset))
}

fn run(dump: &str, packet: Packet, facts: &NodeFacts) -> Simulation<'static> {
    simulate(rules(dump), &packet, facts)
}

fn sock(text: &str) -> SocketAddr {
    text.parse().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
}

#[test]
fn a_cascade_splits_by_the_kernels_probabilities() {
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:SVC - [0:0]\n-A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j SVC\n\
        -A SVC -p tcp -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.244.0.1:8080\n\
        -A SVC -p tcp -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.244.0.2:8080\n\
        -A SVC -p tcp -j DNAT --to-destination 10.244.0.3:8080\nCOMMIT\n";
    let packet = Packet::new(
        [198, 51, 100, 7].into(),
        [10, 96, 0, 1].into(),
        Protocol::TCP,
        80,
        Entry::Outside,
    );
    let sim = run(dump, packet, &NodeFacts::default());
    let total: f64 = sim.outcomes.iter().map(|o| o.probability).sum();
    assert!((total - 1.0).abs() < 1e-12, "{total}");
    let mut got: Vec<(String, f64)> = sim
        .outcomes
        .iter()
        .map(|o| {
            (
                o.dnat.map(|d| d.to_string()).unwrap_or_default(),
                o.probability,
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let p1 = f64::from(0x2aaa_aaab_u32) / 2_147_483_648.0;
    assert_eq!(got[0].0, "10.244.0.1:8080");
    assert!((got[0].1 - p1).abs() < 1e-15);
    assert!((got[1].1 - (1.0 - p1) * 0.5).abs() < 1e-15);
    assert!((got[2].1 - (1.0 - p1) * 0.5).abs() < 1e-15);
    assert!(sim.outcomes.iter().all(|o| o.verdict == Verdict::Accept));
}

#[test]
fn mark_then_masquerade_in_postrouting() {
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:MASQ - [0:0]\n\
        -A PREROUTING -d 203.0.113.5/32 -j MASQ\n-A PREROUTING -d 203.0.113.5/32 -p udp -j DNAT --to-destination 10.244.0.9:53\n\
        -A MASQ -j MARK --set-xmark 0x4000/0x4000\n-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\nCOMMIT\n";
    let packet = Packet::new(
        [198, 51, 100, 7].into(),
        [203, 0, 113, 5].into(),
        Protocol::UDP,
        53,
        Entry::Outside,
    );
    let sim = run(dump, packet, &NodeFacts::default());
    assert_eq!(sim.outcomes.len(), 1);
    let o = &sim.outcomes[0];
    assert_eq!(
        (o.dnat, o.snat, o.mark),
        (
            Some(sock("10.244.0.9:53")),
            Some(Snat::Masquerade(None)),
            0x4000
        )
    );
    let path: Vec<_> = o
        .path
        .iter()
        .map(|s| (s.chain, s.rule, s.effect.to_string()))
        .collect();
    assert_eq!(
        path,
        [
            ("PREROUTING", Some(1), "jump MASQ".to_string()),
            ("MASQ", Some(1), "MARK set-xmark 0x4000/0x4000".to_string()),
            ("PREROUTING", Some(2), "DNAT 10.244.0.9:53".to_string()),
            ("POSTROUTING", Some(1), "MASQUERADE".to_string()),
        ]
    );
}

#[test]
fn reject_and_policy_drop_end_the_walk() {
    let dump = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n-A FORWARD -d 10.96.0.9/32 -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n";
    let facts = NodeFacts {
        local_ips: vec![[192, 0, 2, 1].into()],
        ..NodeFacts::default()
    };
    let to_node = run(
        dump,
        Packet::new(
            [198, 51, 100, 7].into(),
            [192, 0, 2, 1].into(),
            Protocol::TCP,
            22,
            Entry::Outside,
        ),
        &facts,
    );
    assert_eq!(to_node.outcomes[0].verdict, Verdict::Drop);
    assert_eq!(
        to_node.outcomes[0].path.last().map(|s| s.effect.clone()),
        Some(Effect::Policy(Policy::Drop))
    );
    let to_svc = run(
        dump,
        Packet::new(
            [198, 51, 100, 7].into(),
            [10, 96, 0, 9].into(),
            Protocol::TCP,
            80,
            Entry::Outside,
        ),
        &facts,
    );
    assert_eq!(to_svc.outcomes[0].verdict, Verdict::Reject);
}

/// A Service's rules as kube-proxy writes them, in small: mark for masquerade from outside
/// the pod network, DNAT to one endpoint, masquerade marked packets, accept established.
const SERVICE: &str = "*filter\n:FORWARD DROP [0:0]\n\
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
    -A FORWARD -m conntrack --ctstate NEW -j ACCEPT\nCOMMIT\n\
    *nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:SEP - [0:0]\n\
    -A PREROUTING -d 198.51.100.10/32 -p tcp -m tcp --dport 80 ! -s 203.0.113.0/24 -j MARK --set-xmark 0x4000/0x4000\n\
    -A PREROUTING -d 198.51.100.10/32 -p tcp -m tcp --dport 80 -j SEP\n\
    -A SEP -p tcp -m recent --set --name SEP --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 203.0.113.10:8080\n\
    -A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE\nCOMMIT\n";

fn node() -> NodeFacts {
    NodeFacts {
        local_ips: vec![[192, 0, 2, 1].into(), [203, 0, 113, 1].into()],
        pod_cidr: crate::model::values::Cidr::parse("203.0.113.0/24").ok(),
        ..NodeFacts::default()
    }
}

fn client() -> Packet {
    let mut p = Packet::new(
        [192, 0, 2, 50].into(),
        [198, 51, 100, 10].into(),
        Protocol::TCP,
        80,
        Entry::Outside,
    );
    p.sport = 41000;
    p
}

#[test]
fn the_first_packet_binds_nat_and_masquerades_to_the_pod_side_address() {
    let sim = Simulator::new(rules(SERVICE)).trace(&client(), &node(), Which::First);
    let o = &sim.outcomes[0];
    assert_eq!(o.dst.to_string(), "203.0.113.10:8080");
    assert_eq!(o.src.to_string(), "203.0.113.1:41000");
    assert_eq!(
        o.snat,
        Some(Snat::Masquerade(Some(IpAddr::from([203, 0, 113, 1]))))
    );
    assert_eq!(o.recent_set, [("SEP", IpAddr::from([192, 0, 2, 50]))]);
}

#[test]
fn a_later_packet_skips_nat_and_reuses_the_bindings() {
    let sim = Simulator::new(rules(SERVICE)).trace(&client(), &node(), Which::Next);
    assert_eq!(sim.outcomes.len(), 1);
    let o = &sim.outcomes[0];
    let path: Vec<_> = o.path.iter().map(|s| (s.table, s.rule)).collect();
    // No nat chain is walked: only filter FORWARD's ESTABLISHED rule.
    assert_eq!(path, [("filter", Some(1))]);
    assert_eq!(o.dst.to_string(), "203.0.113.10:8080");
    assert_eq!(o.src.to_string(), "203.0.113.1:41000");
    assert_eq!(o.verdict, Verdict::Accept);
}

#[test]
fn a_reply_is_un_natted_back_to_the_client() {
    let sim = Simulator::new(rules(SERVICE)).trace(&client(), &node(), Which::Reply);
    assert_eq!(sim.outcomes.len(), 1);
    let o = &sim.outcomes[0];
    // From the pod to the masquerade address, back to the client, from the Service address.
    assert_eq!(o.dst.to_string(), "192.0.2.50:41000");
    assert_eq!(o.src.to_string(), "198.51.100.10:80");
    assert_eq!(o.path.len(), 1);
    assert_eq!(o.path[0].effect, Effect::Accept);
    assert!((o.probability - 1.0).abs() < 1e-15);
}

#[test]
fn a_jump_into_a_chain_the_paste_lacks_ends_unknown_not_accepted() {
    // A fragment: the Service chain's first endpoint chain was not pasted. Half the packets
    // enter it, and what it does to them is not known (it was once taken as returning, which
    // sent them on to the second endpoint and showed it at 100%).
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:SVC - [0:0]\n:SEP2 - [0:0]\n\
        -A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j SVC\n\
        -A SVC -m statistic --mode random --probability 0.50000000000 -j SEP1\n-A SVC -j SEP2\n\
        -A SEP2 -p tcp -j DNAT --to-destination 10.244.0.2:8080\nCOMMIT\n";
    let packet = from_outside([10, 96, 0, 1], Protocol::TCP, 80);
    for which in [Which::First, Which::Next, Which::Reply] {
        let sim = Simulator::new(rules(dump)).trace(&packet, &NodeFacts::default(), which);
        let unknown: Vec<_> = sim
            .outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Unknown)
            .collect();
        assert_eq!(unknown.len(), 1, "{which:?}: {:?}", sim.outcomes);
        assert!((unknown[0].probability - 0.5).abs() < 1e-9);
        assert_eq!(unknown[0].dnat, None);
        assert!(matches!(
            unknown[0].path.last().map(|s| &s.effect),
            Some(Effect::JumpMissing("SEP1"))
        ));
        let total: f64 = sim.outcomes.iter().map(|o| o.probability).sum();
        assert!((total - 1.0).abs() < 1e-9, "{which:?}: {total}");
    }
}

#[test]
fn redirect_delivers_to_the_node_on_the_incoming_interfaces_address() {
    // kube-proxy's userspace portal: a pod's packet to the cluster IP is REDIRECTed to the
    // proxy's port on the node. It goes to INPUT (here dropped), never FORWARD, even when the
    // node's address on the pod interface is not known.
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n\
        -A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 36463\nCOMMIT\n\
        *filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n";
    let mut packet = from_outside([10, 96, 0, 1], Protocol::TCP, 80);
    packet.src = [203, 0, 113, 9].into();
    packet.entry = Entry::Pod;
    for (facts, to) in [
        (node(), sock("203.0.113.1:36463")),
        (NodeFacts::default(), sock("10.96.0.1:36463")),
    ] {
        let sim = run(dump, packet.clone(), &facts);
        assert_eq!(sim.outcomes.len(), 1);
        let o = &sim.outcomes[0];
        assert_eq!((o.verdict, o.dst, o.dnat), (Verdict::Drop, to, Some(to)));
        assert!(o.path.iter().any(|s| s.chain == "INPUT"), "{:?}", o.path);
        let unknown = o
            .assumptions
            .iter()
            .any(|a| matches!(a, Assumption::RedirectAddressUnknown { .. }));
        assert_eq!(unknown, facts.local_ips.is_empty());
    }
}

#[test]
fn a_reply_to_a_dropped_packet_is_no_connection() {
    let dump = "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
    let sim = Simulator::new(rules(dump)).trace(&client(), &node(), Which::Reply);
    assert_eq!(sim.outcomes.len(), 1);
    assert_eq!(sim.outcomes[0].verdict, Verdict::Drop);
    assert!(sim.outcomes[0].path.is_empty());
    assert!(
        sim.outcomes[0]
            .assumptions
            .contains(&Assumption::NoConnection)
    );
}

#[test]
fn session_affinity_follows_the_recent_list_of_the_client() {
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:SVC - [0:0]\n:A - [0:0]\n:B - [0:0]\n\
        -A PREROUTING -d 198.51.100.10/32 -j SVC\n\
        -A SVC -m recent --rcheck --seconds 10800 --reap --name A --mask 255.255.255.255 --rsource -j A\n\
        -A SVC -m recent --rcheck --seconds 10800 --reap --name B --mask 255.255.255.255 --rsource -j B\n\
        -A SVC -m statistic --mode random --probability 0.50000000000 -j A\n-A SVC -j B\n\
        -A A -p tcp -m recent --set --name A --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 203.0.113.10:80\n\
        -A B -p tcp -m recent --set --name B --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 203.0.113.11:80\nCOMMIT\n";
    let simulator = Simulator::new(rules(dump));
    let first = simulator.run(&client(), &node());
    assert_eq!(first.outcomes.len(), 2);
    let to_b = first
        .outcomes
        .iter()
        .find(|o| o.dst.port() == 80 && o.dst.ip() == IpAddr::from([203, 0, 113, 11]))
        .map(|o| o.recent_set.clone())
        .unwrap_or_default();
    let mut facts = node();
    facts.recent = to_b.into_iter().map(|(l, a)| (l.to_string(), a)).collect();
    let again = simulator.run(&client(), &facts);
    assert_eq!(again.outcomes.len(), 1);
    assert_eq!(again.outcomes[0].dnat, Some(sock("203.0.113.11:80")));
    assert_eq!(again.outcomes[0].path[1].rule, Some(2));
    // Another client is not in the list.
    let mut other = client();
    other.src = [192, 0, 2, 51].into();
    assert_eq!(simulator.run(&other, &facts).outcomes.len(), 2);
}

#[test]
fn ipv6_rules_walk_like_ipv4() {
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:SVC - [0:0]\n\
        -A PREROUTING -d 2001:db8::10/128 -p udp -m udp --dport 53 -j SVC\n\
        -A SVC -p udp -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination [2001:db8:1::a]:53\n\
        -A SVC -p udp -j DNAT --to-destination [2001:db8:1::b]:53\nCOMMIT\n";
    let packet = Packet::new(
        "2001:db8:9::1".parse().unwrap_or(IpAddr::from([0; 16])),
        "2001:db8::10".parse().unwrap_or(IpAddr::from([0; 16])),
        Protocol::UDP,
        53,
        Entry::Outside,
    );
    let sim = run(dump, packet, &NodeFacts::default());
    let mut got: Vec<_> = sim
        .outcomes
        .iter()
        .map(|o| (o.dnat.map(|d| d.to_string()), o.probability))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            (Some("[2001:db8:1::a]:53".to_string()), 0.5),
            (Some("[2001:db8:1::b]:53".to_string()), 0.5)
        ]
    );
}

fn from_outside(dst: [u8; 4], protocol: Protocol, dport: u16) -> Packet {
    Packet::new(
        [198, 51, 100, 7].into(),
        dst.into(),
        protocol,
        dport,
        Entry::Outside,
    )
}

#[test]
fn one_ipset_question_has_one_answer_per_outcome() {
    let dump = "*filter\n:FORWARD ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n\
        -A FORWARD -m set --match-set X src -j A\n\
        -A FORWARD -m set ! --match-set X src -j B\n\
        -A A -j MARK --set-xmark 0x1/0x1\n-A B -j MARK --set-xmark 0x2/0x2\nCOMMIT\n";
    let sim = run(
        dump,
        from_outside([203, 0, 113, 9], Protocol::TCP, 80),
        &NodeFacts::default(),
    );
    assert_eq!(sim.outcomes.len(), 2, "{:#?}", sim.outcomes);
    let mut marks: Vec<u32> = sim.outcomes.iter().map(|o| o.mark).collect();
    marks.sort();
    assert_eq!(marks, [1, 2]);
    for o in &sim.outcomes {
        assert!((o.probability - 0.5).abs() < 1e-12);
        let answers: Vec<_> = o.answers().collect();
        assert_eq!(answers.len(), 1, "{:?}", o.assumptions);
        // Member: through A (mark 1); not a member: through B (mark 2).
        assert_eq!(answers[0].1, o.mark == 1);
    }
}

#[test]
fn a_pasted_ipset_decides_the_set_match() {
    // `ipset list` output pasted after the rules: membership is known, one outcome each way.
    let rules_text = "*filter\n:FORWARD ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n\
        -A FORWARD -m set --match-set X src -j A\n\
        -A FORWARD -m set ! --match-set X src -j B\n\
        -A A -j MARK --set-xmark 0x1/0x1\n-A B -j MARK --set-xmark 0x2/0x2\nCOMMIT\n";
    let listed = format!(
        "{rules_text}\nName: X\nType: hash:net\nRevision: 7\nHeader: family inet hashsize 1024 maxelem 65536\nSize in memory: 552\nReferences: 2\nNumber of entries: 2\nMembers:\n203.0.113.0/24\n198.51.100.0/25 timeout 3600\n"
    );
    let saved = format!(
        "{rules_text}create X hash:net family inet hashsize 1024 maxelem 65536\nadd X 203.0.113.0/24\nadd X 198.51.100.0/25\n"
    );
    for text in [listed, saved] {
        let parsed = parse(&text);
        assert_eq!(parsed.ruleset.ipsets.len(), 1, "{:?}", parsed.diagnostics);
        assert!(parsed.ruleset.ipsets[0].complete);
        let ruleset: &'static crate::Ruleset = Box::leak(Box::new(parsed.ruleset));
        let (facts, _) = NodeFacts::infer(ruleset);
        for (src, mark) in [([203, 0, 113, 9], 1), ([198, 51, 100, 200], 2)] {
            let sim = simulate(ruleset, &from_outside_from(src), &facts);
            assert_eq!(sim.outcomes.len(), 1, "{:#?}", sim.outcomes);
            assert_eq!(sim.outcomes[0].mark, mark);
            assert!(sim.outcomes[0].answers().next().is_none());
        }
    }
    // A listing that shows fewer members than it counts leaves a miss undecided.
    let partial = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m set --match-set X src -j DROP\nCOMMIT\nName: X\nType: hash:ip\nNumber of entries: 3\nMembers:\n203.0.113.9\n";
    let parsed = parse(partial);
    assert!(!parsed.ruleset.ipsets[0].complete);
    let ruleset: &'static crate::Ruleset = Box::leak(Box::new(parsed.ruleset));
    let (facts, _) = NodeFacts::infer(ruleset);
    let hit = simulate(ruleset, &from_outside_from([203, 0, 113, 9]), &facts);
    assert_eq!(hit.outcomes.len(), 1);
    assert_eq!(hit.outcomes[0].verdict, Verdict::Drop);
    let miss = simulate(ruleset, &from_outside_from([203, 0, 113, 10]), &facts);
    assert_eq!(miss.outcomes.len(), 2, "{:#?}", miss.outcomes);
}

/// A TCP packet from `src` (outside) to 192.0.2.80:80.
fn from_outside_from(src: [u8; 4]) -> Packet {
    Packet::new(
        src.into(),
        [192, 0, 2, 80].into(),
        Protocol::TCP,
        80,
        Entry::Outside,
    )
}

#[test]
fn a_service_without_endpoints_is_always_rejected_whatever_the_undecided_test() {
    // The same membership asked both ways before kube-proxy's REJECT: either answer reaches it.
    let dump = "*filter\n:FORWARD ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n\
        -A FORWARD -m set --match-set weave-local dst -j KUBE-SERVICES\n\
        -A FORWARD -m set ! --match-set weave-local dst -j KUBE-SERVICES\n\
        -A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment \"default/web has no endpoints\" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n";
    let sim = run(
        dump,
        from_outside([10, 96, 0, 50], Protocol::TCP, 80),
        &NodeFacts::default(),
    );
    let rejected: f64 = sim
        .outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Reject)
        .map(|o| o.probability)
        .sum();
    assert!((rejected - 1.0).abs() < 1e-12, "{:#?}", sim.outcomes);
}

#[test]
fn a_rule_with_a_typo_is_undecided_not_decided_by_what_was_read() {
    let dump = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dprot 22 -j DROP\nCOMMIT\n";
    let facts = NodeFacts {
        local_ips: vec![[192, 0, 2, 1].into()],
        ..NodeFacts::default()
    };
    let sim = run(
        dump,
        from_outside([192, 0, 2, 1], Protocol::TCP, 443),
        &facts,
    );
    let dropped: f64 = sim
        .outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Drop)
        .map(|o| o.probability)
        .sum();
    assert!((dropped - 0.5).abs() < 1e-12, "{:#?}", sim.outcomes);
    assert!(
        sim.outcomes
            .iter()
            .all(|o| o.assumptions.iter().any(|a| matches!(
                a,
                Assumption::Undecided {
                    test: Undecidable::Incomplete { rule: 1, .. },
                    ..
                }
            )))
    );
    // What was read still rules out what it can: a UDP packet never matches `-p tcp …`.
    let udp = run(
        dump,
        from_outside([192, 0, 2, 1], Protocol::UDP, 53),
        &facts,
    );
    assert_eq!(udp.outcomes.len(), 1);
    assert_eq!(udp.outcomes[0].verdict, Verdict::Accept);
}

/// `n` chains, each jumping to the next after a rule that splits the walk and does not end it.
fn nested(n: usize, split: &dyn Fn(usize) -> String) -> String {
    let mut dump = String::from("*filter\n:FORWARD ACCEPT [0:0]\n");
    for i in 0..n {
        dump.push_str(&format!(":C{i} - [0:0]\n"));
    }
    dump.push_str("-A FORWARD -j C0\n");
    for i in 0..n {
        dump.push_str(&format!("-A C{i} {} -j LOG\n", split(i)));
        if i + 1 < n {
            dump.push_str(&format!("-A C{i} -j C{}\n", i + 1));
        }
    }
    dump.push_str(&format!(
        "-A C{} -d 203.0.113.9/32 -j DROP\nCOMMIT\n",
        n - 1
    ));
    dump
}

#[test]
fn a_thousand_nested_random_splits_merge_into_one_outcome() {
    let dump = nested(1000, &|_| {
        "-m statistic --mode random --probability 0.5".into()
    });
    let sim = run(
        &dump,
        from_outside([203, 0, 113, 9], Protocol::TCP, 80),
        &NodeFacts::default(),
    );
    assert_eq!(sim.outcomes.len(), 1);
    let o = &sim.outcomes[0];
    assert_eq!(o.verdict, Verdict::Drop);
    assert!((o.probability - 1.0).abs() < 1e-9);
    assert_eq!(sim.max_depth, 1000);
    assert!(sim.unexplored.is_empty());
    // Two ways through each chain: 2^1000 paths, counted (saturating), walked once each way.
    assert_eq!(o.paths, u64::MAX);
    assert!(sim.evaluations < 10_000, "{}", sim.evaluations);
}

#[test]
fn a_thousand_nested_undecidable_tests_asked_once_merge_too() {
    let dump = nested(1000, &|i| format!("-m set --match-set S{i} src"));
    let sim = run(
        &dump,
        from_outside([203, 0, 113, 9], Protocol::TCP, 80),
        &NodeFacts::default(),
    );
    assert_eq!(sim.outcomes.len(), 1, "{:?}", sim.unexplored);
    let o = &sim.outcomes[0];
    assert!((o.probability - 1.0).abs() < 1e-9);
    // Every set was asked, and the outcome is the same whatever each answer.
    let either = o
        .assumptions
        .iter()
        .filter(|a| matches!(a, Assumption::Either { .. }))
        .count();
    assert_eq!(either, 1000);
}

#[test]
fn undecidable_tests_that_may_be_asked_again_are_capped_and_said() {
    // The chain is entered twice (from FORWARD, then again), so its answers must be kept: 2^20
    // ways, more than the simulator follows at once.
    let mut dump = String::from("*filter\n:FORWARD ACCEPT [0:0]\n:SETS - [0:0]\n");
    dump.push_str("-A FORWARD -j SETS\n-A FORWARD -j SETS\n-A FORWARD -d 203.0.113.9/32 -j DROP\n");
    for i in 0..20 {
        dump.push_str(&format!(
            "-A SETS -m set --match-set S{i} src -j MARK --or-mark {:#x}\n",
            1u32 << i
        ));
    }
    dump.push_str("COMMIT\n");
    let sim = run(
        &dump,
        from_outside([203, 0, 113, 9], Protocol::TCP, 80),
        &NodeFacts::default(),
    );
    let explored = sim.explored();
    let unexplored: f64 = sim.unexplored.iter().map(|u| u.probability).sum();
    assert!((explored + unexplored - 1.0).abs() < 1e-9);
    assert!(!sim.unexplored.is_empty());
    assert!(sim.outcomes.len() <= Limits::default().outcomes);
    assert!(
        sim.unexplored
            .iter()
            .all(|u| matches!(u.why, Cutoff::Branches { .. } | Cutoff::Outcomes { .. })),
        "{:?}",
        sim.unexplored
    );
}

#[test]
fn loops_end_in_a_stated_cutoff_not_a_hang() {
    for jump in ["-j", "-g"] {
        let dump = format!(
            "*filter\n:FORWARD ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A FORWARD -j A\n-A A {jump} B\n-A B {jump} A\nCOMMIT\n"
        );
        let sim = run(
            &dump,
            from_outside([203, 0, 113, 9], Protocol::TCP, 80),
            &NodeFacts::default(),
        );
        assert!(sim.outcomes.is_empty(), "{jump}: {:?}", sim.outcomes);
        assert!(matches!(
            sim.unexplored.as_slice(),
            [Unexplored { why: Cutoff::Loop { .. }, probability, .. }] if (*probability - 1.0).abs() < 1e-12
        ));
    }
}

fn deep(n: usize, how: &str) -> String {
    let mut dump = String::from("*filter\n:FORWARD ACCEPT [0:0]\n");
    for i in 0..n {
        dump.push_str(&format!(":C{i} - [0:0]\n"));
    }
    dump.push_str("-A FORWARD -j C0\n");
    for i in 0..n - 1 {
        dump.push_str(&format!("-A C{i} {how} C{}\n", i + 1));
    }
    dump.push_str(&format!("-A C{} -j DROP\nCOMMIT\n", n - 1));
    dump
}

#[test]
fn a_hundred_thousand_deep_chains_are_walked_without_recursion() {
    for how in ["-g", "-j"] {
        let sim = run(
            &deep(100_000, how),
            from_outside([203, 0, 113, 9], Protocol::TCP, 80),
            &NodeFacts::default(),
        );
        assert_eq!(sim.outcomes.len(), 1);
        assert_eq!(sim.outcomes[0].verdict, Verdict::Drop);
        assert_eq!(sim.outcomes[0].path.len(), 100_001);
        assert_eq!(sim.max_depth, if how == "-j" { 100_000 } else { 1 });
    }
}

#[test]
fn a_cascade_of_ten_thousand_endpoints_gives_each_its_share() {
    let n = 10_000;
    let mut dump = String::from(
        "*nat\n:PREROUTING ACCEPT [0:0]\n:SVC - [0:0]\n-A PREROUTING -d 10.96.0.1/32 -j SVC\n",
    );
    for i in 0..n {
        if i + 1 < n {
            dump.push_str(&format!(
                "-A SVC -p tcp -m statistic --mode random --probability {:.11} -j DNAT --to-destination 10.{}.{}.1:80\n",
                1.0 / (n - i) as f64,
                i / 256,
                i % 256
            ));
        } else {
            dump.push_str(&format!(
                "-A SVC -p tcp -j DNAT --to-destination 10.{}.{}.1:80\n",
                i / 256,
                i % 256
            ));
        }
    }
    dump.push_str("COMMIT\n");
    let sim = run(
        &dump,
        from_outside([10, 96, 0, 1], Protocol::TCP, 80),
        &NodeFacts::default(),
    );
    assert_eq!(sim.outcomes.len(), n);
    assert!((sim.explored() - 1.0).abs() < 1e-9);
    assert!(
        sim.outcomes
            .iter()
            .all(|o| (o.probability - 1.0 / n as f64).abs() < 1e-6)
    );
}

#[test]
fn a_local_packet_to_the_node_itself_comes_back_in_through_lo() {
    // The kubernetes Service on a control-plane node: its endpoint is the node's own address.
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
        -A PREROUTING -j LOG\n-A OUTPUT -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j DNAT --to-destination 192.0.2.1:6443\n\
        -A INPUT -j LOG\nCOMMIT\n\
        *filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 6443 -j ACCEPT\nCOMMIT\n";
    let facts = NodeFacts {
        local_ips: vec![[192, 0, 2, 1].into()],
        ..NodeFacts::default()
    };
    let packet = Packet::new(
        [192, 0, 2, 1].into(),
        [10, 96, 0, 1].into(),
        Protocol::TCP,
        443,
        Entry::Local,
    );
    let sim = run(dump, packet, &facts);
    assert_eq!(sim.outcomes.len(), 1);
    let o = &sim.outcomes[0];
    let path: Vec<(&str, &str, Option<usize>)> =
        o.path.iter().map(|s| (s.table, s.chain, s.rule)).collect();
    // nat is consulted in OUTPUT and POSTROUTING only; the second half (PREROUTING, INPUT)
    // skips it.
    assert_eq!(
        path,
        [
            ("nat", "OUTPUT", Some(1)),
            ("filter", "OUTPUT", None),
            ("nat", "POSTROUTING", None),
            ("filter", "INPUT", Some(1)),
        ]
    );
    assert_eq!(o.looped_at, Some(3));
    assert_eq!(o.dst, sock("192.0.2.1:6443"));
    assert_eq!(o.verdict, Verdict::Accept);
}

#[test]
fn hops_group_the_path_by_hook_and_table_and_chance_names_the_random_draws() {
    let dump = "*mangle\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n\
        *nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:SVC - [0:0]\n\
        -A PREROUTING -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j SVC\n\
        -A SVC -p tcp -m statistic --mode random --probability 0.25000000000 -j DNAT --to-destination 10.244.0.1:8080\n\
        -A SVC -p tcp -j DNAT --to-destination 10.244.0.2:8080\n\
        -A POSTROUTING -j MASQUERADE\nCOMMIT\n";
    let packet = Packet::new(
        [198, 51, 100, 7].into(),
        [10, 96, 0, 1].into(),
        Protocol::TCP,
        80,
        Entry::Outside,
    );
    let sim = run(dump, packet, &node());
    let second = sim
        .outcomes
        .iter()
        .find(|o| o.dnat == Some(sock("10.244.0.2:8080")))
        .expect("the second endpoint");
    let hops = second.hops();
    let shape: Vec<(Hook, Vec<&str>)> = hops
        .iter()
        .map(|h| {
            let tables = h
                .passes
                .iter()
                .map(|p| second.path[p.steps.start].table)
                .collect();
            (h.hook, tables)
        })
        .collect();
    assert_eq!(
        shape,
        [
            (Hook::Prerouting, vec!["mangle", "nat"]),
            (Hook::Postrouting, vec!["mangle", "nat"]),
        ],
        "{:?}",
        second.path
    );
    // Every step is in exactly one pass, in order.
    let covered: Vec<usize> = hops
        .iter()
        .flat_map(|h| h.passes.iter().flat_map(|p| p.steps.clone()))
        .collect();
    assert_eq!(covered, (0..second.path.len()).collect::<Vec<_>>());
    // The one random draw on this path: the 75 % that did not take the first endpoint.
    let draws: Vec<(usize, f64)> = (0..second.path.len())
        .filter_map(|i| second.chance(i).map(|p| (i, p)))
        .collect();
    assert_eq!(draws.len(), 1, "{draws:?}");
    let (i, share) = draws[0];
    assert!((share - 0.75).abs() < 1e-9, "{share}");
    assert_eq!(second.path[i].effect, Effect::Dnat(sock("10.244.0.2:8080")));
}
