//! `-m icmp [!] --icmp-type TYPE` (libxt_icmp): the simulator's packets are TCP or UDP, so the
//! type of an ICMP packet is left undecided.

use super::{Check, Eval, Options, Save};
use crate::ext::save_word;
use crate::model::values::Negatable;
use crate::sim::Undecidable;

pub type Value = Option<Negatable<String>>;
pub const NAME: &str = "icmp";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--icmp-type"],
    two: &[],
};

pub fn new() -> Value {
    None
}

pub fn apply(i: &mut Value, _: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    *i = Some(Negatable::new(
        negated,
        args.first().copied().unwrap_or("").to_string(),
    ));
    Ok(())
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(i: &Value, out: &mut Save) {
    save_type(i, "--icmp-type", out);
}

pub fn explain(_: &Value) -> Option<String> {
    Some("of a given ICMP type".into())
}

pub fn eval<'r>(i: &'r Value, e: &mut Eval<'_, '_, 'r>) {
    eval_type(i, &[1, 58], e);
}

/// `--icmp-type` or `--icmpv6-type` as iptables-save prints it.
pub(super) fn save_type(i: &Value, opt: &str, out: &mut Save) {
    if let Some(t) = i {
        out.opt(t.negated, opt, &save_word(&t.value));
    }
}

/// A packet of a protocol not in `protocols` never matches; the type of an ICMP one is
/// undecided (the simulator's packets carry no ICMP type).
pub(super) fn eval_type<'r>(i: &'r Value, protocols: &[u8], e: &mut Eval<'_, '_, 'r>) {
    let text = i.as_ref().map_or("any", |t| t.value.as_str());
    let negated = i.as_ref().is_some_and(|t| t.negated);
    if !protocols.contains(&e.view().protocol.0) {
        e.certain(false);
    } else {
        e.undecided_negated(Undecidable::IcmpType(text), negated);
    }
}
