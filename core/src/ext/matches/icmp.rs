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
    if let Some(t) = i {
        out.opt(t.negated, "--icmp-type", &save_word(&t.value));
    }
}

pub fn explain(_: &Value) -> Option<String> {
    Some("of a given ICMP type".into())
}

pub fn eval<'r>(i: &'r Value, e: &mut Eval<'_, '_, 'r>) {
    let text = i.as_ref().map_or("any", |t| t.value.as_str());
    let negated = i.as_ref().is_some_and(|t| t.negated);
    let protocol = e.view().protocol.0;
    if protocol != 1 && protocol != 58 {
        e.certain(false);
    } else {
        e.undecided_negated(Undecidable::IcmpType(text), negated);
    }
}
