//! The packet to simulate and the facts about the node it meets.

use std::net::IpAddr;

use serde::Serialize;

use crate::model::values::{Cidr, Protocol};

/// Where a packet enters the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Entry {
    /// Arrives on the node's external interface.
    Outside,
    /// Arrives from a pod on this node (its veth/bridge).
    Pod,
    /// Sent by a process on the node itself.
    Local,
}

/// The first packet of a connection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: Protocol,
    pub sport: u16,
    pub dport: u16,
    /// TCP flags; a first TCP packet is a SYN (0x02).
    pub tcp_flags: u8,
    pub mark: u32,
    pub entry: Entry,
    /// The interface it arrives on; `None` picks the node's default for `entry`.
    pub in_iface: Option<String>,
}

impl Packet {
    pub fn new(src: IpAddr, dst: IpAddr, protocol: Protocol, dport: u16, entry: Entry) -> Self {
        Packet {
            src,
            dst,
            protocol,
            sport: 40000,
            dport,
            tcp_flags: if protocol == Protocol::TCP { 0x02 } else { 0 },
            mark: 0,
            entry,
            in_iface: None,
        }
    }
}

/// What the simulator must know about the node and cannot read from the rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeFacts {
    /// The node's own addresses (`addrtype LOCAL`; 127.0.0.0/8 and ::1 are always local).
    pub local_ips: Vec<IpAddr>,
    /// The pod network; traffic to it leaves on `pod_iface`.
    pub pod_cidr: Option<Cidr>,
    pub external_iface: String,
    pub pod_iface: String,
    /// Whether `recent --rcheck/--update` finds the client (session affinity already set).
    pub recent_hit: bool,
}

impl Default for NodeFacts {
    fn default() -> Self {
        NodeFacts {
            local_ips: Vec::new(),
            pod_cidr: None,
            external_iface: "eth0".into(),
            pod_iface: "cni0".into(),
            recent_hit: false,
        }
    }
}

impl NodeFacts {
    pub fn is_local(&self, ip: IpAddr) -> bool {
        ip.is_loopback() || self.local_ips.contains(&ip)
    }
}
