//! `-j DNAT --to-destination [a[-b]][:p[-q][/base]] [--random] [--persistent]`
//! (libxt_DNAT): the connection's destination, decided by its first packet; and the NAT range
//! SNAT shares.

use std::net::IpAddr;

use serde::Serialize;

use crate::ext::{Check, Listed, Options, Save};
use crate::model::values::{port, port_number};

/// A `--to-destination`/`--to-source` range: `[a[-b]][:p[-q][/base]]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Nat {
    pub addrs: Option<(IpAddr, IpAddr)>,
    pub ports: Option<(u16, u16)>,
    /// The shifted-range base of `:1000-2000/3000`.
    pub base: Option<u16>,
    pub random: bool,
    pub random_fully: bool,
    pub persistent: bool,
}

pub type Value = Nat;
pub const NAME: &str = "DNAT";
pub const OPTIONS: Options = Options {
    flags: &["--random", "--random-fully", "--persistent"],
    one: &["--to-destination", "--to"],
    two: &[],
};

pub fn new() -> Value {
    Nat::default()
}

pub fn apply(n: &mut Value, opt: &str, args: &[&str], _: bool) -> Result<(), String> {
    apply_range(n, opt, args.first().copied().unwrap_or(""))
}

pub fn check(n: &Value, c: &Check) -> Result<(), String> {
    if n.addrs.is_none() && n.ports.is_none() {
        Err("DNAT needs --to-destination".into())
    } else {
        check_ports(n, c)
    }
}

pub fn save(n: &Value, out: &mut Save, _: bool) {
    save_range(n, "--to-destination", out);
}

pub fn explain(n: &Value) -> String {
    let to = n.addrs.map_or(String::new(), |(ip, _)| match n.ports {
        Some((p, _)) => format!(" to {}", std::net::SocketAddr::new(ip, p)),
        None => format!(" to {ip}"),
    });
    format!("rewrite the destination (DNAT) for the whole connection{to}")
}

/// One option of DNAT or SNAT: a flag, or the one range allowed.
pub(super) fn apply_range(n: &mut Nat, opt: &str, arg: &str) -> Result<(), String> {
    match opt {
        "--random" => n.random = true,
        "--random-fully" => n.random_fully = true,
        "--persistent" => n.persistent = true,
        _ => {
            if n.addrs.is_some() || n.ports.is_some() {
                return Err("only one --to-destination/--to-source range is allowed".into());
            }
            *n = Nat {
                random: n.random,
                random_fully: n.random_fully,
                persistent: n.persistent,
                ..nat_range(arg)?
            };
        }
    }
    Ok(())
}

/// A port in the range needs a protocol with ports.
pub(super) fn check_ports(n: &Nat, c: &Check) -> Result<(), String> {
    if n.ports.is_some() && !matches!(c.ctx.protocol, Some(6 | 17 | 132 | 33 | 136)) {
        Err("a port in the NAT range needs -p tcp, udp, sctp or dccp".into())
    } else {
        Ok(())
    }
}

pub(super) fn save_range(n: &Nat, opt: &str, out: &mut Save) {
    out.opt(false, opt, &nat_text(n));
    for (on, flag) in [
        (n.random, "--random"),
        (n.random_fully, "--random-fully"),
        (n.persistent, "--persistent"),
    ] {
        if on {
            out.opt(false, flag, "");
        }
    }
}

/// Parses `[a[-b]][:p[-q][/base]]`, with IPv6 addresses in brackets when a port follows.
fn nat_range(arg: &str) -> Result<Nat, String> {
    let (addr_part, port_part) = if let Some(rest) = arg.strip_prefix('[') {
        let (a, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{arg}`: missing `]`"))?;
        (a, tail.strip_prefix(':'))
    } else if arg.matches(':').count() > 1 {
        (arg, None)
    } else {
        match arg.split_once(':') {
            Some((a, p)) => (a, Some(p)),
            None => (arg, None),
        }
    };
    let mut nat = Nat::default();
    if !addr_part.is_empty() {
        let ip = |s: &str| {
            s.parse::<IpAddr>()
                .map_err(|_| format!("`{s}` is not an IP address"))
        };
        nat.addrs = Some(match addr_part.split_once('-') {
            Some((a, b)) => (ip(a)?, ip(b)?),
            None => (ip(addr_part)?, ip(addr_part)?),
        });
    }
    if let Some(p) = port_part {
        let (range, base) = match p.split_once('/') {
            Some((r, b)) => (r, Some(b)),
            None => (p, None),
        };
        let (a, b) = match (port(range), range.split_once('-')) {
            (Ok(p), _) => (p, p),
            // The ends of a range are numbers (`echo-ssh` is refused).
            (Err(_), Some((a, b))) => (port_number(a)?, port_number(b)?),
            (Err(e), None) => return Err(e),
        };
        if a > b {
            return Err(format!("port range `{range}` runs backwards"));
        }
        nat.ports = Some((a, b));
        if let Some(base) = base {
            let base = port(base)?;
            if base == 0 {
                return Err("the base port of a shifted range must be at least 1".into());
            }
            nat.base = Some(base);
        }
    }
    Ok(nat)
}

fn nat_text(n: &Nat) -> String {
    let mut out = String::new();
    let v6 = matches!(n.addrs, Some((IpAddr::V6(_), _)));
    if let Some((a, b)) = n.addrs {
        let addrs = if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        };
        if v6 && n.ports.is_some() {
            out.push_str(&format!("[{addrs}]"));
        } else {
            out.push_str(&addrs);
        }
    }
    if let Some((a, b)) = n.ports {
        out.push(':');
        out.push_str(&if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        });
        if let Some(base) = n.base {
            out.push_str(&format!("/{base}"));
        }
    }
    out
}

/// How `iptables -L` prints it: `to:10.244.0.5:8080 random persistent`.
pub fn lists(word: &str) -> bool {
    word.starts_with("to:") || matches!(word, "random" | "random-fully" | "persistent")
}

pub fn listed(n: &mut Value, word: &str, _: &mut Listed) -> Result<(), String> {
    listed_range(n, "--to-destination", word)
}

/// One word of a DNAT's or SNAT's listing: `to:RANGE` (for `opt`) or a flag.
pub(super) fn listed_range(n: &mut Nat, opt: &str, word: &str) -> Result<(), String> {
    match word.strip_prefix("to:") {
        Some(range) => apply_range(n, opt, range),
        None => {
            match word {
                "random" => n.random = true,
                "random-fully" => n.random_fully = true,
                _ => n.persistent = true,
            }
            Ok(())
        }
    }
}
