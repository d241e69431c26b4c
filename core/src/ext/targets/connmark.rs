//! `-j CONNMARK --set-xmark|--save-mark|--restore-mark [--nfmask M --ctmask M]`
//! (libxt_CONNMARK): the connection's mark, set or copied to and from the packet's.

use serde::Serialize;

use super::mark::{MARK_OPS, listed_op, mark_op};
use crate::ext::{Check, Listed, Options, Save, hex};
use crate::model::values::u32_value;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Connmark {
    SetXmark { value: u32, mask: u32 },
    Save { nfmask: u32, ctmask: u32 },
    Restore { nfmask: u32, ctmask: u32 },
}

pub type Value = Connmark;
pub const NAME: &str = "CONNMARK";
pub const OPTIONS: Options = Options {
    flags: &["--save-mark", "--restore-mark"],
    one: &[
        "--set-xmark",
        "--set-mark",
        "--and-mark",
        "--or-mark",
        "--xor-mark",
        "--nfmask",
        "--ctmask",
        "--mask",
    ],
    two: &[],
};

pub fn new() -> Value {
    Connmark::SetXmark { value: 0, mask: 0 }
}

pub fn apply(c: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--save-mark" => {
            *c = Connmark::Save {
                nfmask: u32::MAX,
                ctmask: u32::MAX,
            }
        }
        "--restore-mark" => {
            *c = Connmark::Restore {
                nfmask: u32::MAX,
                ctmask: u32::MAX,
            }
        }
        "--nfmask" | "--ctmask" | "--mask" => {
            let m = u32_value(arg)?;
            match c {
                Connmark::Save { nfmask, ctmask } | Connmark::Restore { nfmask, ctmask } => {
                    match opt {
                        "--nfmask" => *nfmask = m,
                        "--ctmask" => *ctmask = m,
                        _ => (*nfmask, *ctmask) = (m, m),
                    }
                }
                Connmark::SetXmark { .. } => {
                    return Err(format!("{opt} goes with --save-mark or --restore-mark"));
                }
            }
        }
        _ => {
            let (value, mask) = mark_op(opt, arg)?;
            *c = Connmark::SetXmark { value, mask };
        }
    }
    Ok(())
}

pub fn check(c: &Value, ck: &Check) -> Result<(), String> {
    match c {
        Connmark::SetXmark { .. } if !MARK_OPS.iter().any(|o| ck.seen(o)) => {
            Err("CONNMARK needs --set-xmark, --save-mark or --restore-mark".into())
        }
        _ => Ok(()),
    }
}

pub fn save(c: &Value, out: &mut Save, _: bool) {
    match c {
        Connmark::SetXmark { value, mask } => out.opt(
            false,
            "--set-xmark",
            &format!("{}/{}", hex(*value), hex(*mask)),
        ),
        Connmark::Save { nfmask, ctmask } => {
            out.opt(false, "--save-mark", "");
            out.opt(false, "--nfmask", &hex(*nfmask));
            out.opt(false, "--ctmask", &hex(*ctmask));
        }
        Connmark::Restore { nfmask, ctmask } => {
            out.opt(false, "--restore-mark", "");
            out.opt(false, "--nfmask", &hex(*nfmask));
            out.opt(false, "--ctmask", &hex(*ctmask));
        }
    }
}

pub fn explain(c: &Value) -> String {
    match c {
        Connmark::SetXmark { value, mask } => {
            format!("set the connection's mark: (ctmark & ~{mask:#x}) ^ {value:#x}, and go on")
        }
        Connmark::Save { nfmask, ctmask } => format!(
            "save the packet's mark into the connection's (ctmark & ~{ctmask:#x}) ^ (mark & {nfmask:#x}), and go on"
        ),
        Connmark::Restore { nfmask, ctmask } => format!(
            "restore the packet's mark from the connection's: (mark & ~{nfmask:#x}) ^ (ctmark & {ctmask:#x}), and go on"
        ),
    }
}

/// How `iptables -L` prints it: `CONNMARK xset 0x1/0xff`, `CONNMARK save`, `CONNMARK restore
/// mask 0xff`.
pub fn lists(word: &str) -> bool {
    word == "CONNMARK"
}

pub fn listed(c: &mut Value, _: &str, l: &mut Listed) -> Result<(), String> {
    match l.value("CONNMARK operation")? {
        op @ ("save" | "restore") => {
            apply(c, &format!("--{op}-mark"), &[], false)?;
            while let Some(opt @ ("mask" | "nfmask" | "ctmask")) = l.peek() {
                l.next();
                let mask = l.value(opt)?.trim_start_matches('~');
                apply(c, &format!("--{opt}"), &[mask], false)?;
            }
            Ok(())
        }
        op => apply(c, listed_op(op)?, &[l.value("CONNMARK value")?], false),
    }
}
