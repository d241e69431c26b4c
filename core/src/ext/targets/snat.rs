//! `-j SNAT --to-source [a[-b]][:p[-q]] [--random] [--random-fully] [--persistent]`
//! (libxt_SNAT): the connection's source, decided by its first packet.

use super::dnat::{Nat, apply_range, check_ports, listed_range, save_range};
use crate::ext::{Check, Listed, Options, Save};

pub type Value = Nat;
pub const NAME: &str = "SNAT";
pub const OPTIONS: Options = Options {
    flags: &["--random", "--random-fully", "--persistent"],
    one: &["--to-source", "--to"],
    two: &[],
};

pub fn new() -> Value {
    Nat::default()
}

pub fn apply(n: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    apply_range(n, opt, args.first().copied().unwrap_or(""))
}

pub fn check(n: &Value, c: &Check) -> Result<(), String> {
    if n.addrs.is_none() && n.ports.is_none() {
        Err("SNAT needs --to-source".into())
    } else {
        check_ports(n, c)
    }
}

pub fn save(n: &Value, out: &mut Save, _: bool) {
    save_range(n, "--to-source", out);
}

pub fn explain(_: &Value) -> String {
    "rewrite the source (SNAT) for the whole connection".into()
}

pub use super::dnat::lists;

/// How `iptables -L` prints it: `to:192.0.2.1 random-fully`.
pub fn listed(n: &mut Value, word: &str, _: &mut Listed) -> Result<(), String> {
    listed_range(n, "--to-source", word)
}
