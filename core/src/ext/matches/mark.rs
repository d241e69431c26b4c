//! `-m mark [!] --mark VALUE[/MASK]` (libxt_mark): `(skb->mark & mask) == value`.

use super::{Check, Eval, Listed, Options, Save, no_listed_negation, not};
use crate::ext::hex;
use crate::ext::listed_bang;
use crate::model::values::{Negatable, value_mask};

/// `(value, mask)`.
pub type Value = Negatable<(u32, u32)>;
pub const NAME: &str = "mark";
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
        "{}carrying mark {:#x}/{:#x}",
        not(m.negated),
        m.value.0,
        m.value.1
    ))
}

pub fn eval(m: &Value, e: &mut Eval) {
    let mark = e.view().mark;
    e.certain(m.negated != (mark & m.value.1 == m.value.0));
}

/// How `iptables -L` prints it: `mark match 0x4000/0x4000`, `mark match ! 0x8000/0x8000`.
pub const LISTED: &[&str] = &["mark"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    l.skip("match");
    let spaced = l.skip("!");
    let (glued, value) = listed_bang(l.value("mark value")?);
    let mut m = new();
    apply(&mut m, "--mark", spaced || glued, &[value])?;
    Ok(m)
}
