//! Value types of rule options: addresses with masks, interfaces, protocols, port ranges,
//! marks. Each parses the spellings iptables accepts and `Display`s the one iptables-save prints.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::services::SERVICES;

/// An option value with its `!`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Negatable<T> {
    pub negated: bool,
    pub value: T,
}

impl<T> Negatable<T> {
    pub fn new(negated: bool, value: T) -> Self {
        Negatable { negated, value }
    }

    /// `! ` when negated, else nothing: what precedes the option in saved form.
    pub fn bang(&self) -> &'static str {
        if self.negated { "! " } else { "" }
    }
}

/// An address as written after `-s`/`-d`: a network, or a placeholder someone typed over a
/// real address (`x.x.x.x/32`) that chainlens keeps but cannot evaluate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Address {
    Net(Cidr),
    Placeholder(String),
}

impl Address {
    /// An address as written after `-s`/`-d`: a network, or a placeholder (a name standing in
    /// for an address: `x.x.x.x/32` typed over a real one, a host name a listing resolved).
    /// Anything else is an error.
    pub fn parse(text: &str) -> Result<Address, String> {
        match Cidr::parse(text) {
            Ok(c) => Ok(Address::Net(c)),
            Err(_) if is_placeholder(text) => Ok(Address::Placeholder(text.to_string())),
            Err(e) => Err(e),
        }
    }
}

/// A name rather than an address: letters, digits, `.`, `-`, `_`, with at least one letter.
fn is_placeholder(text: &str) -> bool {
    let host = text.split('/').next().unwrap_or("");
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && host.chars().any(|c| c.is_ascii_alphabetic())
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Net(c) => c.fmt(f),
            Address::Placeholder(s) => f.write_str(s),
        }
    }
}

/// An address under a mask. The address is stored masked, as the kernel keeps it; the mask may
/// be non-contiguous (`10.0.12.0/255.0.255.0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Cidr {
    pub addr: IpAddr,
    pub mask: IpAddr,
}

impl Cidr {
    /// Parses `A`, `A/len` or `A/mask` (IPv4 or IPv6). A bare address is a host (`/32`, `/128`).
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, mask) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IP address"))?;
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let mask = match mask {
            None => prefix_mask(addr, bits),
            Some(m) => match m.parse::<u32>() {
                Ok(len) if len <= bits => prefix_mask(addr, len),
                Ok(len) => return Err(format!("prefix length {len} is longer than {bits}")),
                Err(_) => match m.parse::<IpAddr>() {
                    Ok(mask) if mask.is_ipv4() == addr.is_ipv4() => mask,
                    _ => return Err(format!("`{m}` is neither a prefix length nor a mask")),
                },
            },
        };
        Ok(Cidr {
            addr: apply_mask(addr, mask),
            mask,
        })
    }

    /// The prefix length, when the mask is contiguous.
    pub fn prefix_len(&self) -> Option<u32> {
        let width = if self.mask.is_ipv4() { 32 } else { 128 };
        // Left-align the mask in 128 bits, then it is contiguous iff it is all ones then zeros.
        let aligned = to_bits(self.mask) << (128 - width);
        let len = aligned.leading_ones();
        let contiguous = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        (aligned == contiguous).then_some(len)
    }

    /// Whether `addr` is inside this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.addr.is_ipv4() && apply_mask(addr, self.mask) == self.addr
    }

    /// The form conntrack and a few other matches print: a host without its `/32`.
    pub fn host_or_net(&self) -> String {
        let width = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix_len() == Some(width) {
            self.addr.to_string()
        } else {
            self.to_string()
        }
    }

    /// `0.0.0.0/0` or `::/0`: matches everything.
    pub fn is_any(&self) -> bool {
        to_bits(self.mask) == 0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix_len() {
            Some(len) => write!(f, "{}/{len}", self.addr),
            None => write!(f, "{}/{}", self.addr, self.mask),
        }
    }
}

fn to_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn from_bits(v4: bool, bits: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(bits as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(bits))
    }
}

fn prefix_mask(addr: IpAddr, len: u32) -> IpAddr {
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let ones = if len == 0 {
        0
    } else {
        (u128::MAX >> (128 - len)) << (width - len)
    };
    from_bits(addr.is_ipv4(), ones)
}

