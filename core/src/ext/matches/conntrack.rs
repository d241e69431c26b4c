//! `-m conntrack` (libxt_conntrack): the connection's state, status, tuples, expiry and
//! direction; and the state bits `-m state` shares.

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, join_bits, not, number};
use crate::ext::listed_bang;
use crate::model::values::{Cidr, Negatable, PortRange, Protocol};
use crate::sim::Undecidable;

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

pub type Value = Conntrack;
pub const NAME: &str = "conntrack";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &[
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
    two: &[],
};

pub fn new() -> Value {
    Conntrack::default()
}

pub fn apply(c: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
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

pub fn check(c: &Value, _: &Check) -> Result<(), String> {
    if *c == Conntrack::default() {
        Err("`-m conntrack` needs at least one option".into())
    } else {
        Ok(())
    }
}

pub fn save(c: &Value, out: &mut Save) {
    if let Some(s) = &c.state {
        out.opt(s.negated, "--ctstate", &s.value.to_string());
    }
    if let Some(p) = &c.proto {
        out.opt(p.negated, "--ctproto", &p.value.to_string());
    }
    for (name, v) in [
        ("--ctorigsrc", &c.orig_src),
        ("--ctorigdst", &c.orig_dst),
        ("--ctreplsrc", &c.repl_src),
        ("--ctrepldst", &c.repl_dst),
    ] {
        if let Some(v) = v {
            out.opt(v.negated, name, &v.value.host_or_net());
        }
    }
    for (name, v) in [
        ("--ctorigsrcport", &c.orig_src_port),
        ("--ctorigdstport", &c.orig_dst_port),
        ("--ctreplsrcport", &c.repl_src_port),
        ("--ctrepldstport", &c.repl_dst_port),
    ] {
        if let Some(v) = v {
            out.opt(v.negated, name, &v.value.to_string());
        }
    }
    if let Some(s) = &c.status {
        let names = if s.value == 0 {
            "NONE".to_string()
        } else {
            join_bits(u32::from(s.value), CT_STATUS)
        };
        out.opt(s.negated, "--ctstatus", &names);
    }
    if let Some(e) = &c.expire {
        let (a, b) = e.value;
        let text = if a == b {
            a.to_string()
        } else {
            format!("{a}:{b}")
        };
        out.opt(e.negated, "--ctexpire", &text);
    }
    if let Some(reply) = c.dir_reply {
        out.opt(false, "--ctdir", if reply { "REPLY" } else { "ORIGINAL" });
    }
}

pub fn explain(c: &Value) -> Option<String> {
    Some(match &c.state {
        Some(s) => format!("{}in conntrack state {}", not(s.negated), s.value),
        None => "with conntrack conditions".into(),
    })
}

pub fn eval(c: &Value, e: &mut Eval) {
    let v = e.view();
    if let Some(s) = &c.state {
        e.certain(s.negated != (s.value.0 & v.ct_state != 0));
    }
    if let Some(p) = &c.proto {
        e.certain(p.negated != (p.value == v.protocol.0));
    }
    for (net, ip) in [(&c.orig_src, v.orig_src), (&c.orig_dst, v.orig_dst)] {
        if let Some(n) = net {
            e.certain(n.negated != n.value.contains(ip));
        }
    }
    if let Some(s) = &c.status {
        if v.ct_state & crate::sim::ct_bit("NEW") != 0 {
            // A first packet: nothing seen back, not assured, not confirmed yet.
            e.certain(s.negated != (s.value == 0));
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

/// How `iptables -L` prints its state test: `ctstate RELATED,ESTABLISHED`, `! ctstate NEW`.
pub const LISTED: &[&str] = &["ctstate"];

pub fn listed(_: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    let (glued, states) = listed_bang(l.value("states")?);
    Ok(Conntrack {
        state: Some(Negatable::new(negated || glued, CtStates::parse(states)?)),
        ..Default::default()
    })
}
