//! `-j TCPMSS --set-mss N | --clamp-mss-to-pmtu` (libxt_TCPMSS): rewrites the MSS option of
//! SYNs; the walk goes on.

use super::bounded;
use crate::ext::{Check, Options, Save};

/// `Some(mss)` for `--set-mss`, `None` for `--clamp-mss-to-pmtu`.
pub type Value = Option<u16>;
pub const NAME: &str = "TCPMSS";
pub const OPTIONS: Options = Options {
    flags: &["--clamp-mss-to-pmtu"],
    one: &["--set-mss"],
    two: &[],
};

pub fn new() -> Value {
    None
}

pub fn apply(m: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    match opt {
        "--set-mss" => *m = Some(bounded(args.first().copied().unwrap_or(""), 65535)? as u16),
        _ => *m = None,
    }
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    if c.seen("--set-mss") || c.seen("--clamp-mss-to-pmtu") {
        Ok(())
    } else {
        Err("TCPMSS needs --set-mss or --clamp-mss-to-pmtu".into())
    }
}

pub fn save(m: &Value, out: &mut Save, _: bool) {
    match m {
        Some(mss) => out.opt(false, "--set-mss", &mss.to_string()),
        None => out.opt(false, "--clamp-mss-to-pmtu", ""),
    }
}

pub fn explain(m: &Value) -> String {
    match m {
        Some(mss) => format!("set the TCP MSS of SYNs to {mss}, and go on"),
        None => "clamp the TCP MSS of SYNs to the path MTU, and go on".into(),
    }
}
