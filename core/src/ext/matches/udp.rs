//! `-m udp [--sport P[:P]] [--dport P[:P]]` (libxt_udp), and the port pair `tcp` shares.

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, no_listed_negation};
use crate::ext::listed_bang;
use crate::model::values::{Negatable, PortRange, Protocol};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ports {
    pub sport: Option<Negatable<PortRange>>,
    pub dport: Option<Negatable<PortRange>>,
}

pub type Value = Ports;
pub const NAME: &str = "udp";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--sport", "--source-port", "--dport", "--destination-port"],
    two: &[],
};

pub fn new() -> Value {
    Ports::default()
}

pub fn apply(p: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    set_port(p, opt, negated, args)
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    c.protocol(&["udp"], &[17])
}

pub fn save(p: &Value, out: &mut Save) {
    save_ports(p, out);
}

pub fn explain(p: &Value) -> Option<String> {
    explain_ports(p)
}

pub fn eval(p: &Value, e: &mut Eval) {
    let v = e.view();
    let yes = v.protocol == Protocol::UDP && p.holds(v.sport, v.dport);
    e.certain(yes);
}

impl Ports {
    /// Whether both given ranges hold the packet's ports.
    pub fn holds(&self, sport: u16, dport: u16) -> bool {
        let hit = |range: &Option<Negatable<PortRange>>, port: u16| {
            range
                .as_ref()
                .is_none_or(|r| r.negated != r.value.contains(port))
        };
        hit(&self.sport, sport) && hit(&self.dport, dport)
    }
}

/// `--sport`/`--source-port` or `--dport`/`--destination-port`.
pub(super) fn set_port(
    ports: &mut Ports,
    opt: &str,
    negated: bool,
    args: &[&str],
) -> Result<(), String> {
    let value = Negatable::new(
        negated,
        PortRange::parse(args.first().copied().unwrap_or(""))?,
    );
    if opt.starts_with("--s") {
        ports.sport = Some(value);
    } else {
        ports.dport = Some(value);
    }
    Ok(())
}

pub(super) fn save_ports(p: &Ports, out: &mut Save) {
    // iptables-save leaves out a full, un-negated range (`--sport :`).
    for (name, range) in [("--sport", &p.sport), ("--dport", &p.dport)] {
        if let Some(r) = range
            .as_ref()
            .filter(|r| r.negated || r.value != PortRange::ALL)
        {
            out.opt(r.negated, name, &r.value.to_string());
        }
    }
}

pub(super) fn explain_ports(p: &Ports) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(d) = &p.dport {
        parts.push(format!(
            "{}to port {}",
            super::not(d.negated),
            d.value.write('-')
        ));
    }
    if let Some(s) = &p.sport {
        parts.push(format!(
            "{}from port {}",
            super::not(s.negated),
            s.value.write('-')
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// How `iptables -L` prints it: `udp dpt:53`, `udp spts:1024:65535 dpt:!53`.
pub const LISTED: &[&str] = &["udp"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    let mut p = Ports::default();
    while let Some((key, value)) = l.peek().and_then(|w| w.split_once(':')) {
        if !listed_port(&mut p, key, value)? {
            break;
        }
        l.next();
    }
    Ok(p)
}

/// One `dpt:`, `dpts:`, `spt:` or `spts:` word of a listing; `false` if `key` is none of them.
pub(super) fn listed_port(p: &mut Ports, key: &str, value: &str) -> Result<bool, String> {
    let (negated, value) = listed_bang(value);
    let side = match key {
        "dpt" | "dpts" => &mut p.dport,
        "spt" | "spts" => &mut p.sport,
        _ => return Ok(false),
    };
    *side = Some(Negatable::new(negated, PortRange::parse(value)?));
    Ok(true)
}