pub fn apply_mask(addr: IpAddr, mask: IpAddr) -> IpAddr {
    from_bits(addr.is_ipv4(), to_bits(addr) & to_bits(mask))
}

/// An interface name as in `-i eth0`; a trailing `+` makes it a prefix (`veth+`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interface(pub String);

impl Interface {
    pub fn matches(&self, name: &str) -> bool {
        match self.0.strip_suffix('+') {
            Some(prefix) => name.starts_with(prefix),
            None => self.0 == name,
        }
    }

    /// Interface names are at most 15 bytes (`IFNAMSIZ` less the NUL).
    pub fn parse(text: &str) -> Result<Interface, String> {
        if text.len() > 15 {
            Err(format!(
                "interface name `{text}` is longer than 15 characters"
            ))
        } else {
            Ok(Interface(text.to_string()))
        }
    }

    /// `+` alone matches every interface; iptables-save drops it.
    pub fn is_any(&self) -> bool {
        self.0 == "+"
    }
}

/// An IP protocol number, printed by iptables' built-in name when it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Protocol(pub u8);

/// Names iptables knows without `/etc/protocols` (`xtables_chain_protos`), then the names a
/// stock `/etc/protocols` gives, then accepted aliases. The first name of a number is the one
/// iptables-save prints.
const PROTOCOL_NAMES: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("ipv6-icmp", 58),
    ("esp", 50),
    ("ah", 51),
    ("mobility-header", 135),
    ("all", 0),
    ("igmp", 2),
    ("ipencap", 4),
    ("dccp", 33),
    ("ipv6", 41),
    ("gre", 47),
    ("ospf", 89),
    ("ipip", 94),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("icmpv6", 58),
    ("mh", 135),
    ("ipv6-mh", 135),
];

impl Protocol {
    pub const TCP: Protocol = Protocol(6);
    pub const UDP: Protocol = Protocol(17);
    pub const SCTP: Protocol = Protocol(132);
    pub const ICMP: Protocol = Protocol(1);

    pub fn parse(text: &str) -> Result<Protocol, String> {
        let lower = text.to_ascii_lowercase();
        if let Some((_, n)) = PROTOCOL_NAMES.iter().find(|(name, _)| *name == lower) {
            return Ok(Protocol(*n));
        }
        text.parse::<u8>()
            .map(Protocol)
            .map_err(|_| format!("unknown protocol `{text}`"))
    }

    /// The protocol's name as iptables-save prints it, or `None` for a bare number.
    pub fn name(self) -> Option<&'static str> {
        PROTOCOL_NAMES
            .iter()
            .find(|(_, n)| *n == self.0)
            .map(|(name, _)| *name)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

/// An inclusive port range; one port when `min == max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PortRange {
    pub min: u16,
    pub max: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange { min: 0, max: 65535 };

    pub fn single(port: u16) -> Self {
        PortRange {
            min: port,
            max: port,
        }
    }

    /// Parses `P`, `A:B`, `A:`, `:B` or `:` (and `A-B` where `-` is the separator in use).
    pub fn parse_with(text: &str, sep: char) -> Result<PortRange, String> {
        let range = match text.split_once(sep) {
            None => PortRange::single(port(text)?),
            Some((a, b)) => PortRange {
                min: if a.is_empty() { 0 } else { port(a)? },
                max: if b.is_empty() { 65535 } else { port(b)? },
            },
        };
        if range.min > range.max {
            return Err(format!("port range `{text}` runs backwards"));
        }
        Ok(range)
    }

    pub fn parse(text: &str) -> Result<PortRange, String> {
        Self::parse_with(text, ':')
    }

    pub fn contains(&self, port: u16) -> bool {
        self.min <= port && port <= self.max
    }

    /// Writes `P` or `A<sep>B`.
    pub fn write(&self, sep: char) -> String {
        if self.min == self.max {
            self.min.to_string()
        } else {
            format!("{}{sep}{}", self.min, self.max)
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.write(':'))
    }
}

/// A port number only, as the NAT targets read the ends of a port range (no names).
pub fn port_number(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .map_err(|_| format!("`{text}` is not a port number (0 to 65535)"))
}

