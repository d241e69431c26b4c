//! Findings: what is wrong or worth knowing about a ruleset, each with a code, a severity, the
//! rules it points at, an explanation and what to do. Masquerade findings come from packets
//! walked through the simulator, not from pattern matching, so they hold for any rule shape.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::{RuleRef, ServicePort};
use crate::diag::Severity;
use crate::ext::matches::Match;
use crate::ext::targets::Action;
use crate::model::{Origin, Rule, Ruleset, Table, TargetKind};
use crate::sim::{Effect, Entry, Limits, NodeFacts, Packet, Simulator, Step, Verdict};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    /// One line: what is the matter.
    pub message: String,
    /// Why, in netfilter and Kubernetes terms.
    pub explanation: String,
    /// What to do about it.
    pub action: String,
    pub service: Option<String>,
    pub rules: Vec<RuleRef>,
    /// The packet that shows it, for a trace or a conntrack plan to start from.
    pub probe: Option<Probe>,
}

/// A packet a finding is about: where it goes, and where it enters the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub dst: SocketAddr,
    pub protocol: crate::model::values::Protocol,
    pub entry: Entry,
    /// The node address taken for a node port (the node's own addresses are not in the rules).
    pub node: Option<IpAddr>,
}

/// Ports of one SNAT pool: 1024–65535 for clients on unprivileged ports (NETFILTER.md §4.5).
pub const SNAT_POOL: u32 = 64_512;

/// How long one finished flow keeps its conntrack entry (and so its pool port): a UDP
/// query with one answer 30 s (§4.2), a closed TCP connection 120 s in TIME_WAIT (§4.1).
pub fn flow_lifetime(protocol: Option<crate::model::values::Protocol>) -> u32 {
    match protocol.and_then(|p| p.name()) {
        Some("udp") => 30,
        _ => 120,
    }
}

/// A client address for probes from outside: documentation space, never a node's.
const PROBE_CLIENT: [u8; 4] = [203, 0, 113, 77];
/// The node address assumed for NodePort probes when none is known.
const PROBE_NODE: [u8; 4] = [192, 0, 2, 1];

