//! `-j REDIRECT [--to-ports p[-q]] [--random]` (libxt_REDIRECT): DNAT to the node itself.

use super::masquerade::{self, PortsNat};
use crate::ext::{Check, Options, Save};
pub use masquerade::{listed, lists};

pub type Value = PortsNat;
pub const NAME: &str = "REDIRECT";
pub const OPTIONS: Options = masquerade::OPTIONS;

pub fn new() -> Value {
    PortsNat::default()
}

pub fn apply(p: &mut Value, opt: &str, args: &[&str], v6: bool) -> Result<(), String> {
    masquerade::apply(p, opt, args, v6)
}

pub fn check(p: &Value, c: &Check) -> Result<(), String> {
    masquerade::check(p, c)
}

pub fn save(p: &Value, out: &mut Save, v6: bool) {
    masquerade::save(p, out, v6);
}

pub fn explain(_: &Value) -> String {
    "redirect to a port on this node".into()
}