/// A port number or a service name, as matches read `--dport ssh` and as `iptables -L`
/// without `-n` prints ports (Debian's netbase names, [`SERVICES`]).
pub fn port(text: &str) -> Result<u16, String> {
    if let Ok(n) = text.parse::<u16>() {
        return Ok(n);
    }
    SERVICES
        .binary_search_by(|(name, _)| (*name).cmp(text))
        .map(|i| SERVICES[i].1)
        .map_err(|_| format!("`{text}` is not a port number (0 to 65535)"))
}

/// Parses a 32-bit value in decimal, hex (`0x`) or octal (leading `0`), as `strtoul` does.
pub fn u32_value(text: &str) -> Result<u32, String> {
    let parsed = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16)
    } else if text.len() > 1 && text.starts_with('0') {
        u32::from_str_radix(&text[1..], 8)
    } else {
        text.parse::<u32>()
    };
    parsed.map_err(|_| format!("`{text}` is not a 32-bit number"))
}

/// Parses `V[/M]`; a missing mask is `default_mask`.
pub fn value_mask(text: &str, default_mask: u32) -> Result<(u32, u32), String> {
    match text.split_once('/') {
        Some((v, m)) => Ok((u32_value(v)?, u32_value(m)?)),
        None => Ok((u32_value(text)?, default_mask)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_are_netbase_s() {
        assert!(
            SERVICES.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no repeats"
        );
        for (name, p) in [("bgp", 179), ("ircd", 6667), ("domain", 53), ("bootpc", 68)] {
            assert_eq!(port(name), Ok(p), "{name}");
        }
        assert!(port("no-such-service").is_err());
    }

    #[test]
    fn cidr_prints_masked_and_keeps_odd_masks() {
        let show = |s: &str| Cidr::parse(s).map(|c| c.to_string());
        assert_eq!(show("10.11.12.13/8"), Ok("10.0.0.0/8".into()));
        assert_eq!(show("10.11.12.13"), Ok("10.11.12.13/32".into()));
        assert_eq!(show("10.11.12.13/255.128.0.0"), Ok("10.0.0.0/9".into()));
        assert_eq!(
            show("10.11.12.13/255.0.255.0"),
            Ok("10.0.12.0/255.0.255.0".into())
        );
        assert_eq!(show("0.0.0.0/0"), Ok("0.0.0.0/0".into()));
        assert_eq!(show("fd00::1"), Ok("fd00::1/128".into()));
        assert_eq!(show("2001:db8::1/32"), Ok("2001:db8::/32".into()));
        assert!(Cidr::parse("x.x.x.x/32").is_err());
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn cidr_contains() {
        let net = Cidr::parse("10.244.0.0/16").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            net.contains(
                "10.244.3.4"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
            )
        );
        assert!(
            !net.contains(
                "10.245.0.1"
                    .parse()
                    .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
            )
        );
    }

    #[test]
    fn ports_and_protocols() {
        assert_eq!(
            PortRange::parse("1024:").map(|p| p.to_string()),
            Ok("1024:65535".into())
        );
        assert_eq!(
            PortRange::parse(":4").map(|p| p.to_string()),
            Ok("0:4".into())
        );
        assert_eq!(
            PortRange::parse("4:4").map(|p| p.to_string()),
            Ok("4".into())
        );
        assert!(PortRange::parse("4:3").is_err());
        assert!(PortRange::parse("65536").is_err());
        assert_eq!(PortRange::parse("domain"), Ok(PortRange::single(53)));
        assert_eq!(
            Protocol::parse("6").map(|p| p.to_string()),
            Ok("tcp".into())
        );
        assert_eq!(
            Protocol::parse("icmpv6").map(|p| p.to_string()),
            Ok("ipv6-icmp".into())
        );
        assert_eq!(
            Protocol::parse("47").map(|p| p.to_string()),
            Ok("gre".into())
        );
        assert_eq!(
            Protocol::parse("253").map(|p| p.to_string()),
            Ok("253".into())
        );
    }

    #[test]
    fn numbers_like_strtoul() {
        assert_eq!(u32_value("0x4000"), Ok(0x4000));
        assert_eq!(u32_value("4294967295"), Ok(u32::MAX));
        assert!(u32_value("4294967296").is_err());
        assert!(u32_value("-1").is_err());
        assert_eq!(value_mask("0x4000/0x4000", u32::MAX), Ok((0x4000, 0x4000)));
    }
}
