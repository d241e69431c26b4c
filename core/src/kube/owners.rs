//! Who writes a chain, from its name, and what the well-known ones do in their owner's words:
//! the chains beside kube-proxy's on a real node (conformance/chain-families, real-nodes).

use std::fmt;

use serde::Serialize;

/// The component that installs a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Owner {
    Netfilter,
    KubeProxy,
    Kubelet,
    Calico,
    Cilium,
    Flannel,
    Weave,
    KubeRouter,
    Docker,
    /// The CNI reference plugins (bridge's per-pod masquerade, portmap's host ports).
    CniPlugins,
    AwsVpcCni,
    IpMasqAgent,
    Istio,
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Owner::Netfilter => "netfilter",
            Owner::KubeProxy => "kube-proxy",
            Owner::Kubelet => "kubelet",
            Owner::Calico => "Calico",
            Owner::Cilium => "Cilium",
            Owner::Flannel => "flannel",
            Owner::Weave => "Weave Net",
            Owner::KubeRouter => "kube-router",
            Owner::Docker => "Docker",
            Owner::CniPlugins => "the CNI plugins",
            Owner::AwsVpcCni => "the AWS VPC CNI",
            Owner::IpMasqAgent => "ip-masq-agent",
            Owner::Istio => "Istio",
        })
    }
}

/// Who writes the chain called `name`, when its name says.
pub fn owner(name: &str) -> Option<Owner> {
    const BUILTIN: &[&str] = &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];
    let starts = |p: &str| name.starts_with(p);
    Some(if BUILTIN.contains(&name) {
        Owner::Netfilter
    } else if matches!(
        name,
        "KUBE-FIREWALL" | "KUBE-KUBELET-CANARY" | "KUBE-MARK-DROP"
    ) && !starts("KUBE-ROUTER")
    {
        // kubelet has written these since 1.x (KUBE-MARK-DROP by kube-proxy before 1.28 too).
        Owner::Kubelet
    } else if starts("KUBE-ROUTER") || starts("KUBE-POD-FW-") || starts("KUBE-NWPLCY-") {
        Owner::KubeRouter
    } else if starts("KUBE-") {
        Owner::KubeProxy
    } else if starts("cali-") {
        Owner::Calico
    } else if starts("CILIUM_") || starts("OLD_CILIUM_") {
        Owner::Cilium
    } else if starts("FLANNEL-") {
        Owner::Flannel
    } else if starts("WEAVE") || starts("weave-") {
        Owner::Weave
    } else if starts("DOCKER") {
        Owner::Docker
    } else if starts("CNI-") {
        Owner::CniPlugins
    } else if starts("AWS-") {
        Owner::AwsVpcCni
    } else if name == "IP-MASQ-AGENT" || name == "IP-MASQ" {
        Owner::IpMasqAgent
    } else if starts("ISTIO_") {
        Owner::Istio
    } else {
        return None;
    })
}

