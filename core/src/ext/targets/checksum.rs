//! `-j CHECKSUM --checksum-fill` (libxt_CHECKSUM, mangle): fills in a missing checksum; the
//! walk goes on.

use crate::ext::{Check, Options, Save};

pub type Value = ();
pub const NAME: &str = "CHECKSUM";
pub const OPTIONS: Options = Options {
    flags: &["--checksum-fill"],
    one: &[],
    two: &[],
};

pub fn new() -> Value {}

pub fn apply(_: &mut Value, _: &str, _: &[&str], _: bool) -> Result<(), String> {
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    if c.seen("--checksum-fill") {
        Ok(())
    } else {
        Err("CHECKSUM needs --checksum-fill".into())
    }
}

pub fn save(_: &Value, out: &mut Save, _: bool) {
    out.opt(false, "--checksum-fill", "");
}

pub fn explain(_: &Value) -> String {
    "fill in the checksum, and go on".into()
}
