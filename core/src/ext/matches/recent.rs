//! `-m recent` (libxt_recent): lists of addresses seen, as kube-proxy's `sessionAffinity:
//! ClientIP` uses them (NETFILTER.md §2.5).

use std::net::IpAddr;

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, no_listed_negation, not, number};
use crate::ext::save_word;
use crate::model::values::Negatable;
use crate::sim::Undecidable;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RecentCommand {
    Set,
    Rcheck,
    Update,
    Remove,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recent {
    pub command: Negatable<RecentCommand>,
    pub seconds: Option<u32>,
    pub reap: bool,
    pub hitcount: Option<u32>,
    pub rttl: bool,
    pub name: String,
    pub mask: IpAddr,
    /// `--rdest` instead of the default `--rsource`.
    pub rdest: bool,
}

pub type Value = Recent;
pub const NAME: &str = "recent";
pub const OPTIONS: Options = Options {
    flags: &[
        "--set",
        "--rcheck",
        "--update",
        "--remove",
        "--reap",
        "--rttl",
        "--rsource",
        "--rdest",
    ],
    one: &["--seconds", "--hitcount", "--name", "--mask"],
    two: &[],
};

pub fn new() -> Value {
    Recent {
        command: Negatable::new(false, RecentCommand::Set),
        seconds: None,
        reap: false,
        hitcount: None,
        rttl: false,
        name: String::new(),
        mask: [255, 255, 255, 255].into(),
        rdest: false,
    }
}

pub fn apply(r: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    let arg = args.first().copied().unwrap_or("");
    match opt {
        "--set" | "--rcheck" | "--update" | "--remove" => {
            let command = match opt {
                "--set" => RecentCommand::Set,
                "--rcheck" => RecentCommand::Rcheck,
                "--update" => RecentCommand::Update,
                _ => RecentCommand::Remove,
            };
            r.command = Negatable::new(negated, command);
        }
        "--seconds" => r.seconds = Some(number(arg)?),
        "--hitcount" => {
            let h: u32 = number(arg)?;
            if h > 65535 {
                return Err("--hitcount may be at most 65535".into());
            }
            r.hitcount = Some(h);
        }
        "--reap" => r.reap = true,
        "--rttl" => r.rttl = true,
        "--name" => r.name = arg.to_string(),
        "--mask" => {
            r.mask = arg
                .parse()
                .map_err(|_| format!("--mask: `{arg}` is not an address mask"))?
        }
        "--rdest" => r.rdest = true,
        _ => r.rdest = false,
    }
    Ok(())
}

pub fn check(r: &Value, _: &Check) -> Result<(), String> {
    if r.rttl
        && r.command.value != RecentCommand::Rcheck
        && r.command.value != RecentCommand::Update
    {
        Err("--rttl only goes with --rcheck or --update".into())
    } else if r.reap && r.seconds.is_none() {
        Err("--reap needs --seconds".into())
    } else {
        Ok(())
    }
}

pub fn save(r: &Value, out: &mut Save) {
    let command = match r.command.value {
        RecentCommand::Set => "--set",
        RecentCommand::Rcheck => "--rcheck",
        RecentCommand::Update => "--update",
        RecentCommand::Remove => "--remove",
    };
    out.opt(r.command.negated, command, "");
    if let Some(s) = r.seconds {
        out.opt(false, "--seconds", &s.to_string());
    }
    if r.reap {
        out.opt(false, "--reap", "");
    }
    if let Some(h) = r.hitcount {
        out.opt(false, "--hitcount", &h.to_string());
    }
    if r.rttl {
        out.opt(false, "--rttl", "");
    }
    let name = if r.name.is_empty() {
        "DEFAULT"
    } else {
        &r.name
    };
    out.opt(false, "--name", &save_word(name));
    out.opt(false, "--mask", &r.mask.to_string());
    out.opt(false, if r.rdest { "--rdest" } else { "--rsource" }, "");
}

pub fn explain(r: &Value) -> Option<String> {
    let side = if r.rdest { "destination" } else { "source" };
    Some(match r.command.value {
        RecentCommand::Set => format!("(recording the {side} in recent list {})", r.name),
        RecentCommand::Remove => format!("removing the address from recent list {}", r.name),
        RecentCommand::Rcheck | RecentCommand::Update => format!(
            "{}whose {side} is in recent list {}{}",
            not(r.command.negated),
            r.name,
            r.seconds
                .map_or(String::new(), |s| format!(" (seen in the last {s} s)"))
        ),
    })
}

pub fn eval<'r>(r: &'r Value, e: &mut Eval<'_, '_, 'r>) {
    let v = e.view();
    let key = key(r, if r.rdest { v.dst } else { v.src });
    if r.command.value == RecentCommand::Set {
        e.recent_set((r.name.as_str(), key));
    }
    let name = r.name.as_str();
    let listed = v.facts.recent.iter().any(|(l, a)| l == name && *a == key)
        || v.recent.iter().any(|(l, a)| *l == name && *a == key);
    let hit = match r.command.value {
        RecentCommand::Set => true,
        RecentCommand::Remove | RecentCommand::Rcheck | RecentCommand::Update => listed,
    };
    if listed && r.hitcount.is_some() {
        e.undecided_negated(Undecidable::RecentHitcount(name), r.command.negated);
    } else {
        e.certain(r.command.negated != hit);
    }
}

/// The address the list files the packet under: its source (or destination with `--rdest`)
/// under `--mask`.
fn key(r: &Recent, ip: IpAddr) -> IpAddr {
    if ip.is_ipv4() == r.mask.is_ipv4() {
        crate::model::values::apply_mask(ip, r.mask)
    } else {
        ip
    }
}

/// How `iptables -L` prints it: `recent: CHECK seconds: 10800 reap name: KUBE-SEP-… side:
/// source mask: 255.255.255.255`.
pub const LISTED: &[&str] = &["recent:"];

pub fn listed(word: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    no_listed_negation(negated, word)?;
    let mut r = new();
    while let Some(w) = l.peek() {
        match w {
            "!" => r.command.negated = true,
            "SET" => r.command.value = RecentCommand::Set,
            "CHECK" => r.command.value = RecentCommand::Rcheck,
            "UPDATE" => r.command.value = RecentCommand::Update,
            "REMOVE" => r.command.value = RecentCommand::Remove,
            "reap" => r.reap = true,
            "TTL-Match" => r.rttl = true,
            "seconds:" | "hit_count:" | "name:" | "side:" | "mask:" => {
                l.next();
                let value = l.value(w)?;
                match w {
                    "seconds:" => r.seconds = Some(number(value)?),
                    "hit_count:" => r.hitcount = Some(number(value)?),
                    "name:" => r.name = value.to_string(),
                    "side:" => r.rdest = value == "dest",
                    _ => r.mask = number(value)?,
                }
                continue;
            }
            _ => break,
        }
        l.next();
    }
    Ok(r)
}
