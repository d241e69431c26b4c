//! `-m tcp` (libxt_tcp): ports as `udp`, `--tcp-flags MASK COMP` / `--syn`, `--tcp-option N`.

use serde::Serialize;

use super::udp::{Ports, explain_ports, listed_port, save_ports, set_port};
use super::{Check, Eval, Listed, Options, Save, no_listed_negation};
use crate::ext::listed_bang;
use crate::model::values::u32_value;
use crate::model::values::{Negatable, Protocol};
use crate::sim::Undecidable;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tcp {
    pub ports: Ports,
    /// `--tcp-flags MASK COMP`: `(flags & mask) == comp`.
    pub flags: Option<Negatable<(u8, u8)>>,
    pub option: Option<Negatable<u8>>,
}

pub type Value = Tcp;
pub const NAME: &str = "tcp";
pub const OPTIONS: Options = Options {
    flags: &["--syn"],
    one: &[
        "--sport",
        "--source-port",
        "--dport",
        "--destination-port",
        "--tcp-option",
    ],
    two: &["--tcp-flags"],
};

pub fn new() -> Value {
    Tcp::default()
}

pub fn apply(t: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
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
        _ => set_port(&mut t.ports, opt, negated, args)?,
    }
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    c.protocol(&["tcp"], &[6])
}

pub fn save(t: &Value, out: &mut Save) {
    save_ports(&t.ports, out);
    if let Some(f) = &t.flags {
        out.opt(
            f.negated,
            "--tcp-flags",
            &format!("{} {}", flag_names(f.value.0), flag_names(f.value.1)),
        );
    }
    if let Some(o) = &t.option {
        out.opt(o.negated, "--tcp-option", &o.value.to_string());
    }
}

pub fn explain(t: &Value) -> Option<String> {
    explain_ports(&t.ports)
}

pub fn eval(t: &Value, e: &mut Eval) {
    let v = e.view();
    let flags = t
        .flags
        .as_ref()
        .is_none_or(|f| f.negated != (v.tcp_flags & f.value.0 == f.value.1));
    let yes = v.protocol == Protocol::TCP && t.ports.holds(v.sport, v.dport) && flags;
    e.certain(yes);
    if let Some(o) = &t.option {
        e.undecided_negated(Undecidable::TcpOption(o.value), o.negated);
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

/// How `iptables -L` prints it: `tcp dpt:443 flags:0x17/0x02`, ports as `udp`.
pub const LISTED: &[&str] = &["tcp"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    let mut t = Tcp::default();
    while let Some((key, value)) = l.peek().and_then(|w| w.split_once(':')) {
        if key == "flags" {
            let (negated, value) = listed_bang(value);
            let (mask, comp) = value.split_once('/').ok_or("tcp flags need MASK/COMP")?;
            let byte = |v: &str| u32_value(v).map(|v| v as u8);
            t.flags = Some(Negatable::new(negated, (byte(mask)?, byte(comp)?)));
        } else if !listed_port(&mut t.ports, key, value)? {
            break;
        }
        l.next();
    }
    Ok(t)
}
