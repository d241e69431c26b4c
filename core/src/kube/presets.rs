//! The packets worth tracing to one Service port, as the tracer's form holds them: from a pod,
//! from outside and from the node to its cluster IP; from outside to its external IPs, load
//! balancer IPs and node port. Sources are documentation addresses unless the facts say more.

use std::net::{IpAddr, SocketAddr};

use super::ServicePort;
use super::findings::Probe;
use crate::share::TraceQuery;
use crate::sim::{Entry, NodeFacts};

/// A client outside the cluster, in documentation space.
pub const OUTSIDE: &str = "203.0.113.77";
/// The node's address when the facts do not give one (documentation space).
pub const NODE: &str = "192.0.2.1";

/// Each packet with a label saying what it is.
pub fn presets(s: &ServicePort, facts: &NodeFacts) -> Vec<(String, TraceQuery)> {
    let proto = s.protocol.map_or("tcp".to_string(), |p| p.to_string());
    let pod = facts
        .pod_cidr
        .map_or("10.244.0.99".to_string(), |c| match c.addr {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3].wrapping_add(99))
            }
            ip => ip.to_string(),
        });
    let node = facts
        .local_ips
        .first()
        .map_or(NODE.to_string(), IpAddr::to_string);
    // Placeholders (`x.x.x.x:53`) cannot be sent to.
    let base = |from: &str, src: &str, addr: &str| {
        let to: SocketAddr = addr.parse().ok()?;
        let (ip, port) = (to.ip().to_string(), to.port().to_string());
        Some(TraceQuery {
            from: from.into(),
            src: src.into(),
            dst: ip,
            proto: proto.clone(),
            dport: port,
            which: "first".into(),
            ..TraceQuery::default()
        })
    };
    let mut out: Vec<(String, TraceQuery)> = Vec::new();
    if let Some(c) = &s.cluster_ip {
        out.extend(base("pod", &pod, c).map(|f| (format!("from a pod → cluster IP {c}"), f)));
        out.extend(
            base("outside", OUTSIDE, c).map(|f| (format!("from outside → cluster IP {c}"), f)),
        );
        // From a process on the node itself: its own address as source.
        out.extend(base("local", &node, c).map(|mut f| {
            f.local_ips = node.clone();
            (format!("from the node → cluster IP {c}"), f)
        }));
    }
    for e in &s.external_ips {
        out.extend(
            base("outside", OUTSIDE, e).map(|f| (format!("from outside → external IP {e}"), f)),
        );
    }
    for e in &s.load_balancer_ips {
        out.extend(
            base("outside", OUTSIDE, e).map(|f| (format!("from outside → load balancer {e}"), f)),
        );
    }
    if let Some(p) = s.node_port {
        out.push((
            format!("from outside → node port {p} (node {node})"),
            TraceQuery {
                from: "outside".into(),
                src: OUTSIDE.into(),
                dst: node.clone(),
                proto: proto.clone(),
                dport: p.to_string(),
                local_ips: node.clone(),
                which: "first".into(),
                ..TraceQuery::default()
            },
        ));
    }
    out
}

/// The Service's addresses traffic from outside reaches, as `ip:port/proto` (the planner's
/// targets): external IPs, load balancer IPs, then the cluster IP.
pub fn targets(s: &ServicePort) -> Vec<String> {
    let proto = s.protocol.map_or("tcp".to_string(), |p| p.to_string());
    s.external_ips
        .iter()
        .chain(&s.load_balancer_ips)
        .chain(&s.cluster_ip)
        .filter(|a| a.parse::<SocketAddr>().is_ok())
        .map(|a| format!("{a}/{proto}"))
        .collect()
}

/// The tracer's form for the packet a finding is about (its [`Probe`]).
pub fn probe_query(p: &Probe) -> TraceQuery {
    let (from, src) = match p.entry {
        Entry::Outside => ("outside", OUTSIDE.to_string()),
        Entry::Pod => ("pod", "10.244.0.99".to_string()),
        Entry::Local => ("local", p.node.map_or(NODE.to_string(), |n| n.to_string())),
    };
    TraceQuery {
        from: from.into(),
        src,
        dst: p.dst.ip().to_string(),
        proto: p.protocol.to_string(),
        dport: p.dst.port().to_string(),
        local_ips: p.node.map(|n| n.to_string()).unwrap_or_default(),
        which: "first".into(),
        ..TraceQuery::default()
    }
}

/// The planner's target for the packet a finding is about: `ip:port/proto`.
pub fn probe_target(p: &Probe) -> String {
    format!("{}/{}", p.dst, p.protocol)
}
