//! `-j REJECT [--reject-with TYPE]` (libxt_REJECT / libip6t_REJECT): drop and answer.

use crate::ext::{Check, Listed, Options, Save};

/// The `--reject-with` type by its full name; empty for the family's default.
pub type Value = String;
pub const NAME: &str = "REJECT";
pub const OPTIONS: Options = Options {
    flags: &[],
    one: &["--reject-with"],
    two: &[],
};

pub fn new() -> Value {
    String::new()
}

pub fn apply(with: &mut Value, _: &str, args: &[&str], v6: bool) -> Result<(), String> {
    *with = reject_with(args.first().copied().unwrap_or(""), v6)?;
    Ok(())
}

pub fn check(_: &Value, _: &Check) -> Result<(), String> {
    Ok(())
}

pub fn save(with: &Value, out: &mut Save, v6: bool) {
    let default = if v6 {
        "icmp6-port-unreachable"
    } else {
        "icmp-port-unreachable"
    };
    out.opt(
        false,
        "--reject-with",
        if with.is_empty() { default } else { with },
    );
}

pub fn explain(with: &Value) -> String {
    format!(
        "reject ({})",
        if with.is_empty() {
            "icmp-port-unreachable"
        } else {
            with
        }
    )
}

fn reject_with(arg: &str, v6: bool) -> Result<String, String> {
    const V4: &[(&str, &str)] = &[
        ("icmp-net-unreachable", "net-unreach"),
        ("icmp-host-unreachable", "host-unreach"),
        ("icmp-port-unreachable", "port-unreach"),
        ("icmp-proto-unreachable", "proto-unreach"),
        ("icmp-net-prohibited", "net-prohib"),
        ("icmp-host-prohibited", "host-prohib"),
        ("icmp-admin-prohibited", "admin-prohib"),
        ("tcp-reset", "tcp-rst"),
    ];
    const V6: &[(&str, &str)] = &[
        ("icmp6-no-route", "no-route"),
        ("icmp6-adm-prohibited", "adm-prohibited"),
        ("icmp6-addr-unreachable", "addr-unreach"),
        ("icmp6-port-unreachable", "port-unreach"),
        ("icmp6-policy-fail", "policy-fail"),
        ("icmp6-reject-route", "reject-route"),
        ("tcp-reset", "tcp-rst"),
    ];
    // Aliases such as `port-unreach` exist in both families; the rule's family decides those.
    let (own, other) = if v6 { (V6, V4) } else { (V4, V6) };
    own.iter()
        .chain(other)
        .find(|(name, alias)| *name == arg || *alias == arg)
        .map(|(name, _)| (*name).to_string())
        .ok_or_else(|| format!("`{arg}` is not a --reject-with type"))
}

/// How `iptables -L` prints it: `reject-with icmp-port-unreachable`.
pub fn lists(word: &str) -> bool {
    word == "reject-with"
}

pub fn listed(with: &mut Value, _: &str, l: &mut Listed) -> Result<(), String> {
    apply(with, "--reject-with", &[l.value("reject type")?], false)
}
