//! `-j LOG [--log-prefix P] [--log-level L] [--log-tcp-sequence …]` (libxt_LOG): a kernel log
//! line, and the walk goes on.

use serde::Serialize;

use crate::ext::{Check, Options, Save, save_string};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Log {
    pub prefix: String,
    pub level: u8,
    /// `--log-tcp-sequence`, `--log-tcp-options`, `--log-ip-options`, `--log-uid`,
    /// `--log-macdecode`, as bits in that order.
    pub flags: u8,
}

const LOG_FLAGS: &[&str] = &[
    "--log-tcp-sequence",
    "--log-tcp-options",
    "--log-ip-options",
    "--log-uid",
    "--log-macdecode",
];
const LOG_LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
];
const DEFAULT_LOG_LEVEL: u8 = 4;

pub type Value = Log;
pub const NAME: &str = "LOG";
pub const OPTIONS: Options = Options {
    flags: LOG_FLAGS,
    one: &["--log-prefix", "--log-level"],
    two: &[],
};

pub fn new() -> Value {
    Log {
        level: DEFAULT_LOG_LEVEL,
        ..Log::default()
    }
}

pub fn apply(l: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--log-prefix" => {
            if arg.is_empty() {
                return Err("--log-prefix needs a non-empty prefix".into());
            }
            if arg.len() > 29 {
                return Err("--log-prefix may be at most 29 characters".into());
            }
            l.prefix = arg.to_string();
        }
        "--log-level" => l.level = log_level(arg)?,
        flag => {
            if let Some(i) = LOG_FLAGS.iter().position(|f| *f == flag) {
                l.flags |= 1 << i;
            }
        }
    }
    Ok(())
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(l: &Value, out: &mut Save, _: bool) {
    if !l.prefix.is_empty() {
        out.opt(false, "--log-prefix", &save_string(&l.prefix));
    }
    if l.level != DEFAULT_LOG_LEVEL {
        out.opt(false, "--log-level", &l.level.to_string());
    }
    for (i, flag) in LOG_FLAGS.iter().enumerate() {
        if l.flags & (1 << i) != 0 {
            out.opt(false, flag, "");
        }
    }
}

pub fn explain(_: &Value) -> String {
    "log it and go on".into()
}

fn log_level(arg: &str) -> Result<u8, String> {
    if let Ok(n) = arg.parse::<u8>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("log level {n} is above 7"))
        };
    }
    let lower = arg.to_ascii_lowercase();
    let lower = match lower.as_str() {
        "err" => "error",
        "warn" => "warning",
        "panic" => "emerg",
        other => other,
    };
    LOG_LEVELS
        .iter()
        .position(|l| *l == lower)
        .map(|i| i as u8)
        .ok_or_else(|| format!("`{arg}` is not a log level"))
}
