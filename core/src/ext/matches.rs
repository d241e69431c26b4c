//! `-m` matches: comment, mark, tcp, udp, multiport, addrtype, physdev, conntrack, state,
//! statistic, recent, set, limit, nfacct, icmp; everything else as `Unknown`.

use serde::Serialize;

use super::{RuleContext, hex, save_raw, save_string, save_word};
use crate::model::values::{Cidr, Interface, Negatable, PortRange, Protocol, value_mask};

/// The module name of an [`Match::Unknown`] that holds `iptables -L` text chainlens could not
/// read (it is not an iptables module).
pub const LISTING_TEXT: &str = "listing";

/// One `-m NAME …` of a rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Match {
    Comment(String),
    /// `(skb->mark & mask) == value`.
    Mark(Negatable<(u32, u32)>),
    Tcp(Tcp),
    Udp(Ports),
    Multiport(Multiport),
    Addrtype(Addrtype),
    Physdev(Physdev),
    Conntrack(Conntrack),
    State(Negatable<CtStates>),
    Statistic(Statistic),
    Recent(Recent),
    Set(SetMatch),
    Limit(Limit),
    Nfacct(String),
    Icmp(Option<Negatable<String>>),
    Unknown {
        module: String,
        args: Vec<String>,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ports {
    pub sport: Option<Negatable<PortRange>>,
    pub dport: Option<Negatable<PortRange>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tcp {
    pub ports: Ports,
    /// `--tcp-flags MASK COMP`: `(flags & mask) == comp`.
    pub flags: Option<Negatable<(u8, u8)>>,
    pub option: Option<Negatable<u8>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PortSide {
    Source,
    Destination,
    Either,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Multiport {
    pub side: PortSide,
    pub ports: Negatable<Vec<PortRange>>,
}

/// `--src-type`/`--dst-type` as bit sets over [`ADDR_TYPES`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Addrtype {
    pub src: Option<Negatable<u16>>,
    pub dst: Option<Negatable<u16>>,
    pub limit_iface_in: bool,
    pub limit_iface_out: bool,
}

/// Route types in the kernel's order (`RTN_UNSPEC` …), which is also the print order.
pub const ADDR_TYPES: &[&str] = &[
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Physdev {
    pub is_in: Option<bool>,
    pub physdev_in: Option<Negatable<Interface>>,
    pub is_out: Option<bool>,
    pub physdev_out: Option<Negatable<Interface>>,
    pub is_bridged: Option<bool>,
}

/// A set of conntrack states as bits over [`CT_STATES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CtStates(pub u8);

/// In iptables' print order.
pub const CT_STATES: &[&str] = &[
    "INVALID",
    "NEW",
    "RELATED",
    "ESTABLISHED",
    "UNTRACKED",
    "SNAT",
    "DNAT",
];

impl CtStates {
    pub fn parse(text: &str) -> Result<CtStates, String> {
        let mut bits = 0u8;
        for name in text.split(',') {
            let i = CT_STATES
                .iter()
                .position(|s| s.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "`{name}` is not a conntrack state ({})",
                        CT_STATES.join(", ")
                    )
                })?;
            bits |= 1 << i;
        }
        Ok(CtStates(bits))
    }

    pub fn contains(self, name: &str) -> bool {
        CT_STATES
            .iter()
            .position(|s| *s == name)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }
}

impl std::fmt::Display for CtStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&join_bits(u32::from(self.0), CT_STATES))
    }
}