pub fn findings(ruleset: &Ruleset, services: &[ServicePort], facts: &NodeFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let simulator = Simulator::new(ruleset).with_limits(Limits::probe());
    for s in services {
        external_masquerade(&simulator, s, facts, &mut out);
        endpoints(s, &mut out);
    }
    hairpin(services, &mut out);
    affinity(services, &mut out);
    missing_chains(ruleset, &mut out);
    unreferenced_chains(ruleset, &mut out);
    unreachable_rules(ruleset, &mut out);
    repeated_rules(ruleset, &mut out);
    ipvs(ruleset, services, &mut out);
    cost(ruleset, services, &mut out);
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// kube-proxy in IPVS mode: its Services are IPVS virtual servers the rules do not show, and
/// KUBE-SVC chains still in the table are left over from iptables mode.
fn ipvs(ruleset: &Ruleset, services: &[ServicePort], out: &mut Vec<Finding>) {
    if !super::ipvs_mode(ruleset) {
        return;
    }
    let read = if ruleset.ipvs.is_empty() {
        "; paste `ipvsadm -Ln` with the rules to see them as Services and trace through IPVS's DNAT"
            .to_string()
    } else {
        format!(
            "; {} virtual server{} from ipvsadm shown as Services with their real servers' shares by weight, and traced through IPVS's DNAT at LOCAL_IN",
            ruleset.ipvs.len(),
            if ruleset.ipvs.len() == 1 { "" } else { "s" }
        )
    };
    let empty = crate::model::Table::new("nat", None);
    let nat = ruleset.table("nat").unwrap_or(&empty);
    let decoded: HashSet<&str> = services
        .iter()
        .flat_map(|s| s.chains.iter().map(String::as_str))
        .collect();
    let leftovers: Vec<RuleRef> = nat
        .chains
        .iter()
        .filter(|c| c.name.starts_with("KUBE-SVC-") && !decoded.contains(c.name.as_str()))
        .filter_map(|c| {
            Some(RuleRef {
                table: nat.name.clone(),
                chain: c.name.clone(),
                rule: 1,
                span: c.declared.or(c.rules.first().map(|r| r.span))?,
            })
        })
        .collect();
    let left = if leftovers.is_empty() {
        String::new()
    } else {
        format!(
            "; {} KUBE-SVC chain{} left over from iptables mode, not used",
            leftovers.len(),
            if leftovers.len() == 1 { " is" } else { "s are" }
        )
    };
    out.push(Finding {
        code: "ipvs-mode",
        severity: Severity::Info,
        message: format!("kube-proxy runs in IPVS mode on this node: its Services are IPVS virtual servers, which iptables rules do not show{left}{read}"),
        explanation: "In IPVS mode kube-proxy's iptables rules only mark traffic for masquerade and accept it, matching the addresses in ipsets (KUBE-CLUSTER-IP, KUBE-LOAD-BALANCER, KUBE-NODE-PORT-*); the DNAT to an endpoint happens in IPVS at LOCAL_IN, by the virtual server's scheduler. KUBE-SVC and KUBE-SEP chains from an earlier iptables mode stay until something flushes them, and do nothing.".into(),
        action: "Paste `ipvsadm -Ln` (the virtual servers and their real servers) and `ipset list` with the rules to see where Service traffic goes; leftover KUBE-SVC chains can be removed with `kube-proxy --cleanup` run in iptables mode.".into(),
        service: None,
        probe: None,
        rules: leftovers,
    });
}

/// The rule a simulator step names, as a reference into the paste.
fn step_ref(step: &Step<'_>) -> Option<RuleRef> {
    Some(RuleRef {
        table: step.table.to_string(),
        chain: step.chain.to_string(),
        rule: step.rule?,
        span: step.rule_in_model()?.span,
    })
}

/// Where an address text (`ip:port`) of a Service can be probed; placeholders cannot.
fn probe_target(text: &str) -> Option<SocketAddr> {
    text.parse().ok()
}

fn external_masquerade(
    simulator: &Simulator<'_>,
    s: &ServicePort,
    facts: &NodeFacts,
    out: &mut Vec<Finding>,
) {
    let Some(protocol) = s.protocol else { return };
    let mut targets: Vec<(String, SocketAddr, NodeFacts)> = Vec::new();
    for text in s.external_ips.iter().chain(&s.load_balancer_ips) {
        if let Some(a) = probe_target(text) {
            targets.push((text.clone(), a, facts.clone()));
        }
    }
    if let Some(port) = s.node_port {
        let mut f = facts.clone();
        let node = f.local_ips.first().copied().unwrap_or_else(|| {
            let ip = IpAddr::from(PROBE_NODE);
            f.local_ips.push(ip);
            ip
        });
        targets.push((format!("node port {port}"), SocketAddr::new(node, port), f));
    }
    let mut masqueraded = Vec::new();
    let mut probe = None;
    let mut rules: Vec<RuleRef> = Vec::new();
    let mut endpoints: HashSet<SocketAddr> = HashSet::new();
    for (label, to, f) in &targets {
        let mut packet = Packet::new(
            IpAddr::from(PROBE_CLIENT),
            to.ip(),
            protocol,
            to.port(),
            Entry::Outside,
        );
        packet.sport = 40000;
        let sim = simulator.run(&packet, f);
        let masq: Vec<_> = sim
            .outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Accept && o.masqueraded())
            .collect();
        let p: f64 = masq.iter().map(|o| o.probability).sum();
        if p <= 0.0 {
            continue;
        }
        masqueraded.push(format!("{label}/{protocol}"));
        probe.get_or_insert(Probe {
            dst: *to,
            protocol,
            entry: Entry::Outside,
            node: f.local_ips.contains(&to.ip()).then_some(to.ip()),
        });
        for o in &masq {
            if let Some(d) = o.dnat {
                endpoints.insert(d);
            }
            for step in &o.path {
                let marks = matches!(
                    step.effect,
                    Effect::Jump("KUBE-MARK-MASQ") | Effect::Masquerade(_) | Effect::Snat(_)
                );
                if let Some(r) = marks.then(|| step_ref(step)).flatten()
                    && !rules.contains(&r)
                {
                    rules.push(r);
                }
            }
        }
    }
    if masqueraded.is_empty() {
        return;
    }
    let n = endpoints.len().max(1);
    let lifetime = flow_lifetime(s.protocol);
    let per_pool = f64::from(SNAT_POOL) / f64::from(lifetime);
    let total = per_pool * n as f64;
    out.push(Finding {
        code: "external-masquerade",
        severity: Severity::Warning,
        message: format!(
            "external traffic to {} ({}) is masqueraded: all clients share one SNAT port pool per endpoint, full at about {:.0} new flows/s",
            masqueraded.join(", "),
            s.name,
            total
        ),
        explanation: format!(
            "A packet from outside the node is marked for masquerade on its way to the Service and KUBE-POSTROUTING rewrites its source to the node's address. Every client's connection to one endpoint then has the same (node address → endpoint address:port, {protocol}) reply tuple except for the source port, so at most {SNAT_POOL} can exist at once. Each finished {protocol} flow keeps its entry about {lifetime} s, so one endpoint's pool fills at {SNAT_POOL}/{lifetime} ≈ {per_pool:.0} new flows/s ({n} endpoint{}: ≈ {total:.0}/s); above that new flows fail NAT and are dropped at confirm (conntrack insert_failed). The endpoints also never see the client's address.",
            if n == 1 { "" } else { "s" }
        ),
        action: "Set externalTrafficPolicy: Local on the Service (external traffic keeps its client address and is not masqueraded; it only goes to endpoints on the receiving node), add endpoints (each adds a pool), or send this traffic with DNAT and no SNAT. The conntrack planner (`chainlens conntrack`) draws the pool filling at a given rate.".into(),
        service: Some(s.name.clone()),
        probe,
        rules,
    });
}

