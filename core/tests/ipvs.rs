//! kube-proxy's IPVS mode traced: the iptables rules it writes (ipset matches, the masquerade
//! mark) with `ipset save` and `ipvsadm -Ln` pasted after them. IPVS schedules at LOCAL_IN
//! (after filter INPUT) or at LOCAL_OUT (after nat OUTPUT), DNATs to a real server by weight,
//! and sends the packet out through LOCAL_OUT and POSTROUTING, where KUBE-POSTROUTING
//! masquerades what KUBE-SERVICES marked.

use std::net::{IpAddr, SocketAddr};

use chainlens_core::model::values::Protocol;
use chainlens_core::sim::{Effect, Entry, NodeFacts, Packet, Simulator, Verdict, Which};
use chainlens_core::{Severity, read};

const RULES: &str = "*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES
-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -j MASQUERADE --random-fully
-A KUBE-SERVICES ! -s 203.0.113.0/24 -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ
-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A OUTPUT -d 203.0.113.66/32 -j DROP
COMMIT
create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.96.0.10,udp:53
add KUBE-CLUSTER-IP 10.96.0.20,tcp:80
$ ipvsadm -Ln
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
UDP  10.96.0.10:53 rr
  -> 203.0.113.2:53               Masq    1      0          0
  -> 203.0.113.3:53               Masq    3      0          0
TCP  10.96.0.20:80 lc
  -> 203.0.113.66:8080            Masq    1      0          0
  -> 203.0.113.67:8080            Masq    0      0          0
TCP  10.96.0.30:443 rr
";

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn facts(ruleset: &chainlens_core::Ruleset) -> NodeFacts {
    let (facts, inferred) = NodeFacts::infer(ruleset);
    assert!(
        inferred
            .iter()
            .any(|i| i.to_string().contains("3 IPVS virtual server addresses")),
        "{inferred:?}"
    );
    NodeFacts {
        local_ips: vec![ip("192.0.2.1"), ip("203.0.113.1")],
        ..facts
    }
}

