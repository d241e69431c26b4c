//! `-m comment --comment TEXT` (libxt_comment): a note, never a test.

use super::{Check, Eval, Options, Save, no_negation};
use crate::ext::save_string;

pub type Value = String;
pub const NAME: &str = "comment";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--comment"],
    two: &[],
};

pub fn new() -> Value {
    String::new()
}

pub fn apply(c: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    no_negation(negated, opt)?;
    let arg = args.first().copied().unwrap_or("");
    if arg.chars().count() > 255 {
        return Err("a comment may be at most 255 characters".into());
    }
    *c = arg.to_string();
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    c.need("--comment")
}

pub fn save(c: &Value, out: &mut Save) {
    out.opt(false, "--comment", &save_string(c));
}

pub fn explain(_: &Value) -> Option<String> {
    None
}

pub fn eval(_: &Value, _: &mut Eval) {}