fn endpoints(s: &ServicePort, out: &mut Vec<Finding>) {
    if let Some(r) = &s.no_endpoints {
        out.push(Finding {
            code: "no-endpoints",
            severity: Severity::Warning,
            message: format!("{} has no endpoints: new connections are rejected", s.name),
            explanation: "kube-proxy found no ready endpoint for this Service port and wrote a filter rule that rejects its traffic (ICMP port unreachable, or a TCP reset), so clients fail at once instead of timing out.".into(),
            action: "Check the Service's selector and its pods' readiness (`kubectl get endpointslices -l kubernetes.io/service-name=…`).".into(),
            service: Some(s.name.clone()),
            probe: None,
            rules: vec![r.clone()],
        });
    } else if s.endpoints.is_empty()
        && !s.userspace
        && s.chains.iter().any(|c| c.starts_with("KUBE-SVC-"))
    {
        out.push(Finding {
            code: "no-endpoints",
            severity: Severity::Warning,
            message: format!("{} has no endpoint rules", s.name),
            explanation: "Its load-balancing chain picks no endpoint, so a new connection falls through the chain and continues as if the Service did not exist (usually to nowhere).".into(),
            action: "Check the Service's endpoints; if the paste was cut, paste the whole chain.".into(),
            service: Some(s.name.clone()),
            probe: None,
            rules: s.entries.clone(),
        });
    }
    if let Some(r) = &s.no_local_endpoints {
        out.push(Finding {
            code: "no-local-endpoints",
            severity: Severity::Warning,
            message: format!(
                "{} has externalTrafficPolicy: Local and no endpoint on this node: external traffic arriving here is dropped",
                s.name
            ),
            explanation: "With the Local policy a node only sends external traffic to endpoints on itself (keeping the client's address). This node has none, so kube-proxy drops that traffic here; a load balancer's health check on the Service's healthCheckNodePort is meant to take the node out of rotation.".into(),
            action: "Make sure the load balancer health-checks the Service's healthCheckNodePort, or run endpoints on this node, or use externalTrafficPolicy: Cluster.".into(),
            service: Some(s.name.clone()),
            probe: None,
            rules: vec![r.clone()],
        });
    }
    if s.unmatched > 1e-12 {
        out.push(Finding {
            code: "cascade-gap",
            severity: Severity::Warning,
            message: format!(
                "{}: {:.4}% of new connections match no endpoint rule (the cascade's last rule has a probability)",
                s.name,
                s.unmatched * 100.0
            ),
            explanation: "kube-proxy's last endpoint rule has no statistic match, so every connection that reaches it is taken. Here the last rule still draws a random number, so some connections fall through the chain and are not load-balanced at all.".into(),
            action: "The rules were edited or cut; let kube-proxy rewrite them, or paste the whole chain.".into(),
            service: Some(s.name.clone()),
            probe: None,
            rules: s.endpoints.last().map(|e| e.rule.clone()).into_iter().collect(),
        });
    }
}

