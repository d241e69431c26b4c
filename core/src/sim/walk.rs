//! The walk: every base chain of each hook in priority order (NETFILTER.md §1.1–1.2, §8), each
//! chain rule by rule with jumps, gotos, RETURN and policies (§1.5), NAT rewriting the packet
//! for later hooks, locally delivered packets through `lo` and back in, and a branch wherever a
//! rule matches with a probability below one.
//!
//! The walk is a work list of branches, never recursion, so 100,000-deep chains cost no stack.
//! It is bounded: branches at the same place in the same state are merged (their probabilities
//! add; one path is kept as the example), answers to undecidable tests that can never be asked
//! again are forgotten so such branches can merge, and past the [`Limits`] what is left is
//! summarised as [`Unexplored`] with its probability and the limit that stopped it.

use std::cmp::Ordering;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use serde::Serialize;

use super::assume::{Assumption, Undecidable};
use super::branch::{At, Branch, Frame, Live, Node, Said, State, Waiting, frame_hash};
use super::eval::{self, View};
use super::hooks::{Base, Hooks, Leg, Route, Stage};
use super::outcome::{
    Cutoff, Effect, Outcome, Policy, Simulation, Snat, Step, Unexplored, Verdict, Which,
    merge_outcomes, say,
};
use super::packet::{Binding, Conn, Entry, NodeFacts, Packet};
use crate::ext::matches::CT_STATES;
use crate::ext::targets::{Action, Connmark, Nat};
use crate::model::ipvs::VirtualServer;
use crate::model::{ChainIndex, Ruleset, Table};

/// How much one simulation may do. Past these, the rest is summarised as [`Unexplored`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limits {
    /// Branches waiting to be walked at once.
    pub branches: usize,
    /// Outcomes kept (a cascade of 10,000 endpoints has 10,001).
    pub outcomes: usize,
    /// Path steps kept over all outcomes.
    pub steps: usize,
    /// Rules evaluated over all branches.
    pub evaluations: u64,
    /// Merge branches and outcomes that agree in everything but their past path. Off, every
    /// path is its own outcome (for comparing paths rule by rule with the kernel's).
    pub merge: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            branches: 4096,
            outcomes: 20_000,
            steps: 1_000_000,
            evaluations: 250_000,
            merge: true,
        }
    }
}

impl Limits {
    /// Every path its own outcome, within the same bounds.
    pub fn exhaustive() -> Self {
        Limits {
            merge: false,
            ..Limits::default()
        }
    }

    /// For the many probes an analysis sends: smaller bounds, merged.
    pub fn probe() -> Self {
        Limits {
            branches: 512,
            outcomes: 2_000,
            steps: 100_000,
            evaluations: 200_000,
            merge: true,
        }
    }
}

/// The bit of one conntrack state in `CT_STATES`.
pub(crate) fn ct_bit(name: &str) -> u8 {
    CT_STATES
        .iter()
        .position(|s| *s == name)
        .map_or(0, |i| 1u8 << i)
}

/// Walks a packet through the ruleset: `Simulator::new(&ruleset).run(&packet, &facts)`.
pub fn simulate<'r>(ruleset: &'r Ruleset, packet: &Packet, facts: &NodeFacts) -> Simulation<'r> {
    Simulator::new(ruleset).run(packet, facts)
}

/// One table as the simulator walks it.
#[derive(Debug)]
struct Walked<'r> {
    table: &'r Table,
    index: ChainIndex<'r>,
    /// Chains that are part of a jump loop (the kernel refuses such a table).
    looped: Vec<bool>,
}

/// A ruleset ready to walk: chain indexes, hook order and loops found once, for as many
/// packets as needed.
#[derive(Debug)]
pub struct Simulator<'r> {
    tables: Vec<Walked<'r>>,
    hooks: Hooks,
    /// IPVS's virtual servers, as pasted (`ipvsadm -Ln`).
    ipvs: &'r [VirtualServer],
    missing: Vec<Assumption<'r>>,
    /// Which undecidable answers can be forgotten once given, computed on first need.
    forget: std::cell::OnceCell<super::hooks::Forgettable<'r>>,
    limits: Limits,
}

impl<'r> Simulator<'r> {
    pub fn new(ruleset: &'r Ruleset) -> Self {
        let tables: Vec<Walked<'r>> = ruleset
            .tables
            .iter()
            .map(|t| {
                let index = t.index();
                let looped = super::hooks::looped_chains(t, &index);
                Walked {
                    table: t,
                    index,
                    looped,
                }
            })
            .collect();
        let names: Vec<&str> = ruleset.tables.iter().map(|t| t.name.as_str()).collect();
        let missing = ["raw", "mangle", "nat", "filter"]
            .into_iter()
            .filter(|name| !names.contains(name))
            .map(|table| Assumption::TableMissing { table })
            .collect();
        Simulator {
            hooks: Hooks::of(ruleset),
            ipvs: &ruleset.ipvs,
            tables,
            missing,
            forget: std::cell::OnceCell::new(),
            limits: Limits::default(),
        }
    }

