//! IPVS virtual servers as `ipvsadm -Ln` and `ipvsadm -Sn` print them: kube-proxy's IPVS mode
//! keeps one per Service address and port, with the endpoints as real servers.

use std::net::SocketAddr;

use serde::Serialize;

use super::values::Protocol;
use crate::text::Span;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RealServer {
    pub addr: SocketAddr,
    /// `Masq` (NAT, what kube-proxy uses), `Route`, `Tunnel`.
    pub forward: String,
    pub weight: u32,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VirtualServer {
    pub protocol: Protocol,
    pub addr: SocketAddr,
    /// `rr`, `wrr`, `lc`, `sh`, …
    pub scheduler: String,
    /// `persistent N`: session affinity for N seconds.
    pub persistent: Option<u32>,
    pub reals: Vec<RealServer>,
    pub span: Span,
}

impl VirtualServer {
    /// Each real server's long-run share of new connections: by weight for the round-robin
    /// schedulers; for the others (least-connection, hashing) the same is only a guide, as
    /// their choice depends on load or on the client.
    pub fn shares(&self) -> Vec<f64> {
        let total: u64 = self.reals.iter().map(|r| u64::from(r.weight)).sum();
        self.reals
            .iter()
            .map(|r| {
                if total == 0 {
                    0.0
                } else {
                    r.weight as f64 / total as f64
                }
            })
            .collect()
    }
}

/// Reads `TCP  10.96.0.1:443 rr [persistent 10800]` (a virtual server line of `-Ln`).
pub fn virtual_line(line: &str, span: Span) -> Option<VirtualServer> {
    let mut w = line.split_whitespace();
    let protocol = match w.next()? {
        "TCP" => Protocol::TCP,
        "UDP" => Protocol::UDP,
        "SCTP" => Protocol(132),
        _ => return None,
    };
    let addr: SocketAddr = w.next()?.parse().ok()?;
    let scheduler = w.next()?.to_string();
    let rest: Vec<&str> = w.collect();
    let persistent = rest
        .iter()
        .position(|x| *x == "persistent")
        .and_then(|i| rest.get(i + 1))
        .and_then(|s| s.parse().ok());
    Some(VirtualServer {
        protocol,
        addr,
        scheduler,
        persistent,
        reals: Vec::new(),
        span,
    })
}

/// Reads `  -> 10.244.0.2:53   Masq    1      0          0` (a real server line of `-Ln`).
pub fn real_line(line: &str, span: Span) -> Option<RealServer> {
    let mut w = line.trim_start().strip_prefix("->")?.split_whitespace();
    let addr: SocketAddr = w.next()?.parse().ok()?;
    let forward = w.next()?.to_string();
    let weight = w.next()?.parse().ok()?;
    Some(RealServer {
        addr,
        forward,
        weight,
        span,
    })
}

/// Reads an `ipvsadm -Sn` line: `-A -t 10.96.0.1:443 -s rr [-p 10800]` gives a virtual server,
/// `-a -t 10.96.0.1:443 -r 10.244.0.2:6443 -m -w 1` a real server of one.
pub fn save_line(line: &str, span: Span) -> Option<SaveLine> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let (kind, rest) = w.split_first()?;
    let (proto, addr) = match rest {
        ["-t", a, ..] => (Protocol::TCP, a),
        ["-u", a, ..] => (Protocol::UDP, a),
        ["--sctp-service", a, ..] => (Protocol(132), a),
        _ => return None,
    };
    let addr: SocketAddr = addr.parse().ok()?;
    let value = |flag: &str| {
        rest.iter()
            .position(|x| *x == flag)
            .and_then(|i| rest.get(i + 1))
    };
    match *kind {
        "-A" => Some(SaveLine::Virtual(VirtualServer {
            protocol: proto,
            addr,
            scheduler: value("-s").map_or("wlc".into(), |s| s.to_string()),
            persistent: value("-p").and_then(|p| p.parse().ok()),
            reals: Vec::new(),
            span,
        })),
        "-a" => {
            let real: SocketAddr = value("-r")?.parse().ok()?;
            let forward = if rest.contains(&"-m") {
                "Masq"
            } else if rest.contains(&"-i") {
                "Tunnel"
            } else {
                "Route"
            };
            Some(SaveLine::Real(
                (proto, addr),
                RealServer {
                    addr: real,
                    forward: forward.into(),
                    weight: value("-w").and_then(|w| w.parse().ok()).unwrap_or(1),
                    span,
                },
            ))
        }
        _ => None,
    }
}

/// One `ipvsadm -Sn` line read.
#[derive(Debug)]
pub enum SaveLine {
    Virtual(VirtualServer),
    Real((Protocol, SocketAddr), RealServer),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_save_lines() {
        let s = Span::default();
        let v = virtual_line("TCP  10.96.0.10:53 rr persistent 10800", s).expect("vs");
        assert_eq!(
            (v.protocol, v.addr.to_string(), v.persistent),
            (Protocol::TCP, "10.96.0.10:53".into(), Some(10800))
        );
        let r = real_line(
            "  -> 10.244.0.2:53                Masq    3      0          0",
            s,
        )
        .expect("rs");
        assert_eq!((r.addr.to_string(), r.weight), ("10.244.0.2:53".into(), 3));
        assert!(virtual_line("Prot LocalAddress:Port Scheduler Flags", s).is_none());
        assert!(
            real_line(
                "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
                s
            )
            .is_none()
        );
        match save_line("-a -u 10.96.0.10:53 -r 10.244.0.3:53 -m -w 2", s) {
            Some(SaveLine::Real((p, a), r)) => {
                assert_eq!(
                    (p, a.to_string(), r.weight, r.forward.as_str()),
                    (Protocol::UDP, "10.96.0.10:53".into(), 2, "Masq")
                );
            }
            _ => panic!("a real server"),
        }
        assert!(save_line("-A KUBE-SERVICES -j ACCEPT", s).is_none());
    }
}
