//! The walk: hooks in kernel order, each table's chain walked rule by rule with jumps, gotos,
//! RETURN and policies (NETFILTER.md §1.2, §1.5), NAT bindings rewriting the packet for later
//! hooks, and a branch wherever a rule matches with a probability below one.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::eval::{self, View};
use super::packet::{Binding, Conn, Entry, NodeFacts, Packet};
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
    /// `SNAT --to-source`, as `ip[:port]`; for a reply packet, the address DNAT had replaced.
    To(String),
}

/// One way the packet can go, with its probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub probability: f64,
    pub verdict: Verdict,
    /// The destination NAT gave this packet, as `ip:port` (DNAT, or for a reply the client the
    /// masquerade stood for).
    pub dnat: Option<String>,
    pub snat: Option<Snat>,
    pub mark: u32,
    /// The packet's addresses and ports where its walk ended.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub path: Vec<Step>,
    /// `recent --set` entries this packet added, as (list, address).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recent_set: Vec<(String, IpAddr)>,
    /// What this outcome depends on that the rules cannot tell.
    pub assumptions: Vec<String>,
}

/// All outcomes (their probabilities sum to 1) and what was assumed about the node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Simulation {
    pub outcomes: Vec<Outcome>,
    pub assumptions: Vec<String>,
}

/// Which packet of a connection to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// The first packet (conntrack NEW), which decides NAT.
    First,
    /// A later packet from the client, once the connection is established.
    Next,
    /// The server's answer, travelling back through the same bindings.
    Reply,
}

/// Jumps nested deeper than this are taken for a loop (the kernel refuses loops at load time).
const MAX_DEPTH: usize = 64;

/// The bit of one conntrack state in `CT_STATES`.
pub(super) fn ct_bit(name: &str) -> u8 {
    CT_STATES
        .iter()
        .position(|s| *s == name)
        .map_or(0, |i| 1u8 << i)
}

#[derive(Clone, Debug)]
struct Branch {
    p: f64,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    mark: u32,
    dnat: Option<(IpAddr, u16)>,
    snat: Option<Snat>,
    path: Vec<Step>,
    recent: Vec<(String, IpAddr)>,
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

/// Walks a packet through the ruleset: `Simulator::new(&ruleset).run(&packet, &facts)`.
pub fn simulate(ruleset: &Ruleset, packet: &Packet, facts: &NodeFacts) -> Simulation {
    Simulator::new(ruleset).run(packet, facts)
}

/// A ruleset ready to walk: chain indexes built once, for as many packets as needed.
#[derive(Debug)]
pub struct Simulator<'r> {
    tables: HashMap<&'r str, (&'r Table, ChainIndex<'r>)>,
    missing: Vec<String>,
}

impl<'r> Simulator<'r> {
    pub fn new(ruleset: &'r Ruleset) -> Self {
        let tables: HashMap<_, _> = ruleset
            .tables
            .iter()
            .map(|t| (t.name.as_str(), (t, t.index())))
            .collect();
        let missing = ["raw", "mangle", "nat", "filter"]
            .into_iter()
            .filter(|name| !tables.contains_key(name))
            .map(|name| {
                format!(
                    "the `{name}` table is not in the paste: taken as empty, with ACCEPT policies"
                )
            })
            .collect();
        Simulator { tables, missing }
    }

    /// Follows one packet of a connection whose first packet is `first`: for `Next` and
    /// `Reply`, the first packet is walked, then each way it was accepted gives a connection
    /// whose later packet is walked through its bindings. First packets that are dropped stay
    /// as outcomes with an empty path (no connection), so the probabilities still sum to 1.
    pub fn trace(&self, first: &Packet, facts: &NodeFacts, which: Which) -> Simulation {
        let opening = self.run(first, facts);
        if which == Which::First {
            return opening;
        }
        let mut outcomes = Vec::new();
        for o in opening.outcomes {
            if o.verdict != Verdict::Accept {
                outcomes.push(Outcome {
                    path: Vec::new(),
                    assumptions: [
                        o.assumptions,
                        vec!["the first packet is not delivered: there is no connection".into()],
                    ]
                    .concat(),
                    ..o
                });
                continue;
            }
            let binding = Binding {
                reply: which == Which::Reply,
                orig_src: (first.src, first.sport),
                orig_dst: (first.dst, first.dport),
                dnat: o.dnat.is_some().then(|| (o.dst.ip(), o.dst.port())),
                snat: o.snat.is_some().then(|| (o.src.ip(), o.src.port())),
            };
            let packet = if which == Which::Next {
                Packet {
                    tcp_flags: ack(first.protocol, 0x10),
                    conn: Conn::Established(binding),
                    ..first.clone()
                }
            } else {
                let server = o.dst.ip();
                Packet {
                    src: server,
                    dst: o.src.ip(),
                    sport: o.dst.port(),
                    dport: o.src.port(),
                    tcp_flags: ack(first.protocol, 0x12),
                    mark: 0,
                    entry: if facts.is_local(server) {
                        Entry::Local
                    } else if facts.pod_cidr.is_some_and(|c| c.contains(server)) {
                        Entry::Pod
                    } else {
                        Entry::Outside
                    },
                    in_iface: None,
                    conn: Conn::Established(binding),
                    protocol: first.protocol,
                }
            };
            let said = format!(
                "the first packet: {}",
                o.path.last().map_or("accepted".into(), |s| format!(
                    "{} {}",
                    o.verdict_text(),
                    s.action
                ))
            );
            for mut later in self.run(&packet, facts).outcomes {
                later.probability *= o.probability;
                later.assumptions =
                    [o.assumptions.clone(), vec![said.clone()], later.assumptions].concat();
                outcomes.push(later);
            }
        }
        Simulation {
            outcomes,
            assumptions: opening.assumptions,
        }
    }