/// What a well-known chain of a component other than kube-proxy does, in that component's
/// words; `None` for chains with no fixed role (per-workload, per-policy ones get their
/// family's sentence).
pub fn describe(name: &str) -> Option<String> {
    let owner = owner(name)?;
    let words: &str = match name {
        "KUBE-FIREWALL" => return None, // kube-proxy's explanation covers it
        "KUBE-KUBELET-CANARY" => {
            "kubelet's canary: an empty chain kubelet recreates; its absence tells kubelet the rules were flushed."
        }
        "cali-PREROUTING" | "cali-INPUT" | "cali-FORWARD" | "cali-OUTPUT" | "cali-POSTROUTING" => {
            "Calico's entry from the built-in chain of the same name: dispatches to its workload, host-endpoint and NAT chains."
        }
        "cali-failsafe-in" | "cali-failsafe-out" => {
            "Calico's failsafe ports: traffic (SSH, BGP, etcd, the API server, DNS, DHCP) that policy can never block, so a bad policy cannot lock the node out."
        }
        "cali-wl-to-host" => {
            "Calico: traffic from a workload to the host itself, checked against host-endpoint policy."
        }
        "cali-from-wl-dispatch" | "cali-to-wl-dispatch" => {
            "Calico's workload dispatch: jumps to the chain of the pod interface (cali…) the packet comes from or goes to."
        }
        "cali-nat-outgoing" => {
            "Calico's natOutgoing: masquerades pod traffic leaving the IP pools for destinations outside them."
        }
        "cali-to-host-endpoint" | "cali-from-host-endpoint" => {
            "Calico's host endpoints: policy for the node's own interfaces."
        }
        "FLANNEL-POSTRTG" => {
            "flannel's masquerade: pod traffic leaving the pod network gets the node's address; pod-to-pod traffic keeps its source."
        }
        "FLANNEL-FWD" => "flannel's forwarding: accepts traffic to and from the pod network.",
        "DOCKER" => {
            "Docker's published ports: DNAT from the host port to the container (nat), or the accept for it (filter)."
        }
        "DOCKER-USER" => {
            "Docker's chain for your own rules: jumped to first in FORWARD, Docker leaves it alone."
        }
        "DOCKER-ISOLATION" | "DOCKER-ISOLATION-STAGE-1" | "DOCKER-ISOLATION-STAGE-2" => {
            "Docker's network isolation: drops traffic between different Docker networks (two stages in newer Docker)."
        }
        "DOCKER-FORWARD" => {
            "Docker ≥ 28's forwarding: the per-bridge accepts that FORWARD held before."
        }
        "WEAVE" => {
            "Weave Net's masquerade: traffic leaving the Weave network for outside gets the node's address."
        }
        "WEAVE-NPC" | "WEAVE-NPC-INGRESS" | "WEAVE-NPC-DEFAULT" => {
            "Weave Net's network policy controller: allows established traffic, then the NetworkPolicy ingress rules by ipset."
        }
        "WEAVE-NPC-EGRESS"
        | "WEAVE-NPC-EGRESS-DEFAULT"
        | "WEAVE-NPC-EGRESS-CUSTOM"
        | "WEAVE-NPC-EGRESS-ACCEPT" => {
            "Weave Net's egress policy: marks traffic an egress NetworkPolicy allows, drops the rest."
        }
        "WEAVE-CANARY" => {
            "Weave Net's canary: an empty chain whose absence tells Weave the rules were flushed."
        }
        "AWS-SNAT-CHAIN-0" => {
            "The AWS VPC CNI's SNAT: pod traffic leaving the VPC gets the node's primary address (`--random-fully`); traffic inside the VPC keeps the pod's."
        }
        "AWS-CONNMARK-CHAIN-0" => {
            "The AWS VPC CNI's connmark: marks connections that came in on the primary interface so replies leave the same way."
        }
        "IP-MASQ-AGENT" | "IP-MASQ" => {
            "ip-masq-agent: leaves traffic to the non-masquerade CIDRs alone (RETURN), masquerades the rest."
        }
        "CILIUM_PRE_nat" | "CILIUM_POST_nat" | "CILIUM_OUTPUT_nat" => {
            "Cilium's NAT hooks: masquerade for traffic leaving the cluster when BPF masquerading is off."
        }
        "CILIUM_PRE_mangle" | "CILIUM_POST_mangle" => {
            "Cilium's mangle hooks: TPROXY for the L7 proxy (marks 0x200/0xa00), and marks for the proxy's return path."
        }
        "CILIUM_PRE_raw" | "CILIUM_OUTPUT_raw" => {
            "Cilium's raw hooks: NOTRACK for traffic the datapath handles itself (proxy, encryption), so conntrack stays out of it."
        }
        "CILIUM_INPUT" | "CILIUM_FORWARD" | "CILIUM_OUTPUT" => {
            "Cilium's filter hooks: accepts what its BPF datapath already allowed (the mark it set)."
        }
        _ => match owner {
            Owner::Calico if name.starts_with("cali-fw-") || name.starts_with("cali-tw-") => {
                "Calico: policy for one workload interface (from it: fw, to it: tw), then its profiles."
            }
            Owner::Calico if name.starts_with("cali-pi-") || name.starts_with("cali-po-") => {
                "Calico: one NetworkPolicy's ingress (pi) or egress (po) rules."
            }
            Owner::Calico if name.starts_with("cali-pri-") || name.starts_with("cali-pro-") => {
                "Calico: one profile's ingress (pri) or egress (pro) rules (a namespace's or service account's defaults)."
            }
            Owner::Calico if name.starts_with("cali-fip-") => "Calico: floating IP DNAT.",
            Owner::Calico => {
                "A Calico chain: the accept mark 0x10000 carries a verdict between its chains."
            }
            Owner::CniPlugins => {
                "The CNI bridge plugin's per-pod masquerade (traffic from the pod leaving the pod network), or portmap's host ports."
            }
            Owner::KubeRouter if name.starts_with("KUBE-POD-FW-") => {
                "kube-router: the network policy firewall of one pod."
            }
            Owner::KubeRouter if name.starts_with("KUBE-NWPLCY-") => {
                "kube-router: the rules of one NetworkPolicy."
            }
            Owner::KubeRouter => "A kube-router chain (its network policy and service proxy).",
            Owner::Istio => {
                "Istio's traffic capture: redirects the pod's inbound and outbound traffic to the sidecar or ztunnel."
            }
            Owner::Cilium => "A Cilium chain.",
            Owner::Weave => "A Weave Net chain.",
            Owner::Docker => "A Docker chain.",
            _ => return None,
        },
    };
    Some(words.to_string())
}

