//! `-m connmark [!] --mark VALUE[/MASK]` (libxt_connmark): `(ct->mark & mask) == value`, the
//! connection's mark (which `CONNMARK` sets, saves and restores) rather than the packet's.

use super::{Check, Eval, Options, Save, not};
use crate::ext::hex;
use crate::model::values::{Negatable, value_mask};

/// `(value, mask)`.
pub type Value = Negatable<(u32, u32)>;
pub const NAME: &str = "connmark";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--mark"],
    two: &[],
};

pub fn new() -> Value {
    Negatable::new(false, (0, u32::MAX))
}

pub fn apply(m: &mut Value, _: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    *m = Negatable::new(
        negated,
        value_mask(args.first().copied().unwrap_or(""), u32::MAX)?,
    );
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    c.need("--mark")
}

pub fn save(m: &Value, out: &mut Save) {
    let (v, mask) = m.value;
    let text = if mask == u32::MAX {
        hex(v)
    } else {
        format!("{}/{}", hex(v), hex(mask))
    };
    out.opt(m.negated, "--mark", &text);
}

pub fn explain(m: &Value) -> Option<String> {
    Some(format!(
        "{}of a connection marked {:#x}/{:#x}",
        not(m.negated),
        m.value.0,
        m.value.1
    ))
}

pub fn eval(m: &Value, e: &mut Eval) {
    let ctmark = e.view().ctmark;
    e.certain(m.negated != (ctmark & m.value.1 == m.value.0));
}
