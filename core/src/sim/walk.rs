//! The walk: hooks in kernel order, each table's chain walked rule by rule with jumps, gotos,
//! RETURN and policies (NETFILTER.md §1.2, §1.5), NAT bindings rewriting the packet for later
//! hooks, and a branch wherever a rule matches with a probability below one.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use super::eval::{self, View};
use super::packet::{Entry, NodeFacts, Packet};
use crate::ext::matches::CT_STATES;
use crate::ext::targets::{Action, Nat};
use crate::model::{ChainIndex, Ruleset, Table};

/// One rule (or policy) the packet passed, at the granularity of the kernel's trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    pub table: String,
    pub chain: String,
    /// 1-based position in the chain; `None` for the chain's policy.
    pub rule: Option<usize>,
    pub action: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Delivered: to a local socket or forwarded out of the node.
    Accept,
    Drop,
    Reject,
}

/// How the source was rewritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Snat {
    Masquerade,
    /// `SNAT --to-source`, as `ip[:port]`.
    To(String),
}

/// One way the packet can go, with its probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub probability: f64,
    pub verdict: Verdict,
    /// The destination after DNAT, as `ip:port`.
    pub dnat: Option<String>,
    pub snat: Option<Snat>,
    pub mark: u32,
    pub path: Vec<Step>,
    /// What this outcome depends on that the rules cannot tell.
    pub assumptions: Vec<String>,
}

/// All outcomes (their probabilities sum to 1) and what was assumed about the node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Simulation {
    pub outcomes: Vec<Outcome>,
    pub assumptions: Vec<String>,
}

/// Jumps nested deeper than this are taken for a loop (the kernel refuses loops at load time).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug)]
struct Branch {
    p: f64,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    mark: u32,
    dnat: bool,
    snat: Option<Snat>,
    path: Vec<Step>,
    assumptions: Vec<String>,
}

enum Flow {
    /// Fell off the end of the chain or hit RETURN.
    Continue,
    /// Ends the table: ACCEPT, or a NAT target that set its binding.
    Accept,
    Drop,
    Reject,
}

/// Walks the first packet of a connection through the ruleset.
pub fn simulate(ruleset: &Ruleset, packet: &Packet, facts: &NodeFacts) -> Simulation {
    let sim = Simulator {
        tables: ruleset
            .tables
            .iter()
            .map(|t| (t.name.as_str(), (t, t.index())))
            .collect(),
        packet,
        facts,
    };
    let mut assumptions = Vec::new();
    for name in ["raw", "mangle", "nat", "filter"] {
        if !sim.tables.contains_key(name) {
            assumptions.push(format!(
                "the `{name}` table is not in the paste: taken as empty, with ACCEPT policies"
            ));
        }
    }
    let start = Branch {
        p: 1.0,
        src: packet.src,
        dst: packet.dst,
        sport: packet.sport,
        dport: packet.dport,
        mark: packet.mark,
        dnat: false,
        snat: None,
        path: Vec::new(),
        assumptions: Vec::new(),
    };
    let in_iface = packet
        .in_iface
        .clone()
        .unwrap_or_else(|| match packet.entry {
            Entry::Outside => facts.external_iface.clone(),
            Entry::Pod => facts.pod_iface.clone(),
            Entry::Local => String::new(),
        });
    let mut done = Vec::new();
    match packet.entry {
        Entry::Outside | Entry::Pod => {
            let pre = sim.hook(
                &[
                    ("raw", "PREROUTING"),
                    ("mangle", "PREROUTING"),
                    ("nat", "PREROUTING"),
                ],
                vec![start],
                &in_iface,
                None,
                &mut done,
            );
            let (local, forward): (Vec<Branch>, Vec<Branch>) =
                pre.into_iter().partition(|b| facts.is_local(b.dst));
            let input = sim.hook(
                &[
                    ("mangle", "INPUT"),
                    ("filter", "INPUT"),
                    ("security", "INPUT"),
                    ("nat", "INPUT"),
                ],
                local,
                &in_iface,
                None,
                &mut done,
            );
            done.extend(input.into_iter().map(|b| (b, Verdict::Accept)));
            let mut forwarded = Vec::new();
            for b in forward {
                let out = sim.route(b.dst);
                let fwd = sim.hook(
                    &[
                        ("mangle", "FORWARD"),
                        ("filter", "FORWARD"),
                        ("security", "FORWARD"),
                    ],
                    vec![b],
                    &in_iface,
                    Some(&out),
                    &mut done,
                );
                forwarded.extend(sim.hook(
                    &[("mangle", "POSTROUTING"), ("nat", "POSTROUTING")],
                    fwd,
                    "",
                    Some(&out),
                    &mut done,
                ));
            }
            done.extend(forwarded.into_iter().map(|b| (b, Verdict::Accept)));
        }
        Entry::Local => {
            let out = sim.route(packet.dst);
            let output = sim.hook(
                &[
                    ("raw", "OUTPUT"),
                    ("mangle", "OUTPUT"),
                    ("nat", "OUTPUT"),
                    ("filter", "OUTPUT"),
                    ("security", "OUTPUT"),
                ],
                vec![start],
                "",
                Some(&out),
                &mut done,
            );
            for b in output {
                // nat OUTPUT may have changed the destination: route again.
                let out = sim.route(b.dst);
                let post = sim.hook(
                    &[("mangle", "POSTROUTING"), ("nat", "POSTROUTING")],
                    vec![b],
                    "",
                    Some(&out),
                    &mut done,
                );
                done.extend(post.into_iter().map(|b| (b, Verdict::Accept)));
            }
        }
    }
    let outcomes = done
        .into_iter()
        .map(|(b, verdict)| Outcome {
            probability: b.p,
            verdict,
            dnat: b.dnat.then(|| endpoint(b.dst, b.dport)),
            snat: b.snat,
            mark: b.mark,
            path: b.path,
            assumptions: b.assumptions,
        })
        .collect();
    Simulation {
        outcomes,
        assumptions,
    }
}

