//! `-m icmp6 [!] --icmpv6-type TYPE` (libxt_icmp6, ip6tables): as `icmp`, the type of an ICMPv6
//! packet is left undecided.

use super::icmp::{eval_type, save_type};
use super::{Eval, Options, Save};

pub use super::icmp::{Value, apply, check, new};
pub const NAME: &str = "icmp6";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--icmpv6-type"],
    two: &[],
};

pub fn save(i: &Value, out: &mut Save) {
    save_type(i, "--icmpv6-type", out);
}

pub fn explain(_: &Value) -> Option<String> {
    Some("of a given ICMPv6 type".into())
}

pub fn eval<'r>(i: &'r Value, e: &mut Eval<'_, '_, 'r>) {
    eval_type(i, &[58], e);
}