#[test]
fn ipvs_dnats_by_weight_after_filter_input_and_the_mark_masquerades() {
    let parsed = read(RULES);
    assert!(
        parsed
            .diagnostics
            .iter()
            .all(|d| d.severity != Severity::Error),
        "{:#?}",
        parsed.diagnostics
    );
    let facts = facts(&parsed.ruleset);
    let sim = Simulator::new(&parsed.ruleset);
    // From outside: marked in KUBE-SERVICES, accepted in nat, up to LOCAL_IN (the virtual
    // address is the node's), scheduled by weight, out through POSTROUTING's masquerade.
    let mut packet = Packet::new(
        ip("198.51.100.7"),
        ip("10.96.0.10"),
        Protocol::UDP,
        53,
        Entry::Outside,
    );
    packet.sport = 40000;
    let run = sim.run(&packet, &facts);
    let got: Vec<(Option<SocketAddr>, f64, bool)> = run
        .outcomes
        .iter()
        .map(|o| (o.dnat, o.probability, o.snat.is_some()))
        .collect();
    assert_eq!(
        got,
        [
            (Some("203.0.113.3:53".parse().expect("addr")), 0.75, true),
            (Some("203.0.113.2:53".parse().expect("addr")), 0.25, true),
        ]
    );
    let o = &run.outcomes[0];
    assert_eq!(o.verdict, Verdict::Accept);
    let path: Vec<(&str, &str)> = o.path.iter().map(|s| (s.table, s.chain)).collect();
    let ipvs_at = path
        .iter()
        .position(|p| *p == ("ipvs", "LOCAL_IN"))
        .expect("an IPVS step");
    let input_at = path
        .iter()
        .position(|p| *p == ("filter", "INPUT"))
        .expect("filter INPUT");
    let post_at = path
        .iter()
        .position(|p| *p == ("nat", "KUBE-POSTROUTING"))
        .expect("KUBE-POSTROUTING");
    assert!(input_at < ipvs_at && ipvs_at < post_at, "{path:?}");
    // IPVS's step cites the virtual server's line of the paste.
    assert!(o.path[ipvs_at].span.is_some());
    assert!(matches!(
        o.path[ipvs_at].effect,
        Effect::Ipvs {
            weight: 3,
            total: 4,
            ..
        }
    ));
    assert!(o.assumptions.is_empty(), "{:?}", o.assumptions);

    // From a pod: not marked, so not masqueraded.
    let pod = Packet::new(
        ip("203.0.113.9"),
        ip("10.96.0.10"),
        Protocol::UDP,
        53,
        Entry::Pod,
    );
    let run = sim.run(&pod, &facts);
    assert_eq!(run.outcomes.len(), 2);
    assert!(
        run.outcomes
            .iter()
            .all(|o| o.snat.is_none() && o.dnat.is_some())
    );

    // A later packet goes to the real server the first went to, DNATed by IPVS (not conntrack)
    // at LOCAL_IN again: same split, same path shape.
    let next = sim.trace(&packet, &facts, Which::Next);
    assert_eq!(next.outcomes.len(), 2, "{:#?}", next.outcomes);
    for o in &next.outcomes {
        assert!(o.path.iter().any(|s| s.table == "ipvs"), "{:?}", o.path);
        assert!(o.path.iter().all(|s| s.chain != "FORWARD"));
    }

    // A weight of 0 takes no new connections; `lc` is said to be taken by weight. The one
    // real server left is dropped in filter OUTPUT, which IPVS's packets pass.
    let web = Packet::new(
        ip("198.51.100.7"),
        ip("10.96.0.20"),
        Protocol::TCP,
        80,
        Entry::Outside,
    );
    let run = sim.run(&web, &facts);
    assert_eq!(run.outcomes.len(), 1);
    let o = &run.outcomes[0];
    assert_eq!(o.dnat, Some("203.0.113.66:8080".parse().expect("addr")));
    assert_eq!(o.verdict, Verdict::Drop);
    assert_eq!(
        o.path.last().map(|s| (s.table, s.chain)),
        Some(("filter", "OUTPUT"))
    );
    assert!(o.assumptions.iter().any(|a| a.to_string().contains("`lc`")));

    // No real server: refused, as `ip_vs_leave` does.
    let empty = Packet::new(
        ip("198.51.100.7"),
        ip("10.96.0.30"),
        Protocol::TCP,
        443,
        Entry::Outside,
    );
    let run = sim.run(&empty, &facts);
    assert_eq!(run.outcomes.len(), 1);
    assert_eq!(run.outcomes[0].verdict, Verdict::Reject);

    // From the node itself: IPVS schedules at LOCAL_OUT, after nat OUTPUT.
    let local = Packet::new(
        ip("192.0.2.1"),
        ip("10.96.0.10"),
        Protocol::UDP,
        53,
        Entry::Local,
    );
    let run = sim.run(&local, &facts);
    assert_eq!(run.outcomes.len(), 2);
    let path: Vec<(&str, &str)> = run.outcomes[0]
        .path
        .iter()
        .map(|s| (s.table, s.chain))
        .collect();
    let nat_out = path
        .iter()
        .position(|p| *p == ("nat", "OUTPUT"))
        .expect("nat OUTPUT");
    let ipvs_at = path
        .iter()
        .position(|p| *p == ("ipvs", "LOCAL_OUT"))
        .expect("IPVS at LOCAL_OUT");
    assert!(nat_out < ipvs_at, "{path:?}");
}

#[test]
fn without_ipvsadm_output_nothing_is_scheduled() {
    // The same rules without the virtual servers: the cluster IP is nobody's, and the packet
    // is forwarded as it is (the ipvs-mode finding says what is missing).
    let rules = RULES.split("$ ipvsadm").next().unwrap_or_default();
    let parsed = read(rules);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let packet = Packet::new(
        ip("198.51.100.7"),
        ip("10.96.0.10"),
        Protocol::UDP,
        53,
        Entry::Outside,
    );
    let run = Simulator::new(&parsed.ruleset).run(&packet, &facts);
    assert_eq!(run.outcomes.len(), 1);
    assert!(run.outcomes[0].dnat.is_none());
    assert!(run.outcomes[0].path.iter().all(|s| s.table != "ipvs"));
}
