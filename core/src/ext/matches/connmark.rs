//! `-m connmark [!] --mark VALUE[/MASK]` (libxt_connmark): `(ct->mark & mask) == value`, the
//! connection's mark (which `CONNMARK` sets, saves and restores) rather than the packet's.
//! Written as `-m mark` is; only what it tests differs.

use super::{Eval, not};

pub use super::mark::{OPTIONS, Value, apply, check, listed, new, save};
/// Printed as `mark` is: `connmark match 0x1/0x1`.
pub const LISTED: &[&str] = &["connmark"];
pub const NAME: &str = "connmark";

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