    /// The same simulator with other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Follows one packet of a connection whose first packet is `first`: for `Next` and
    /// `Reply`, the first packet is walked, then each way it was accepted gives a connection
    /// whose later packet is walked through its bindings (with the same answers to undecidable
    /// tests). First packets that are dropped stay as outcomes with an empty path (no
    /// connection), so the probabilities still sum to 1.
    pub fn trace(&self, first: &Packet, facts: &NodeFacts, which: Which) -> Simulation<'r> {
        let opening = self.run(first, facts);
        if which == Which::First {
            return opening;
        }
        let mut outcomes = Vec::new();
        let mut unexplored = opening.unexplored;
        let mut evaluations = opening.evaluations;
        let mut max_depth = opening.max_depth;
        // One budget for the whole trace: the later packets' walks share what the first left.
        let mut left = Limits {
            evaluations: self.limits.evaluations.saturating_sub(opening.evaluations),
            ..self.limits
        };
        for o in opening.outcomes {
            if o.verdict == Verdict::Accept
                && (left.evaluations == 0 || left.outcomes == 0 || left.steps == 0)
            {
                let why = if left.evaluations == 0 {
                    Cutoff::Evaluations {
                        at_most: self.limits.evaluations,
                    }
                } else if left.outcomes == 0 {
                    Cutoff::Outcomes {
                        at_most: self.limits.outcomes,
                    }
                } else {
                    Cutoff::Steps {
                        at_most: self.limits.steps,
                    }
                };
                match unexplored.iter_mut().find(|u| u.why == why) {
                    Some(u) => {
                        u.probability += o.probability;
                        u.branches = u.branches.saturating_add(o.paths);
                    }
                    None => unexplored.push(Unexplored {
                        probability: o.probability,
                        branches: o.paths,
                        why,
                    }),
                }
                continue;
            }
            if o.verdict == Verdict::Unknown {
                // Where the first packet went is not known, so neither is the connection.
                outcomes.push(o);
                continue;
            }
            if o.verdict != Verdict::Accept {
                let mut assumptions = o.assumptions;
                assumptions.push(Assumption::NoConnection);
                outcomes.push(Outcome {
                    path: Vec::new(),
                    looped_at: None,
                    assumptions,
                    ..o
                });
                continue;
            }
            let binding = Binding {
                reply: which == Which::Reply,
                orig_src: (first.src, first.sport),
                orig_dst: (first.dst, first.dport),
                dnat: o.dnat.map(|_| (o.dst.ip(), o.dst.port())),
                snat: o.snat.map(|_| (o.src.ip(), o.src.port())),
                ipvs: o.path.iter().find_map(|s| match s.effect {
                    Effect::Ipvs { to: Some(to), .. } => Some((to.ip(), to.port())),
                    _ => None,
                }),
                ctmark: o.ctmark,
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
                    } else if facts.is_pod(server) {
                        Entry::Pod
                    } else {
                        Entry::Outside
                    },
                    in_iface: None,
                    conn: Conn::Established(binding),
                    protocol: first.protocol,
                }
            };
            let said = Assumption::FirstPacket {
                verdict: o.verdict,
                last: o
                    .path
                    .last()
                    .map_or("its walk".into(), |s| s.effect.to_string()),
            };
            let known: Vec<(Undecidable<'r>, bool)> =
                o.answers().map(|(t, v)| (t.clone(), v)).collect();
            let later = self.walk(&packet, facts, known, left);
            left.evaluations = left.evaluations.saturating_sub(later.evaluations);
            left.outcomes = left.outcomes.saturating_sub(later.outcomes.len());
            left.steps = left
                .steps
                .saturating_sub(later.outcomes.iter().map(|o| o.path.len()).sum());
            evaluations += later.evaluations;
            max_depth = max_depth.max(later.max_depth);
            for mut u in later.unexplored {
                u.probability *= o.probability;
                unexplored.push(u);
            }
            for mut l in later.outcomes {
                l.probability *= o.probability;
                let mut assumptions = o.assumptions.clone();
                assumptions.push(said.clone());
                for a in l.assumptions {
                    if !assumptions.contains(&a) {
                        assumptions.push(a);
                    }
                }
                l.assumptions = assumptions;
                outcomes.push(l);
            }
        }
        Simulation {
            outcomes,
            unexplored,
            assumptions: opening.assumptions,
            evaluations,
            max_depth,
        }
    }

    /// Walks one packet, as its `conn` says (the first of a connection by default).
    pub fn run(&self, packet: &Packet, facts: &NodeFacts) -> Simulation<'r> {
        self.walk(packet, facts, Vec::new(), self.limits)
    }

    fn walk(
        &self,
        packet: &Packet,
        facts: &NodeFacts,
        known: Vec<(Undecidable<'r>, bool)>,
        limits: Limits,
    ) -> Simulation<'r> {
        let mut w = Walk {
            sim: self,
            packet,
            facts,
            limits,
            in_iface: packet
                .in_iface
                .clone()
                .unwrap_or_else(|| match packet.entry {
                    Entry::Outside => facts.external_iface.clone(),
                    Entry::Pod => facts
                        .bridges
                        .iter()
                        .find(|(c, _)| c.contains(packet.src))
                        .map_or(&facts.pod_iface, |(_, i)| i)
                        .clone(),
                    Entry::Local => String::new(),
                }),
            done: Vec::new(),
            unexplored: Vec::new(),
            evaluations: 0,
            max_depth: 0,
            steps: 0,
            seq: 0,
        };
        let leg = match packet.entry {
            Entry::Local => Leg::Output,
            _ => Leg::Prerouting,
        };
        let start = Branch {
            p: 1.0,
            paths: 1,
            at: At::start(leg),
            callers: None,
            depth: 0,
            st: State {
                src: packet.src,
                dst: packet.dst,
                sport: packet.sport,
                dport: packet.dport,
                mark: packet.mark,
                ctmark: match &packet.conn {
                    Conn::Established(c) => c.ctmark,
                    Conn::New => 0,
                },
                dnat: None,
                snat: None,
                out: w.route(packet.dst),
                to_node: false,
                recent: Vec::new(),
                known: Vec::new(),
                known_hash: 0,
            },
            path: None,
            path_len: 0,
            looped_at: None,
            said: Said::none(),
        };
        let mut start = start;
        for (test, holds) in known {
            start.st.know(test, holds);
        }
        w.run(start);
        let mut outcomes = std::mem::take(&mut w.done);
        if limits.merge {
            outcomes = merge_outcomes(outcomes);
        }
        outcomes.sort_by(|a, b| {
            b.probability
                .partial_cmp(&a.probability)
                .unwrap_or(Ordering::Equal)
        });
        Simulation {
            outcomes,
            unexplored: w.unexplored,
            assumptions: self.missing.clone(),
            evaluations: w.evaluations,
            max_depth: w.max_depth,
        }
    }

    fn forgettable(&self) -> &super::hooks::Forgettable<'r> {
        self.forget.get_or_init(|| {
            super::hooks::Forgettable::of(self.tables.iter().map(|w| (w.table, &w.index)))
        })
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

