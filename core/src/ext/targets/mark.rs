//! `-j MARK --set-xmark|--set-mark|--and-mark|--or-mark|--xor-mark` (libxt_MARK): every form
//! normalised to `mark = (mark & !mask) ^ value`.

use serde::Serialize;

use crate::ext::{Check, Listed, Options, Save, hex};
use crate::model::values::{u32_value, value_mask};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Xmark {
    pub value: u32,
    pub mask: u32,
}

pub type Value = Xmark;
pub const NAME: &str = "MARK";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: MARK_OPS,
    two: &[],
};

/// The options of MARK (and CONNMARK) that set the mark; one of them is required.
pub(super) const MARK_OPS: &[&str] = &[
    "--set-xmark",
    "--set-mark",
    "--and-mark",
    "--or-mark",
    "--xor-mark",
];

pub fn new() -> Value {
    Xmark::default()
}

pub fn apply(m: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    (m.value, m.mask) = mark_op(opt, args.first().copied().unwrap_or(""))?;
    Ok(())
}

pub fn check(_: &Value, c: &Check) -> Result<(), String> {
    if MARK_OPS.iter().any(|o| c.seen(o)) {
        Ok(())
    } else {
        Err("MARK needs --set-xmark, --set-mark, --and-mark, --or-mark or --xor-mark".into())
    }
}

pub fn save(m: &Value, out: &mut Save, _: bool) {
    out.opt(
        false,
        "--set-xmark",
        &format!("{}/{}", hex(m.value), hex(m.mask)),
    );
}

pub fn explain(m: &Value) -> String {
    format!("set the mark: (mark & ~{:#x}) ^ {:#x}", m.mask, m.value)
}

/// libxt_MARK `mark_tg_parse`: every form as (value, mask) for `--set-xmark`.
pub(super) fn mark_op(opt: &str, arg: &str) -> Result<(u32, u32), String> {
    match opt {
        "--set-xmark" => value_mask(arg, u32::MAX),
        "--set-mark" => value_mask(arg, u32::MAX).map(|(v, m)| (v, v | m)),
        "--and-mark" => u32_value(arg).map(|v| (0, !v)),
        "--or-mark" => u32_value(arg).map(|v| (v, v)),
        _ => u32_value(arg).map(|v| (v, 0)),
    }
}

/// How `iptables -L` prints it: `MARK or 0x4000`, `MARK xset 0x4000/0x4000`, `MARK and 0xffff7fff`.
pub fn lists(word: &str) -> bool {
    word == "MARK"
}

pub fn listed(m: &mut Value, _: &str, l: &mut Listed) -> Result<(), String> {
    let opt = listed_op(l.value("MARK operation")?)?;
    apply(m, opt, &[l.value("MARK value")?], false)
}

/// The option a listing's MARK/CONNMARK operation word stands for.
pub(super) fn listed_op(op: &str) -> Result<&'static str, String> {
    Ok(match op {
        "or" => "--or-mark",
        "and" => "--and-mark",
        "xor" => "--xor-mark",
        "set" => "--set-mark",
        "xset" => "--set-xmark",
        _ => return Err(format!("MARK {op} is not a MARK operation")),
    })
}