fn endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

struct Simulator<'a> {
    tables: HashMap<&'a str, (&'a Table, ChainIndex<'a>)>,
    packet: &'a Packet,
    facts: &'a NodeFacts,
}

impl Simulator<'_> {
    /// The interface a packet to `dst` leaves on.
    fn route(&self, dst: IpAddr) -> String {
        if self.facts.is_local(dst) {
            "lo".into()
        } else if self.facts.pod_cidr.is_some_and(|c| c.contains(dst)) {
            self.facts.pod_iface.clone()
        } else {
            self.facts.external_iface.clone()
        }
    }

    /// Runs the given (table, built-in chain) stages over the live branches; branches dropped or
    /// rejected go to `done`, the rest are returned.
    fn hook(
        &self,
        stages: &[(&str, &str)],
        mut live: Vec<Branch>,
        in_iface: &str,
        out_iface: Option<&str>,
        done: &mut Vec<(Branch, Verdict)>,
    ) -> Vec<Branch> {
        for &(table_name, chain_name) in stages {
            let Some((table, index)) = self.tables.get(table_name) else {
                continue;
            };
            let Some(chain) = index.get(chain_name) else {
                continue;
            };
            let mut next = Vec::new();
            for b in live {
                for (mut b, flow) in
                    self.chain(table, index, chain, b, in_iface, out_iface.unwrap_or(""), 0)
                {
                    let flow = match flow {
                        Flow::Continue => {
                            let policy = table.chains[chain].policy.as_deref().unwrap_or("ACCEPT");
                            b.path.push(Step {
                                table: table.name.clone(),
                                chain: chain_name.into(),
                                rule: None,
                                action: format!("policy {policy}"),
                            });
                            if policy == "DROP" {
                                Flow::Drop
                            } else {
                                Flow::Accept
                            }
                        }
                        other => other,
                    };
                    match flow {
                        Flow::Drop => done.push((b, Verdict::Drop)),
                        Flow::Reject => done.push((b, Verdict::Reject)),
                        _ => next.push(b),
                    }
                }
            }
            live = next;
        }
        live
    }

    /// Walks one chain from its first rule; returns every branch with how it left the chain.
    #[allow(clippy::too_many_arguments)]
    fn chain(
        &self,
        table: &Table,
        index: &ChainIndex<'_>,
        chain: usize,
        start: Branch,
        in_iface: &str,
        out_iface: &str,
        depth: usize,
    ) -> Vec<(Branch, Flow)> {
        let rules = &table.chains[chain].rules;
        let chain_name = &table.chains[chain].name;
        let mut out = Vec::new();
        let mut work = vec![(start, 0usize)];
        while let Some((b, i)) = work.pop() {
            let Some(rule) = rules.get(i) else {
                out.push((b, Flow::Continue));
                continue;
            };
            let ct_bit = |name: &str| {
                CT_STATES
                    .iter()
                    .position(|s| *s == name)
                    .map_or(0, |i| 1u8 << i)
            };
            let view = View {
                src: b.src,
                dst: b.dst,
                protocol: self.packet.protocol,
                sport: b.sport,
                dport: b.dport,
                tcp_flags: self.packet.tcp_flags,
                mark: b.mark,
                in_iface,
                out_iface,
                ct_state: ct_bit("NEW")
                    | if b.dnat { ct_bit("DNAT") } else { 0 }
                    | if b.snat.is_some() { ct_bit("SNAT") } else { 0 },
                orig_src: self.packet.src,
                orig_dst: self.packet.dst,
                facts: self.facts,
            };
            let chance = eval::rule(rule, &view);
            let (matched, missed) = if chance.p >= 1.0 {
                (Some(b), None)
            } else if chance.p <= 0.0 {
                (None, Some(b))
            } else {
                let mut yes = b.clone();
                yes.p *= chance.p;
                yes.assumptions.extend(chance.assumptions.iter().cloned());
                let mut no = b;
                no.p *= 1.0 - chance.p;
                no.assumptions
                    .extend(chance.assumptions.iter().map(|a| format!("(not) {a}")));
                (Some(yes), Some(no))
            };
            if let Some(b) = missed {
                work.push((b, i + 1));
            }
            let Some(mut b) = matched else { continue };
            let step = |b: &mut Branch, action: String| {
                b.path.push(Step {
                    table: table.name.clone(),
                    chain: chain_name.clone(),
                    rule: Some(i + 1),
                    action,
                });
            };
            let Some(target) = &rule.target else {
                step(&mut b, "count".into());
                work.push((b, i + 1));
                continue;
            };
            match &target.action {
                Action::Chain => match index.get(&target.name) {
                    Some(sub) if depth < MAX_DEPTH => {
                        step(
                            &mut b,
                            format!(
                                "{} {}",
                                if target.goto { "goto" } else { "jump" },
                                target.name
                            ),
                        );
                        for (b2, flow) in
                            self.chain(table, index, sub, b, in_iface, out_iface, depth + 1)
                        {
                            match flow {
                                // After a goto, RETURN goes back to this chain's caller.
                                Flow::Continue if target.goto => out.push((b2, Flow::Continue)),
                                Flow::Continue => work.push((b2, i + 1)),
                                other => out.push((b2, other)),
                            }
                        }
                    }
                    Some(_) => {
                        b.assumptions.push(format!("jumps nested deeper than {MAX_DEPTH} at `{}`: taken as a loop, dropped", target.name));
                        out.push((b, Flow::Drop));
                    }
                    None => {
                        step(&mut b, format!("jump {} (not in the paste)", target.name));
                        b.assumptions.push(format!(
                            "chain `{}` is not in the paste: assumed to return without effect",
                            target.name
                        ));
                        work.push((b, i + 1));
                    }
                },
                Action::Return => {
                    step(&mut b, "RETURN".into());
                    out.push((b, Flow::Continue));
                }
                Action::Accept => {
                    step(&mut b, "ACCEPT".into());
                    out.push((b, Flow::Accept));
                }
                Action::Drop => {
                    step(&mut b, "DROP".into());
                    out.push((b, Flow::Drop));
                }
                Action::Reject(with) => {
                    step(&mut b, format!("REJECT {with}").trim_end().to_string());
                    out.push((b, Flow::Reject));
                }
                Action::Mark { value, mask } => {
                    b.mark = (b.mark & !mask) ^ value;
                    step(&mut b, format!("MARK set-xmark {value:#x}/{mask:#x}"));
                    work.push((b, i + 1));
                }
                Action::Dnat(nat) => {
                    let (ip, port) = nat_target(nat, b.dst, b.dport);
                    b.dst = ip;
                    b.dport = port;
                    b.dnat = true;
                    step(&mut b, format!("DNAT {}", endpoint(ip, port)));
                    out.push((b, Flow::Accept));
                }
                Action::Redirect(ports) => {
                    let ip = if in_iface.is_empty() {
                        IpAddr::from([127, 0, 0, 1])
                    } else {
                        self.facts.local_ips.first().copied().unwrap_or(b.dst)
                    };
                    b.dst = ip;
                    b.dport = ports.ports.map_or(b.dport, |p| p.0);
                    b.dnat = true;
                    let to = endpoint(ip, b.dport);
                    step(&mut b, format!("REDIRECT {to}"));
                    out.push((b, Flow::Accept));
                }
                Action::Snat(nat) => {
                    let (ip, port) = nat_target(nat, b.src, b.sport);
                    b.snat = Some(Snat::To(if nat.ports.is_some() {
                        endpoint(ip, port)
                    } else {
                        ip.to_string()
                    }));
                    step(&mut b, format!("SNAT {}", endpoint(ip, port)));
                    out.push((b, Flow::Accept));
                }
                Action::Masquerade(_) => {
                    b.snat = Some(Snat::Masquerade);
                    step(&mut b, "MASQUERADE".into());
                    out.push((b, Flow::Accept));
                }
                Action::Queue | Action::Tproxy { .. } => {
                    step(&mut b, target.name.clone());
                    b.assumptions.push(format!(
                        "{} hands the packet to another program: taken as accepted",
                        target.name
                    ));
                    out.push((b, Flow::Accept));
                }
                Action::Unknown(_) => {
                    step(&mut b, target.name.clone());
                    b.assumptions.push(format!(
                        "target {} is not evaluated: taken as continuing",
                        target.name
                    ));
                    work.push((b, i + 1));
                }
                // Non-terminating targets: log, count, mark the connection, set checksums…
                Action::Connmark(_)
                | Action::Log(_)
                | Action::Nflog(_)
                | Action::Ct(_)
                | Action::Notrack
                | Action::Checksum
                | Action::Tcpmss(_) => {
                    step(&mut b, target.name.clone());
                    work.push((b, i + 1));
                }
            }
        }
        out
    }
}

