//! `-j MASQUERADE [--to-ports p[-q]] [--random] [--random-fully]` (libxt_MASQUERADE): SNAT to
//! the outgoing interface's address; and the port range REDIRECT shares.

use serde::Serialize;

use crate::ext::{Check, Listed, Options, Save};
use crate::model::values::port;

/// MASQUERADE and REDIRECT: `--to-ports p[-q]` and the randomness flags.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PortsNat {
    pub ports: Option<(u16, u16)>,
    pub random: bool,
    pub random_fully: bool,
}

pub type Value = PortsNat;
pub const NAME: &str = "MASQUERADE";
pub const OPTIONS: Options = Options {
    flags: &["--random", "--random-fully"],
    one: &["--to-ports"],
    two: &[],
};

pub fn new() -> Value {
    PortsNat::default()
}

pub fn apply(p: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    match opt {
        "--random" => p.random = true,
        "--random-fully" => p.random_fully = true,
        _ => p.ports = Some(port_range_dash(args.first().copied().unwrap_or(""))?),
    }
    Ok(())
}

pub fn check(p: &Value, c: &Check) -> Result<(), String> {
    if p.ports.is_some() && !matches!(c.ctx.protocol, Some(6 | 17 | 132 | 33 | 136)) {
        Err("--to-ports needs -p tcp, udp, sctp or dccp".into())
    } else {
        Ok(())
    }
}

pub fn save(p: &Value, out: &mut Save, _: bool) {
    if let Some((a, b)) = p.ports {
        let text = if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        };
        out.opt(false, "--to-ports", &text);
    }
    if p.random {
        out.opt(false, "--random", "");
    }
    if p.random_fully {
        out.opt(false, "--random-fully", "");
    }
}

pub fn explain(_: &Value) -> String {
    "rewrite the source to the outgoing interface's address (MASQUERADE)".into()
}

/// `p` or `p-q` with service names allowed only for a single port (as libxt_REDIRECT does).
fn port_range_dash(arg: &str) -> Result<(u16, u16), String> {
    if arg.contains('/') {
        return Err(format!("`{arg}`: a shifted range is not allowed here"));
    }
    // A service name may itself contain `-` (`ftp-data`).
    if let Ok(p) = port(arg) {
        return Ok((p, p));
    }
    match arg.split_once('-') {
        None => port(arg).map(|p| (p, p)),
        Some((a, b)) => {
            let num = |s: &str| {
                s.parse::<u16>()
                    .map_err(|_| format!("`{s}` is not a port number (0 to 65535)"))
            };
            let (a, b) = (num(a)?, num(b)?);
            if a > b {
                Err(format!("port range `{arg}` runs backwards"))
            } else {
                Ok((a, b))
            }
        }
    }
}

/// How `iptables -L` prints it: `masq ports: 1024-65535 random-fully`; REDIRECT's `redir ports
/// 36463`.
pub fn lists(word: &str) -> bool {
    matches!(word, "masq" | "redir" | "random" | "random-fully")
}

pub fn listed(p: &mut Value, word: &str, l: &mut Listed) -> Result<(), String> {
    match word {
        "masq" | "redir" => {
            let _ = l.skip("ports:") || l.skip("ports");
            apply(p, "--to-ports", &[l.value("ports")?], false)
        }
        flag => apply(p, &format!("--{flag}"), &[], false),
    }
}
