//! Plain-language explanations: what a rule does ("marks the packet for masquerade if it does
//! not come from the pod network 10.244.0.0/16 …") and what a chain is for, in kube-proxy's
//! terms where the shape is kube-proxy's, and read off the matches and target otherwise.

use super::ServicePort;
use super::decode::service_name;
use crate::ext::matches::{Match, RecentCommand, Statistic};
use crate::ext::targets::Action;
use crate::model::values::Address;
use crate::model::{Chain, Rule, Table};

/// The Service whose chains include `chain`.
fn owner<'s>(services: &'s [ServicePort], chain: &str) -> Option<&'s ServicePort> {
    services
        .iter()
        .find(|s| s.chains.iter().any(|c| c == chain))
}

/// What rule `index` (0-based) of `chain` does.
pub fn explain_rule(
    table: &Table,
    chain: &Chain,
    index: usize,
    services: &[ServicePort],
) -> String {
    let Some(rule) = chain.rules.get(index) else {
        return String::new();
    };
    let general = general(rule);
    match kube_proxy(table, chain, rule, services) {
        Some(special) => format!("{special} In detail: {general}"),
        None => general,
    }
}

/// kube-proxy's own rule shapes, said in its terms.
fn kube_proxy(
    table: &Table,
    chain: &Chain,
    rule: &Rule,
    services: &[ServicePort],
) -> Option<String> {
    let target = rule.target.as_ref()?;
    let src = rule.header.src.as_ref();
    let dst = rule.header.dst.as_ref().map(|d| d.value.to_string());
    let service = owner(services, &chain.name)
        .map(|s| s.name.clone())
        .or_else(|| rule.comment().and_then(service_name));
    let for_service = service
        .as_deref()
        .map_or(String::new(), |s| format!(" of Service {s}"));
    if target.name == "KUBE-MARK-MASQ" {
        if chain.name.starts_with("KUBE-SEP-")
            && let Some(s) = src.filter(|s| !s.negated)
        {
            let own = own_dnat(chain).unwrap_or_else(|| "its endpoint".into());
            return Some(format!(
                "Hairpin{for_service}: marks for masquerade connections that come from the endpoint {} itself. This only happens when a pod reaches its own Service and the cascade picks that same pod ({own}): without SNAT it would answer itself directly from its own address and the reply would not match the connection, so the node becomes the source.",
                s.value
            ));
        }
        if let Some(s) = src.filter(|s| s.negated) {
            return Some(format!(
                "Marks the packet for masquerade if it does not come from the pod network {}{}: traffic from outside the pod network (the node itself, other hosts) gets the node's address as source, so the reply returns through this node and is un-NATed.",
                s.value,
                dst.as_deref().map_or(String::new(), |d| format!(
                    " and is going to {d}{for_service}"
                )),
            ));
        }
        if chain.name.starts_with("KUBE-EXT-")
            || chain.name.starts_with("KUBE-XLB-")
            || chain.name == "KUBE-SERVICES" && dst.is_some()
            || chain.name == "KUBE-NODEPORTS"
        {
            return Some(format!(
                "Marks every such packet{for_service} for masquerade: external traffic loses its client address and all clients share the node's SNAT port pool toward each endpoint (externalTrafficPolicy: Cluster)."
            ));
        }
        return Some(
            "Marks the packet for masquerade in KUBE-POSTROUTING (kube-proxy's 0x4000 mark bit)."
                .into(),
        );
    }
    if target.name == "KUBE-MARK-DROP" {
        return Some(format!(
            "Marks the packet to be dropped{for_service} (0x8000 mark; KUBE-FIREWALL drops it in filter){}.",
            rule.comment()
                .filter(|c| c.contains("no local endpoints"))
                .map_or(
                    "",
                    |_| ": there is no local endpoint for externalTrafficPolicy: Local"
                )
        ));
    }
    if let Action::Masquerade(_) = &target.action
        && table.name == "nat"
    {
        return Some("Masquerades (rewrites the source to the outgoing interface's address) the packets kube-proxy marked for it.".into());
    }
    if target.name.starts_with("KUBE-SEP-") {
        let share = rule.matches.iter().find_map(|m| match m {
            Match::Statistic(Statistic::Random {
                negated: false,
                p32,
            }) => Some(*p32),
            _ => None,
        });
        let recent = rule
            .matches
            .iter()
            .any(|m| matches!(m, Match::Recent(r) if r.command.value == RecentCommand::Rcheck));
        let endpoint = owner(services, &chain.name)
            .and_then(|s| s.endpoints.iter().find(|e| e.chain == target.name))
            .map(|e| {
                (
                    e.address
                        .clone()
                        .unwrap_or_else(|| "(address not in the paste)".into()),
                    e.probability,
                )
            });
        let (addr, effective) = endpoint.unwrap_or(("(unknown)".into(), f64::NAN));
        if recent {
            return Some(format!(
                "Session affinity{for_service}: a client seen recently (in the list of {}) goes back to endpoint {addr}.",
                target.name
            ));
        }
        return Some(match share {
            Some(p32) => format!(
                "Sends {:.4}% of the connections that reach this rule (P32 {p32:#x} / 2^31) to endpoint {addr}{for_service}; {:.4}% of all its new connections end here.",
                Statistic::probability(p32) * 100.0,
                effective * 100.0
            ),
            None => format!(
                "Sends every connection that reaches this rule to endpoint {addr}{for_service} ({:.4}% of all its new connections).",
                effective * 100.0
            ),
        });
    }
    None
}

