//! `-m socket [--transparent] [--nowildcard] [--restore-skmark]` (libxt_socket): whether a
//! local socket would take the packet (Cilium and Istio send proxied traffic this way). The
//! node's sockets are not in the rules, so it is undecided.

use super::{Check, Eval, Options, Save};
use crate::sim::Undecidable;

/// Which of `--transparent`, `--nowildcard`, `--restore-skmark` are given, as bits.
pub type Value = u8;
pub const NAME: &str = "socket";
pub const OPTIONS: Options = Options {
    flags: FLAGS,
    one: &[],
    two: &[],
};
const FLAGS: &[&str] = &["--transparent", "--nowildcard", "--restore-skmark"];

pub fn new() -> Value {
    0
}

pub fn apply(v: &mut Value, opt: &str, negated: bool, _: &[&str]) -> Result<(), String> {
    super::no_negation(negated, opt)?;
    if let Some(i) = FLAGS.iter().position(|f| *f == opt) {
        *v |= 1 << i;
    }
    Ok(())
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(v: &Value, out: &mut Save) {
    for (i, f) in FLAGS.iter().enumerate() {
        if v & (1 << i) != 0 {
            out.opt(false, f, "");
        }
    }
}

pub fn explain(v: &Value) -> Option<String> {
    Some(format!(
        "when a {}socket on this node would take the packet",
        if v & 1 != 0 { "transparent " } else { "" }
    ))
}

pub fn eval(v: &Value, e: &mut Eval) {
    e.undecided(Undecidable::Extension {
        module: NAME,
        asks: if v & 1 != 0 {
            "is there a transparent local socket for the packet"
        } else {
            "is there a local socket for the packet"
        },
        value: "",
    });
}
