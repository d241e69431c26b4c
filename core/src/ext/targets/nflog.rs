//! `-j NFLOG [--nflog-group N] [--nflog-prefix P] [--nflog-size N] [--nflog-threshold N]`
//! (libxt_NFLOG): a copy to a netlink logger, and the walk goes on.

use serde::Serialize;

use super::bounded;
use crate::ext::{Check, Listed, Options, Save, save_string};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Nflog {
    pub group: u16,
    pub prefix: String,
    pub range: Option<u32>,
    pub size: Option<u32>,
    pub threshold: u16,
}

pub type Value = Nflog;
pub const NAME: &str = "NFLOG";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &[
        "--nflog-group",
        "--nflog-prefix",
        "--nflog-range",
        "--nflog-size",
        "--nflog-threshold",
    ],
    two: &[],
};

pub fn new() -> Value {
    Nflog::default()
}

pub fn apply(n: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--nflog-group" => n.group = bounded(arg, 65535)? as u16,
        // Legacy iptables truncates the prefix to 63 characters.
        "--nflog-prefix" => n.prefix = arg.chars().take(63).collect(),
        "--nflog-range" => n.range = Some(bounded(arg, u64::from(u32::MAX))? as u32),
        "--nflog-size" => n.size = Some(bounded(arg, u64::from(u32::MAX))? as u32),
        _ => n.threshold = bounded(arg, 65535)? as u16,
    }
    Ok(())
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(n: &Value, out: &mut Save, _: bool) {
    if !n.prefix.is_empty() {
        out.opt(false, "--nflog-prefix", &save_string(&n.prefix));
    }
    if n.group != 0 {
        out.opt(false, "--nflog-group", &n.group.to_string());
    }
    if let Some(size) = n.size {
        out.opt(false, "--nflog-size", &size.to_string());
    } else if let Some(range) = n.range.filter(|r| *r != 0) {
        out.opt(false, "--nflog-range", &range.to_string());
    }
    if n.threshold != 0 {
        out.opt(false, "--nflog-threshold", &n.threshold.to_string());
    }
}

pub fn explain(_: &Value) -> String {
    "log it and go on".into()
}

/// How `iptables -L` prints its options: `nflog-prefix "x" nflog-group 5 nflog-threshold 2`.
pub fn lists(word: &str) -> bool {
    matches!(
        word,
        "nflog-group" | "nflog-prefix" | "nflog-range" | "nflog-size" | "nflog-threshold"
    )
}

pub fn listed(n: &mut Value, word: &str, l: &mut Listed) -> Result<(), String> {
    let value = l.value(word)?.trim_matches('"');
    apply(n, &format!("--{word}"), &[value], false)
}
