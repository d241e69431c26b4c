//! `-m icmp6 [!] --icmpv6-type TYPE` (libxt_icmp6, ip6tables): as `icmp`, the type of an ICMPv6
//! packet is left undecided.

use super::{Check, Eval, Options, Save};
use crate::ext::save_word;
use crate::model::values::Negatable;
use crate::sim::Undecidable;

pub type Value = Option<Negatable<String>>;
pub const NAME: &str = "icmp6";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--icmpv6-type"],
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
    if let Some(t) = i {
        out.opt(t.negated, "--icmpv6-type", &save_word(&t.value));
    }
}

pub fn explain(_: &Value) -> Option<String> {
    Some("of a given ICMPv6 type".into())
}

pub fn eval<'r>(i: &'r Value, e: &mut Eval<'_, '_, 'r>) {
    let text = i.as_ref().map_or("any", |t| t.value.as_str());
    let negated = i.as_ref().is_some_and(|t| t.negated);
    if e.view().protocol.0 != 58 {
        e.certain(false);
    } else {
        e.undecided_negated(Undecidable::IcmpType(text), negated);
    }
}
