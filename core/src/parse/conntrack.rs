//! `conntrack -L` lines (and `/proc/net/nf_conntrack` lines): protocol, timeout, state, the
//! original and reply tuples, flags and mark.

use std::net::IpAddr;

use serde::Serialize;

use crate::text::Span;

/// One conntrack entry as `conntrack -L` prints it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConntrackEntry {
    pub span: Span,
    pub protocol: String,
    pub protocol_number: u8,
    /// Seconds until the entry expires.
    pub timeout: u64,
    /// TCP state (`ESTABLISHED`, `TIME_WAIT`, …); `None` for UDP and ICMP.
    pub state: Option<String>,
    pub original: Tuple,
    pub reply: Tuple,
    /// `[ASSURED]`, `[UNREPLIED]`, … without brackets.
    pub flags: Vec<String>,
    pub mark: Option<u32>,
    /// Other `key=value` fields (`use`, `zone`, `id`, `secctx`, ICMP `type`/`code`/`id`), as written.
    pub other: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
}

impl ConntrackEntry {
    /// Whether the reply tuple shows address translation: DNAT when the reply comes from
    /// someone other than the original destination, SNAT when it goes to someone other than
    /// the original source.
    pub fn dnat(&self) -> bool {
        self.reply.src != self.original.dst || self.reply.sport != self.original.dport
    }

    pub fn snat(&self) -> bool {
        self.reply.dst != self.original.src || self.reply.dport != self.original.sport
    }
}

/// Whether a line looks like a conntrack entry (so a transcript can route it here).
pub fn looks_like(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or("");
    let first = if matches!(first, "ipv4" | "ipv6") {
        words.next();
        words.next().unwrap_or("")
    } else {
        first
    };
    PROTOCOLS.iter().any(|(name, _)| *name == first)
        && line.contains("src=")
        && line.contains("dst=")
}

const PROTOCOLS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("udp", 17),
    ("icmp", 1),
    ("icmpv6", 58),
    ("sctp", 132),
    ("dccp", 33),
    ("udplite", 136),
    ("gre", 47),
    ("unknown", 0),
];

/// Reads one entry; `Err` says what is wrong with the line.
pub fn entry(line: &str, span: Span) -> Result<ConntrackEntry, String> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    if matches!(words.first(), Some(&"ipv4" | &"ipv6")) {
        words.drain(..2);
    }
    let protocol = words.first().ok_or("empty line")?.to_string();
    let protocol_number = words
        .get(1)
        .and_then(|n| n.parse().ok())
        .ok_or("expected the protocol number after the protocol")?;
    let timeout = words
        .get(2)
        .and_then(|n| n.parse().ok())
        .ok_or("expected the timeout in seconds after the protocol number")?;
    let mut state = None;
    let mut tuples: Vec<Vec<(String, String)>> = vec![Vec::new()];
    let mut flags = Vec::new();
    let mut mark = None;
    let mut other = Vec::new();
    for word in &words[3..] {
        if let Some(flag) = word.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
            flags.push(flag.to_string());
        } else if let Some((key, value)) = word.split_once('=') {
            match key {
                "src" | "dst" | "sport" | "dport" => {
                    let current = tuples.last_mut().ok_or("no tuple")?;
                    if current.iter().any(|(k, _)| k == key) {
                        tuples.push(Vec::new());
                    }
                    tuples
                        .last_mut()
                        .ok_or("no tuple")?
                        .push((key.to_string(), value.to_string()));
                }
                "mark" => mark = Some(crate::model::values::u32_value(value)?),
                _ => other.push((key.to_string(), value.to_string())),
            }
        } else if state.is_none() && word.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            state = Some(word.to_string());
        } else {
            return Err(format!("`{word}` is not a conntrack field"));
        }
    }
    if tuples.len() != 2 {
        return Err("expected two tuples (original and reply), each with src= and dst=".into());
    }
    let tuple = |fields: &[(String, String)]| -> Result<Tuple, String> {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let addr = |k: &str| -> Result<IpAddr, String> {
            let v = get(k).ok_or(format!("missing {k}="))?;
            v.parse().map_err(|_| format!("`{v}` is not an IP address"))
        };
        let port = |k: &str| -> Result<Option<u16>, String> {
            get(k)
                .map(|v| v.parse().map_err(|_| format!("`{v}` is not a port")))
                .transpose()
        };
        Ok(Tuple {
            src: addr("src")?,
            dst: addr("dst")?,
            sport: port("sport")?,
            dport: port("dport")?,
        })
    };
    Ok(ConntrackEntry {
        span,
        protocol,
        protocol_number,
        timeout,
        state,
        original: tuple(&tuples[0])?,
        reply: tuple(&tuples[1])?,
        flags,
        mark,
        other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_and_tcp_entries() {
        let udp = "udp      17 21 src=172.16.1.35 dst=10.32.0.10 sport=44560 dport=53 src=10.64.1.7 dst=10.64.1.1 sport=53 dport=44560 mark=0 use=1";
        assert!(looks_like(udp));
        let e = entry(udp, Span::default()).expect("reads");
        assert_eq!(
            (e.protocol.as_str(), e.timeout, e.state.as_deref()),
            ("udp", 21, None)
        );
        assert_eq!(e.original.dport, Some(53));
        assert!(e.dnat() && e.snat());
        let tcp = "tcp      6 72 TIME_WAIT src=172.16.1.35 dst=172.16.1.35 sport=35814 dport=30080 src=10.64.1.13 dst=10.64.1.1 sport=80 dport=35814 [ASSURED] mark=0 use=1";
        let e = entry(tcp, Span::default()).expect("reads");
        assert_eq!(e.state.as_deref(), Some("TIME_WAIT"));
        assert_eq!(e.flags, ["ASSURED"]);
        assert_eq!(e.other, [("use".to_string(), "1".to_string())]);
    }

    #[test]
    fn proc_format_and_errors() {
        let line = "ipv4     2 udp      17 29 src=198.51.100.1 dst=203.0.113.5 sport=1000 dport=53 [UNREPLIED] src=203.0.113.5 dst=198.51.100.1 sport=53 dport=1000 mark=0 zone=0 use=2";
        assert!(looks_like(line));
        assert!(entry(line, Span::default()).is_ok_and(|e| e.flags == ["UNREPLIED"] && !e.dnat()));
        assert!(entry("udp 17 x src=1.2.3.4 dst=1.2.3.4", Span::default()).is_err());
        assert!(entry("udp 17 3 src=1.2.3.4 dst=1.2.3.4", Span::default()).is_err());
    }
}