/// One packet's walk over a simulator's tables.
struct Walk<'s, 'r> {
    sim: &'s Simulator<'r>,
    packet: &'s Packet,
    facts: &'s NodeFacts,
    limits: Limits,
    in_iface: String,
    done: Vec<Outcome<'r>>,
    unexplored: Vec<Unexplored>,
    evaluations: u64,
    max_depth: usize,
    steps: usize,
    seq: u64,
}

// Returned once per rule evaluated and taken apart at once: boxing the common case costs more.
#[allow(clippy::large_enum_variant)]
enum Next<'r> {
    One(Branch<'r>),
    Many(Vec<Branch<'r>>),
    None,
}

impl<'s, 'r> Walk<'s, 'r> {
    fn run(&mut self, start: Branch<'r>) {
        let mut live = Live::new();
        let mut current = Some(start);
        loop {
            let b = match current.take() {
                Some(b) => b,
                None => match live.pop() {
                    Some(b) => b,
                    None => break,
                },
            };
            if self.evaluations >= self.limits.evaluations {
                let at_most = self.limits.evaluations;
                self.cut(b, Cutoff::Evaluations { at_most });
                for b in live.drain() {
                    self.cut(b, Cutoff::Evaluations { at_most });
                }
                break;
            }
            match self.advance(b) {
                Next::One(b) if live.len == 0 => current = Some(b),
                Next::One(b) => self.push(&mut live, b),
                Next::Many(bs) => {
                    for b in bs {
                        self.push(&mut live, b);
                    }
                }
                Next::None => {}
            }
        }
    }

    fn push(&mut self, live: &mut Live<'r>, b: Branch<'r>) {
        let key = b.key();
        if self.limits.merge
            && let Some(slots) = live.index.get(&key)
        {
            for &slot in slots {
                if let Some(Some(other)) = live.slab.get_mut(slot)
                    && other.same_place(&b)
                {
                    other.paths = other.paths.saturating_add(b.paths);
                    if b.p > other.p {
                        other.path = b.path;
                        other.path_len = b.path_len;
                        other.looped_at = b.looped_at;
                    }
                    other.p += b.p;
                    other.said = Said::both(&other.said, &b.said);
                    return;
                }
            }
        }
        if live.len >= self.limits.branches {
            let at_most = self.limits.branches;
            self.cut(b, Cutoff::Branches { at_most });
            return;
        }
        let slot = match live.free.pop() {
            Some(s) => s,
            None => {
                live.slab.push(None);
                live.slab.len() - 1
            }
        };
        self.seq += 1;
        live.heap.push(Waiting {
            depth: b.depth,
            rank: b.at.leg.rank() * 0x1_0000 + u32::from(b.at.base),
            rule: b.at.rule,
            p: b.p,
            seq: self.seq,
            slot,
            key,
        });
        live.index.entry(key).or_default().push(slot);
        live.slab[slot] = Some(b);
        live.len += 1;
    }

    fn cut(&mut self, b: Branch<'r>, why: Cutoff) {
        match self.unexplored.iter_mut().find(|u| u.why == why) {
            Some(u) => {
                u.probability += b.p;
                u.branches = u.branches.saturating_add(b.paths);
            }
            None => self.unexplored.push(Unexplored {
                probability: b.p,
                branches: b.paths,
                why,
            }),
        }
    }

    /// The interface a packet to `dst` leaves on.
    fn route(&self, dst: IpAddr) -> Route {
        if self.facts.is_local(dst) {
            Route::Loopback
        } else if let Some(i) = self.facts.bridges.iter().position(|(c, _)| c.contains(dst)) {
            Route::Bridge(i as u16)
        } else if self.facts.pod_cidr.is_some_and(|c| c.contains(dst)) {
            Route::Pods
        } else {
            Route::External
        }
    }

    fn iface(&self, route: Route) -> &str {
        match route {
            Route::Loopback => "lo",
            Route::Pods => &self.facts.pod_iface,
            Route::External => &self.facts.external_iface,
            Route::Bridge(i) => self
                .facts
                .bridges
                .get(usize::from(i))
                .map_or(&self.facts.external_iface, |(_, iface)| iface),
        }
    }

    /// The virtual server IPVS schedules this branch's packet to here: a packet to a virtual
    /// server's protocol, address and port, at LOCAL_IN (from outside or a pod) or LOCAL_OUT
    /// (from the node); not a reply, and not once IPVS has sent it on.
    fn scheduled(&self, b: &Branch<'r>) -> Option<&'r VirtualServer> {
        if !matches!(b.at.leg, Leg::Input | Leg::Output) {
            return None;
        }
        if let Conn::Established(c) = &self.packet.conn
            && c.reply
        {
            return None;
        }
        let to = SocketAddr::new(b.st.dst, b.st.dport);
        self.sim
            .ipvs
            .iter()
            .find(|v| v.protocol == self.packet.protocol && v.addr == to)
    }

    /// IPVS schedules the packet (`ip_vs_in`, masquerading forward): each real server with a
    /// weight is one branch, weighed by its share, DNATed to it and sent out again through
    /// LOCAL_OUT and POSTROUTING (`ip_vs_nat_xmit`). A later packet of a connection IPVS made
    /// goes to the same real server. With no real server to take it the packet is refused
    /// (`ip_vs_leave`: ICMP port unreachable).
    fn ipvs(&mut self, mut b: Branch<'r>) -> Next<'r> {
        let Some(vs) = self.scheduled(&b) else {
            b.at.base += 1;
            return Next::One(b);
        };
        let chain = if b.at.leg == Leg::Input {
            "LOCAL_IN"
        } else {
            "LOCAL_OUT"
        };
        let total: u32 = vs
            .reals
            .iter()
            .fold(0u32, |t, r| t.saturating_add(r.weight));
        let weight_of = |to: SocketAddr| {
            vs.reals
                .iter()
                .find(|r| r.addr == to)
                .map_or(0, |r| r.weight)
        };
        let earlier = match &self.packet.conn {
            Conn::Established(c) => c.ipvs.map(|(ip, port)| SocketAddr::new(ip, port)),
            Conn::New => None,
        };
        let choices: Vec<(SocketAddr, f64)> = match earlier {
            Some(to) => vec![(to, 1.0)],
            None => vs
                .reals
                .iter()
                .filter(|r| r.weight > 0)
                .map(|r| (r.addr, f64::from(r.weight) / f64::from(total)))
                .collect(),
        };
        let step = |walk: &Self, b: &mut Branch<'r>, to: Option<SocketAddr>| {
            let effect = Effect::Ipvs {
                scheduler: &vs.scheduler,
                to,
                weight: to.map_or(0, weight_of),
                total,
            };
            walk.push_step(b, "ipvs", chain, None, Some(vs.span), None, effect);
        };
        if choices.is_empty() {
            step(self, &mut b, None);
            self.finish(b, Verdict::Reject);
            return Next::None;
        }
        if earlier.is_none() && !matches!(vs.scheduler.as_str(), "rr" | "wrr") {
            b.said.say(Assumption::IpvsScheduler {
                scheduler: &vs.scheduler,
            });
        }
        let sent = |walk: &Self, mut nb: Branch<'r>, (to, share): (SocketAddr, f64)| {
            nb.p *= share;
            (nb.st.dst, nb.st.dport, nb.st.dnat) = (to.ip(), to.port(), Some(to));
            step(walk, &mut nb, Some(to));
            nb.st.out = walk.route(to.ip());
            nb.at = At::start(Leg::IpvsOutput);
            nb.callers = None;
            nb.depth = 0;
            nb
        };
        // Every real server but the last gets a copy of the branch; the last gets the branch.
        let Some((&last, rest)) = choices.split_last() else {
            return Next::None;
        };
        let mut out: Vec<Branch<'r>> = rest.iter().map(|&c| sent(self, b.clone(), c)).collect();
        out.push(sent(self, b, last));
        match out.len() {
            1 => out.pop().map_or(Next::None, Next::One),
            _ => Next::Many(out),
        }
    }

    fn table(&self, base: &Base) -> &'s Walked<'r> {
        &self.sim.tables[base.table]
    }

    fn step(&self, b: &mut Branch<'r>, table: &'r Table, rule: Option<u32>, effect: Effect<'r>) {
        let chain = &table.chains[b.at.chain as usize];
        let source = rule.and_then(|r| chain.rules.get(r as usize));
        // A rule assumed for a fragment (`kube::complete`) is nowhere in the paste.
        let span = source.map_or(chain.declared, |r| {
            (r.origin != crate::model::Origin::Assumed).then_some(r.span)
        });
        let rule = rule.map(|r| r as usize + 1);
        self.push_step(b, &table.name, &chain.name, rule, span, source, effect);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_step(
        &self,
        b: &mut Branch<'r>,
        table: &'r str,
        chain: &'r str,
        rule: Option<usize>,
        span: Option<crate::text::Span>,
        source: Option<&'r crate::model::Rule>,
        effect: Effect<'r>,
    ) {
        let step = Step {
            table,
            chain,
            rule,
            span,
            source,
            effect,
            hook: b.at.leg.hook(),
            p: b.p,
        };
        b.path = Some(Rc::new(Node {
            step,
            parent: b.path.take(),
        }));
        b.path_len += 1;
    }

    fn finish(&mut self, b: Branch<'r>, verdict: Verdict) {
        if self.done.len() >= self.limits.outcomes {
            let at_most = self.limits.outcomes;
            return self.cut(b, Cutoff::Outcomes { at_most });
        }
        if self.steps + b.path_len > self.limits.steps {
            let at_most = self.limits.steps;
            return self.cut(b, Cutoff::Steps { at_most });
        }
        self.steps += b.path_len;
        let mut path = Vec::with_capacity(b.path_len);
        let mut node = b.path.as_deref();
        while let Some(n) = node {
            path.push(n.step.clone());
            node = n.parent.as_deref();
        }
        path.reverse();
        let mut assumptions = b.said.list();
        for (test, holds) in b.st.known {
            say(&mut assumptions, Assumption::Undecided { test, holds });
        }
        self.done.push(Outcome {
            probability: b.p,
            paths: b.paths,
            verdict,
            dnat: b.st.dnat,
            snat: b.st.snat,
            mark: b.st.mark,
            ctmark: b.st.ctmark,
            src: SocketAddr::new(b.st.src, b.st.sport),
            dst: SocketAddr::new(b.st.dst, b.st.dport),
            path,
            looped_at: b.looped_at,
            recent_set: b.st.recent,
            assumptions,
        });
    }

    /// Leaves the current base chain (accepted, or a NAT binding set) for the next one.
    fn next_base(b: &mut Branch<'r>) {
        b.at.base += 1;
        b.at.entered = false;
        b.callers = None;
        b.depth = 0;
    }

    /// Moves a branch to the next rule it must evaluate — through chain ends, returns,
    /// policies, base chains and legs — or finishes it.
    fn settle(&mut self, mut b: Branch<'r>) -> Option<Branch<'r>> {
        loop {
            let stages = self.sim.hooks.stages(b.at.leg.hook());
            let base = match stages.get(usize::from(b.at.base)) {
                None => match self.next_leg(&mut b) {
                    Some(leg) => {
                        b.at = At::start(leg);
                        continue;
                    }
                    None => {
                        self.finish(b, Verdict::Accept);
                        return None;
                    }
                },
                Some(Stage::Ipvs { .. }) => {
                    if self.scheduled(&b).is_some() {
                        return Some(b);
                    }
                    b.at.base += 1;
                    continue;
                }
                Some(Stage::Chain(base)) => base,
            };
            let walked = self.table(base);
            if !b.at.entered {
                // A packet IPVS sent on has its destination binding: LOCAL_OUT's nat chains
                // are skipped (`nf_nat_initialized`).
                if base.nat && b.at.leg == Leg::IpvsOutput {
                    b.at.base += 1;
                    continue;
                }
                if base.nat {
                    // nat chains see only a connection's first packet, and only once: later
                    // packets get the connection's bindings, the second half of a local
                    // delivery nothing at all (NETFILTER.md §1.2, §1.4).
                    if let Conn::Established(binding) = &self.packet.conn {
                        rebind(binding, base.dst_manip, &mut b.st);
                    }
                    if matches!(self.packet.conn, Conn::Established(_)) || b.at.leg.is_loopback() {
                        b.at.base += 1;
                        continue;
                    }
                }
                b.at.entered = true;
                b.at.chain = base.chain as u32;
                b.at.rule = 0;
            }
            let chain = &walked.table.chains[b.at.chain as usize];
            if (b.at.rule as usize) < chain.rules.len() {
                return Some(b);
            }
            // Off the end of the chain, or RETURN: back to the caller, or the policy.
            if let Some(frame) = b.callers.take() {
                b.at.chain = frame.chain;
                b.at.rule = frame.resume;
                b.callers = frame.parent.clone();
                b.depth -= 1;
                continue;
            }
            b.at.chain = base.chain as u32;
            let policy = match walked.table.chains[base.chain].policy.as_deref() {
                Some("DROP") => Policy::Drop,
                _ => Policy::Accept,
            };
            self.step(&mut b, walked.table, None, Effect::Policy(policy));
            if policy == Policy::Drop {
                self.finish(b, Verdict::Drop);
                return None;
            }
            Self::next_base(&mut b);
        }
    }

    /// Routing between hooks: after PREROUTING to INPUT or FORWARD by the (DNATed)
    /// destination, after OUTPUT to POSTROUTING (routed again), and after POSTROUTING a
    /// locally delivered packet comes back in through `lo`. `None`: the packet has arrived.
    fn next_leg(&self, b: &mut Branch<'r>) -> Option<Leg> {
        let next = match b.at.leg {
            Leg::Prerouting | Leg::LoopPrerouting => {
                if b.st.to_node || self.facts.is_local(b.st.dst) {
                    if b.at.leg == Leg::Prerouting {
                        Leg::Input
                    } else {
                        Leg::LoopInput
                    }
                } else {
                    b.st.out = self.route(b.st.dst);
                    Leg::Forward
                }
            }
            Leg::Forward => Leg::Postrouting,
            Leg::Output | Leg::IpvsOutput => {
                b.st.out = self.route(b.st.dst);
                Leg::Postrouting
            }
            Leg::Postrouting
                if self.packet.entry == Entry::Local && b.st.out == Route::Loopback =>
            {
                b.looped_at = Some(b.path_len);
                Leg::LoopPrerouting
            }
            Leg::Postrouting | Leg::Input | Leg::LoopInput => return None,
        };
        Some(next)
    }

    /// The packet as a rule sees it.
    fn view<'v>(&'v self, b: &'v Branch<'r>) -> View<'v, 'r> {
        let (state, reply, orig_src, orig_dst) = match &self.packet.conn {
            Conn::New => ("NEW", false, self.packet.src, self.packet.dst),
            Conn::Established(c) => ("ESTABLISHED", c.reply, c.orig_src.0, c.orig_dst.0),
        };
        let (dnat, snat) = match &self.packet.conn {
            Conn::New => (b.st.dnat.is_some(), b.st.snat.is_some()),
            Conn::Established(c) => (c.dnat.is_some(), c.snat.is_some()),
        };
        let (in_iface, out_iface) = match b.at.leg {
            Leg::Prerouting | Leg::Input => (self.in_iface.as_str(), ""),
            Leg::Forward | Leg::Postrouting if self.packet.entry != Entry::Local => {
                (self.in_iface.as_str(), self.iface(b.st.out))
            }
            Leg::Output | Leg::IpvsOutput | Leg::Postrouting | Leg::Forward => {
                ("", self.iface(b.st.out))
            }
            Leg::LoopPrerouting | Leg::LoopInput => ("lo", ""),
        };
        View {
            src: b.st.src,
            dst: b.st.dst,
            protocol: self.packet.protocol,
            sport: b.st.sport,
            dport: b.st.dport,
            tcp_flags: self.packet.tcp_flags,
            mark: b.st.mark,
            ctmark: b.st.ctmark,
            in_iface,
            out_iface,
            ct_state: ct_bit(state)
                | if dnat { ct_bit("DNAT") } else { 0 }
                | if snat { ct_bit("SNAT") } else { 0 },
            ct_reply: reply,
            orig_src,
            orig_dst,
            recent: &b.st.recent,
            facts: self.facts,
            known: &b.st.known,
        }
    }

    /// One rule of one branch: its alternatives, each with the rule's target applied.
    fn advance(&mut self, b: Branch<'r>) -> Next<'r> {
        let Some(b) = self.settle(b) else {
            return Next::None;
        };
        let stages = self.sim.hooks.stages(b.at.leg.hook());
        let base = match stages[usize::from(b.at.base)] {
            Stage::Chain(base) => base,
            Stage::Ipvs { .. } => return self.ipvs(b),
        };
        let walked = self.table(&base);
        let table = walked.table;
        let chain = &table.chains[b.at.chain as usize];
        let rule = &chain.rules[b.at.rule as usize];
        let at = eval::At {
            table: &table.name,
            chain: &chain.name,
            rule: b.at.rule + 1,
        };
        let alts = eval::rule(rule, at, &self.view(&b));
        self.evaluations += 1;
        let mut out = Vec::with_capacity(alts.len());
        let n = alts.len();
        let mut b = Some(b);
        for (k, alt) in alts.into_iter().enumerate() {
            let mut nb = if k + 1 == n {
                match b.take() {
                    Some(b) => b,
                    None => continue,
                }
            } else {
                match &b {
                    Some(b) => b.clone(),
                    None => continue,
                }
            };
            nb.p *= alt.p;
            for (test, holds) in alt.answered {
                if self.limits.merge && self.sim.forgettable().can_forget(&test, walked.table) {
                    nb.said.say(Assumption::Undecided { test, holds });
                } else {
                    nb.st.know(test, holds);
                }
            }
            for entry in alt.recent_set {
                if !nb.st.recent.contains(&entry) {
                    nb.st.recent.push(entry);
                }
            }
            for note in alt.notes {
                nb.said.say(note);
            }
            if !alt.matched {
                nb.at.rule += 1;
                out.push(nb);
                continue;
            }
            if let Some(nb) = self.target(nb, walked, base) {
                out.push(nb);
            }
        }
        match out.len() {
            0 => Next::None,
            1 => out.pop().map_or(Next::None, Next::One),
            _ => Next::Many(out),
        }
    }

    /// Applies the target of the rule the branch stands at, which matched.
    fn target(
        &mut self,
        mut b: Branch<'r>,
        walked: &'s Walked<'r>,
        base: Base,
    ) -> Option<Branch<'r>> {
        let table = walked.table;
        let i = b.at.rule;
        let rule = &table.chains[b.at.chain as usize].rules[i as usize];
        let Some(target) = &rule.target else {
            self.step(&mut b, table, Some(i), Effect::Count);
            b.at.rule += 1;
            return Some(b);
        };
        match &target.action {
            Action::Chain => match walked.index.get(&target.name) {
                Some(sub) if walked.looped[sub] => {
                    let effect = if target.goto {
                        Effect::Goto(&target.name)
                    } else {
                        Effect::Jump(&target.name)
                    };
                    self.step(&mut b, table, Some(i), effect);
                    self.cut(
                        b,
                        Cutoff::Loop {
                            table: table.name.clone(),
                            chain: target.name.clone(),
                        },
                    );
                    None
                }
                Some(sub) => {
                    if target.goto {
                        self.step(&mut b, table, Some(i), Effect::Goto(&target.name));
                    } else {
                        self.step(&mut b, table, Some(i), Effect::Jump(&target.name));
                        let hash = frame_hash(&b.callers, b.at.chain, i + 1);
                        b.callers = Some(Rc::new(Frame {
                            chain: b.at.chain,
                            resume: i + 1,
                            parent: b.callers.take(),
                            hash,
                        }));
                        b.depth += 1;
                        self.max_depth = self.max_depth.max(b.depth as usize);
                    }
                    b.at.chain = sub as u32;
                    b.at.rule = 0;
                    Some(b)
                }
                None => {
                    self.step(&mut b, table, Some(i), Effect::JumpMissing(&target.name));
                    b.said.say(Assumption::ChainMissing {
                        table: &table.name,
                        chain: &target.name,
                    });
                    self.finish(b, Verdict::Unknown);
                    None
                }
            },
            Action::Return => {
                self.step(&mut b, table, Some(i), Effect::Return);
                b.at.rule = u32::MAX;
                Some(b)
            }
            Action::Accept => {
                self.step(&mut b, table, Some(i), Effect::Accept);
                Self::next_base(&mut b);
                Some(b)
            }
            Action::Drop => {
                self.step(&mut b, table, Some(i), Effect::Drop);
                self.finish(b, Verdict::Drop);
                None
            }
            Action::Reject(with) => {
                self.step(&mut b, table, Some(i), Effect::Reject(with));
                self.finish(b, Verdict::Reject);
                None
            }
            Action::Mark(m) => {
                b.st.mark = (b.st.mark & !m.mask) ^ m.value;
                let effect = Effect::Mark {
                    value: m.value,
                    mask: m.mask,
                    result: b.st.mark,
                };
                self.step(&mut b, table, Some(i), effect);
                b.at.rule += 1;
                Some(b)
            }
            Action::Dnat(nat) => {
                let (ip, port) = nat_target(nat, b.st.dst, b.st.dport);
                let to = SocketAddr::new(ip, port);
                (b.st.dst, b.st.dport, b.st.dnat) = (ip, port, Some(to));
                self.step(&mut b, table, Some(i), Effect::Dnat(to));
                Self::next_base(&mut b);
                Some(b)
            }
            Action::Redirect(ports) => {
                // To the node itself: loopback for locally generated packets, else the
                // primary address of the interface the packet came in on. When the facts do
                // not give that address, the packet is still delivered to the node.
                let ip = if base.hook_is_output() {
                    IpAddr::from([127, 0, 0, 1])
                } else if let Some(ip) = self.facts.address_on(&self.in_iface) {
                    ip
                } else {
                    b.said.say(Assumption::RedirectAddressUnknown {
                        iface: self.in_iface.clone(),
                    });
                    b.st.dst
                };
                b.st.to_node = true;
                let port = ports.ports.map_or(b.st.dport, |p| p.0);
                let to = SocketAddr::new(ip, port);
                (b.st.dst, b.st.dport, b.st.dnat) = (ip, port, Some(to));
                self.step(&mut b, table, Some(i), Effect::Redirect(to));
                Self::next_base(&mut b);
                Some(b)
            }
            Action::Snat(nat) => {
                let (ip, port) = nat_target(nat, b.st.src, b.st.sport);
                if (ip, port) != (b.st.src, b.st.sport) {
                    b.st.snat = Some(Snat::To(ip, nat.ports.map(|_| port)));
                    (b.st.src, b.st.sport) = (ip, port);
                }
                self.step(
                    &mut b,
                    table,
                    Some(i),
                    Effect::Snat(SocketAddr::new(ip, port)),
                );
                Self::next_base(&mut b);
                Some(b)
            }
            Action::Masquerade(_) => {
                // The source becomes the node's address on the way out; the port is kept
                // when the tuple stays unique (NETFILTER.md §5), as for a single packet.
                // Through `lo` the source is already the node's own address.
                let iface = self.iface(b.st.out).to_string();
                let to = if b.st.out == Route::Loopback {
                    Some(b.st.src)
                } else {
                    self.facts.address_on(&iface)
                };
                match to {
                    // conntrack records a source NAT only if the tuple changed (§1.3).
                    Some(ip) if ip == b.st.src => {}
                    Some(ip) => {
                        b.st.src = ip;
                        b.st.snat = Some(Snat::Masquerade(to));
                    }
                    None => {
                        b.said.say(Assumption::AddressUnknown { iface });
                        b.st.snat = Some(Snat::Masquerade(None));
                    }
                }
                self.step(&mut b, table, Some(i), Effect::Masquerade(to));
                Self::next_base(&mut b);
                Some(b)
            }
            Action::Queue | Action::Tproxy(_) => {
                self.step(&mut b, table, Some(i), Effect::HandOff(&target.name));
                b.said.say(Assumption::HandedOff {
                    target: &target.name,
                });
                Self::next_base(&mut b);
                Some(b)
            }
            Action::Unknown(_) => {
                self.step(&mut b, table, Some(i), Effect::NotEvaluated(&target.name));
                b.said.say(Assumption::TargetNotEvaluated {
                    target: &target.name,
                });
                b.at.rule += 1;
                Some(b)
            }
            Action::Connmark(c) => {
                // xt_connmark: set, save the packet's mark into the connection's, or restore.
                let st = &mut b.st;
                match *c {
                    Connmark::SetXmark { value, mask } => st.ctmark = (st.ctmark & !mask) ^ value,
                    Connmark::Save { nfmask, ctmask } => {
                        st.ctmark = (st.ctmark & !ctmask) ^ (st.mark & nfmask)
                    }
                    Connmark::Restore { nfmask, ctmask } => {
                        st.mark = (st.mark & !nfmask) ^ (st.ctmark & ctmask)
                    }
                }
                self.step(&mut b, table, Some(i), Effect::Continue(&target.name));
                b.at.rule += 1;
                Some(b)
            }
            // Every other extension acts and lets the walk go on: log, set checksums, CT…
            Action::Log(_)
            | Action::Nflog(_)
            | Action::Ct(_)
            | Action::Notrack(_)
            | Action::Checksum(_)
            | Action::Tcpmss(_) => {
                self.step(&mut b, table, Some(i), Effect::Continue(&target.name));
                b.at.rule += 1;
                Some(b)
            }
        }
    }
}

/// For a later packet the nat chains are not walked: conntrack applies the connection's
/// bindings at the nat hooks instead (NETFILTER.md §3). Destination rewrites happen at the
/// destination-manipulating hooks (PREROUTING, OUTPUT), source rewrites at the others; a
/// reply undoes them.
fn rebind(binding: &Binding, dst_manip: bool, st: &mut State<'_>) {
    let to = match (binding.reply, dst_manip) {
        // A connection IPVS made is DNATed by IPVS again, at LOCAL_IN.
        (false, true) if binding.ipvs.is_some() => None,
        (false, true) => binding.dnat,
        (false, false) => binding.snat,
        (true, true) => binding.snat.map(|_| binding.orig_src),
        (true, false) => binding.dnat.map(|_| binding.orig_dst),
    };
    let Some((ip, port)) = to else { return };
    if dst_manip {
        (st.dst, st.dport) = (ip, port);
        st.dnat = Some(SocketAddr::new(ip, port));
    } else {
        (st.src, st.sport) = (ip, port);
        st.snat = Some(Snat::To(ip, Some(port)));
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
