//! `-j` targets: verdicts, chains, REJECT, MARK, CONNMARK, DNAT, SNAT, MASQUERADE, REDIRECT,
//! LOG, NFLOG, CT, NOTRACK, TPROXY, CHECKSUM, TCPMSS; everything else as `Unknown`.

use std::net::IpAddr;

use serde::Serialize;

use super::{RuleContext, hex, save_raw, save_string, save_word};
use crate::model::values::{port, port_number, u32_value, value_mask};

/// What a target does, with its options.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Action {
    Accept,
    Drop,
    Return,
    Queue,
    /// A jump (or goto) to the chain named by the target.
    Chain,
    Reject(String),
    /// `mark = (mark & !mask) ^ value`: every MARK form, normalised to `--set-xmark`.
    Mark {
        value: u32,
        mask: u32,
    },
    Connmark(Connmark),
    Dnat(Nat),
    Snat(Nat),
    Masquerade(PortsNat),
    Redirect(PortsNat),
    Log(Log),
    Nflog(Nflog),
    Ct(Ct),
    Notrack,
    Tproxy {
        port: u16,
        ip: IpAddr,
        mark: u32,
        mask: u32,
    },
    Checksum,
    /// `Some(mss)` for `--set-mss`, `None` for `--clamp-mss-to-pmtu`.
    Tcpmss(Option<u16>),
    Unknown(Vec<String>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Connmark {
    SetXmark { value: u32, mask: u32 },
    Save { nfmask: u32, ctmask: u32 },
    Restore { nfmask: u32, ctmask: u32 },
}

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

/// MASQUERADE and REDIRECT: `--to-ports p[-q]` and the randomness flags.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PortsNat {
    pub ports: Option<(u16, u16)>,
    pub random: bool,
    pub random_fully: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Log {
    pub prefix: String,
    pub level: u8,
    /// `--log-tcp-sequence`, `--log-tcp-options`, `--log-ip-options`, `--log-uid`,
    /// `--log-macdecode`, as bits in that order.
    pub flags: u8,
}

/// The options of MARK (and CONNMARK) that set the mark; one of them is required.
const MARK_OPS: &[&str] = &[
    "--set-xmark",
    "--set-mark",
    "--and-mark",
    "--or-mark",
    "--xor-mark",
];

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

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Nflog {
    pub group: u16,
    pub prefix: String,
    pub range: Option<u32>,
    pub size: Option<u32>,
    pub threshold: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ct {
    pub notrack: bool,
    pub helper: Option<String>,
    pub timeout: Option<String>,
    pub ctevents: Option<String>,
    pub expevents: Option<String>,
    pub zone: Option<u16>,
}

impl Action {
    /// A fresh action for `-j name`, before its options. `chain` says the table has a chain of
    /// that name, which then wins over an extension of the same name, as in iptables.
    pub fn load(name: &str, chain: bool) -> Action {
        if chain {
            return Action::Chain;
        }
        match name {
            "ACCEPT" => Action::Accept,
            "DROP" => Action::Drop,
            "RETURN" => Action::Return,
            "QUEUE" => Action::Queue,
            "REJECT" => Action::Reject(String::new()),
            "MARK" => Action::Mark { value: 0, mask: 0 },
            "CONNMARK" => Action::Connmark(Connmark::SetXmark { value: 0, mask: 0 }),
            "DNAT" => Action::Dnat(Nat::default()),
            "SNAT" => Action::Snat(Nat::default()),
            "MASQUERADE" => Action::Masquerade(PortsNat::default()),
            "REDIRECT" => Action::Redirect(PortsNat::default()),
            "LOG" => Action::Log(Log {
                level: DEFAULT_LOG_LEVEL,
                ..Log::default()
            }),
            "NFLOG" => Action::Nflog(Nflog::default()),
            "CT" => Action::Ct(Ct::default()),
            "NOTRACK" => Action::Notrack,
            "TPROXY" => Action::Tproxy {
                port: 0,
                ip: IpAddr::from([0, 0, 0, 0]),
                mark: 0,
                mask: 0,
            },
            "CHECKSUM" => Action::Checksum,
            "TCPMSS" => Action::Tcpmss(None),
            _ if crate::model::EXTENSION_TARGETS.contains(&name) => Action::Unknown(Vec::new()),
            _ => Action::Chain,
        }
    }

    /// How many arguments option `opt` takes for this target, or `None` if it is not one of
    /// its options.
    pub fn arity(&self, opt: &str) -> Option<usize> {
        let (flags, one): (&[&str], &[&str]) = match self {
            Action::Reject(_) => (&[], &["--reject-with"]),
            Action::Mark { .. } => (
                &[],
                &[
                    "--set-xmark",
                    "--set-mark",
                    "--and-mark",
                    "--or-mark",
                    "--xor-mark",
                ],
            ),
            Action::Connmark(_) => (
                &["--save-mark", "--restore-mark"],
                &[
                    "--set-xmark",
                    "--set-mark",
                    "--and-mark",
                    "--or-mark",
                    "--xor-mark",
                    "--nfmask",
                    "--ctmask",
                    "--mask",
                ],
            ),
            Action::Dnat(_) => (
                &["--random", "--random-fully", "--persistent"],
                &["--to-destination", "--to"],
            ),
            Action::Snat(_) => (
                &["--random", "--random-fully", "--persistent"],
                &["--to-source", "--to"],
            ),
            Action::Masquerade(_) | Action::Redirect(_) => {
                (&["--random", "--random-fully"], &["--to-ports"])
            }
            Action::Log(_) => (LOG_FLAGS, &["--log-prefix", "--log-level"]),
            Action::Nflog(_) => (
                &[],
                &[
                    "--nflog-group",
                    "--nflog-prefix",
                    "--nflog-range",
                    "--nflog-size",
                    "--nflog-threshold",
                ],
            ),
            Action::Ct(_) => (
                &["--notrack"],
                &[
                    "--helper",
                    "--timeout",
                    "--ctevents",
                    "--expevents",
                    "--zone",
                    "--zone-orig",
                    "--zone-reply",
                ],
            ),
            Action::Tproxy { .. } => (&[], &["--on-port", "--on-ip", "--tproxy-mark"]),
            Action::Checksum => (&["--checksum-fill"], &[]),
            Action::Tcpmss(_) => (&["--clamp-mss-to-pmtu"], &["--set-mss"]),
            _ => return None,
        };
        if flags.contains(&opt) {
            Some(0)
        } else if one.contains(&opt) {
            Some(1)
        } else {
            None
        }
    }

    pub fn apply(
        &mut self,
        opt: &str,
        negated: bool,
        args: &[&str],
        v6: bool,
    ) -> Result<(), String> {
        if negated {
            return Err(format!("target option {opt} cannot be negated"));
        }
        let arg = args.first().copied().unwrap_or("");
        match self {
            Action::Reject(with) => *with = reject_with(arg, v6)?,
            Action::Mark { value, mask } => (*value, *mask) = mark_op(opt, arg)?,
            Action::Connmark(c) => match opt {
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
                        Connmark::Save { nfmask, ctmask }
                        | Connmark::Restore { nfmask, ctmask } => match opt {
                            "--nfmask" => *nfmask = m,
                            "--ctmask" => *ctmask = m,
                            _ => (*nfmask, *ctmask) = (m, m),
                        },
                        Connmark::SetXmark { .. } => {
                            return Err(format!("{opt} goes with --save-mark or --restore-mark"));
                        }
                    }
                }
                _ => {
                    let (value, mask) = mark_op(opt, arg)?;
                    *c = Connmark::SetXmark { value, mask };
                }
            },
            Action::Dnat(n) | Action::Snat(n) => match opt {
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
            },
            Action::Masquerade(p) | Action::Redirect(p) => match opt {
                "--random" => p.random = true,
                "--random-fully" => p.random_fully = true,
                _ => p.ports = Some(port_range_dash(arg)?),
            },
            Action::Log(l) => match opt {
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
            },
            Action::Nflog(n) => match opt {
                "--nflog-group" => n.group = bounded(arg, 65535)? as u16,
                // Legacy iptables truncates the prefix to 63 characters.
                "--nflog-prefix" => n.prefix = arg.chars().take(63).collect(),
                "--nflog-range" => n.range = Some(bounded(arg, u64::from(u32::MAX))? as u32),
                "--nflog-size" => n.size = Some(bounded(arg, u64::from(u32::MAX))? as u32),
                _ => n.threshold = bounded(arg, 65535)? as u16,
            },
            Action::Ct(c) => match opt {
                "--notrack" => c.notrack = true,
                "--helper" => c.helper = Some(arg.to_string()),
                "--timeout" => c.timeout = Some(arg.to_string()),
                "--ctevents" => c.ctevents = Some(arg.to_string()),
                "--expevents" => c.expevents = Some(arg.to_string()),
                _ => c.zone = Some(bounded(arg, 65535)? as u16),
            },
            Action::Tproxy {
                port: p,
                ip,
                mark,
                mask,
            } => match opt {
                "--on-port" => *p = port(arg)?,
                "--on-ip" => {
                    *ip = arg
                        .parse()
                        .map_err(|_| format!("`{arg}` is not an IP address"))?
                }
                _ => (*mark, *mask) = value_mask(arg, u32::MAX)?,
            },
            Action::Checksum => {}
            Action::Tcpmss(m) => match opt {
                "--set-mss" => *m = Some(bounded(arg, 65535)? as u16),
                _ => *m = None,
            },
            Action::Unknown(raw) => {
                raw.push(opt.to_string());
                raw.extend(args.iter().map(|a| a.to_string()));
            }
            Action::Accept
            | Action::Drop
            | Action::Return
            | Action::Queue
            | Action::Chain
            | Action::Notrack => {
                return Err(format!("this target takes no option {opt}"));
            }
        }
        Ok(())
    }

    /// Checks what must be present once all options are read.
    pub fn check(&self, seen: &[&str], ctx: RuleContext) -> Result<(), String> {
        let ports_proto = matches!(ctx.protocol, Some(6 | 17 | 132 | 33 | 136));
        let any = |opts: &[&str]| opts.iter().any(|o| seen.contains(o));
        match self {
            Action::Mark { .. } if !any(MARK_OPS) => Err(
                "MARK needs --set-xmark, --set-mark, --and-mark, --or-mark or --xor-mark".into(),
            ),
            Action::Connmark(Connmark::SetXmark { .. }) if !any(MARK_OPS) => {
                Err("CONNMARK needs --set-xmark, --save-mark or --restore-mark".into())
            }
            Action::Dnat(n) if n.addrs.is_none() && n.ports.is_none() => {
                Err("DNAT needs --to-destination".into())
            }
            Action::Snat(n) if n.addrs.is_none() && n.ports.is_none() => {
                Err("SNAT needs --to-source".into())
            }
            Action::Dnat(n) | Action::Snat(n) if n.ports.is_some() && !ports_proto => {
                Err("a port in the NAT range needs -p tcp, udp, sctp or dccp".into())
            }
            Action::Masquerade(p) | Action::Redirect(p) if p.ports.is_some() && !ports_proto => {
                Err("--to-ports needs -p tcp, udp, sctp or dccp".into())
            }
            Action::Tproxy { .. } if !seen.contains(&"--on-port") => {
                Err("TPROXY needs --on-port".into())
            }
            Action::Tproxy { .. } if !matches!(ctx.protocol, Some(6 | 17)) => {
                Err("TPROXY needs -p tcp or -p udp".into())
            }
            Action::Checksum if !seen.contains(&"--checksum-fill") => {
                Err("CHECKSUM needs --checksum-fill".into())
            }
            Action::Tcpmss(_) if !any(&["--set-mss", "--clamp-mss-to-pmtu"]) => {
                Err("TCPMSS needs --set-mss or --clamp-mss-to-pmtu".into())
            }
            _ => Ok(()),
        }
    }

    /// The target's options as iptables-save prints them (after `-j NAME`).
    pub fn save_options(&self, v6: bool) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut push = |s: String| parts.push(s);
        match self {
            Action::Reject(with) => {
                let default = if v6 {
                    "icmp6-port-unreachable"
                } else {
                    "icmp-port-unreachable"
                };
                push(format!(
                    "--reject-with {}",
                    if with.is_empty() { default } else { with }
                ));
            }
            Action::Mark { value, mask } => {
                push(format!("--set-xmark {}/{}", hex(*value), hex(*mask)))
            }
            Action::Connmark(Connmark::SetXmark { value, mask }) => {
                push(format!("--set-xmark {}/{}", hex(*value), hex(*mask)))
            }
            Action::Connmark(Connmark::Save { nfmask, ctmask }) => {
                push(format!(
                    "--save-mark --nfmask {} --ctmask {}",
                    hex(*nfmask),
                    hex(*ctmask)
                ));
            }
            Action::Connmark(Connmark::Restore { nfmask, ctmask }) => {
                push(format!(
                    "--restore-mark --nfmask {} --ctmask {}",
                    hex(*nfmask),
                    hex(*ctmask)
                ));
            }
            Action::Dnat(n) | Action::Snat(n) => {
                let opt = if matches!(self, Action::Dnat(_)) {
                    "--to-destination"
                } else {
                    "--to-source"
                };
                push(format!("{opt} {}", nat_text(n)));
                for (on, flag) in [
                    (n.random, "--random"),
                    (n.random_fully, "--random-fully"),
                    (n.persistent, "--persistent"),
                ] {
                    if on {
                        push(flag.to_string());
                    }
                }
            }
            Action::Masquerade(p) | Action::Redirect(p) => {
                if let Some((a, b)) = p.ports {
                    push(format!(
                        "--to-ports {}",
                        if a == b {
                            a.to_string()
                        } else {
                            format!("{a}-{b}")
                        }
                    ));
                }
                if p.random {
                    push("--random".into());
                }
                if p.random_fully {
                    push("--random-fully".into());
                }
            }
            Action::Log(l) => {
                if !l.prefix.is_empty() {
                    push(format!("--log-prefix {}", save_string(&l.prefix)));
                }
                if l.level != DEFAULT_LOG_LEVEL {
                    push(format!("--log-level {}", l.level));
                }
                for (i, flag) in LOG_FLAGS.iter().enumerate() {
                    if l.flags & (1 << i) != 0 {
                        push((*flag).to_string());
                    }
                }
            }
            Action::Nflog(n) => {
                if !n.prefix.is_empty() {
                    push(format!("--nflog-prefix {}", save_string(&n.prefix)));
                }
                if n.group != 0 {
                    push(format!("--nflog-group {}", n.group));
                }
                if let Some(size) = n.size {
                    push(format!("--nflog-size {size}"));
                } else if let Some(range) = n.range.filter(|r| *r != 0) {
                    push(format!("--nflog-range {range}"));
                }
                if n.threshold != 0 {
                    push(format!("--nflog-threshold {}", n.threshold));
                }
            }
            Action::Ct(c) => {
                if c.notrack {
                    push("--notrack".into());
                }
                for (opt, v) in [
                    ("--helper", &c.helper),
                    ("--timeout", &c.timeout),
                    ("--ctevents", &c.ctevents),
                    ("--expevents", &c.expevents),
                ] {
                    if let Some(v) = v {
                        push(format!("{opt} {}", save_word(v)));
                    }
                }
                if let Some(z) = c.zone {
                    push(format!("--zone {z}"));
                }
            }
            Action::Tproxy {
                port,
                ip,
                mark,
                mask,
            } => {
                push(format!(
                    "--on-port {port} --on-ip {ip} --tproxy-mark {}/{}",
                    hex(*mark),
                    hex(*mask)
                ));
            }
            Action::Checksum => push("--checksum-fill".into()),
            Action::Tcpmss(Some(mss)) => push(format!("--set-mss {mss}")),
            Action::Tcpmss(None) => push("--clamp-mss-to-pmtu".into()),
            Action::Unknown(raw) if !raw.is_empty() => push(save_raw(raw)),
            _ => {}
        }
        parts.join(" ")
    }
}

/// libxt_MARK `mark_tg_parse`: every form as (value, mask) for `--set-xmark`.
fn mark_op(opt: &str, arg: &str) -> Result<(u32, u32), String> {
    match opt {
        "--set-xmark" => value_mask(arg, u32::MAX),
        "--set-mark" => value_mask(arg, u32::MAX).map(|(v, m)| (v, v | m)),
        "--and-mark" => u32_value(arg).map(|v| (0, !v)),
        "--or-mark" => u32_value(arg).map(|v| (v, v)),
        _ => u32_value(arg).map(|v| (v, 0)),
    }
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

fn bounded(arg: &str, max: u64) -> Result<u64, String> {
    match arg.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("`{arg}` is not a number from 0 to {max}")),
    }
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
