//! IP sets as `ipset list` and `ipset save` show them, and the kernel's membership test for
//! `-m set --match-set NAME FLAGS` (ip_set_test: each dimension of the set's type is taken from
//! the packet's source or destination as the flags say, in order).

use std::net::IpAddr;

use serde::Serialize;

use super::values::{Cidr, Protocol};
use crate::text::Span;

/// What one dimension of a set type holds (`hash:ip,port,net` has three).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dim {
    Ip,
    Net,
    Port,
    Iface,
    /// `mac`, `mark`: not modelled; a test of such a set stays undecided.
    Other,
}

/// One part of a member, per dimension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Net(Cidr),
    /// A protocol and port range (`tcp:443`, `udp:53`, a bare `30080` in a bitmap:port set).
    Port {
        protocol: Option<Protocol>,
        min: u16,
        max: u16,
    },
    Iface(String),
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub parts: Vec<Part>,
    /// `nomatch` (hash:net types): an exception inside a larger member.
    pub nomatch: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpSet {
    pub name: String,
    /// The type as written (`hash:ip,port`).
    pub kind: String,
    pub dims: Vec<Dim>,
    pub members: Vec<Member>,
    /// Where the set was given (its `Name:` or `create` line).
    pub span: Span,
    /// Every member is in the paste: the listing's `Number of entries` agrees, and every
    /// member line was read. When not, a packet that is not found is undecided.
    pub complete: bool,
}

/// A value the packet offers for one dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Addr(IpAddr),
    Port(Protocol, u16),
    /// The interface (in for `src`, out for `dst`); empty where the hook has none.
    Iface(&'a str),
}

impl IpSet {
    /// The dimensions of a type name: `hash:ip,port,net` → ip, port, net.
    pub fn dims_of(kind: &str) -> Vec<Dim> {
        let Some((_, dims)) = kind.split_once(':') else {
            return vec![Dim::Other];
        };
        dims.split(',')
            .map(|d| match d {
                "ip" => Dim::Ip,
                "net" => Dim::Net,
                "port" => Dim::Port,
                "iface" => Dim::Iface,
                _ => Dim::Other,
            })
            .collect()
    }

    /// Whether the packet's values (one per flag, in the flags' order) are a member: `None` when
    /// the set cannot tell (a dimension not modelled, or a miss in an incomplete set).
    pub fn test(&self, values: &[Value]) -> Option<bool> {
        if values.len() < self.dims.len() || self.dims.contains(&Dim::Other) {
            return None;
        }
        let part_holds = |part: &Part, value: &Value| match (part, value) {
            (Part::Net(c), Value::Addr(a)) => c.contains(*a),
            (Part::Port { protocol, min, max }, Value::Port(p, port)) => {
                protocol.is_none_or(|q| q == *p) && min <= port && port <= max
            }
            (Part::Iface(name), Value::Iface(i)) => iface_matches(name, i),
            _ => false,
        };
        let holds = |m: &Member| {
            m.parts.len() == self.dims.len()
                && m.parts.iter().zip(values).all(|(p, v)| part_holds(p, v))
        };
        // An exception (`nomatch`) wins over the member it cuts out of (the kernel tries the
        // most specific prefix first).
        let hit = self.members.iter().filter(|m| holds(m));
        let mut found = false;
        for m in hit {
            if m.nomatch {
                return Some(false).filter(|_| self.complete);
            }
            found = true;
        }
        if found {
            Some(true)
        } else if self.complete {
            Some(false)
        } else {
            None
        }
    }
}

/// `eth+` matches every name starting with `eth`, as iptables' interface wildcard.
fn iface_matches(pattern: &str, iface: &str) -> bool {
    match pattern.strip_suffix('+') {
        Some(prefix) => iface.starts_with(prefix),
        None => pattern == iface,
    }
}

