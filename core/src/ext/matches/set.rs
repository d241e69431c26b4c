//! `-m set [!] --match-set NAME src|dst[,…]` (libxt_set): membership in an ipset, decided when
//! the set is pasted (`ipset list` / `ipset save`), else one undecidable question per lookup.

use serde::Serialize;

use super::{Check, Eval, Listed, Options, Save, not};
use crate::ext::save_raw;
use crate::model::ipset::{Dim, Value as Member};
use crate::model::values::Negatable;
use crate::sim::{Lookup, Undecidable};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetMatch {
    pub name: Negatable<String>,
    /// `src`/`dst` per dimension, as written.
    pub flags: String,
    pub extra: Vec<String>,
}

pub type Value = SetMatch;
pub const NAME: &str = "set";
pub const OPTIONS: Options = Options {
    flags: &[
        "--return-nomatch",
        "--update-counters",
        "--update-subcounters",
    ],
    one: &[
        "--packets-eq",
        "--packets-lt",
        "--packets-gt",
        "--bytes-eq",
        "--bytes-lt",
        "--bytes-gt",
    ],
    two: &["--match-set", "--set"],
};

pub fn new() -> Value {
    SetMatch {
        name: Negatable::new(false, String::new()),
        flags: String::new(),
        extra: Vec::new(),
    }
}

pub fn apply(s: &mut Value, opt: &str, negated: bool, args: &[&str]) -> Result<(), String> {
    match opt {
        "--match-set" | "--set" => {
            s.name = Negatable::new(negated, args.first().copied().unwrap_or("").to_string());
            s.flags = args.get(1).map(|f| f.to_string()).unwrap_or_default();
        }
        _ => {
            if negated {
                s.extra.push("!".into());
            }
            s.extra.push(opt.to_string());
            s.extra.extend(args.iter().map(|a| a.to_string()));
        }
    }
    Ok(())
}

pub fn check(s: &Value, _: &Check) -> Result<(), String> {
    if s.name.value.is_empty() {
        Err("`-m set` needs --match-set NAME FLAGS".into())
    } else {
        Ok(())
    }
}

pub fn save(s: &Value, out: &mut Save) {
    out.opt(
        s.name.negated,
        "--match-set",
        &format!("{} {}", s.name.value, s.flags),
    );
    if !s.extra.is_empty() {
        out.opt(false, &save_raw(&s.extra), "");
    }
}

pub fn explain(s: &Value) -> Option<String> {
    Some(format!("{}in ipset {}", not(s.name.negated), s.name.value))
}

pub fn eval<'r>(s: &'r Value, e: &mut Eval<'_, '_, 'r>) {
    let v = e.view();
    // A set pasted with the rules decides (`ipset list` / `ipset save`).
    if let Some(set) = v.facts.ipsets.iter().find(|x| x.name == s.name.value) {
        let values: Vec<Member> = s
            .flags
            .split(',')
            .zip(&set.dims)
            .map(|(dir, dim)| {
                let src = dir == "src";
                match dim {
                    Dim::Port => Member::Port(v.protocol, if src { v.sport } else { v.dport }),
                    Dim::Iface => Member::Iface(if src { v.in_iface } else { v.out_iface }),
                    _ => Member::Addr(if src { v.src } else { v.dst }),
                }
            })
            .collect();
        if let Some(member) = set.test(&values) {
            e.certain(s.name.negated != member);
            return;
        }
    }
    let mut lookup = [None; 3];
    for (i, dir) in s.flags.split(',').take(3).enumerate() {
        let src = dir == "src";
        // Dimensions alternate address and port in the common types (hash:ip,port,ip,
        // hash:ip,port,net).
        lookup[i] = Some(if i % 2 == 0 {
            Lookup::Address(if src { v.src } else { v.dst })
        } else {
            Lookup::Port(if src { v.sport } else { v.dport })
        });
    }
    let key = Undecidable::Set {
        name: &s.name.value,
        flags: &s.flags,
        lookup,
    };
    e.undecided_negated(key, s.name.negated);
}

/// How `iptables -L` prints it: `match-set KUBE-CLUSTER-IP dst,dst`, `! match-set NAME src`.
pub const LISTED: &[&str] = &["match-set"];

pub fn listed(_: &str, negated: bool, l: &mut Listed) -> Result<Value, String> {
    let name = l.value("set name")?;
    let directions = l.value("set direction")?;
    let mut s = new();
    apply(&mut s, "--match-set", negated, &[name, directions])?;
    Ok(s)
}
