//! Whether one rule matches a packet at one point of its walk: the header first, then each
//! match in order (NETFILTER.md §1.5). A rule matches with a probability: 1 or 0 for most
//! tests, `P32 / 2^31` for `statistic --mode random`, and an even split, said as an assumption,
//! for what the simulator cannot decide.

use std::net::IpAddr;

use crate::ext::matches::{ADDR_TYPES, Match, PortSide, RecentCommand, Statistic};
use crate::model::values::{Address, Interface, Negatable, Protocol};
use crate::model::{Header, Rule};

use super::packet::NodeFacts;

/// The packet as a rule sees it at this point of the walk.
pub(super) struct View<'a> {
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
    pub recent: &'a [(String, IpAddr)],
    pub facts: &'a NodeFacts,
}

/// How likely a rule matches, and what had to be assumed to say so.
#[derive(Debug)]
pub(super) struct Chance {
    pub p: f64,
    pub assumptions: Vec<String>,
    /// `recent --set` entries the rule added: the kernel adds them when it reaches that match,
    /// whether or not later matches hold.
    pub recent_set: Vec<(String, IpAddr)>,
}

impl Chance {
    fn certain(yes: bool) -> Self {
        Chance {
            p: if yes { 1.0 } else { 0.0 },
            assumptions: Vec::new(),
            recent_set: Vec::new(),
        }
    }

    fn and(&mut self, other: Chance) {
        self.p *= other.p;
        self.assumptions.extend(other.assumptions);
    }

    fn undecided(what: String) -> Self {
        Chance {
            p: 0.5,
            assumptions: vec![format!(
                "{what}: cannot be decided from the rules; both outcomes weighed evenly"
            )],
            recent_set: Vec::new(),
        }
    }
}

pub(super) fn rule(rule: &Rule, v: &View<'_>) -> Chance {
    let mut chance = header(&rule.header, v);
    for m in &rule.matches {
        if chance.p == 0.0 {
            break;
        }
        if let Match::Recent(r) = m
            && r.command.value == RecentCommand::Set
        {
            chance.recent_set.push((r.name.clone(), recent_key(r, v)));
        }
        chance.and(one(m, v));
    }
    chance
}

/// The address a `recent` match files the packet under: its source (or destination with
/// `--rdest`) under `--mask`.
fn recent_key(r: &crate::ext::matches::Recent, v: &View<'_>) -> IpAddr {
    let ip = if r.rdest { v.dst } else { v.src };
    if ip.is_ipv4() == r.mask.is_ipv4() {
        crate::model::values::apply_mask(ip, r.mask)
    } else {
        ip
    }
}

fn flip(negated: bool, yes: bool) -> bool {
    yes != negated
}

fn header(h: &Header, v: &View<'_>) -> Chance {
    let mut chance = Chance::certain(true);
    for (addr, ip, which) in [(&h.src, v.src, "source"), (&h.dst, v.dst, "destination")] {
        if let Some(a) = addr {
            match &a.value {
                Address::Net(c) => chance.and(Chance::certain(flip(a.negated, c.contains(ip)))),
                Address::Placeholder(p) => {
                    chance.and(Chance::undecided(format!("{which} `{p}` is a placeholder")))
                }
            }
        }
    }
    for (iface, name) in [(&h.in_iface, v.in_iface), (&h.out_iface, v.out_iface)] {
        if let Some(i) = iface {
            chance.and(Chance::certain(flip(
                i.negated,
                iface_matches(&i.value, name),
            )));
        }
    }
    if let Some(p) = &h.protocol {
        chance.and(Chance::certain(flip(
            p.negated,
            p.value.0 == 0 || p.value == v.protocol,
        )));
    }
    if let Some(negated) = h.fragment {
        // The tables see reassembled packets (conntrack defragments first): never a fragment.
        chance.and(Chance::certain(negated));
    }
    chance
}

fn iface_matches(i: &Interface, name: &str) -> bool {
    i.matches(name)
}