fn hairpin(services: &[ServicePort], out: &mut Vec<Finding>) {
    let rules: Vec<RuleRef> = services
        .iter()
        .flat_map(|s| &s.endpoints)
        .filter_map(|e| e.hairpin.clone())
        .collect();
    if rules.is_empty() {
        return;
    }
    out.push(Finding {
        code: "hairpin-masquerade",
        severity: Severity::Info,
        message: format!(
            "{} endpoint{} masquerade connections that come from the endpoint itself (hairpin)",
            rules.len(),
            if rules.len() == 1 { "" } else { "s" }
        ),
        explanation: "Each KUBE-SEP chain starts with `-s ENDPOINT -j KUBE-MARK-MASQ`. It only matches when a pod reaches a Service and the cascade picks that same pod: after DNAT, source and destination are both the pod. Without SNAT the pod would answer itself directly, from its own address rather than the Service's, and the reply would not match the connection it opened. Masquerading makes the node the source, so the reply goes back through the node and is un-NATed. This is expected; it needs the bridge in hairpin mode or promiscuous (kubelet's hairpin-mode).".into(),
        action: "Nothing, unless pods cannot reach their own Service: then check the CNI's hairpin setting.".into(),
        service: None,
        probe: None,
        rules,
    });
}

fn affinity(services: &[ServicePort], out: &mut Vec<Finding>) {
    for s in services.iter().filter(|s| s.affinity_seconds.is_some()) {
        let seconds = s.affinity_seconds.unwrap_or(0);
        out.push(Finding {
            code: "affinity-capacity",
            severity: Severity::Info,
            message: format!(
                "{} has session affinity ({seconds} s): each endpoint remembers at most 100 client addresses",
                s.name
            ),
            explanation: "sessionAffinity: ClientIP is built from `-m recent` lists, one per endpoint. The kernel keeps 100 addresses per list by default (xt_recent ip_list_tot) and silently evicts the least recently seen when a new one arrives, so with more than 100 clients per endpoint within the timeout some clients lose their affinity and are balanced again.".into(),
            action: "With many clients per endpoint, raise xt_recent's ip_list_tot (module parameter) or do not rely on ClientIP affinity.".into(),
            service: Some(s.name.clone()),
            probe: None,
            rules: s.endpoints.iter().map(|e| e.rule.clone()).collect(),
        });
    }
}

fn rule_ref(table: &Table, chain: &crate::model::Chain, index: usize) -> RuleRef {
    RuleRef {
        table: table.name.clone(),
        chain: chain.name.clone(),
        rule: index + 1,
        span: chain.rules[index].span,
    }
}

fn missing_chains(ruleset: &Ruleset, out: &mut Vec<Finding>) {
    let mut missing: BTreeMap<String, Vec<RuleRef>> = BTreeMap::new();
    let mut listing = false;
    for table in &ruleset.tables {
        let index = table.index();
        for chain in &table.chains {
            for (i, rule) in chain.rules.iter().enumerate() {
                if let Some(t) = &rule.target
                    && index.resolve(t) == TargetKind::MissingChain
                {
                    listing |= matches!(rule.origin, Origin::Listing { .. });
                    missing
                        .entry(format!("{} {}", table.name, t.name))
                        .or_default()
                        .push(rule_ref(table, chain, i));
                }
            }
        }
    }
    if missing.is_empty() {
        return;
    }
    let names: Vec<&str> = missing
        .keys()
        .filter_map(|k| k.split_once(' ').map(|(_, c)| c))
        .collect();
    let shown = names.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    let more = names.len().saturating_sub(8);
    out.push(Finding {
        code: "missing-chain",
        severity: if listing { Severity::Info } else { Severity::Warning },
        message: format!(
            "{} chain{} jumped to but not in the paste: {shown}{}",
            names.len(),
            if names.len() == 1 { " is" } else { "s are" },
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ),
        explanation: if listing {
            "A listing shows only the chains that were listed; what the missing chains do is unknown, so the simulator treats them as returning without effect and says so.".into()
        } else {
            "iptables-restore refuses a jump to a chain that is not declared, so this dump cannot be loaded as it is; it was probably cut or filtered.".into()
        },
        action: "Paste the missing chains (`iptables -t TABLE -S CHAIN` or the whole `iptables-save`).".into(),
        service: None,
        probe: None,
        rules: missing.into_values().flatten().collect(),
    });
}

