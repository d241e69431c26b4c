//! `-m state --state STATES` (libxt_state, the older spelling of `conntrack --ctstate`).

use super::{Check, CtStates, Eval, Listed, Options, Save, not};
use crate::ext::listed_bang;
use crate::model::values::Negatable;

pub type Value = Negatable<CtStates>;
pub const NAME: &str = "state";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--state"],
    two: &[],
};

pub fn new() -> Value {
    Negatable::new(false, CtStates(0))
}

pub fn apply(s: &mut Value, _: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    *s = Negatable::new(
        negated,
        CtStates::parse(args.first().copied().unwrap_or(""))?,
    );
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    c.need("--state")
}

pub fn save(s: &Value, out: &mut Save) {
    out.opt(s.negated, "--state", &s.value.to_string());
}

pub fn explain(s: &Value) -> Option<String> {
    Some(format!("{}in conntrack state {}", not(s.negated), s.value))
}

pub fn eval(s: &Value, e: &mut Eval) {
    let state = e.view().ct_state;
    e.certain(s.negated != (s.value.0 & state != 0));
}

/// How `iptables -L` prints it: `state RELATED,ESTABLISHED`, `! state NEW`.
pub const LISTED: &[&str] = &["state"];

pub fn listed(_: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    let (glued, states) = listed_bang(l.value("states")?);
    Ok(Negatable::new(negated || glued, CtStates::parse(states)?))
}
