//! `-m multiport --sports|--dports|--ports P[,P:P…]` (libxt_multiport): up to 15 ports.

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, no_listed_negation, not};
use crate::ext::listed_bang;
use crate::model::values::{Negatable, PortRange};

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

pub type Value = Multiport;
pub const NAME: &str = "multiport";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &[
        "--sports",
        "--source-ports",
        "--dports",
        "--destination-ports",
        "--ports",
    ],
    two: &[],
};

pub fn new() -> Value {
    Multiport {
        side: PortSide::Either,
        ports: Negatable::new(false, Vec::new()),
    }
}

pub fn apply(m: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    m.side = match opt {
        "--sports" | "--source-ports" => PortSide::Source,
        "--dports" | "--destination-ports" => PortSide::Destination,
        _ => PortSide::Either,
    };
    let ports = args
        .first()
        .copied()
        .unwrap_or("")
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
    Ok(())
}

pub fn check(m: &Value, c: &Check) -> Result<(), String> {
    if m.ports.value.is_empty() {
        return Err("`-m multiport` needs --sports, --dports or --ports".into());
    }
    c.protocol(
        &["tcp", "udp", "udplite", "sctp", "dccp"],
        &[6, 17, 136, 132, 33],
    )
}

pub fn save(m: &Value, out: &mut Save) {
    let name = match m.side {
        PortSide::Source => "--sports",
        PortSide::Destination => "--dports",
        PortSide::Either => "--ports",
    };
    let list: Vec<String> = m.ports.value.iter().map(|p| p.write(':')).collect();
    out.opt(m.ports.negated, name, &list.join(","));
}

pub fn explain(m: &Value) -> Option<String> {
    Some(format!(
        "{}{} one of ports {}",
        not(m.ports.negated),
        match m.side {
            PortSide::Source => "from",
            PortSide::Destination => "to",
            PortSide::Either => "from or to",
        },
        m.ports
            .value
            .iter()
            .map(|r| r.write('-'))
            .collect::<Vec<_>>()
            .join(",")
    ))
}

pub fn eval(m: &Value, e: &mut Eval) {
    let v = e.view();
    let hit = |port: u16| m.ports.value.iter().any(|r| r.contains(port));
    let any = match m.side {
        PortSide::Source => hit(v.sport),
        PortSide::Destination => hit(v.dport),
        PortSide::Either => hit(v.sport) || hit(v.dport),
    };
    e.certain(m.ports.negated != any);
}

/// How `iptables -L` prints it: `multiport dports 80,443`, `multiport sports !1024:2048`.
pub const LISTED: &[&str] = &["multiport"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    let side = match l.next() {
        Some("dports") => PortSide::Destination,
        Some("sports") => PortSide::Source,
        _ => PortSide::Either,
    };
    let (negated, list) = listed_bang(l.value("multiport ports")?);
    let ports = list
        .split(',')
        .map(PortRange::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Multiport {
        side,
        ports: Negatable::new(negated, ports),
    })
}
