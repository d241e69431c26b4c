//! A trace request as the front ends hold it — the tracer's form, a link's state or the CLI's
//! options — turned into a packet and node facts in one place, and walked.

use std::fmt;
use std::net::IpAddr;

use super::outcome::{Simulation, Which};
use super::packet::{Entry, Inferred, NodeFacts, Packet};
use super::walk::{Limits, Simulator};
use crate::model::Ruleset;
use crate::model::values::Protocol;
use crate::share::TraceQuery;

/// A packet to trace and what the user says about the node, typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: Protocol,
    pub dport: u16,
    pub sport: u16,
    /// Where the packet enters; `None` decides by its source (a node address is local, one in
    /// the pod network a pod's, anything else from outside).
    pub from: Option<Entry>,
    /// The interface it arrives on; `None` is the node's default for where it enters.
    pub in_iface: Option<String>,
    /// The node's own addresses, besides loopback.
    pub local_ips: Vec<IpAddr>,
    pub which: Which,
    /// `recent` lists that already hold the source (session affinity from an earlier
    /// connection).
    pub recent: Vec<String>,
}

/// A form field that does not hold what it must.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    pub field: &'static str,
    pub value: String,
    pub why: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}` {}", self.field, self.value, self.why)
    }
}

impl std::error::Error for QueryError {}

fn field(field: &'static str, value: &str, why: &str) -> QueryError {
    QueryError {
        field,
        value: value.to_string(),
        why: why.to_string(),
    }
}

impl Query {
    /// A packet from `src` to `dst:dport`, the first of its connection, entering as its source
    /// says.
    pub fn new(src: IpAddr, dst: IpAddr, protocol: Protocol, dport: u16) -> Self {
        Query {
            src,
            dst,
            protocol,
            dport,
            sport: 40000,
            from: None,
            in_iface: None,
            local_ips: Vec::new(),
            which: Which::First,
            recent: Vec::new(),
        }
    }

    /// Reads the tracer's form (as a link carries it).
    pub fn from_form(f: &TraceQuery) -> Result<Query, QueryError> {
        let ip = |name: &'static str, text: &str| {
            text.trim()
                .parse::<IpAddr>()
                .map_err(|_| field(name, text, "is not an IP address"))
        };
        let port = |name: &'static str, text: &str, default: u16| match text.trim() {
            "" => Ok(default),
            t => t
                .parse::<u16>()
                .map_err(|_| field(name, text, "is not a port number from 0 to 65535")),
        };
        let protocol = match f.proto.trim() {
            "" => Protocol::TCP,
            p => Protocol::parse(p).map_err(|e| field("protocol", p, &format!(": {e}")))?,
        };
        let mut local_ips = Vec::new();
        for a in f.local_ips.split([',', ' ']).filter(|s| !s.is_empty()) {
            local_ips.push(ip("node address", a)?);
        }
        Ok(Query {
            src: ip("source", &f.src)?,
            dst: ip("destination", &f.dst)?,
            protocol,
            dport: port("port", &f.dport, 0)?,
            sport: port("source port", &f.sport, 40000)?,
            from: match f.from.trim() {
                "" => None,
                "outside" => Some(Entry::Outside),
                "pod" => Some(Entry::Pod),
                "local" | "node" => Some(Entry::Local),
                other => return Err(field("from", other, "must be outside, pod or local")),
            },
            in_iface: Some(f.in_iface.trim().to_string()).filter(|s| !s.is_empty()),
            local_ips,
            which: match f.which.trim() {
                "" | "first" => Which::First,
                "next" => Which::Next,
                "reply" => Which::Reply,
                other => return Err(field("packet", other, "must be first, next or reply")),
            },
            recent: Vec::new(),
        })
    }

    /// The node facts for this query: those read off the rules, with the user's additions.
    /// What the user gave is no longer said as unknown.
    pub fn facts(&self, inferred: (NodeFacts, Vec<Inferred>)) -> (NodeFacts, Vec<Inferred>) {
        let (mut facts, mut said) = inferred;
        facts.local_ips.extend(self.local_ips.iter().copied());
        facts
            .recent
            .extend(self.recent.iter().map(|list| (list.clone(), self.src)));
        if !self.local_ips.is_empty() {
            said.retain(|s| *s != Inferred::NodeAddressesUnknown);
        }
        (facts, said)
    }

    /// The packet, entering where `from` says or its source suggests.
    pub fn packet(&self, facts: &NodeFacts) -> Packet {
        let entry = self.from.unwrap_or(if facts.is_local(self.src) {
            Entry::Local
        } else if facts.is_pod(self.src) {
            Entry::Pod
        } else {
            Entry::Outside
        });
        let mut packet = Packet::new(self.src, self.dst, self.protocol, self.dport, entry);
        packet.sport = self.sport;
        packet.in_iface = self.in_iface.clone();
        packet
    }

    /// Walks the packet through `ruleset`, with the facts read off it and the user's.
    pub fn trace<'r>(&self, ruleset: &'r Ruleset) -> Traced<'r> {
        self.trace_with(ruleset, NodeFacts::infer(ruleset), Limits::default())
    }

    /// [`Query::trace`] with facts already read and other limits.
    pub fn trace_with<'r>(
        &self,
        ruleset: &'r Ruleset,
        inferred: (NodeFacts, Vec<Inferred>),
        limits: Limits,
    ) -> Traced<'r> {
        let (facts, inferred) = self.facts(inferred);
        let packet = self.packet(&facts);
        let simulation = Simulator::new(ruleset)
            .with_limits(limits)
            .trace(&packet, &facts, self.which);
        Traced {
            which: self.which,
            packet,
            facts,
            inferred,
            simulation,
        }
    }
}

/// A traced query: the packet as sent, the node facts used and how they were found, and the
/// outcomes.
#[derive(Clone, Debug)]
pub struct Traced<'r> {
    pub which: Which,
    pub packet: Packet,
    pub facts: NodeFacts,
    pub inferred: Vec<Inferred>,
    pub simulation: Simulation<'r>,
}
