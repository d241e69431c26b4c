//! `-m addrtype --src-type|--dst-type TYPES [--limit-iface-in|-out]` (libxt_addrtype): the
//! route type of an address in the local table (NETFILTER.md §2.2).

use std::net::IpAddr;

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, join_bits, no_listed_negation, not};
use crate::ext::listed_bang;
use crate::model::values::Negatable;
use crate::sim::NodeFacts;

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

pub type Value = Addrtype;
pub const NAME: &str = "addrtype";
pub const OPTIONS: Options = Options {
    flags: &["--limit-iface-in", "--limit-iface-out"],
    one: &["--src-type", "--dst-type"],
    two: &[],
};

pub fn new() -> Value {
    Addrtype::default()
}

pub fn apply(a: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    match opt {
        "--limit-iface-in" => a.limit_iface_in = true,
        "--limit-iface-out" => a.limit_iface_out = true,
        _ => {
            let mut bits = 0u16;
            for t in args.first().copied().unwrap_or("").split(',') {
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
    }
    Ok(())
}

pub fn check(a: &Value, _: &Check) -> Result<(), String> {
    if a.src.is_none() && a.dst.is_none() {
        Err("`-m addrtype` needs --src-type or --dst-type".into())
    } else if a.limit_iface_in && a.limit_iface_out {
        Err("--limit-iface-in and --limit-iface-out cannot be used together".into())
    } else {
        Ok(())
    }
}

pub fn save(a: &Value, out: &mut Save) {
    for (name, t) in [("--src-type", &a.src), ("--dst-type", &a.dst)] {
        if let Some(t) = t {
            out.opt(t.negated, name, &join_bits(u32::from(t.value), ADDR_TYPES));
        }
    }
    if a.limit_iface_in {
        out.opt(false, "--limit-iface-in", "");
    }
    if a.limit_iface_out {
        out.opt(false, "--limit-iface-out", "");
    }
}

pub fn explain(a: &Value) -> Option<String> {
    let mut parts = Vec::new();
    for (t, side) in [(&a.src, "from"), (&a.dst, "to")] {
        if let Some(t) = t {
            let names = ADDR_TYPES
                .iter()
                .enumerate()
                .filter(|(i, _)| t.value & (1 << i) != 0)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join("/");
            let what = if names == "LOCAL" {
                "an address of this node".to_string()
            } else {
                format!("a {names} address")
            };
            parts.push(format!("{}{side} {what}", not(t.negated)));
        }
    }
    Some(parts.join(", "))
}

pub fn eval(a: &Value, e: &mut Eval) {
    let v = e.view();
    let test = |t: &Option<Negatable<u16>>, ip: IpAddr| {
        t.as_ref()
            .is_none_or(|t| t.negated != (addr_types(ip, v.facts) & t.value != 0))
    };
    let yes = test(&a.src, v.src) && test(&a.dst, v.dst);
    e.certain(yes);
}

/// The route type of `ip` on the node, as a bit over [`ADDR_TYPES`].
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

/// How `iptables -L` prints it: `ADDRTYPE match src-type LOCAL dst-type !LOCAL`.
pub const LISTED: &[&str] = &["ADDRTYPE"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    l.skip("match");
    let mut a = new();
    while let Some(kind @ ("src-type" | "dst-type")) = l.peek() {
        l.next();
        let (negated, types) = listed_bang(l.value("address type")?);
        let opt = if kind == "src-type" {
            "--src-type"
        } else {
            "--dst-type"
        };
        apply(&mut a, opt, negated, &[types])?;
    }
    Ok(a)
}