/// The `--to-destination` of a chain's DNAT rule.
fn own_dnat(chain: &Chain) -> Option<String> {
    chain
        .rules
        .iter()
        .find_map(|r| match r.target.as_ref().map(|t| &t.action) {
            Some(Action::Dnat(n)) => n.addrs.map(|(ip, _)| match n.ports {
                Some((p, _)) => std::net::SocketAddr::new(ip, p).to_string(),
                None => ip.to_string(),
            }),
            _ => None,
        })
}

/// The rule read off its conditions and target: "Packets from … to …: jump to …".
fn general(rule: &Rule) -> String {
    let mut when: Vec<String> = Vec::new();
    let h = &rule.header;
    let subject = match &h.protocol {
        Some(p) if p.value.0 != 0 && !p.negated => {
            format!("{} packets", p.value.to_string().to_uppercase())
        }
        Some(p) if p.value.0 != 0 => {
            format!("Packets other than {}", p.value.to_string().to_uppercase())
        }
        _ => "Packets".to_string(),
    };
    for (addr, from) in [(&h.src, "from"), (&h.dst, "to")] {
        if let Some(a) = addr {
            let what = match &a.value {
                Address::Net(c) => c.to_string(),
                Address::Placeholder(p) => format!("{p} (a placeholder in the paste)"),
            };
            when.push(format!(
                "{}{from} {what}",
                if a.negated { "not " } else { "" }
            ));
        }
    }
    for (iface, how) in [(&h.in_iface, "arriving on"), (&h.out_iface, "leaving on")] {
        if let Some(i) = iface {
            when.push(format!(
                "{}{how} {}",
                if i.negated { "not " } else { "" },
                i.value.0
            ));
        }
    }
    for m in &rule.matches {
        if let Some(text) = m.explain() {
            when.push(text);
        }
    }
    let action = match &rule.target {
        Some(t) => action(t),
        None => "only counted (the rule has no target)".into(),
    };
    let comment = rule
        .comment()
        .map_or(String::new(), |c| format!(" (comment: \"{c}\")"));
    if when.is_empty() && subject == "Packets" {
        format!("Every packet: {action}.{comment}")
    } else if when.is_empty() {
        format!("{subject}: {action}.{comment}")
    } else {
        format!("{subject} {}: {action}.{comment}", when.join(", "))
    }
}

fn action(t: &crate::model::Target) -> String {
    match &t.action {
        Action::Chain if t.goto => format!("go to chain {} (it does not come back here)", t.name),
        Action::Chain => format!("continue in chain {}", t.name),
        Action::Accept => "accept (this table is done with it)".into(),
        Action::Drop => "drop silently".into(),
        Action::Return => "return to the calling chain".into(),
        Action::Queue => "hand the packet to a userspace program (QUEUE)".into(),
        Action::Unknown(_) => format!("apply {} (not interpreted by chainlens)", t.name),
        a => a
            .explain()
            .unwrap_or_else(|| format!("apply {} and go on", t.name)),
    }
}

