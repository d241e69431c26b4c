//! Kubernetes meaning: the ruleset read back into the Services kube-proxy wrote it from
//! (NETFILTER.md §6.1), their probability cascades, findings about them, plain-language
//! explanations of rules and chains, and the comparison of two rulesets.
//!
//! Decoding reads structure first and comments second, so it works on every kube-proxy
//! generation in the fixtures (userspace-era `KUBE-PORTALS-*`, `KUBE-XLB`/`KUBE-FW`,
//! `KUBE-EXT`/`KUBE-SVL`, filter `KUBE-PROXY-FIREWALL`) and on large-cluster dumps without
//! comments: a Service port's chains share one hash (`KUBE-SVC-H`, `KUBE-EXT-H`, `KUBE-FW-H`,
//! `KUBE-XLB-H`, `KUBE-SVL-H`), entry rules in `KUBE-SERVICES`/`KUBE-NODEPORTS` say where it is
//! reached, and the jumps of its `KUBE-SVC`/`KUBE-SVL` chain are its endpoints.

mod cascade;
mod decode;
mod diff;
mod entry;
mod explain;
mod findings;
mod lossy;
pub mod owners;
pub mod presets;

use serde::Serialize;

use crate::model::Ruleset;
use crate::model::values::Protocol;
use crate::sim::NodeFacts;
use crate::text::Span;

pub use cascade::{Cascade, CascadeForm, CascadeStep, monte_carlo};
pub use decode::{decode, ipvs_mode};
pub use diff::{Diff, ServiceChange, diff};
pub use entry::{Assumed, complete};
pub use explain::{explain_chain, explain_rule};
pub use findings::{Finding, Probe, SNAT_POOL, findings};
pub use lossy::flag_lossy;
pub use presets::{presets, probe_query, probe_target, targets};

/// One Service port as kube-proxy programs it ("namespace/name:port").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServicePort {
    /// `namespace/name:port` (or `namespace/name` when the port has no name); for rules
    /// without comments, the `KUBE-SVC-…` chain that stands for it.
    pub name: String,
    /// Whether `name` comes from kube-proxy's comments (false: only the chain name is known).
    pub named: bool,
    #[serde(serialize_with = "protocol_name")]
    pub protocol: Option<Protocol>,
    /// `ip:port`; placeholders (`x.x.x.x`) are kept as written.
    pub cluster_ip: Option<String>,
    pub node_port: Option<u16>,
    pub external_ips: Vec<String>,
    pub load_balancer_ips: Vec<String>,
    /// Sources allowed to reach the load balancer IPs (`loadBalancerSourceRanges`).
    pub source_ranges: Vec<String>,
    /// Only for Services reachable from outside (NodePort, external or load balancer IPs).
    pub external_traffic_policy: Option<Policy>,
    pub internal_traffic_policy: Policy,
    /// `sessionAffinity: ClientIP` with its timeout in seconds.
    pub affinity_seconds: Option<u32>,
    /// The userspace proxy (before iptables mode): endpoints are chosen by kube-proxy itself.
    pub userspace: bool,
    /// An IPVS virtual server (`ipvsadm -Ln`): its endpoints are the real servers, with shares
    /// by weight; the iptables rules do not choose them.
    pub ipvs: bool,
    /// Whether its load-balancing chain (`KUBE-SVC`/`KUBE-SVL`) is in the paste; when it is not,
    /// `endpoints` is empty because they are unknown, not because there are none.
    pub endpoints_known: bool,
    /// In cascade order: the cluster-wide cascade (`KUBE-SVC`), then, when it differs, the
    /// local one (`KUBE-SVL`); each endpoint's `rule` says which.
    pub endpoints: Vec<Endpoint>,
    /// The probability that a connection finds no endpoint rule at all (a cascade whose last
    /// rule still has a probability); 0 for a complete cascade.
    pub unmatched: f64,
    /// filter rules that reject or drop its traffic because it has no (local) endpoints.
    pub no_endpoints: Option<RuleRef>,
    pub no_local_endpoints: Option<RuleRef>,
    /// How many nat rules the first packet of a connection to its cluster IP evaluates at
    /// most: the rules of KUBE-SERVICES up to its own, its cascade, and its endpoint's chain.
    pub cost: Option<usize>,
    /// Every chain of this Service port, in the order met.
    pub chains: Vec<String>,
    /// The rules that lead to it (`KUBE-SERVICES`, `KUBE-NODEPORTS`, portals).
    pub entries: Vec<RuleRef>,
}

impl ServicePort {
    /// A Service port known only by `name` so far: nothing decoded yet.
    pub fn unnamed(name: String) -> ServicePort {
        ServicePort {
            name,
            named: false,
            protocol: None,
            cluster_ip: None,
            node_port: None,
            external_ips: Vec::new(),
            load_balancer_ips: Vec::new(),
            source_ranges: Vec::new(),
            external_traffic_policy: None,
            internal_traffic_policy: Policy::Cluster,
            affinity_seconds: None,
            userspace: false,
            ipvs: false,
            endpoints_known: false,
            endpoints: Vec::new(),
            unmatched: 0.0,
            no_endpoints: None,
            no_local_endpoints: None,
            cost: None,
            chains: Vec::new(),
            entries: Vec::new(),
        }
    }
}

/// One endpoint: a `KUBE-SEP-…` chain (or a DNAT rule, in the oldest shapes).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Endpoint {
    /// `ip:port`, or `None` when neither its chain nor a comment is in the paste.
    pub address: Option<String>,
    /// The chain it is reached through (`KUBE-SEP-…`).
    pub chain: String,
    /// Whether the chain is in the paste.
    pub chain_present: bool,
    /// Local to this node (listed in `KUBE-SVL`/`KUBE-XLB`), when the rules say.
    pub local: Option<bool>,
    /// The rule of the cascade that picks it.
    pub rule: RuleRef,
    /// The rule's own `statistic` value: the kernel's P32 (`None`: taken unconditionally).
    pub p32: Option<u32>,
    /// The probability as the dump prints it (`0.33333333349`), if any.
    pub shown: Option<String>,
    /// The share of the new connections entering its cascade that reach it: exact, from
    /// P32/2^31 down the cascade.
    pub probability: f64,
    /// Whether it has the hairpin rule (`-s ENDPOINT -j KUBE-MARK-MASQ`).
    pub hairpin: Option<RuleRef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Policy {
    Cluster,
    Local,
}

/// A rule by position, as the kernel's trace names it, with where it is in the paste.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub table: String,
    pub chain: String,
    /// 1-based position in the chain.
    pub rule: usize,
    pub span: Span,
}

fn protocol_name<S: serde::Serializer>(p: &Option<Protocol>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(&p.to_string()),
        None => s.serialize_none(),
    }
}

/// Everything chainlens says about a ruleset in Kubernetes terms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    pub services: Vec<ServicePort>,
    pub findings: Vec<Finding>,
}

impl Analysis {
    /// Decodes the Services and looks for problems; `facts` are the node facts the packet
    /// probes use (as for the simulator).
    pub fn of(ruleset: &Ruleset, facts: &NodeFacts) -> Analysis {
        let services = decode(ruleset);
        let findings = findings(ruleset, &services, facts);
        Analysis { services, findings }
    }
}
