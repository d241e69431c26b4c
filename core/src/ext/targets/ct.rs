//! `-j CT [--notrack] [--helper H] [--timeout T] [--ctevents E] [--zone N]` (libxt_CT, raw
//! table): how conntrack treats the connection.

use serde::Serialize;

use super::bounded;
use crate::ext::{Check, Options, Save, save_word};

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ct {
    pub notrack: bool,
    pub helper: Option<String>,
    pub timeout: Option<String>,
    pub ctevents: Option<String>,
    pub expevents: Option<String>,
    pub zone: Option<u16>,
}

pub type Value = Ct;
pub const NAME: &str = "CT";
pub const OPTIONS: Options = Options {
    flags: &["--notrack"],
    one: &[
        "--helper",
        "--timeout",
        "--ctevents",
        "--expevents",
        "--zone",
        "--zone-orig",
        "--zone-reply",
    ],
    two: &[],
};

pub fn new() -> Value {
    Ct::default()
}

pub fn apply(c: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--notrack" => c.notrack = true,
        "--helper" => c.helper = Some(arg.to_string()),
        "--timeout" => c.timeout = Some(arg.to_string()),
        "--ctevents" => c.ctevents = Some(arg.to_string()),
        "--expevents" => c.expevents = Some(arg.to_string()),
        _ => c.zone = Some(bounded(arg, 65535)? as u16),
    }
    Ok(())
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(c: &Value, out: &mut Save, _: bool) {
    if c.notrack {
        out.opt(false, "--notrack", "");
    }
    for (opt, v) in [
        ("--helper", &c.helper),
        ("--timeout", &c.timeout),
        ("--ctevents", &c.ctevents),
        ("--expevents", &c.expevents),
    ] {
        if let Some(v) = v {
            out.opt(false, opt, &save_word(v));
        }
    }
    if let Some(z) = c.zone {
        out.opt(false, "--zone", &z.to_string());
    }
}

pub fn explain(c: &Value) -> String {
    if c.notrack {
        "exempt the packet from connection tracking, and go on".into()
    } else {
        "set how conntrack treats the connection (CT), and go on".into()
    }
}
