//! The packet to simulate and the facts about the node it meets.

use std::net::IpAddr;

use serde::Serialize;

use crate::model::Ruleset;
use crate::model::values::{Address, Cidr, Protocol};

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

/// Where a packet stands in its connection (NETFILTER.md §3: the nat table sees only the first
/// packet; later packets reuse the bindings it made).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conn {
    /// The first packet (conntrack NEW): the nat chains decide its bindings.
    New,
    /// A later packet of a confirmed connection (ESTABLISHED), in either direction.
    Established(Binding),
}

/// What a connection's first packet left in conntrack: its original tuple and NAT bindings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Binding {
    /// This packet travels from the reply side (server to client).
    pub reply: bool,
    /// The first packet's source and destination, as sent.
    pub orig_src: (IpAddr, u16),
    pub orig_dst: (IpAddr, u16),
    /// Where DNAT sent the connection, and what SNAT made its source.
    pub dnat: Option<(IpAddr, u16)>,
    pub snat: Option<(IpAddr, u16)>,
    /// The real server IPVS sent the connection to (IPVS, not conntrack, DNATs its later
    /// packets, at LOCAL_IN).
    pub ipvs: Option<(IpAddr, u16)>,
    /// The connection's mark as the first packet left it.
    pub ctmark: u32,
}

/// A packet: the first of a connection unless `conn` says otherwise.
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
    pub conn: Conn,
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
            conn: Conn::New,
        }
    }
}

/// The pod network as a CNI plugin's nat rules show it: the bridge plugin's per-pod `CNI-…`
/// chain (`-d CIDR -j ACCEPT`, then `MASQUERADE`), or flannel's `-s CIDR -d CIDR -j RETURN`.
fn cni_pod_network(ruleset: &Ruleset) -> Option<Cidr> {
    let nat = ruleset.table("nat")?;
    let net = |a: &Option<crate::model::values::Negatable<Address>>| match a {
        Some(a) if !a.negated => match &a.value {
            Address::Net(c) => Some(*c),
            Address::Placeholder(_) => None,
        },
        _ => None,
    };
    let is = |r: &crate::model::Rule, name: &str| r.target.as_ref().is_some_and(|t| t.name == name);
    let bridge_plugin = nat
        .chains
        .iter()
        .filter(|c| c.name.starts_with("CNI-") && c.rules.iter().any(|r| is(r, "MASQUERADE")))
        .find_map(|c| {
            c.rules
                .iter()
                .take_while(|r| !is(r, "MASQUERADE"))
                .find(|r| is(r, "ACCEPT") && r.header.src.is_none())
                .and_then(|r| net(&r.header.dst))
        });
    bridge_plugin.or_else(|| {
        nat.chains.iter().flat_map(|c| &c.rules).find_map(|r| {
            let (s, d) = (net(&r.header.src)?, net(&r.header.dst)?);
            let host = s.prefix_len().is_none_or(|l| l == 32 || l == 128);
            (is(r, "RETURN") && s == d && !host).then_some(s)
        })
    })
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
    /// Subnets behind bridges of the node (Docker's `docker0`, a CNI bridge), with the bridge:
    /// traffic to them leaves there.
    pub bridges: Vec<(Cidr, String)>,
    /// Entries already in `recent` lists, as (list name, address): a client with session
    /// affinity is in the list of the endpoint it was sent to. Taken as fresh (within any
    /// `--seconds`); an empty set is a client seen for the first time.
    pub recent: Vec<(String, IpAddr)>,
    /// IP sets as pasted (`ipset list`): `-m set` tests of these are decided.
    pub ipsets: Vec<crate::model::ipset::IpSet>,
    /// Addresses of IPVS virtual servers, which kube-proxy binds to the dummy `kube-ipvs0`:
    /// the node's own (`addrtype LOCAL`, delivered to LOCAL_IN), never a masquerade source.
    pub virtual_ips: Vec<IpAddr>,
}

impl Default for NodeFacts {
    fn default() -> Self {
        NodeFacts {
            local_ips: Vec::new(),
            pod_cidr: None,
            external_iface: "eth0".into(),
            pod_iface: "cni0".into(),
            bridges: Vec::new(),
            recent: Vec::new(),
            ipsets: Vec::new(),
            virtual_ips: Vec::new(),
        }
    }
}

impl NodeFacts {
    pub fn is_local(&self, ip: IpAddr) -> bool {
        ip.is_loopback() || self.local_ips.contains(&ip) || self.virtual_ips.contains(&ip)
    }

    /// Whether `ip` is a pod's: in the pod network or behind one of the node's bridges.
    pub fn is_pod(&self, ip: IpAddr) -> bool {
        self.pod_cidr.is_some_and(|c| c.contains(ip))
            || self.bridges.iter().any(|(c, _)| c.contains(ip))
    }