/// What a chain is for.
pub fn explain_chain(table: &Table, chain: &Chain, services: &[ServicePort]) -> String {
    let name = chain.name.as_str();
    let service = owner(services, name);
    let of = service.map_or(String::new(), |s| format!(" of Service {}", s.name));
    let rules = chain.rules.len();
    match name {
        "PREROUTING" => "Built-in: every packet arriving at the node, before routing.".to_string(),
        "INPUT" => "Built-in: packets for this node itself, after routing.".into(),
        "FORWARD" => "Built-in: packets routed through the node (to pods, or onward).".into(),
        "OUTPUT" => "Built-in: packets sent by processes on the node.".into(),
        "POSTROUTING" => "Built-in: every packet leaving the node, after routing.".into(),
        "KUBE-SERVICES" if table.name == "nat" => format!("kube-proxy's Service dispatcher: one rule per Service address and port, tried in order by the first packet of every connection ({rules} rules); the last one sends traffic for the node's own addresses to KUBE-NODEPORTS."),
        "KUBE-SERVICES" => "kube-proxy's filter rules for Services: rejects traffic to Services without endpoints.".into(),
        "KUBE-EXTERNAL-SERVICES" => "kube-proxy's filter rules for external traffic: rejects or drops NodePort and external IP traffic to Services without (local) endpoints.".into(),
        "KUBE-NODEPORTS" => "kube-proxy's NodePorts: traffic to one of the node's addresses, by port.".into(),
        "KUBE-POSTROUTING" => "kube-proxy's masquerade: packets with the 0x4000 mark get the node's address as source.".into(),
        "KUBE-MARK-MASQ" => "Sets the 0x4000 mark: the packet will be masqueraded in KUBE-POSTROUTING.".into(),
        "KUBE-MARK-DROP" => "Sets the 0x8000 mark: KUBE-FIREWALL drops such packets.".into(),
        "KUBE-FORWARD" => "kube-proxy's forwarding rules: accepts marked and established traffic, drops INVALID.".into(),
        "KUBE-FIREWALL" => "kubelet's firewall: drops packets with the 0x8000 mark and outside traffic to 127.0.0.0/8.".into(),
        "KUBE-PROXY-FIREWALL" => "kube-proxy's load balancer source-range firewall: drops traffic not allowed by loadBalancerSourceRanges.".into(),
        n if n.starts_with("KUBE-PORTALS-") || n.starts_with("KUBE-NODEPORT-") => "The userspace proxy's portals: Service traffic redirected to kube-proxy itself.".into(),
        n if n.starts_with("KUBE-SVC-") => match service {
            Some(s) => format!("Load balancing{of}: picks one of {} endpoint{} by the cascade of statistic rules.", s.endpoints.len(), if s.endpoints.len() == 1 { "" } else { "s" }),
            None => "Load balancing of one Service port.".into(),
        },
        n if n.starts_with("KUBE-SVL-") => format!("Load balancing over the local endpoints only{of} (traffic policy Local)."),
        n if n.starts_with("KUBE-EXT-") => format!("External traffic{of} (NodePort, external and load balancer IPs): decides masquerade by the external traffic policy, then load-balances."),
        n if n.starts_with("KUBE-FW-") => format!("Load balancer IP{of}: lets through the allowed source ranges, drops the rest."),
        n if n.starts_with("KUBE-XLB-") => format!("External traffic{of} with externalTrafficPolicy: Local (older kube-proxy): local endpoints only, pods redirected to the cluster IP."),
        n if n.starts_with("KUBE-SEP-") => {
            let addr = own_dnat(chain).unwrap_or_else(|| "(address not in the paste)".into());
            format!("Endpoint {addr}{of}: hairpin masquerade for the endpoint itself, then DNAT to it.")
        }
        _ => {
            let count = format!("{rules} rule{}", if rules == 1 { "" } else { "s" });
            match (super::owners::describe(name), super::owners::owner(name)) {
                (Some(words), Some(who)) => format!("{words} Written by {who}; {count}."),
                (None, Some(who)) => format!("A chain of {who} with {count}."),
                _ => format!("A user chain with {count}."),
            }
        }
    }
}