fn ports(range: &Option<Negatable<crate::model::values::PortRange>>, port: u16) -> bool {
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

fn one(m: &Match, v: &View<'_>) -> Chance {
    match m {
        Match::Comment(_) | Match::Limit(_) | Match::Nfacct(_) => Chance::certain(true),
        Match::Mark(n) => Chance::certain(flip(n.negated, v.mark & n.value.1 == n.value.0)),
        Match::Tcp(t) => {
            let flags = t
                .flags
                .as_ref()
                .is_none_or(|f| flip(f.negated, v.tcp_flags & f.value.0 == f.value.1));
            let option = t.option.as_ref().map_or(Chance::certain(true), |_| {
                Chance::undecided("`--tcp-option`".into())
            });
            let mut c = Chance::certain(
                v.protocol == Protocol::TCP
                    && ports(&t.ports.sport, v.sport)
                    && ports(&t.ports.dport, v.dport)
                    && flags,
            );
            c.and(option);
            c
        }
        Match::Udp(p) => Chance::certain(
            v.protocol == Protocol::UDP && ports(&p.sport, v.sport) && ports(&p.dport, v.dport),
        ),
        Match::Multiport(mp) => {
            let hit = |port: u16| mp.ports.value.iter().any(|r| r.contains(port));
            let any = match mp.side {
                PortSide::Source => hit(v.sport),
                PortSide::Destination => hit(v.dport),
                PortSide::Either => hit(v.sport) || hit(v.dport),
            };
            Chance::certain(flip(mp.ports.negated, any))
        }
        Match::Addrtype(a) => {
            let test = |t: &Option<Negatable<u16>>, ip: IpAddr| {
                t.as_ref()
                    .is_none_or(|t| flip(t.negated, addr_types(ip, v.facts) & t.value != 0))
            };
            Chance::certain(test(&a.src, v.src) && test(&a.dst, v.dst))
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
            Chance::certain(tests.into_iter().all(|negated| negated))
        }
        Match::State(s) => Chance::certain(flip(s.negated, s.value.0 & v.ct_state != 0)),
        Match::Conntrack(c) => {
            let mut chance = Chance::certain(true);
            if let Some(s) = &c.state {
                chance.and(Chance::certain(flip(
                    s.negated,
                    s.value.0 & v.ct_state != 0,
                )));
            }
            if let Some(p) = &c.proto {
                chance.and(Chance::certain(flip(p.negated, p.value == v.protocol.0)));
            }
            for (net, ip) in [(&c.orig_src, v.orig_src), (&c.orig_dst, v.orig_dst)] {
                if let Some(n) = net {
                    chance.and(Chance::certain(flip(n.negated, n.value.contains(ip))));
                }
            }
            if let Some(s) = &c.status {
                if v.ct_state & super::walk::ct_bit("NEW") != 0 {
                    // A first packet: nothing seen back, not assured, not confirmed yet.
                    chance.and(Chance::certain(flip(s.negated, s.value == 0)));
                } else {
                    chance.and(Chance::undecided(
                        "a conntrack status test on a later packet".into(),
                    ));
                }
            }
            if let Some(reply) = c.dir_reply {
                chance.and(Chance::certain(reply == v.ct_reply));
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
            if rest.into_iter().any(|x| x) {
                chance.and(Chance::undecided(
                    "a conntrack reply-tuple, port, expiry or direction test".into(),
                ));
            }
            chance
        }
        Match::Statistic(Statistic::Random { negated, p32 }) => {
            let p = Statistic::probability(*p32);
            Chance {
                p: if *negated { 1.0 - p } else { p },
                ..Chance::certain(true)
            }
        }
        Match::Statistic(Statistic::Nth { negated, every, .. }) => {
            // Over many connections, one in `every + 1` reaches the chosen slot.
            let p = 1.0 / (f64::from(*every) + 1.0);
            Chance {
                p: if *negated { 1.0 - p } else { p },
                assumptions: vec!["`statistic --mode nth` taken as its long-run share".into()],
                recent_set: Vec::new(),
            }
        }
        Match::Recent(r) => {
            let key = (r.name.clone(), recent_key(r, v));
            let listed = v.facts.recent.contains(&key) || v.recent.contains(&key);
            let hit = match r.command.value {
                RecentCommand::Set => true,
                RecentCommand::Remove | RecentCommand::Rcheck | RecentCommand::Update => listed,
            };
            if listed && r.hitcount.is_some() {
                return Chance::undecided(format!("`recent --hitcount` on list `{}`", r.name));
            }
            Chance::certain(flip(r.command.negated, hit))
        }
        Match::Set(s) => Chance::undecided(format!("ipset `{}` membership", s.name.value)),
        Match::Icmp(_) => Chance::undecided("an ICMP type test".into()),
        Match::Unknown { module, .. } => {
            Chance::undecided(format!("`-m {module}`, which chainlens does not evaluate"))
        }
    }
}