    /// The interface a packet to `ip` leaves on, when it is not the node's own: a bridge whose
    /// subnet holds it, the pod interface, or the external one.
    pub fn iface_for(&self, ip: IpAddr) -> &str {
        if let Some((_, iface)) = self.bridges.iter().find(|(c, _)| c.contains(ip)) {
            iface
        } else if self.pod_cidr.is_some_and(|c| c.contains(ip)) {
            &self.pod_iface
        } else {
            &self.external_iface
        }
    }

    /// The address MASQUERADE gives a packet leaving on `iface`: the node's address on that
    /// side (inside the bridge's subnet or the pod network for those interfaces), if the facts
    /// name one.
    pub fn address_on(&self, iface: &str) -> Option<IpAddr> {
        let subnet = self
            .bridges
            .iter()
            .find(|(_, i)| i == iface)
            .map(|(c, _)| *c)
            .or(self.pod_cidr.filter(|_| iface == self.pod_iface));
        self.local_ips
            .iter()
            .find(|ip| {
                !ip.is_loopback()
                    && match subnet {
                        Some(c) => c.contains(**ip),
                        None => !self.is_pod(**ip),
                    }
            })
            .copied()
    }

    /// Facts read off the rules where they show them, with each guess said: the pod network
    /// from kube-proxy's `! -s POD_CIDR … -j KUBE-MARK-MASQ` rules, or Docker's
    /// `-s POD_CIDR ! -o BRIDGE -j MASQUERADE` (which also names the bridge). The node's own
    /// addresses are not in the rules.
    pub fn infer(ruleset: &Ruleset) -> (NodeFacts, Vec<Inferred>) {
        let mut facts = NodeFacts {
            ipsets: ruleset.ipsets.clone(),
            ..NodeFacts::default()
        };
        let mut said = Vec::new();
        for v in &ruleset.ipvs {
            if !facts.virtual_ips.contains(&v.addr.ip()) {
                facts.virtual_ips.push(v.addr.ip());
            }
        }
        if !facts.virtual_ips.is_empty() {
            said.push(Inferred::VirtualAddresses(facts.virtual_ips.len()));
        }
        let rules: Vec<&crate::model::Rule> = ruleset
            .tables
            .iter()
            .filter(|t| t.name == "nat")
            .flat_map(|t| &t.chains)
            .flat_map(|c| &c.rules)
            .collect();
        let src = |rule: &crate::model::Rule, negated: bool| {
            rule.header
                .src
                .as_ref()
                .filter(|s| s.negated == negated)
                .and_then(|s| match &s.value {
                    Address::Net(c) => Some(*c),
                    Address::Placeholder(_) => None,
                })
        };
        let target = |rule: &crate::model::Rule, name: &str| {
            rule.target.as_ref().is_some_and(|t| t.name == name)
        };
        // kube-proxy's `! -s CLUSTER_CIDR` is the cluster's pod network; a bridge's
        // `-s SUBNET ! -o BRIDGE -j MASQUERADE` says which subnet is behind which bridge.
        let bridges: Vec<(Cidr, String)> = rules
            .iter()
            .filter_map(|r| {
                let out = r.header.out_iface.as_ref().filter(|o| o.negated)?;
                target(r, "MASQUERADE").then_some(())?;
                Some((src(r, false)?, out.value.0.clone()))
            })
            .fold(Vec::new(), |mut all, b| {
                if !all.contains(&b) {
                    all.push(b);
                }
                all
            });
        if let Some(cidr) = rules
            .iter()
            .filter(|r| target(r, "KUBE-MARK-MASQ"))
            .find_map(|r| src(r, true))
        {
            facts.pod_cidr = Some(cidr);
            said.push(Inferred::PodNetworkFromKubeProxy(cidr));
        } else if let Some(cidr) = cni_pod_network(ruleset) {
            facts.pod_cidr = Some(cidr);
            said.push(Inferred::PodNetworkFromCni(cidr));
        } else if let Some((cidr, iface)) = bridges.first().cloned() {
            facts.pod_cidr = Some(cidr);
            facts.pod_iface = iface;
        } else if let Some(cidr) = masq_agent_exception(ruleset) {
            facts.pod_cidr = Some(cidr);
            said.push(Inferred::PodNetworkFromMasqAgent(cidr));
        }
        for (cidr, iface) in &bridges {
            said.push(Inferred::PodNetworkBehindBridge {
                cidr: *cidr,
                iface: iface.clone(),
            });
        }
        facts.bridges = bridges;
        if facts.pod_cidr.is_none() {
            said.push(Inferred::PodNetworkUnknown);
        }
        // Rules that test where traffic comes in (`-i eth3 … -j DNAT`) name the interface
        // traffic from outside arrives on.
        let bridge_names: Vec<&str> = facts.bridges.iter().map(|(_, i)| i.as_str()).collect();
        let entry_iface = rules.iter().find_map(|r| {
            let i = r.header.in_iface.as_ref().filter(|i| !i.negated)?;
            let name = i.value.0.as_str();
            let ends_walk = r.target.as_ref().is_some_and(|t| {
                matches!(
                    t.action,
                    crate::ext::targets::Action::Dnat(_) | crate::ext::targets::Action::Chain
                )
            });
            (ends_walk
                && !name.ends_with('+')
                && name != "lo"
                && name != facts.pod_iface
                && !bridge_names.contains(&name))
            .then(|| name.to_string())
        });
        if let Some(iface) = entry_iface {
            facts.external_iface = iface.clone();
            said.push(Inferred::ExternalInterfaceFromRules(iface));
        } else {
            said.push(Inferred::ExternalInterface(facts.external_iface.clone()));
        }
        said.push(Inferred::NodeAddressesUnknown);
        (facts, said)
    }
}
/// What [`NodeFacts::infer`] read off the rules, or could not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub enum Inferred {
    /// `-s CIDR ! -o BRIDGE -j MASQUERADE`.
    PodNetworkBehindBridge {
        cidr: Cidr,
        iface: String,
    },
    /// kube-proxy's `! -s CLUSTER_CIDR … -j KUBE-MARK-MASQ`.
    PodNetworkFromKubeProxy(Cidr),
    /// ip-masq-agent's `-d CIDR -j RETURN` before its MASQUERADE.
    PodNetworkFromMasqAgent(Cidr),
    /// A CNI plugin's masquerade rules: the bridge plugin's `CNI-…` chain accepting `-d CIDR`
    /// before its MASQUERADE, flannel's `-s CIDR -d CIDR -j RETURN`.
    PodNetworkFromCni(Cidr),
    PodNetworkUnknown,
    /// The interface taken for traffic from outside, when the rules do not say.
    ExternalInterface(String),
    /// The interface traffic from outside arrives on, from the rules that test it (`-i`).
    ExternalInterfaceFromRules(String),
    /// The node's own addresses are not in the rules (only loopback is local unless given).
    NodeAddressesUnknown,
    /// This many IPVS virtual server addresses taken as bound to `kube-ipvs0`.
    VirtualAddresses(usize),
}