/// What the chains of the Services stand for, in Kubernetes words, for the graph's second
/// line: an endpoint chain (`KUBE-SEP-…`) its endpoint's address, every other chain of a
/// Service port the Service's name (`default/web:http`).
pub fn service_words(services: &[super::ServicePort]) -> std::collections::HashMap<String, String> {
    let mut words = std::collections::HashMap::new();
    for s in services {
        for c in &s.chains {
            words.entry(c.clone()).or_insert_with(|| s.name.clone());
        }
        for e in &s.endpoints {
            if let Some(address) = &e.address {
                words.insert(e.chain.clone(), format!("→ {address}"));
            }
        }
    }
    words
}

/// The graph's second line for `chain`: its Service words, else the component beside
/// kube-proxy that writes it (`Calico`); kube-proxy's fixed chains and the built-ins keep
/// their names alone.
pub fn chain_words(
    service_words: &std::collections::HashMap<String, String>,
    chain: &str,
) -> Option<String> {
    service_words.get(chain).cloned().or_else(|| {
        owner(chain)
            .filter(|o| !matches!(o, Owner::Netfilter | Owner::KubeProxy))
            .map(|o| o.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_from_names_seen_on_real_nodes() {
        for (name, who) in [
            ("KUBE-SERVICES", Owner::KubeProxy),
            ("KUBE-SVC-ERIFXISQEP7F7OF4", Owner::KubeProxy),
            ("KUBE-FIREWALL", Owner::Kubelet),
            ("KUBE-NWPLCY-DEFAULT", Owner::KubeRouter),
            ("KUBE-ROUTER-INPUT", Owner::KubeRouter),
            ("cali-tw-cali1234", Owner::Calico),
            ("CILIUM_PRE_mangle", Owner::Cilium),
            ("FLANNEL-POSTRTG", Owner::Flannel),
            ("WEAVE-NPC-EGRESS", Owner::Weave),
            ("DOCKER-ISOLATION-STAGE-2", Owner::Docker),
            ("CNI-0d314787d804206fd0db3f98", Owner::CniPlugins),
            ("AWS-SNAT-CHAIN-0", Owner::AwsVpcCni),
            ("IP-MASQ-AGENT", Owner::IpMasqAgent),
            ("ISTIO_PRERT", Owner::Istio),
            ("POSTROUTING", Owner::Netfilter),
        ] {
            assert_eq!(owner(name), Some(who), "{name}");
        }
        assert_eq!(owner("desktop"), None);
        assert!(describe("cali-failsafe-in").is_some_and(|d| d.contains("failsafe")));
        assert!(describe("cali-pi-_abc").is_some_and(|d| d.contains("NetworkPolicy")));
        assert_eq!(describe("desktop"), None);
    }
}