/// The first address and port of a NAT range (the kernel picks within the range; the first is
/// what a single-address rule, as kube-proxy writes them, always gives).
fn nat_target(nat: &Nat, ip: IpAddr, port: u16) -> (IpAddr, u16) {
    (
        nat.addrs.map_or(ip, |a| a.0),
        nat.ports.map_or(port, |p| p.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::values::Protocol;
    use crate::parse::parse;

    fn run(dump: &str, packet: Packet, facts: &NodeFacts) -> Simulation {
        simulate(&parse(dump).ruleset, &packet, facts)
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
            .map(|o| (o.dnat.clone().unwrap_or_default(), o.probability))
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
            (o.dnat.as_deref(), o.snat.clone(), o.mark),
            (Some("10.244.0.9:53"), Some(Snat::Masquerade), 0x4000)
        );
        let path: Vec<_> = o
            .path
            .iter()
            .map(|s| (s.chain.as_str(), s.rule, s.action.as_str()))
            .collect();
        assert_eq!(
            path,
            [
                ("PREROUTING", Some(1), "jump MASQ"),
                ("MASQ", Some(1), "MARK set-xmark 0x4000/0x4000"),
                ("PREROUTING", Some(2), "DNAT 10.244.0.9:53"),
                ("POSTROUTING", Some(1), "MASQUERADE"),
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
            to_node.outcomes[0].path.last().map(|s| s.action.as_str()),
            Some("policy DROP")
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
}
