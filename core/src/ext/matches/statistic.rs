//! `-m statistic --mode random --probability P | --mode nth --every N --packet K`
//! (libxt_statistic): kube-proxy's load balancing, with the kernel's exact numbers
//! (NETFILTER.md §2.4).

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, no_listed_negation, not, number};
use crate::sim::Assumption;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Statistic {
    /// Matches with probability `p32 / 2^31` (`lround(p · 2^31)`, NETFILTER.md §2.4).
    Random { negated: bool, p32: u32 },
    /// Matches the `packet`-th of every `every` packets reaching the rule.
    Nth {
        negated: bool,
        every: u32,
        packet: u32,
    },
}

impl Statistic {
    /// The kernel's matching probability of a `random` rule, exact.
    pub fn probability(p32: u32) -> f64 {
        f64::from(p32) / 2_147_483_648.0
    }
}

pub type Value = Statistic;
pub const NAME: &str = "statistic";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--mode", "--probability", "--every", "--packet"],
    two: &[],
};

pub fn new() -> Value {
    Statistic::Random {
        negated: false,
        p32: u32::MAX,
    }
}

pub fn apply(s: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--mode" => {
            *s = match arg {
                "random" => Statistic::Random {
                    negated: false,
                    p32: u32::MAX,
                },
                "nth" => Statistic::Nth {
                    negated: false,
                    every: u32::MAX,
                    packet: u32::MAX,
                },
                _ => return Err(format!("--mode is random or nth, not `{arg}`")),
            }
        }
        "--probability" => {
            let Statistic::Random { negated: n, p32 } = s else {
                return Err("--probability goes with --mode random".into());
            };
            let p: f64 = number(arg)?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("probability `{arg}` is not between 0 and 1"));
            }
            // libxt_statistic: lround(0x80000000 * p), rounding half away from zero.
            *p32 = (2_147_483_648.0 * p).round() as u32;
            *n = negated;
        }
        "--every" => {
            let Statistic::Nth {
                negated: n, every, ..
            } = s
            else {
                return Err("--every goes with --mode nth".into());
            };
            let v: u32 = number(arg)?;
            if v == 0 {
                return Err("--every must be at least 1".into());
            }
            *every = v - 1;
            *n = negated;
        }
        _ => {
            let Statistic::Nth { packet, .. } = s else {
                return Err("--packet goes with --mode nth".into());
            };
            *packet = number(arg)?;
        }
    }
    Ok(())
}

pub fn check(s: &Value, c: &Check) -> Result<(), String> {
    match s {
        Statistic::Random { .. } if !c.seen("--mode") => {
            Err("`-m statistic` needs --mode random or --mode nth".into())
        }
        Statistic::Random { .. } => c.need("--probability"),
        Statistic::Nth { every, packet, .. } => {
            c.need("--every")?;
            c.need("--packet")?;
            if packet > every {
                Err(format!(
                    "--packet must be less than --every ({})",
                    u64::from(*every) + 1
                ))
            } else {
                Ok(())
            }
        }
    }
}

pub fn save(s: &Value, out: &mut Save) {
    match s {
        Statistic::Random { negated, p32 } => {
            out.opt(false, "--mode", "random");
            out.opt(
                *negated,
                "--probability",
                &format!("{:.11}", Statistic::probability(*p32)),
            );
        }
        Statistic::Nth {
            negated,
            every,
            packet,
        } => {
            out.opt(false, "--mode", "nth");
            out.opt(*negated, "--every", &(u64::from(*every) + 1).to_string());
            out.opt(false, "--packet", &packet.to_string());
        }
    }
}

pub fn explain(s: &Value) -> Option<String> {
    Some(match s {
        Statistic::Random { negated, p32 } => format!(
            "{}with probability {:.4}% (the kernel's exact P32/2^31 = {:.11})",
            not(*negated),
            Statistic::probability(*p32) * 100.0,
            Statistic::probability(*p32)
        ),
        Statistic::Nth { every, packet, .. } => {
            format!("every {}th connection (offset {packet})", every + 1)
        }
    })
}

pub fn eval(s: &Value, e: &mut Eval) {
    match s {
        Statistic::Random { negated, p32 } => {
            let p = Statistic::probability(*p32);
            e.chance(if *negated { 1.0 - p } else { p });
        }
        Statistic::Nth { negated, every, .. } => {
            // Over many connections, one in `every + 1` reaches the chosen slot.
            let p = 1.0 / (f64::from(*every) + 1.0);
            e.note(Assumption::NthLongRun);
            e.chance(if *negated { 1.0 - p } else { p });
        }
    }
}

/// How `iptables -L` prints it: `statistic mode random probability 0.5`,
/// `statistic mode nth every 3 packet 1`.
pub const LISTED: &[&str] = &["statistic"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    let mut s = new();
    loop {
        let (negated, key) = match l.rest() {
            ["!", key, ..] => (true, *key),
            [key, ..] => (false, *key),
            [] => break,
        };
        if !matches!(key, "mode" | "probability" | "every" | "packet") {
            break;
        }
        if negated {
            l.next();
        }
        l.next();
        let value = l.value("statistic value")?;
        apply(&mut s, &format!("--{key}"), negated, &[value])?;
    }
    Ok(s)
}