fn unreferenced_chains(ruleset: &Ruleset, out: &mut Vec<Finding>) {
    for table in &ruleset.tables {
        let targets: HashSet<&str> = table
            .chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter_map(|r| r.target.as_ref().map(|t| t.name.as_str()))
            .collect();
        // Listings show only some chains; only a complete save says a chain is unused.
        let complete = table
            .chains
            .iter()
            .flat_map(|c| &c.rules)
            .all(|r| r.origin == Origin::Save);
        let unused: Vec<&str> = table
            .chains
            .iter()
            .filter(|c| !c.is_builtin() && c.declared.is_some())
            .map(|c| c.name.as_str())
            // Written unreferenced on purpose: kubelet's and kube-proxy's canaries, the hint
            // chain that tells iptables mode apart, and kubelet's KUBE-MARK-DROP (kept for
            // others to jump to).
            .filter(|n| {
                !targets.contains(n)
                    && !n.ends_with("-CANARY")
                    && !matches!(*n, "KUBE-IPTABLES-HINT" | "KUBE-MARK-DROP")
            })
            .collect();
        if unused.is_empty()
            || !complete
            || table.chain("PREROUTING").is_none()
                && table.chain("INPUT").is_none()
                && table.chain("FORWARD").is_none()
                && table.chain("OUTPUT").is_none()
        {
            continue;
        }
        out.push(Finding {
            code: "unreferenced-chain",
            severity: Severity::Info,
            message: format!(
                "{} chain{} in {} no rule jumps to: {}",
                unused.len(),
                if unused.len() == 1 { "" } else { "s" },
                table.name,
                unused.iter().take(8).copied().collect::<Vec<_>>().join(", ")
            ),
            explanation: "No packet can reach these chains. kube-proxy deletes the chains of removed Services on its next full sync; leftovers after that are stale, or belong to another program that has not hooked them in yet.".into(),
            action: "If they are stale, delete them (`iptables -t TABLE -X CHAIN`) or let kube-proxy resync.".into(),
            service: None,
            probe: None,
            rules: Vec::new(),
        });
    }
}

/// A rule that matches every packet (no conditions) — in a listing only if interfaces show.
fn unconditional(rule: &Rule) -> bool {
    let h = &rule.header;
    let shown = !matches!(
        rule.origin,
        Origin::Listing {
            interfaces_shown: false
        }
    );
    shown
        && h.src.is_none()
        && h.dst.is_none()
        && h.in_iface.is_none()
        && h.out_iface.is_none()
        && h.protocol
            .as_ref()
            .is_none_or(|p| p.value.0 == 0 && !p.negated)
        && h.fragment.is_none()
        && rule.matches.iter().all(|m| matches!(m, Match::Comment(_)))
        && rule.complete
}

/// Whether a rule's target always ends the walk of its chain for the packets it matches.
fn ends_chain(rule: &Rule) -> bool {
    rule.target.as_ref().is_some_and(|t| {
        t.goto
            || matches!(
                t.action,
                Action::Accept
                    | Action::Drop
                    | Action::Reject(_)
                    | Action::Return
                    | Action::Dnat(_)
                    | Action::Snat(_)
                    | Action::Masquerade(_)
                    | Action::Redirect(_)
            )
    })
}

