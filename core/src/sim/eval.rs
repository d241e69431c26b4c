//! Whether one rule matches a packet at one point of its walk: the header first, then each
//! match in order (NETFILTER.md §1.5), each a [`Test`]. A rule's result is a short list of
//! [`Alt`]ernatives with their probabilities: one when every test is decided, two where
//! `statistic` draws, and one more for each undecidable test not yet answered on this path —
//! an undecidable test already answered (the same ipset and lookup, the same placeholder, the
//! same unknown module) keeps its answer, so an outcome never takes both.

use std::net::IpAddr;

use super::assume::{Assumption, Lookup, Undecidable};
use super::packet::NodeFacts;
use crate::ext::matches::{ADDR_TYPES, Match, PortSide, RecentCommand, Statistic};
use crate::model::ipset::{Dim, Value};
use crate::model::values::{Address, Negatable, PortRange, Protocol};
use crate::model::{Header, Rule};

/// The packet as a rule sees it at this point of the walk.
pub(super) struct View<'a, 'r> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: Protocol,
    pub sport: u16,
    pub dport: u16,
    pub tcp_flags: u8,
    pub mark: u32,
    /// Empty where the hook has no such interface (no input device in OUTPUT, …).
    pub in_iface: &'a str,
    pub out_iface: &'a str,
    /// Conntrack state bits over `CT_STATES` (NEW or ESTABLISHED, plus DNAT/SNAT once bound).
    pub ct_state: u8,
    /// The packet travels in the connection's reply direction.
    pub ct_reply: bool,
    pub orig_src: IpAddr,
    pub orig_dst: IpAddr,
    /// `recent` entries this walk has added so far, besides the node's.
    pub recent: &'a [(&'r str, IpAddr)],
    pub facts: &'a NodeFacts,
    /// Undecidable tests this path has answered already, sorted.
    pub known: &'a [(Undecidable<'r>, bool)],
}

