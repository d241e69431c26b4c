//! `-m mac [!] --mac-source XX:XX:XX:XX:XX:XX` (libxt_mac): the sender's Ethernet address,
//! which a packet's addresses do not tell, so it is undecided.

use super::{Check, Eval, Options, Save, not};
use crate::model::values::Negatable;
use crate::sim::Undecidable;

/// The address, upper-case as iptables-save prints it.
pub type Value = Negatable<String>;
pub const NAME: &str = "mac";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--mac-source"],
    two: &[],
};

pub fn new() -> Value {
    Negatable::new(false, String::new())
}

pub fn apply(m: &mut Value, _: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    let text = args.first().copied().unwrap_or("");
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() != 6
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || u8::from_str_radix(p, 16).is_err())
    {
        return Err(format!("`{text}` is not a MAC address (XX:XX:XX:XX:XX:XX)"));
    }
    let octets: Vec<String> = parts
        .iter()
        .map(|p| format!("{:02X}", u8::from_str_radix(p, 16).unwrap_or(0)))
        .collect();
    *m = Negatable::new(negated, octets.join(":"));
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    c.need("--mac-source")
}

pub fn save(m: &Value, out: &mut Save) {
    out.opt(m.negated, "--mac-source", &m.value);
}

pub fn explain(m: &Value) -> Option<String> {
    Some(format!(
        "{}sent from MAC address {}",
        not(m.negated),
        m.value
    ))
}

pub fn eval<'r>(m: &'r Value, e: &mut Eval<'_, '_, 'r>) {
    let key = Undecidable::Extension {
        module: NAME,
        asks: "is the sender's MAC address ",
        value: &m.value,
    };
    e.undecided_negated(key, m.negated);
}