/// A rule written again in the same chain (a component that appends its rules on every
/// restart, a paste listed twice): the second does nothing the first did not.
fn repeated_rules(ruleset: &Ruleset, out: &mut Vec<Finding>) {
    let (mut rules, mut lossy) = (Vec::new(), Vec::new());
    for table in &ruleset.tables {
        for chain in &table.chains {
            let mut seen: HashMap<String, &Rule> = HashMap::new();
            for (i, rule) in chain.rules.iter().enumerate() {
                // A second draw of a probability, a limit or a recent list is not a repeat.
                let stateful = rule
                    .matches
                    .iter()
                    .any(|m| matches!(m, Match::Statistic(_) | Match::Limit(_) | Match::Recent(_)));
                if rule.origin == Origin::Assumed || stateful {
                    continue;
                }
                let mut bare = rule.clone();
                bare.counters = None;
                match seen.entry(crate::print::rule(&bare, ruleset.ipv6)) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(rule);
                    }
                    // The earlier copy ends the chain for what it matches, yet this one
                    // counted packets: they differ in matches the printing iptables left out.
                    std::collections::hash_map::Entry::Occupied(first)
                        if ends_chain(first.get())
                            && rule.counters.is_some_and(|c| c.packets > 0) =>
                    {
                        lossy.push(rule_ref(table, chain, i));
                    }
                    std::collections::hash_map::Entry::Occupied(_) => {
                        rules.push(rule_ref(table, chain, i));
                    }
                }
            }
        }
    }
    if !lossy.is_empty() {
        out.push(Finding {
            code: "lossy-print",
            severity: Severity::Warning,
            message: format!(
                "{} {} an earlier rule that ends the chain, yet counted packets: matches are missing from the paste",
                lossy.len(),
                if lossy.len() == 1 { "rule prints like" } else { "rules print like" }
            ),
            explanation: "Had the rules been the same, the earlier one would have taken every packet and the later one would count none. They differ in matches this iptables did not print: an iptables older than the one that wrote the rules (or iptables-legacy reading what iptables-nft wrote) shows only what it knows. Traces through these rules are not what the kernel does.".into(),
            action: "Paste the output of the iptables that wrote the rules: `iptables-nft-save` (or `iptables-legacy-save`), from the same version as the component that installed them.".into(),
            service: None,
            probe: None,
            rules: lossy,
        });
    }
    if rules.is_empty() {
        return;
    }
    out.push(Finding {
        code: "repeated-rule",
        severity: Severity::Warning,
        message: format!(
            "{} {} an earlier rule of the same chain",
            rules.len(),
            if rules.len() == 1 { "rule repeats" } else { "rules repeat" }
        ),
        explanation: "The same matches and target appear earlier in the chain: a packet the repeat would take was already taken (a verdict) or already changed the same way. Components that append their rules when they restart without checking leave such copies; each costs an evaluation per packet.".into(),
        action: "Delete the copies (`iptables -D CHAIN N`); if they come back, the component that writes them adds rules without checking for its own.".into(),
        service: None,
        probe: None,
        rules,
    });
}

fn unreachable_rules(ruleset: &Ruleset, out: &mut Vec<Finding>) {
    let mut rules = Vec::new();
    for table in &ruleset.tables {
        for chain in &table.chains {
            if let Some(stop) = chain
                .rules
                .iter()
                .position(|r| unconditional(r) && ends_chain(r))
            {
                rules.extend((stop + 1..chain.rules.len()).map(|i| rule_ref(table, chain, i)));
            }
            for (i, rule) in chain.rules.iter().enumerate() {
                let never = rule.matches.iter().any(|m| {
                    matches!(
                        m,
                        Match::Statistic(crate::ext::matches::Statistic::Random {
                            negated: false,
                            p32: 0
                        })
                    )
                });
                if never {
                    rules.push(rule_ref(table, chain, i));
                }
            }
        }
    }
    if rules.is_empty() {
        return;
    }
    out.push(Finding {
        code: "never-matches",
        severity: Severity::Warning,
        message: format!(
            "{} rule{} can never match",
            rules.len(),
            if rules.len() == 1 { "" } else { "s" }
        ),
        explanation: "Each comes after a rule of the same chain that takes every packet and ends the chain (ACCEPT, DROP, REJECT, RETURN, a NAT target or a goto with no conditions), or has a probability of 0. No packet reaches it.".into(),
        action: "Remove it, or move it before the rule that takes everything.".into(),
        service: None,
        probe: None,
        rules,
    });
}