/// One way a rule can go for the packet.
#[derive(Clone, Debug)]
pub(super) struct Alt<'r> {
    pub p: f64,
    pub matched: bool,
    /// Undecidable tests this alternative answered, with the answer.
    pub answered: Vec<(Undecidable<'r>, bool)>,
    /// `recent --set` entries: the kernel adds them when it reaches that match, whether or not
    /// later matches hold.
    pub recent_set: Vec<(&'r str, IpAddr)>,
    pub notes: Vec<Assumption<'r>>,
}

impl Alt<'_> {
    fn start() -> Self {
        Alt {
            p: 1.0,
            matched: true,
            answered: Vec::new(),
            recent_set: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// One test of a rule.
enum Test<'r> {
    Certain(bool),
    /// Matches with this probability, drawn afresh each time (`statistic`).
    Chance(f64),
    Undecided(Undecidable<'r>),
}

/// The alternatives of one rule, built test by test; a test only runs on the alternatives
/// still matching, as the kernel stops at the first test that fails.
struct Eval<'v, 'a, 'r> {
    view: &'v View<'a, 'r>,
    live: Vec<Alt<'r>>,
    out: Vec<Alt<'r>>,
}

impl<'r> Eval<'_, '_, 'r> {
    fn alive(&self) -> bool {
        !self.live.is_empty()
    }

    fn answer(&self, alt: &Alt<'r>, key: &Undecidable<'r>) -> Option<bool> {
        // `known` is sorted; what this rule answered so far is a handful.
        let known = self.view.known;
        if let Ok(i) = known.binary_search_by(|(k, _)| k.cmp(key)) {
            return Some(known[i].1);
        }
        alt.answered.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn test(&mut self, test: Test<'r>) {
        let live = std::mem::take(&mut self.live);
        for mut alt in live {
            let sure = |b: bool| if b { (1.0, 0.0) } else { (0.0, 1.0) };
            let (yes, no) = match &test {
                Test::Certain(b) => sure(*b),
                Test::Chance(q) => (q.clamp(0.0, 1.0), 1.0 - q.clamp(0.0, 1.0)),
                Test::Undecided(key) => match self.answer(&alt, key) {
                    Some(b) => sure(b),
                    None => {
                        let mut fails = alt.clone();
                        fails.p *= 0.5;
                        fails.matched = false;
                        fails.answered.push((key.clone(), false));
                        self.out.push(fails);
                        alt.p *= 0.5;
                        alt.answered.push((key.clone(), true));
                        self.live.push(alt);
                        continue;
                    }
                },
            };
            if no > 0.0 && yes > 0.0 {
                let mut fails = alt.clone();
                fails.p *= no;
                fails.matched = false;
                self.out.push(fails);
                alt.p *= yes;
                self.live.push(alt);
            } else if yes > 0.0 {
                self.live.push(alt);
            } else {
                alt.matched = false;
                self.out.push(alt);
            }
        }
    }

    fn certain(&mut self, yes: bool) {
        self.test(Test::Certain(yes));
    }

    fn undecided(&mut self, key: Undecidable<'r>) {
        self.test(Test::Undecided(key));
    }

    fn note(&mut self, note: Assumption<'r>) {
        for alt in &mut self.live {
            alt.notes.push(note.clone());
        }
    }

    fn recent_set(&mut self, entry: (&'r str, IpAddr)) {
        for alt in &mut self.live {
            alt.recent_set.push(entry);
        }
    }
}

/// Where a rule sits, to name it when it cannot be decided as a whole.
#[derive(Clone, Copy, Debug)]
pub(super) struct At<'r> {
    pub table: &'r str,
    pub chain: &'r str,
    /// 1-based.
    pub rule: u32,
}

/// The ways `rule` can go for the packet `v` shows. An incomplete rule (part of its text was
/// not understood) matches only if what was read matches *and* what was not read does; the
/// latter is undecided, never taken from the part that was read.
pub(super) fn rule<'r>(rule: &'r Rule, at: At<'r>, v: &View<'_, 'r>) -> Vec<Alt<'r>> {
    let mut e = Eval {
        view: v,
        live: vec![Alt::start()],
        out: Vec::new(),
    };
    header(&rule.header, &mut e);
    for m in &rule.matches {
        if !e.alive() {
            break;
        }
        one(m, &mut e);
    }
    if !rule.complete && e.alive() {
        e.undecided(Undecidable::Incomplete {
            table: at.table,
            chain: at.chain,
            rule: at.rule,
        });
    }
    let mut out = e.out;
    out.append(&mut e.live);
    out
}

fn flip(negated: bool, yes: bool) -> bool {
    yes != negated
}

fn header<'r>(h: &'r Header, e: &mut Eval<'_, '_, 'r>) {
    let v = e.view;
    for (addr, ip, source) in [(&h.src, v.src, true), (&h.dst, v.dst, false)] {
        if let Some(a) = addr {
            match &a.value {
                Address::Net(c) => e.certain(flip(a.negated, c.contains(ip))),
                Address::Placeholder(text) => {
                    // A negated placeholder asks the same question with the answer flipped.
                    let key = Undecidable::Placeholder {
                        source,
                        text,
                        address: ip,
                    };
                    negated_undecided(e, key, a.negated);
                }
            }
            if !e.alive() {
                return;
            }
        }
    }
    for (iface, name) in [(&h.in_iface, v.in_iface), (&h.out_iface, v.out_iface)] {
        if let Some(i) = iface {
            e.certain(flip(i.negated, i.value.matches(name)));
        }
    }
    if let Some(p) = &h.protocol {
        e.certain(flip(p.negated, p.value.0 == 0 || p.value == v.protocol));
    }
    if let Some(negated) = h.fragment {
        // The tables see reassembled packets (conntrack defragments first): never a fragment.
        e.certain(negated);
    }
}

/// An undecidable test written with `!`: the same question, the match on the other answer.
fn negated_undecided<'r>(e: &mut Eval<'_, '_, 'r>, key: Undecidable<'r>, negated: bool) {
    if !negated {
        e.undecided(key);
        return;
    }
    // Split on the question, then keep the alternatives where the answer was "no".
    let live = std::mem::take(&mut e.live);
    for alt in live {
        match e.answer(&alt, &key) {
            Some(b) => {
                let mut alt = alt;
                if b {
                    alt.matched = false;
                    e.out.push(alt);
                } else {
                    e.live.push(alt);
                }
            }
            None => {
                let mut member = alt.clone();
                member.p *= 0.5;
                member.matched = false;
                member.answered.push((key.clone(), true));
                e.out.push(member);
                let mut not = alt;
                not.p *= 0.5;
                not.answered.push((key.clone(), false));
                e.live.push(not);
            }
        }
    }
}

fn ports(range: &Option<Negatable<PortRange>>, port: u16) -> bool {
    range
        .as_ref()
        .is_none_or(|r| flip(r.negated, r.value.contains(port)))
}

fn addr_types(ip: IpAddr, facts: &NodeFacts) -> u16 {
    let bit = |name: &str| {
        ADDR_TYPES
            .iter()
            .position(|t| *t == name)
            .map_or(0, |i| 1u16 << i)
    };
    if facts.is_local(ip) {
        bit("LOCAL")
    } else if ip.is_multicast() {
        bit("MULTICAST")
    } else if matches!(ip, IpAddr::V4(v4) if v4.is_broadcast()) {
        bit("BROADCAST")
    } else {
        bit("UNICAST")
    }
}

/// The address a `recent` match files the packet under: its source (or destination with
/// `--rdest`) under `--mask`.
fn recent_key(r: &crate::ext::matches::Recent, v: &View<'_, '_>) -> IpAddr {
    let ip = if r.rdest { v.dst } else { v.src };
    if ip.is_ipv4() == r.mask.is_ipv4() {
        crate::model::values::apply_mask(ip, r.mask)
    } else {
        ip
    }
}

fn one<'r>(m: &'r Match, e: &mut Eval<'_, '_, 'r>) {
    let v = e.view;
    match m {
        Match::Comment(_) | Match::Limit(_) | Match::Nfacct(_) => {}
        Match::Mark(n) => e.certain(flip(n.negated, v.mark & n.value.1 == n.value.0)),
        Match::Tcp(t) => {
            let flags = t
                .flags
                .as_ref()
                .is_none_or(|f| flip(f.negated, v.tcp_flags & f.value.0 == f.value.1));
            e.certain(
                v.protocol == Protocol::TCP
                    && ports(&t.ports.sport, v.sport)
                    && ports(&t.ports.dport, v.dport)
                    && flags,
            );
            if let Some(o) = &t.option {
                negated_undecided(e, Undecidable::TcpOption(o.value), o.negated);
            }
        }
        Match::Udp(p) => e.certain(
            v.protocol == Protocol::UDP && ports(&p.sport, v.sport) && ports(&p.dport, v.dport),
        ),
        Match::Multiport(mp) => {
            let hit = |port: u16| mp.ports.value.iter().any(|r| r.contains(port));
            let any = match mp.side {
                PortSide::Source => hit(v.sport),
                PortSide::Destination => hit(v.dport),
                PortSide::Either => hit(v.sport) || hit(v.dport),
            };
            e.certain(flip(mp.ports.negated, any));
        }
        Match::Addrtype(a) => {
            let test = |t: &Option<Negatable<u16>>, ip: IpAddr| {
                t.as_ref()
                    .is_none_or(|t| flip(t.negated, addr_types(ip, v.facts) & t.value != 0))
            };
            e.certain(test(&a.src, v.src) && test(&a.dst, v.dst));
        }
        Match::Physdev(p) => {
            // Only bridged packets carry bridge-port information; for others every test is
            // "no" (NETFILTER.md §2.2), so only negated tests match.
            let tests = [p.is_in, p.is_out, p.is_bridged]
                .into_iter()
                .flatten()
                .chain(
                    [&p.physdev_in, &p.physdev_out]
                        .into_iter()
                        .flatten()
                        .map(|n| n.negated),
                );
            e.certain(tests.into_iter().all(|negated| negated));
        }
        Match::State(s) => e.certain(flip(s.negated, s.value.0 & v.ct_state != 0)),
        Match::Conntrack(c) => {
            if let Some(s) = &c.state {
                e.certain(flip(s.negated, s.value.0 & v.ct_state != 0));
            }
            if let Some(p) = &c.proto {
                e.certain(flip(p.negated, p.value == v.protocol.0));
            }
            for (net, ip) in [(&c.orig_src, v.orig_src), (&c.orig_dst, v.orig_dst)] {
                if let Some(n) = net {
                    e.certain(flip(n.negated, n.value.contains(ip)));
                }
            }
            if let Some(s) = &c.status {
                if v.ct_state & super::walk::ct_bit("NEW") != 0 {
                    // A first packet: nothing seen back, not assured, not confirmed yet.
                    e.certain(flip(s.negated, s.value == 0));
                } else {
                    e.undecided(Undecidable::ConntrackDetail);
                }
            }
            if let Some(reply) = c.dir_reply {
                e.certain(reply == v.ct_reply);
            }
            let rest = [
                c.repl_src.is_some(),
                c.repl_dst.is_some(),
                c.orig_src_port.is_some(),
                c.orig_dst_port.is_some(),
                c.repl_src_port.is_some(),
                c.repl_dst_port.is_some(),
                c.expire.is_some(),
            ];
            if rest.into_iter().any(|x| x) && e.alive() {
                e.undecided(Undecidable::ConntrackDetail);
            }
        }
        Match::Statistic(Statistic::Random { negated, p32 }) => {
            let p = Statistic::probability(*p32);
            e.test(Test::Chance(if *negated { 1.0 - p } else { p }));
        }
        Match::Statistic(Statistic::Nth { negated, every, .. }) => {
            // Over many connections, one in `every + 1` reaches the chosen slot.
            let p = 1.0 / (f64::from(*every) + 1.0);
            e.note(Assumption::NthLongRun);
            e.test(Test::Chance(if *negated { 1.0 - p } else { p }));
        }
        Match::Recent(r) => {
            let key = recent_key(r, v);
            if r.command.value == RecentCommand::Set {
                e.recent_set((r.name.as_str(), key));
            }
            let name = r.name.as_str();
            let listed = v.facts.recent.iter().any(|(l, a)| l == name && *a == key)
                || v.recent.iter().any(|(l, a)| *l == name && *a == key);
            let hit = match r.command.value {
                RecentCommand::Set => true,
                RecentCommand::Remove | RecentCommand::Rcheck | RecentCommand::Update => listed,
            };
            if listed && r.hitcount.is_some() {
                negated_undecided(e, Undecidable::RecentHitcount(name), r.command.negated);
            } else {
                e.certain(flip(r.command.negated, hit));
            }
        }
        Match::Set(s) => {
            // A set pasted with the rules decides (`ipset list` / `ipset save`).
            if let Some(set) = v.facts.ipsets.iter().find(|x| x.name == s.name.value) {
                let values: Vec<Value> = s
                    .flags
                    .split(',')
                    .zip(&set.dims)
                    .map(|(dir, dim)| {
                        let src = dir == "src";
                        match dim {
                            Dim::Port => {
                                Value::Port(v.protocol, if src { v.sport } else { v.dport })
                            }
                            Dim::Iface => Value::Iface(if src { v.in_iface } else { v.out_iface }),
                            _ => Value::Addr(if src { v.src } else { v.dst }),
                        }
                    })
                    .collect();
                if let Some(member) = set.test(&values) {
                    e.certain(flip(s.name.negated, member));
                    return;
                }
            }
            let mut lookup = [None; 3];
            for (i, dir) in s.flags.split(',').take(3).enumerate() {
                let src = dir == "src";
                // Dimensions alternate address and port in the common types
                // (hash:ip,port,ip, hash:ip,port,net).
                lookup[i] = Some(if i % 2 == 0 {
                    Lookup::Address(if src { v.src } else { v.dst })
                } else {
                    Lookup::Port(if src { v.sport } else { v.dport })
                });
            }
            let key = Undecidable::Set {
                name: &s.name.value,
                flags: &s.flags,
                lookup,
            };
            negated_undecided(e, key, s.name.negated);
        }
        Match::Icmp(t) => {
            let text = t.as_ref().map_or("any", |t| t.value.as_str());
            let negated = t.as_ref().is_some_and(|t| t.negated);
            if v.protocol.0 != 1 && v.protocol.0 != 58 {
                e.certain(false);
            } else {
                negated_undecided(e, Undecidable::IcmpType(text), negated);
            }
        }
        Match::Unknown { module, args } => e.undecided(Undecidable::Module { module, args }),
    }
}
