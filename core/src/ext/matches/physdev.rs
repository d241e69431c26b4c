//! `-m physdev` (libxt_physdev): the bridge ports a bridged packet crossed.

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, no_listed_negation};
use crate::ext::save_word;
use crate::model::values::{Interface, Negatable};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Physdev {
    pub is_in: Option<bool>,
    pub physdev_in: Option<Negatable<Interface>>,
    pub is_out: Option<bool>,
    pub physdev_out: Option<Negatable<Interface>>,
    pub is_bridged: Option<bool>,
}

pub type Value = Physdev;
pub const NAME: &str = "physdev";
pub const OPTIONS: Options = Options {
    flags: &[
        "--physdev-is-in",
        "--physdev-is-out",
        "--physdev-is-bridged",
    ],
    one: &["--physdev-in", "--physdev-out"],
    two: &[],
};

pub fn new() -> Value {
    Physdev::default()
}

pub fn apply(p: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--physdev-is-in" => p.is_in = Some(negated),
        "--physdev-is-out" => p.is_out = Some(negated),
        "--physdev-is-bridged" => p.is_bridged = Some(negated),
        "--physdev-in" => p.physdev_in = Some(Negatable::new(negated, Interface::parse(arg)?)),
        _ => p.physdev_out = Some(Negatable::new(negated, Interface::parse(arg)?)),
    }
    Ok(())
}

pub fn check(p: &Value, _: &Check) -> Result<(), String> {
    if *p == Physdev::default() {
        Err("`-m physdev` needs at least one option".into())
    } else {
        Ok(())
    }
}

pub fn save(p: &Value, out: &mut Save) {
    if let Some(n) = p.is_in {
        out.opt(n, "--physdev-is-in", "");
    }
    if let Some(i) = &p.physdev_in {
        out.opt(i.negated, "--physdev-in", &save_word(&i.value.0));
    }
    if let Some(n) = p.is_out {
        out.opt(n, "--physdev-is-out", "");
    }
    if let Some(o) = &p.physdev_out {
        out.opt(o.negated, "--physdev-out", &save_word(&o.value.0));
    }
    if let Some(n) = p.is_bridged {
        out.opt(n, "--physdev-is-bridged", "");
    }
}

pub fn explain(_: &Value) -> Option<String> {
    Some("when the packet did (not) cross a bridge port (physdev)".into())
}

pub fn eval(p: &Value, e: &mut Eval) {
    // Only bridged packets carry bridge-port information; for others every test is "no"
    // (NETFILTER.md §2.2), so only negated tests match.
    let tests = [p.is_in, p.is_out, p.is_bridged]
        .into_iter()
        .flatten()
        .chain(
            [&p.physdev_in, &p.physdev_out]
                .into_iter()
                .flatten()
                .map(|n| n.negated),
        );
    e.certain(tests.into_iter().all(|negated| negated));
}

/// How `iptables -L` prints it: `PHYSDEV match --physdev-in veth1 ! --physdev-is-bridged`.
pub const LISTED: &[&str] = &["PHYSDEV"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    l.skip("match");
    let mut p = new();
    let mut negated = false;
    while let Some(w) = l.peek() {
        match w {
            "!" => negated = true,
            "--physdev-is-in" | "--physdev-is-out" | "--physdev-is-bridged" => {
                apply(&mut p, w, std::mem::take(&mut negated), &[])?;
            }
            "--physdev-in" | "--physdev-out" => {
                l.next();
                let name = l.value(w)?;
                apply(&mut p, w, std::mem::take(&mut negated), &[name])?;
                continue;
            }
            _ => break,
        }
        l.next();
    }
    Ok(p)
}