    /// Walks one packet, as its `conn` says (the first of a connection by default).
    pub fn run(&self, packet: &Packet, facts: &NodeFacts) -> Simulation {
        let walk = Walk {
            sim: self,
            packet,
            facts,
        };
        let start = Branch {
            p: 1.0,
            src: packet.src,
            dst: packet.dst,
            sport: packet.sport,
            dport: packet.dport,
            mark: packet.mark,
            dnat: None,
            snat: None,
            path: Vec::new(),
            recent: Vec::new(),
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
                let pre = walk.hook(
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
                let input = walk.hook(
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
                for b in forward {
                    let out = walk.route(b.dst);
                    let fwd = walk.hook(
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
                    let post = walk.hook(
                        &[("mangle", "POSTROUTING"), ("nat", "POSTROUTING")],
                        fwd,
                        "",
                        Some(&out),
                        &mut done,
                    );
                    done.extend(post.into_iter().map(|b| (b, Verdict::Accept)));
                }
            }
            Entry::Local => {
                let out = walk.route(packet.dst);
                let output = walk.hook(
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
                    let out = walk.route(b.dst);
                    let post = walk.hook(
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
                dnat: b.dnat.map(|(ip, port)| endpoint(ip, port)),
                snat: b.snat,
                mark: b.mark,
                src: SocketAddr::new(b.src, b.sport),
                dst: SocketAddr::new(b.dst, b.dport),
                path: b.path,
                recent_set: b.recent,
                assumptions: b.assumptions,
            })
            .collect();
        Simulation {
            outcomes,
            assumptions: self.missing.clone(),
        }
    }
}

impl Outcome {
    fn verdict_text(&self) -> &'static str {
        match self.verdict {
            Verdict::Accept => "accepted after",
            Verdict::Drop => "dropped by",
            Verdict::Reject => "rejected by",
        }
    }
}

/// TCP flags of a later packet (`ACK`, or `SYN ACK` for the answer to a SYN); none for others.
fn ack(protocol: crate::model::values::Protocol, flags: u8) -> u8 {
    if protocol == crate::model::values::Protocol::TCP {
        flags
    } else {
        0
    }
}

fn endpoint(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// One packet's walk over a simulator's tables.
struct Walk<'s> {
    sim: &'s Simulator<'s>,
    packet: &'s Packet,
    facts: &'s NodeFacts,
}

impl Walk<'_> {
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

    /// For a later packet the nat chains are not walked: conntrack applies the connection's
    /// bindings at the nat hooks instead (NETFILTER.md §3). Destination rewrites happen in
    /// PREROUTING and OUTPUT, source rewrites in INPUT and POSTROUTING; a reply undoes them.
    fn rebind(&self, binding: &Binding, hook: &str, b: &mut Branch) {
        let destination_hook = matches!(hook, "PREROUTING" | "OUTPUT");
        let to = match (binding.reply, destination_hook) {
            (false, true) => binding.dnat,
            (false, false) => binding.snat,
            (true, true) => binding.snat.map(|_| binding.orig_src),
            (true, false) => binding.dnat.map(|_| binding.orig_dst),
        };
        let Some((ip, port)) = to else { return };
        if destination_hook {
            b.dst = ip;
            b.dport = port;
            b.dnat = Some((ip, port));
        } else {
            b.src = ip;
            b.sport = port;
            b.snat = Some(Snat::To(endpoint(ip, port)));
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
            if let (Conn::Established(binding), "nat") = (&self.packet.conn, table_name) {
                for b in &mut live {
                    self.rebind(binding, chain_name, b);
                }
                continue;
            }
            let Some((table, index)) = self.sim.tables.get(table_name) else {
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

    /// The packet as a rule sees it at this point of the walk.
    fn view<'v>(&'v self, b: &'v Branch, in_iface: &'v str, out_iface: &'v str) -> View<'v> {
        let (state, reply, orig_src, orig_dst) = match &self.packet.conn {
            Conn::New => ("NEW", false, self.packet.src, self.packet.dst),
            Conn::Established(c) => ("ESTABLISHED", c.reply, c.orig_src.0, c.orig_dst.0),
        };
        let (dnat, snat) = match &self.packet.conn {
            Conn::New => (b.dnat.is_some(), b.snat.is_some()),
            Conn::Established(c) => (c.dnat.is_some(), c.snat.is_some()),
        };
        View {
            src: b.src,
            dst: b.dst,
            protocol: self.packet.protocol,
            sport: b.sport,
            dport: b.dport,
            tcp_flags: self.packet.tcp_flags,
            mark: b.mark,
            in_iface,
            out_iface,
            ct_state: ct_bit(state)
                | if dnat { ct_bit("DNAT") } else { 0 }
                | if snat { ct_bit("SNAT") } else { 0 },
            ct_reply: reply,
            orig_src,
            orig_dst,
            recent: &b.recent,
            facts: self.facts,
        }
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
            let chance = eval::rule(rule, &self.view(&b, in_iface, out_iface));
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
            if let Some(mut b) = missed {
                // `recent --set` adds when reached, even if a later match of the rule fails.
                b.recent.extend(chance.recent_set.iter().cloned());
                work.push((b, i + 1));
            }
            let Some(mut b) = matched else { continue };
            b.recent.extend(chance.recent_set);
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
                    b.dnat = Some((ip, port));
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
                    b.dnat = Some((ip, b.dport));
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
                    b.src = ip;
                    b.sport = port;
                    step(&mut b, format!("SNAT {}", endpoint(ip, port)));
                    out.push((b, Flow::Accept));
                }
                Action::Masquerade(_) => {
                    // The source becomes the node's address on the way out; the port is kept
                    // when the tuple stays unique (NETFILTER.md §5), as for a single packet.
                    match self.facts.address_on(out_iface) {
                        Some(ip) => b.src = ip,
                        None => b.assumptions.push(format!(
                            "the node's address on `{out_iface}` is unknown (give it as a local IP): the masqueraded source is left as it was"
                        )),
                    }
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
        let parsed = parse(SERVICE);
        let sim = Simulator::new(&parsed.ruleset).trace(&client(), &node(), Which::First);
        let o = &sim.outcomes[0];
        assert_eq!(o.dst.to_string(), "203.0.113.10:8080");
        assert_eq!(o.src.to_string(), "203.0.113.1:41000");
        assert_eq!(o.snat, Some(Snat::Masquerade));
        assert_eq!(
            o.recent_set,
            [("SEP".to_string(), IpAddr::from([192, 0, 2, 50]))]
        );
    }

    #[test]
    fn a_later_packet_skips_nat_and_reuses_the_bindings() {
        let parsed = parse(SERVICE);
        let sim = Simulator::new(&parsed.ruleset).trace(&client(), &node(), Which::Next);
        assert_eq!(sim.outcomes.len(), 1);
        let o = &sim.outcomes[0];
        let path: Vec<_> = o.path.iter().map(|s| (s.table.as_str(), s.rule)).collect();
        // No nat chain is walked: only filter FORWARD's ESTABLISHED rule.
        assert_eq!(path, [("filter", Some(1))]);
        assert_eq!(o.dst.to_string(), "203.0.113.10:8080");
        assert_eq!(o.src.to_string(), "203.0.113.1:41000");
        assert_eq!(o.verdict, Verdict::Accept);
    }

    #[test]
    fn a_reply_is_un_natted_back_to_the_client() {
        let parsed = parse(SERVICE);
        let sim = Simulator::new(&parsed.ruleset).trace(&client(), &node(), Which::Reply);
        assert_eq!(sim.outcomes.len(), 1);
        let o = &sim.outcomes[0];
        // From the pod to the masquerade address, back to the client, from the Service address.
        assert_eq!(o.dst.to_string(), "192.0.2.50:41000");
        assert_eq!(o.src.to_string(), "198.51.100.10:80");
        assert_eq!(o.path.len(), 1);
        assert_eq!(o.path[0].action, "ACCEPT");
        assert!((o.probability - 1.0).abs() < 1e-15);
    }

    #[test]
    fn a_reply_to_a_dropped_packet_is_no_connection() {
        let dump = "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
        let parsed = parse(dump);
        let sim = Simulator::new(&parsed.ruleset).trace(&client(), &node(), Which::Reply);
        assert_eq!(sim.outcomes.len(), 1);
        assert_eq!(sim.outcomes[0].verdict, Verdict::Drop);
        assert!(sim.outcomes[0].path.is_empty());
        assert!(
            sim.outcomes[0]
                .assumptions
                .iter()
                .any(|a| a.contains("no connection"))
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
        let parsed = parse(dump);
        let simulator = Simulator::new(&parsed.ruleset);
        let first = simulator.run(&client(), &node());
        assert_eq!(first.outcomes.len(), 2);
        let to_b = first
            .outcomes
            .iter()
            .find(|o| o.dst.port() == 80 && o.dst.ip() == IpAddr::from([203, 0, 113, 11]))
            .map(|o| o.recent_set.clone())
            .unwrap_or_default();
        let mut facts = node();
        facts.recent = to_b;
        let again = simulator.run(&client(), &facts);
        assert_eq!(again.outcomes.len(), 1);
        assert_eq!(again.outcomes[0].dnat.as_deref(), Some("203.0.113.11:80"));
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
            .map(|o| (o.dnat.clone(), o.probability))
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
}
