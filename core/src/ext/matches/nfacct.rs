//! `-m nfacct --nfacct-name NAME` (libxt_nfacct): counts into an accounting object; always
//! matches.

use super::{Check, Eval, Listed, Options, Save, no_listed_negation};
use crate::ext::save_string;

pub type Value = String;
pub const NAME: &str = "nfacct";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--nfacct-name"],
    two: &[],
};

pub fn new() -> Value {
    String::new()
}

pub fn apply(n: &mut Value, _: &str, _: bool, args: &[&str]) -> Result<(), String> {
    *n = args.first().copied().unwrap_or("").to_string();
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    c.need("--nfacct-name")
}

pub fn save(n: &Value, out: &mut Save) {
    out.opt(false, "--nfacct-name", &save_string(n));
}

pub fn explain(_: &Value) -> Option<String> {
    None
}

pub fn eval(_: &Value, _: &mut Eval) {}

/// How `iptables -L` prints it: `nfacct-name  NAME`.
pub const LISTED: &[&str] = &["nfacct-name"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    Ok(l.value("nfacct name")?.to_string())
}