fn join_bits(bits: u32, names: &[&str]) -> String {
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// conntrack status bits, in print order.
pub const CT_STATUS: &[&str] = &["EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED"];

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Conntrack {
    pub state: Option<Negatable<CtStates>>,
    pub proto: Option<Negatable<u8>>,
    pub orig_src: Option<Negatable<Cidr>>,
    pub orig_dst: Option<Negatable<Cidr>>,
    pub repl_src: Option<Negatable<Cidr>>,
    pub repl_dst: Option<Negatable<Cidr>>,
    pub orig_src_port: Option<Negatable<PortRange>>,
    pub orig_dst_port: Option<Negatable<PortRange>>,
    pub repl_src_port: Option<Negatable<PortRange>>,
    pub repl_dst_port: Option<Negatable<PortRange>>,
    /// Status bits over [`CT_STATUS`]; 0 is `NONE`.
    pub status: Option<Negatable<u8>>,
    pub expire: Option<Negatable<(u32, u32)>>,
    /// `true` for `--ctdir REPLY`.
    pub dir_reply: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Statistic {
    /// Matches with probability `p32 / 2^31` (`lround(p · 2^31)`, NETFILTER.md §2.4).
    Random { negated: bool, p32: u32 },
    /// Matches the `packet`-th of every `every` packets reaching the rule.
    Nth {
        negated: bool,
        every: u32,
        packet: u32,
    },
}

impl Statistic {
    /// The kernel's matching probability of a `random` rule, exact.
    pub fn probability(p32: u32) -> f64 {
        f64::from(p32) / 2_147_483_648.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RecentCommand {
    Set,
    Rcheck,
    Update,
    Remove,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recent {
    pub command: Negatable<RecentCommand>,
    pub seconds: Option<u32>,
    pub reap: bool,
    pub hitcount: Option<u32>,
    pub rttl: bool,
    pub name: String,
    pub mask: std::net::IpAddr,
    /// `--rdest` instead of the default `--rsource`.
    pub rdest: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetMatch {
    pub name: Negatable<String>,
    /// `src`/`dst` per dimension, as written.
    pub flags: String,
    pub extra: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limit {
    /// Average rate as iptables stores it: seconds × 10000 per packet (`XT_LIMIT_SCALE`).
    pub avg: u32,
    pub burst: u32,
}

const LIMIT_SCALE: u64 = 10_000;
const LIMIT_UNITS: &[(&str, u64)] = &[("day", 86_400), ("hour", 3_600), ("min", 60), ("sec", 1)];

/// A match being read, with its `!` handling; `parse::rule` feeds it option by option.
impl Match {
    /// A fresh match for `-m module`; `None` for modules chainlens keeps as written.
    pub fn load(module: &str) -> Match {
        match module {
            "comment" => Match::Comment(String::new()),
            "mark" => Match::Mark(Negatable::new(false, (0, u32::MAX))),
            "tcp" => Match::Tcp(Tcp::default()),
            "udp" => Match::Udp(Ports::default()),
            "multiport" => Match::Multiport(Multiport {
                side: PortSide::Either,
                ports: Negatable::new(false, Vec::new()),
            }),
            "addrtype" => Match::Addrtype(Addrtype::default()),
            "physdev" => Match::Physdev(Physdev::default()),
            "conntrack" => Match::Conntrack(Conntrack::default()),
            "state" => Match::State(Negatable::new(false, CtStates(0))),
            "statistic" => Match::Statistic(Statistic::Random {
                negated: false,
                p32: u32::MAX,
            }),
            "recent" => Match::Recent(Recent {
                command: Negatable::new(false, RecentCommand::Set),
                seconds: None,
                reap: false,
                hitcount: None,
                rttl: false,
                name: String::new(),
                mask: [255, 255, 255, 255].into(),
                rdest: false,
            }),
            "set" => Match::Set(SetMatch {
                name: Negatable::new(false, String::new()),
                flags: String::new(),
                extra: Vec::new(),
            }),
            "limit" => Match::Limit(Limit {
                avg: 10_000 * 3600 / 3,
                burst: 5,
            }),
            "nfacct" => Match::Nfacct(String::new()),
            "icmp" => Match::Icmp(None),
            other => Match::Unknown {
                module: other.to_string(),
                args: Vec::new(),
            },
        }
    }

    /// The module name after `-m`.
    pub fn module(&self) -> &str {
        match self {
            Match::Comment(_) => "comment",
            Match::Mark(_) => "mark",
            Match::Tcp(_) => "tcp",
            Match::Udp(_) => "udp",
            Match::Multiport(_) => "multiport",
            Match::Addrtype(_) => "addrtype",
            Match::Physdev(_) => "physdev",
            Match::Conntrack(_) => "conntrack",
            Match::State(_) => "state",
            Match::Statistic(_) => "statistic",
            Match::Recent(_) => "recent",
            Match::Set(_) => "set",
            Match::Limit(_) => "limit",
            Match::Nfacct(_) => "nfacct",
            Match::Icmp(_) => "icmp",
            Match::Unknown { module, .. } => module,
        }
    }

    /// How many arguments option `opt` takes in this match, or `None` if it is not one of its
    /// options. Unknown modules claim nothing; the rule reader keeps their words as written.
    pub fn arity(&self, opt: &str) -> Option<usize> {
        let flags: &[&str];
        let one: &[&str];
        let two: &[&str];
        match self {
            Match::Comment(_) => (flags, one, two) = (&[], &["--comment"], &[]),
            Match::Mark(_) => (flags, one, two) = (&[], &["--mark"], &[]),
            Match::Tcp(_) => {
                (flags, one, two) = (
                    &["--syn"],
                    &[
                        "--sport",
                        "--source-port",
                        "--dport",
                        "--destination-port",
                        "--tcp-option",
                    ],
                    &["--tcp-flags"],
                )
            }
            Match::Udp(_) => {
                (flags, one, two) = (
                    &[],
                    &["--sport", "--source-port", "--dport", "--destination-port"],
                    &[],
                )
            }
            Match::Multiport(_) => {
                (flags, one, two) = (
                    &[],
                    &[
                        "--sports",
                        "--source-ports",
                        "--dports",
                        "--destination-ports",
                        "--ports",
                    ],
                    &[],
                )
            }
            Match::Addrtype(_) => {
                (flags, one, two) = (
                    &["--limit-iface-in", "--limit-iface-out"],
                    &["--src-type", "--dst-type"],
                    &[],
                )
            }
            Match::Physdev(_) => {
                (flags, one, two) = (
                    &[
                        "--physdev-is-in",
                        "--physdev-is-out",
                        "--physdev-is-bridged",
                    ],
                    &["--physdev-in", "--physdev-out"],
                    &[],
                )
            }
            Match::Conntrack(_) => {
                (flags, one, two) = (
                    &[],
                    &[
                        "--ctstate",
                        "--ctproto",
                        "--ctorigsrc",
                        "--ctorigdst",
                        "--ctreplsrc",
                        "--ctrepldst",
                        "--ctorigsrcport",
                        "--ctorigdstport",
                        "--ctreplsrcport",
                        "--ctrepldstport",
                        "--ctstatus",
                        "--ctexpire",
                        "--ctdir",
                    ],
                    &[],
                )
            }
            Match::State(_) => (flags, one, two) = (&[], &["--state"], &[]),
            Match::Statistic(_) => {
                (flags, one, two) = (
                    &[],
                    &["--mode", "--probability", "--every", "--packet"],
                    &[],
                )
            }
            Match::Recent(_) => {
                (flags, one, two) = (
                    &[
                        "--set",
                        "--rcheck",
                        "--update",
                        "--remove",
                        "--reap",
                        "--rttl",
                        "--rsource",
                        "--rdest",
                    ],
                    &["--seconds", "--hitcount", "--name", "--mask"],
                    &[],
                )
            }
            Match::Set(_) => {
                (flags, one, two) = (
                    &[
                        "--return-nomatch",
                        "--update-counters",
                        "--update-subcounters",
                    ],
                    &[
                        "--packets-eq",
                        "--packets-lt",
                        "--packets-gt",
                        "--bytes-eq",
                        "--bytes-lt",
                        "--bytes-gt",
                    ],
                    &["--match-set", "--set"],
                )
            }
            Match::Limit(_) => (flags, one, two) = (&[], &["--limit", "--limit-burst"], &[]),
            Match::Nfacct(_) => (flags, one, two) = (&[], &["--nfacct-name"], &[]),
            Match::Icmp(_) => (flags, one, two) = (&[], &["--icmp-type"], &[]),
            Match::Unknown { .. } => return None,
        }
        if flags.contains(&opt) {
            Some(0)
        } else if one.contains(&opt) {
            Some(1)
        } else if two.contains(&opt) {
            Some(2)
        } else {
            None
        }
    }

    /// Applies one option (already known to be this match's, with its arguments).
    pub fn apply(&mut self, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
        let arg = args.first().copied().unwrap_or("");
        match self {
            Match::Comment(c) => {
                no_negation(negated, opt)?;
                if arg.chars().count() > 255 {
                    return Err("a comment may be at most 255 characters".into());
                }
                *c = arg.to_string();
            }
            Match::Mark(m) => *m = Negatable::new(negated, value_mask(arg, u32::MAX)?),
            Match::Tcp(t) => match opt {
                "--syn" => t.flags = Some(Negatable::new(negated, (0x17, 0x02))),
                "--tcp-flags" => {
                    t.flags = Some(Negatable::new(
                        negated,
                        (
                            tcp_flags(arg)?,
                            tcp_flags(args.get(1).copied().unwrap_or(""))?,
                        ),
                    ))
                }
                "--tcp-option" => {
                    t.option = Some(Negatable::new(
                        negated,
                        arg.parse()
                            .map_err(|_| format!("`{arg}` is not a TCP option number"))?,
                    ))
                }
                _ => set_port(
                    &mut t.ports,
                    opt,
                    Negatable::new(negated, PortRange::parse(arg)?),
                ),
            },
            Match::Udp(p) => set_port(p, opt, Negatable::new(negated, PortRange::parse(arg)?)),
            Match::Multiport(m) => {
                m.side = match opt {
                    "--sports" | "--source-ports" => PortSide::Source,
                    "--dports" | "--destination-ports" => PortSide::Destination,
                    _ => PortSide::Either,
                };
                let ports = arg
                    .split(',')
                    .map(PortRange::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                let slots: usize = ports
                    .iter()
                    .map(|p| if p.min == p.max { 1 } else { 2 })
                    .sum();
                if slots > 15 {
                    return Err("multiport takes at most 15 ports (a range counts as two)".into());
                }
                m.ports = Negatable::new(negated, ports);
            }
            Match::Addrtype(a) => match opt {
                "--limit-iface-in" => a.limit_iface_in = true,
                "--limit-iface-out" => a.limit_iface_out = true,
                _ => {
                    let mut bits = 0u16;
                    for t in arg.split(',') {
                        let i = ADDR_TYPES
                            .iter()
                            .position(|n| n.eq_ignore_ascii_case(t))
                            .ok_or_else(|| {
                                format!("`{t}` is not an address type ({})", ADDR_TYPES.join(", "))
                            })?;
                        bits |= 1 << i;
                    }
                    if opt == "--src-type" {
                        a.src = Some(Negatable::new(negated, bits))
                    } else {
                        a.dst = Some(Negatable::new(negated, bits))
                    }
                }
            },
            Match::Physdev(p) => match opt {
                "--physdev-is-in" => p.is_in = Some(negated),
                "--physdev-is-out" => p.is_out = Some(negated),
                "--physdev-is-bridged" => p.is_bridged = Some(negated),
                "--physdev-in" => {
                    p.physdev_in = Some(Negatable::new(negated, Interface::parse(arg)?))
                }
                _ => p.physdev_out = Some(Negatable::new(negated, Interface::parse(arg)?)),
            },
            Match::Conntrack(c) => apply_conntrack(c, opt, negated, arg)?,
            Match::State(s) => *s = Negatable::new(negated, CtStates::parse(arg)?),
            Match::Statistic(s) => apply_statistic(s, opt, negated, arg)?,
            Match::Recent(r) => match opt {
                "--set" | "--rcheck" | "--update" | "--remove" => {
                    let command = match opt {
                        "--set" => RecentCommand::Set,
                        "--rcheck" => RecentCommand::Rcheck,
                        "--update" => RecentCommand::Update,
                        _ => RecentCommand::Remove,
                    };
                    r.command = Negatable::new(negated, command);
                }
                "--seconds" => r.seconds = Some(number(arg)?),
                "--hitcount" => {
                    let h: u32 = number(arg)?;
                    if h > 65535 {
                        return Err("--hitcount may be at most 65535".into());
                    }
                    r.hitcount = Some(h);
                }
                "--reap" => r.reap = true,
                "--rttl" => r.rttl = true,
                "--name" => r.name = arg.to_string(),
                "--mask" => {
                    r.mask = arg
                        .parse()
                        .map_err(|_| format!("--mask: `{arg}` is not an address mask"))?
                }
                "--rdest" => r.rdest = true,
                _ => r.rdest = false,
            },
            Match::Set(s) => match opt {
                "--match-set" | "--set" => {
                    s.name = Negatable::new(negated, arg.to_string());
                    s.flags = args.get(1).map(|f| f.to_string()).unwrap_or_default();
                }
                _ => {
                    if negated {
                        s.extra.push("!".into());
                    }
                    s.extra.push(opt.to_string());
                    s.extra.extend(args.iter().map(|a| a.to_string()));
                }
            },
            Match::Limit(l) => match opt {
                "--limit" => l.avg = limit_rate(arg)?,
                _ => l.burst = number(arg)?,
            },
            Match::Nfacct(n) => *n = arg.to_string(),
            Match::Icmp(i) => *i = Some(Negatable::new(negated, arg.to_string())),
            Match::Unknown { args: raw, .. } => {
                if negated {
                    raw.push("!".into());
                }
                raw.push(opt.to_string());
                raw.extend(args.iter().map(|a| a.to_string()));
            }
        }
        Ok(())
    }

    /// Checks what must be present once all options are read (what iptables' `final_check`
    /// would refuse).
    pub fn check(&self, seen: &[&str], ctx: RuleContext) -> Result<(), String> {
        let need = |opt: &str| {
            if seen.contains(&opt) {
                Ok(())
            } else {
                Err(format!("`-m {}` needs {opt}", self.module()))
            }
        };
        let proto = |names: &[&str], nums: &[u8]| -> Result<(), String> {
            match ctx.protocol {
                Some(p) if nums.contains(&p) => Ok(()),
                _ => Err(format!(
                    "`-m {}` needs `-p {}`",
                    self.module(),
                    names.join("` or `-p ")
                )),
            }
        };
        match self {
            Match::Comment(_) => need("--comment"),
            Match::Mark(_) => need("--mark"),
            Match::Tcp(_) => proto(&["tcp"], &[6]),
            Match::Udp(_) => proto(&["udp"], &[17]),
            Match::Multiport(m) if m.ports.value.is_empty() => {
                Err("`-m multiport` needs --sports, --dports or --ports".into())
            }
            Match::Multiport(_) => proto(
                &["tcp", "udp", "udplite", "sctp", "dccp"],
                &[6, 17, 136, 132, 33],
            ),
            Match::Addrtype(a) if a.src.is_none() && a.dst.is_none() => {
                Err("`-m addrtype` needs --src-type or --dst-type".into())
            }
            Match::Addrtype(a) if a.limit_iface_in && a.limit_iface_out => {
                Err("--limit-iface-in and --limit-iface-out cannot be used together".into())
            }
            Match::Physdev(p) if *p == Physdev::default() => {
                Err("`-m physdev` needs at least one option".into())
            }
            Match::Conntrack(c) if *c == Conntrack::default() => {
                Err("`-m conntrack` needs at least one option".into())
            }
            Match::State(_) => need("--state"),
            Match::Statistic(Statistic::Random { .. }) if !seen.contains(&"--mode") => {
                Err("`-m statistic` needs --mode random or --mode nth".into())
            }
            Match::Statistic(Statistic::Random { .. }) => need("--probability"),
            Match::Statistic(Statistic::Nth { every, packet, .. }) => {
                need("--every")?;
                need("--packet")?;
                if packet > every {
                    Err(format!(
                        "--packet must be less than --every ({})",
                        u64::from(*every) + 1
                    ))
                } else {
                    Ok(())
                }
            }
            Match::Recent(r)
                if r.rttl
                    && r.command.value != RecentCommand::Rcheck
                    && r.command.value != RecentCommand::Update =>
            {
                Err("--rttl only goes with --rcheck or --update".into())
            }
            Match::Recent(r) if r.reap && r.seconds.is_none() => {
                Err("--reap needs --seconds".into())
            }
            Match::Set(s) if s.name.value.is_empty() => {
                Err("`-m set` needs --match-set NAME FLAGS".into())
            }
            Match::Limit(_) | Match::Recent(_) | Match::Set(_) | Match::Icmp(_) => Ok(()),
            Match::Nfacct(_) => need("--nfacct-name"),
            _ => Ok(()),
        }
    }

    /// The match as iptables-save prints it, without the leading `-m NAME`.
    pub fn save_options(&self) -> String {
        let mut out = String::new();
        let mut opt = |negated: bool, name: &str, value: &str| {
            if !out.is_empty() {
                out.push(' ');
            }
            if negated {
                out.push_str("! ");
            }
            out.push_str(name);
            if !value.is_empty() {
                out.push(' ');
                out.push_str(value);
            }
        };
        match self {
            Match::Comment(c) => opt(false, "--comment", &save_string(c)),
            Match::Mark(m) => {
                let (v, mask) = m.value;
                let text = if mask == u32::MAX {
                    hex(v)
                } else {
                    format!("{}/{}", hex(v), hex(mask))
                };
                opt(m.negated, "--mark", &text);
            }
            Match::Tcp(t) => {
                save_ports(&t.ports, &mut opt);
                if let Some(f) = &t.flags {
                    opt(
                        f.negated,
                        "--tcp-flags",
                        &format!("{} {}", flag_names(f.value.0), flag_names(f.value.1)),
                    );
                }
                if let Some(o) = &t.option {
                    opt(o.negated, "--tcp-option", &o.value.to_string());
                }
            }
            Match::Udp(p) => save_ports(p, &mut opt),
            Match::Multiport(m) => {
                let name = match m.side {
                    PortSide::Source => "--sports",
                    PortSide::Destination => "--dports",
                    PortSide::Either => "--ports",
                };
                let list: Vec<String> = m.ports.value.iter().map(|p| p.write(':')).collect();
                opt(m.ports.negated, name, &list.join(","));
            }
            Match::Addrtype(a) => {
                if let Some(s) = &a.src {
                    opt(
                        s.negated,
                        "--src-type",
                        &join_bits(u32::from(s.value), ADDR_TYPES),
                    );
                }
                if let Some(d) = &a.dst {
                    opt(
                        d.negated,
                        "--dst-type",
                        &join_bits(u32::from(d.value), ADDR_TYPES),
                    );
                }
                if a.limit_iface_in {
                    opt(false, "--limit-iface-in", "");
                }
                if a.limit_iface_out {
                    opt(false, "--limit-iface-out", "");
                }
            }
            Match::Physdev(p) => {
                if let Some(n) = p.is_in {
                    opt(n, "--physdev-is-in", "");
                }
                if let Some(i) = &p.physdev_in {
                    opt(i.negated, "--physdev-in", &save_word(&i.value.0));
                }
                if let Some(n) = p.is_out {
                    opt(n, "--physdev-is-out", "");
                }
                if let Some(o) = &p.physdev_out {
                    opt(o.negated, "--physdev-out", &save_word(&o.value.0));
                }
                if let Some(n) = p.is_bridged {
                    opt(n, "--physdev-is-bridged", "");
                }
            }
            Match::Conntrack(c) => save_conntrack(c, &mut opt),
            Match::State(s) => opt(s.negated, "--state", &s.value.to_string()),
            Match::Statistic(Statistic::Random { negated, p32 }) => {
                opt(false, "--mode", "random");
                opt(
                    *negated,
                    "--probability",
                    &format!("{:.11}", Statistic::probability(*p32)),
                );
            }
            Match::Statistic(Statistic::Nth {
                negated,
                every,
                packet,
            }) => {
                opt(false, "--mode", "nth");
                opt(*negated, "--every", &(u64::from(*every) + 1).to_string());
                opt(false, "--packet", &packet.to_string());
            }
            Match::Recent(r) => {
                let command = match r.command.value {
                    RecentCommand::Set => "--set",
                    RecentCommand::Rcheck => "--rcheck",
                    RecentCommand::Update => "--update",
                    RecentCommand::Remove => "--remove",
                };
                opt(r.command.negated, command, "");
                if let Some(s) = r.seconds {
                    opt(false, "--seconds", &s.to_string());
                }
                if r.reap {
                    opt(false, "--reap", "");
                }
                if let Some(h) = r.hitcount {
                    opt(false, "--hitcount", &h.to_string());
                }
                if r.rttl {
                    opt(false, "--rttl", "");
                }
                let name = if r.name.is_empty() {
                    "DEFAULT"
                } else {
                    &r.name
                };
                opt(false, "--name", &save_word(name));
                opt(false, "--mask", &r.mask.to_string());
                opt(false, if r.rdest { "--rdest" } else { "--rsource" }, "");
            }
            Match::Set(s) => {
                opt(
                    s.name.negated,
                    "--match-set",
                    &format!("{} {}", s.name.value, s.flags),
                );
                if !s.extra.is_empty() {
                    opt(false, &save_raw(&s.extra), "");
                }
            }
            Match::Limit(l) => {
                opt(false, "--limit", &limit_text(l.avg));
                if l.burst != 5 {
                    opt(false, "--limit-burst", &l.burst.to_string());
                }
            }
            Match::Nfacct(n) => opt(false, "--nfacct-name", &save_string(n)),
            Match::Icmp(Some(t)) => opt(t.negated, "--icmp-type", &save_word(&t.value)),
            Match::Icmp(None) => {}
            Match::Unknown { args, .. } => {
                if !args.is_empty() {
                    opt(false, &save_raw(args), "");
                }
            }
        }
        out
    }
}

fn no_negation(negated: bool, opt: &str) -> Result<(), String> {
    if negated {
        Err(format!("{opt} cannot be negated"))
    } else {
        Ok(())
    }
}

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a valid number here"))
}

fn set_port(ports: &mut Ports, opt: &str, value: Negatable<PortRange>) {
    if opt.starts_with("--s") {
        ports.sport = Some(value);
    } else {
        ports.dport = Some(value);
    }
}

fn save_ports(p: &Ports, opt: &mut impl FnMut(bool, &str, &str)) {
    // iptables-save leaves out a full, un-negated range (`--sport :`).
    for (name, range) in [("--sport", &p.sport), ("--dport", &p.dport)] {
        if let Some(r) = range
            .as_ref()
            .filter(|r| r.negated || r.value != PortRange::ALL)
        {
            opt(r.negated, name, &r.value.to_string());
        }
    }
}

const TCP_FLAGS: &[(&str, u8)] = &[
    ("FIN", 0x01),
    ("SYN", 0x02),
    ("RST", 0x04),
    ("PSH", 0x08),
    ("ACK", 0x10),
    ("URG", 0x20),
    ("ECE", 0x40),
    ("CWR", 0x80),
];

fn tcp_flags(text: &str) -> Result<u8, String> {
    let mut bits = 0;
    for name in text.split(',') {
        bits |= match name.to_ascii_uppercase().as_str() {
            "ALL" => 0x3f,
            "NONE" => 0,
            upper => TCP_FLAGS
                .iter()
                .find(|(n, _)| *n == upper)
                .map(|(_, b)| *b)
                .ok_or_else(|| format!("`{name}` is not a TCP flag"))?,
        };
    }
    Ok(bits)
}

fn flag_names(bits: u8) -> String {
    if bits == 0 {
        return "NONE".into();
    }
    TCP_FLAGS
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

fn apply_conntrack(c: &mut Conntrack, opt: &str, negated: bool, arg: &str) -> Result<(), String> {
    let cidr = |a: &str| Cidr::parse(a).map(|v| Negatable::new(negated, v));
    let ports = |a: &str| PortRange::parse(a).map(|v| Negatable::new(negated, v));
    match opt {
        "--ctstate" => c.state = Some(Negatable::new(negated, CtStates::parse(arg)?)),
        "--ctproto" => {
            let p = Protocol::parse(arg)?;
            if p.0 == 0 {
                return Err(
                    "--ctproto 0 would match nothing; leave it out to match every protocol".into(),
                );
            }
            c.proto = Some(Negatable::new(negated, p.0));
        }
        "--ctorigsrc" => c.orig_src = Some(cidr(arg)?),
        "--ctorigdst" => c.orig_dst = Some(cidr(arg)?),
        "--ctreplsrc" => c.repl_src = Some(cidr(arg)?),
        "--ctrepldst" => c.repl_dst = Some(cidr(arg)?),
        "--ctorigsrcport" => c.orig_src_port = Some(ports(arg)?),
        "--ctorigdstport" => c.orig_dst_port = Some(ports(arg)?),
        "--ctreplsrcport" => c.repl_src_port = Some(ports(arg)?),
        "--ctrepldstport" => c.repl_dst_port = Some(ports(arg)?),
        "--ctstatus" => {
            let mut bits = 0u8;
            for s in arg.split(',') {
                if s.eq_ignore_ascii_case("NONE") {
                    continue;
                }
                let i = CT_STATUS
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(s))
                    .ok_or_else(|| format!("`{s}` is not a conntrack status"))?;
                bits |= 1 << i;
            }
            c.status = Some(Negatable::new(negated, bits));
        }
        "--ctexpire" => {
            let (a, b) = match arg.split_once(':') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => {
                    let v = number(arg)?;
                    (v, v)
                }
            };
            if a > b {
                return Err(format!("expiry range `{arg}` runs backwards"));
            }
            c.expire = Some(Negatable::new(negated, (a, b)));
        }
        _ => {
            c.dir_reply = Some(match arg.to_ascii_uppercase().as_str() {
                "ORIGINAL" => false,
                "REPLY" => true,
                _ => return Err(format!("--ctdir is ORIGINAL or REPLY, not `{arg}`")),
            });
        }
    }
    Ok(())
}

fn save_conntrack(c: &Conntrack, opt: &mut impl FnMut(bool, &str, &str)) {
    if let Some(s) = &c.state {
        opt(s.negated, "--ctstate", &s.value.to_string());
    }
    if let Some(p) = &c.proto {
        opt(p.negated, "--ctproto", &p.value.to_string());
    }
    for (name, v) in [
        ("--ctorigsrc", &c.orig_src),
        ("--ctorigdst", &c.orig_dst),
        ("--ctreplsrc", &c.repl_src),
        ("--ctrepldst", &c.repl_dst),
    ] {
        if let Some(v) = v {
            opt(v.negated, name, &v.value.host_or_net());
        }
    }
    for (name, v) in [
        ("--ctorigsrcport", &c.orig_src_port),
        ("--ctorigdstport", &c.orig_dst_port),
        ("--ctreplsrcport", &c.repl_src_port),
        ("--ctrepldstport", &c.repl_dst_port),
    ] {
        if let Some(v) = v {
            opt(v.negated, name, &v.value.to_string());
        }
    }
    if let Some(s) = &c.status {
        let names = if s.value == 0 {
            "NONE".to_string()
        } else {
            join_bits(u32::from(s.value), CT_STATUS)
        };
        opt(s.negated, "--ctstatus", &names);
    }
    if let Some(e) = &c.expire {
        let (a, b) = e.value;
        let text = if a == b {
            a.to_string()
        } else {
            format!("{a}:{b}")
        };
        opt(e.negated, "--ctexpire", &text);
    }
    if let Some(reply) = c.dir_reply {
        opt(false, "--ctdir", if reply { "REPLY" } else { "ORIGINAL" });
    }
}

fn apply_statistic(s: &mut Statistic, opt: &str, negated: bool, arg: &str) -> Result<(), String> {
    match opt {
        "--mode" => {
            *s = match arg {
                "random" => Statistic::Random {
                    negated: false,
                    p32: u32::MAX,
                },
                "nth" => Statistic::Nth {
                    negated: false,
                    every: u32::MAX,
                    packet: u32::MAX,
                },
                _ => return Err(format!("--mode is random or nth, not `{arg}`")),
            }
        }
        "--probability" => {
            let Statistic::Random { negated: n, p32 } = s else {
                return Err("--probability goes with --mode random".into());
            };
            let p: f64 = number(arg)?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability `{arg}` is not between 0 and 1"));
            }
            // libxt_statistic: lround(0x80000000 * p), rounding half away from zero.
            *p32 = (2_147_483_648.0 * p).round() as u32;
            *n = negated;
        }
        "--every" => {
            let Statistic::Nth {
                negated: n, every, ..
            } = s
            else {
                return Err("--every goes with --mode nth".into());
            };
            let v: u32 = number(arg)?;
            if v == 0 {
                return Err("--every must be at least 1".into());
            }
            *every = v - 1;
            *n = negated;
        }
        _ => {
            let Statistic::Nth { packet, .. } = s else {
                return Err("--packet goes with --mode nth".into());
            };
            *packet = number(arg)?;
        }
    }
    Ok(())
}

fn limit_rate(text: &str) -> Result<u32, String> {
    // libxt_limit `parse_rate`: the unit may be any prefix of second, minute, hour or day.
    const UNITS: &[(&str, u64)] = &[
        ("second", 1),
        ("minute", 60),
        ("hour", 3_600),
        ("day", 86_400),
    ];
    let (n, unit) = text.split_once('/').unwrap_or((text, "second"));
    let seconds = UNITS
        .iter()
        .find(|(name, _)| !unit.is_empty() && name.starts_with(&unit.to_ascii_lowercase()))
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("`{unit}` is not a rate unit (second, minute, hour, day)"))?;
    let n: u64 = number(n)?;
    let avg = (seconds * LIMIT_SCALE).checked_div(n).unwrap_or(0);
    match u32::try_from(avg) {
        Ok(0) => Err(format!("rate `{text}` is too fast (or zero)")),
        Ok(avg) => Ok(avg),
        Err(_) => Err(format!("rate `{text}` is too slow")),
    }
}

/// libxt_limit `print_rate`: walks the units from days down and stops at the first unit whose
/// period the rate no longer divides well.
fn limit_text(avg: u32) -> String {
    let period = u64::from(avg.max(1));
    let mult = |i: usize| LIMIT_UNITS[i].1 * LIMIT_SCALE;
    let mut i = 1;
    while i < LIMIT_UNITS.len() && !(period > mult(i) || mult(i) / period < mult(i) % period) {
        i += 1;
    }
    format!("{}/{}", mult(i - 1) / period, LIMIT_UNITS[i - 1].0)
}