impl std::fmt::Display for Inferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Inferred::PodNetworkBehindBridge { cidr, iface } => write!(
                f,
                "pod network {cidr} behind `{iface}`, from the MASQUERADE rule for it"
            ),
            Inferred::PodNetworkFromKubeProxy(cidr) => write!(
                f,
                "pod network {cidr}, from kube-proxy's masquerade rules (its cluster CIDR)"
            ),
            Inferred::PodNetworkFromMasqAgent(cidr) => write!(
                f,
                "pod network {cidr}, from the masquerade agent's exception for it"
            ),
            Inferred::PodNetworkFromCni(cidr) => write!(
                f,
                "pod network {cidr}, from the CNI plugin's masquerade rules (traffic to it is left alone)"
            ),
            Inferred::PodNetworkUnknown => write!(
                f,
                "pod network unknown: traffic to it is treated like any other"
            ),
            Inferred::ExternalInterface(iface) => write!(
                f,
                "traffic from outside taken to arrive on `{iface}` (no rule says; give the interface to change it)"
            ),
            Inferred::ExternalInterfaceFromRules(iface) => write!(
                f,
                "traffic from outside arrives on `{iface}`, the interface the entry rules test"
            ),
            Inferred::VirtualAddresses(n) => write!(
                f,
                "{n} IPVS virtual server address{} taken as the node's own (kube-proxy binds them to `kube-ipvs0`)",
                if *n == 1 { "" } else { "es" }
            ),
            Inferred::NodeAddressesUnknown => write!(
                f,
                "the node's own addresses are unknown unless given (only loopback is local)"
            ),
        }
    }
}

/// ip-masq-agent's shape (kind has it): a chain that ends in MASQUERADE after `-d POD_CIDR -j
/// RETURN` ("local traffic is not subject to MASQUERADE").
fn masq_agent_exception(ruleset: &Ruleset) -> Option<Cidr> {
    let nat = ruleset.table("nat")?;
    nat.chains
        .iter()
        .filter(|c| {
            c.rules
                .last()
                .and_then(|r| r.target.as_ref())
                .is_some_and(|t| t.name == "MASQUERADE")
        })
        .flat_map(|c| &c.rules)
        .find_map(|r| {
            let dst = r.header.dst.as_ref().filter(|d| !d.negated)?;
            let returns = r.target.as_ref().is_some_and(|t| t.name == "RETURN");
            match (&dst.value, returns) {
                (Address::Net(c), true) => Some(*c),
                _ => None,
            }
        })
}