fn cost(ruleset: &Ruleset, services: &[ServicePort], out: &mut Vec<Finding>) {
    let Some(dispatch) = ruleset.table("nat").and_then(|t| t.chain("KUBE-SERVICES")) else {
        return;
    };
    let mut costs: Vec<(&ServicePort, usize)> = services
        .iter()
        .filter_map(|s| s.cost.map(|c| (s, c)))
        .collect();
    if costs.is_empty() {
        return;
    }
    costs.sort_by_key(|c| std::cmp::Reverse(c.1));
    let slowest: Vec<String> = costs
        .iter()
        .take(5)
        .map(|(s, c)| format!("{} ({c})", s.name))
        .collect();
    let total = dispatch.rules.len();
    out.push(Finding {
        code: "rule-cost",
        severity: Severity::Info,
        message: format!(
            "a new connection to a Service evaluates up to {} nat rule{}; KUBE-SERVICES has {total} rule{}, checked in order; slowest: {}",
            costs[0].1,
            if costs[0].1 == 1 { "" } else { "s" },
            if total == 1 { "" } else { "s" },
            slowest.join(", ")
        ),
        explanation: format!(
            "kube-proxy's iptables mode puts one rule per Service address and port in KUBE-SERVICES, and the kernel tries them one after another for the first packet of every connection (later packets reuse conntrack). A Service near the end costs more, and traffic that is for no Service (pod to pod, egress) walks all {total} rules."
        ),
        action: "Usually nothing below a few thousand Services. Beyond that, kube-proxy's nftables mode (one map lookup) or IPVS keep the cost flat.".into(),
        service: None,
        probe: None,
        rules: costs
            .iter()
            .take(5)
            .filter_map(|(s, _)| s.entries.iter().find(|e| e.chain == "KUBE-SERVICES").cloned())
            .collect(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_rules_are_found_and_second_draws_are_not() {
        let dump = "*filter\n:FORWARD ACCEPT [0:0]\n\
            [5:300] -A FORWARD -j DOCKER-USER\n\
            -A FORWARD -m statistic --mode random --probability 0.5 -j LOG\n\
            [0:0] -A FORWARD -j DOCKER-USER\n\
            -A FORWARD -m statistic --mode random --probability 0.5 -j LOG\n\
            -A FORWARD -o docker0 -j ACCEPT\n\
            COMMIT\n";
        let parsed = crate::parse(dump);
        let services = crate::kube::decode(&parsed.ruleset);
        let found = findings(&parsed.ruleset, &services, &NodeFacts::default());
        let repeated: Vec<&Finding> = found.iter().filter(|f| f.code == "repeated-rule").collect();
        assert_eq!(repeated.len(), 1, "{found:#?}");
        // The copy of the jump, counters aside; not the second coin flip.
        let at: Vec<usize> = repeated[0].rules.iter().map(|r| r.rule).collect();
        assert_eq!(at, [3]);
    }

    #[test]
    fn copies_that_count_packets_after_a_verdict_are_lossy_prints() {
        // conformance/real-nodes/07: Docker Desktop's `desktop` chain, nine RETURNs that print
        // alike and each count packets.
        let dump = "*nat
:PREROUTING ACCEPT [0:0]
:desktop - [0:0]
            -A PREROUTING -j desktop
            [2:955] -A desktop -d 192.168.65.0/24 -p tcp -j RETURN
            [2:136] -A desktop -d 192.168.65.0/24 -p tcp -j RETURN
            [0:0] -A desktop -d 192.168.65.0/24 -p tcp -j RETURN
            COMMIT
";
        let parsed = crate::parse(dump);
        let found = findings(&parsed.ruleset, &[], &NodeFacts::default());
        let rules = |code: &str| -> Vec<usize> {
            found
                .iter()
                .filter(|f| f.code == code)
                .flat_map(|f| f.rules.iter().map(|r| r.rule))
                .collect()
        };
        assert_eq!(rules("lossy-print"), [2], "{found:#?}");
        assert_eq!(rules("repeated-rule"), [3], "{found:#?}");
    }
}