/// Reads one member as `ipset` prints it for a set of `dims`: `10.96.0.1,tcp:443`,
/// `10.244.0.0/16`, `30080`, `10.0.0.0/8,eth0`, with options after a blank (`timeout 60`,
/// `nomatch`).
pub fn member(text: &str, dims: &[Dim]) -> Result<Member, String> {
    let mut words = text.split_whitespace();
    let entry = words.next().ok_or("empty member")?;
    let nomatch = words.any(|w| w == "nomatch");
    let texts: Vec<&str> = entry.split(',').collect();
    if texts.len() != dims.len() {
        return Err(format!(
            "`{entry}` has {} part(s), the set's type {}",
            texts.len(),
            dims.len()
        ));
    }
    let parts = texts
        .iter()
        .zip(dims)
        .map(|(t, d)| part(t, *d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Member { parts, nomatch })
}

fn part(text: &str, dim: Dim) -> Result<Part, String> {
    match dim {
        Dim::Ip | Dim::Net => {
            // `10.0.0.1-10.0.0.9` ranges are stored as the covering nets; read the first.
            let first = text.split('-').next().unwrap_or(text);
            Cidr::parse(first)
                .map(Part::Net)
                .map_err(|e| format!("`{text}`: {e}"))
        }
        Dim::Port => {
            let (protocol, ports) = match text.split_once(':') {
                Some((p, ports)) => (
                    Some(Protocol::parse(p).map_err(|e| format!("`{text}`: {e}"))?),
                    ports,
                ),
                None => (None, text),
            };
            let num = |s: &str| {
                s.parse::<u16>()
                    .map_err(|_| format!("`{s}` is not a port number"))
            };
            let (min, max) = match ports.split_once('-') {
                Some((a, b)) => (num(a)?, num(b)?),
                None => (num(ports)?, num(ports)?),
            };
            Ok(Part::Port { protocol, min, max })
        }
        Dim::Iface => Ok(Part::Iface(
            text.strip_prefix("physdev:").unwrap_or(text).to_string(),
        )),
        Dim::Other => Ok(Part::Other(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(kind: &str, members: &[&str], complete: bool) -> IpSet {
        let dims = IpSet::dims_of(kind);
        IpSet {
            name: "S".into(),
            kind: kind.into(),
            members: members
                .iter()
                .map(|m| member(m, &dims).expect("member"))
                .collect(),
            dims,
            span: Span::default(),
            complete,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn membership_by_type() {
        let s = set(
            "hash:ip,port",
            &["10.96.0.1,tcp:443", "10.96.0.10,udp:53"],
            true,
        );
        assert_eq!(
            s.test(&[
                Value::Addr(ip("10.96.0.1")),
                Value::Port(Protocol::TCP, 443)
            ]),
            Some(true)
        );
        // The protocol is part of the member.
        assert_eq!(
            s.test(&[
                Value::Addr(ip("10.96.0.1")),
                Value::Port(Protocol::UDP, 443)
            ]),
            Some(false)
        );
        let nets = set(
            "hash:net",
            &["10.244.0.0/16", "10.244.9.0/24 nomatch"],
            true,
        );
        assert_eq!(nets.test(&[Value::Addr(ip("10.244.1.2"))]), Some(true));
        assert_eq!(nets.test(&[Value::Addr(ip("10.244.9.2"))]), Some(false));
        let ports = set("bitmap:port", &["30000-30100"], true);
        assert_eq!(ports.test(&[Value::Port(Protocol::TCP, 30080)]), Some(true));
        // A miss in a set the paste did not show whole cannot be told.
        let part = set("hash:ip", &["192.0.2.1"], false);
        assert_eq!(part.test(&[Value::Addr(ip("192.0.2.1"))]), Some(true));
        assert_eq!(part.test(&[Value::Addr(ip("192.0.2.2"))]), None);
        let mac = set("hash:mac", &["00:11:22:33:44:55"], true);
        assert_eq!(mac.test(&[Value::Addr(ip("192.0.2.2"))]), None);
        assert!(member("10.0.0.1,tcp:80", &IpSet::dims_of("hash:ip")).is_err());
    }
}
