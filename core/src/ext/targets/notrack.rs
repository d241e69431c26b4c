//! `-j NOTRACK` (libxt_NOTRACK, raw table): the packet is not tracked; the walk goes on.

use crate::ext::{Check, Options, Save};

pub type Value = ();
pub const NAME: &str = "NOTRACK";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &[],
    two: &[],
};

pub fn new() -> Value {}

pub fn apply(_: &mut Value, opt: &str, _: &[&str], _: bool) -> Result<(), String> {
    Err(format!("this target takes no option {opt}"))
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(_: &Value, _: &mut Save, _: bool) {}

pub fn explain(_: &Value) -> String {
    "exempt the packet from connection tracking, and go on".into()
}
