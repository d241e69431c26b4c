//! `-m limit --limit RATE [--limit-burst N]` (libxt_limit): a token bucket. Not evaluated: a
//! single packet is always within it.

use serde::Serialize;

use super::{Check, Eval, Options, Save, number};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limit {
    /// Average rate as iptables stores it: seconds × 10000 per packet (`XT_LIMIT_SCALE`).
    pub avg: u32,
    pub burst: u32,
}

const LIMIT_SCALE: u64 = 10_000;
const LIMIT_UNITS: &[(&str, u64)] = &[("day", 86_400), ("hour", 3_600), ("min", 60), ("sec", 1)];

pub type Value = Limit;
pub const NAME: &str = "limit";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--limit", "--limit-burst"],
    two: &[],
};

pub fn new() -> Value {
    Limit {
        avg: 10_000 * 3600 / 3,
        burst: 5,
    }
}

pub fn apply(l: &mut Value, opt: &str, _: bool, args: &[&str]) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--limit" => l.avg = rate(arg)?,
        _ => l.burst = number(arg)?,
    }
    Ok(())
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(l: &Value, out: &mut Save) {
    out.opt(false, "--limit", &rate_text(l.avg));
    if l.burst != 5 {
        out.opt(false, "--limit-burst", &l.burst.to_string());
    }
}

pub fn explain(_: &Value) -> Option<String> {
    Some("within a rate limit".into())
}

pub fn eval(_: &Value, _: &mut Eval) {}

fn rate(text: &str) -> Result<u32, String> {
    // libxt_limit `parse_rate`: the unit may be any prefix of second, minute, hour or day.
    const UNITS: &[(&str, u64)] = &[
        ("second", 1),
        ("minute", 60),
        ("hour", 3_600),
        ("day", 86_400),
    ];
    let (n, unit) = text.split_once('/').unwrap_or((text, "second"));
    let seconds = UNITS
        .iter()
        .find(|(name, _)| !unit.is_empty() && name.starts_with(&unit.to_ascii_lowercase()))
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("`{unit}` is not a rate unit (second, minute, hour, day)"))?;
    let n: u64 = number(n)?;
    let avg = (seconds * LIMIT_SCALE).checked_div(n).unwrap_or(0);
    match u32::try_from(avg) {
        Ok(0) => Err(format!("rate `{text}` is too fast (or zero)")),
        Ok(avg) => Ok(avg),
        Err(_) => Err(format!("rate `{text}` is too slow")),
    }
}

/// libxt_limit `print_rate`: walks the units from days down and stops at the first unit whose
/// period the rate no longer divides well.
fn rate_text(avg: u32) -> String {
    let period = u64::from(avg.max(1));
    let mult = |i: usize| LIMIT_UNITS[i].1 * LIMIT_SCALE;
    let mut i = 1;
    while i < LIMIT_UNITS.len() && !(period > mult(i) || mult(i) / period < mult(i) % period) {
        i += 1;
    }
    format!("{}/{}", mult(i - 1) / period, LIMIT_UNITS[i - 1].0)
}
