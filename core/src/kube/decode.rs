//! The ruleset read back into Service ports: entry rules first (where each Service is
//! reached), then each Service's chains (endpoints, policies, affinity), then the filter
//! table's "has no endpoints" rules. Structure decides; comments only name things.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use super::{Endpoint, Policy, RuleRef, ServicePort};
use crate::ext::matches::{Match, RecentCommand, Statistic};
use crate::ext::targets::Action;
use crate::model::values::{Address, Negatable, PortRange, Protocol};
use crate::model::{Chain, ChainIndex, Rule, Ruleset, Table};

/// The chains of one Service port share the hash after these prefixes.
const FAMILY: &[&str] = &[
    "KUBE-FW-",
    "KUBE-EXT-",
    "KUBE-XLB-",
    "KUBE-SVC-",
    "KUBE-SVL-",
];

/// Where kube-proxy (every generation) puts the rules that lead to a Service.
const ENTRY_CHAINS: &[&str] = &[
    "KUBE-SERVICES",
    "KUBE-NODEPORTS",
    "KUBE-PORTALS-CONTAINER",
    "KUBE-PORTALS-HOST",
    "KUBE-NODEPORT-CONTAINER",
    "KUBE-NODEPORT-HOST",
];

/// Jumps that are bookkeeping, not a way to an endpoint.
const HELPERS: &[&str] = &["KUBE-MARK-MASQ", "KUBE-MARK-DROP", "KUBE-POSTROUTING"];

/// The hash of a Service port's chain (`KUBE-SVC-H` → `H`), with its prefix.
fn family(chain: &str) -> Option<(&'static str, &str)> {
    FAMILY
        .iter()
        .find_map(|p| chain.strip_prefix(p).map(|h| (*p, h)))
        .filter(|(_, h)| !h.is_empty())
}

/// `namespace/name:port` from a kube-proxy comment: the first word shaped like one, without
/// the trailing `:` of an unnamed port (`default/testsvc: cluster IP` → `default/testsvc`).
pub(super) fn service_name(comment: &str) -> Option<String> {
    comment.split_whitespace().find_map(|word| {
        let word = word.trim_end_matches(':');
        let (ns, rest) = word.split_once('/')?;
        let name = rest.split(':').next()?;
        let dns = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        };
        let port_ok = rest.split_once(':').is_none_or(|(_, p)| {
            p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        (dns(ns) && dns(name) && port_ok).then(|| word.to_string())
    })
}

/// The destination port a rule tests (`--dport` of tcp/udp, or a single multiport port).
pub(super) fn dport(rule: &Rule) -> Option<u16> {
    let single = |r: &Option<Negatable<PortRange>>| {
        r.as_ref()
            .filter(|r| !r.negated && r.value.min == r.value.max)
            .map(|r| r.value.min)
    };
    rule.matches.iter().find_map(|m| match m {
        Match::Tcp(t) => single(&t.ports.dport),
        Match::Udp(p) => single(&p.dport),
        Match::Multiport(mp) => match mp.ports.value.as_slice() {
            [one] if !mp.ports.negated && one.min == one.max => Some(one.min),
            _ => None,
        },
        // sctp, dccp, udplite: kept as written; their `--dport N` reads the same.
        Match::Unknown { module, args }
            if matches!(module.as_str(), "sctp" | "dccp" | "udplite") =>
        {
            args.windows(2)
                .find(|w| matches!(w[0].as_str(), "--dport" | "--destination-port"))
                .and_then(|w| w[1].parse().ok())
        }
        _ => None,
    })
}

/// The rule's `-d` as `ip:port` text (placeholders as written, without `/32`).
fn destination(rule: &Rule, port: Option<u16>) -> Option<String> {
    let dst = rule.header.dst.as_ref().filter(|d| !d.negated)?;
    let host = match &dst.value {
        Address::Net(c) => match SocketAddr::new(c.addr, port.unwrap_or(0)) {
            a if port.is_some() => a.to_string(),
            _ => c.host_or_net(),
        },
        Address::Placeholder(p) => {
            let p = p.strip_suffix("/32").unwrap_or(p);
            port.map_or(p.to_string(), |port| format!("{p}:{port}"))
        }
    };
    Some(host)
}

fn protocol(rule: &Rule) -> Option<Protocol> {
    rule.header
        .protocol
        .as_ref()
        .filter(|p| !p.negated && p.value.0 != 0)
        .map(|p| p.value)
}

fn rule_ref(table: &Table, chain: &Chain, index: usize) -> RuleRef {
    RuleRef {
        table: table.name.clone(),
        chain: chain.name.clone(),
        rule: index + 1,
        span: chain.rules[index].span,
    }
}

fn target_name(rule: &Rule) -> Option<&str> {
    rule.target.as_ref().map(|t| t.name.as_str())
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Which address of a Service an entry rule in `KUBE-SERVICES` is for.
enum Reach {
    ClusterIp,
    External,
    LoadBalancer,
    NodePort,
}

struct Decoder<'r> {
    nat: Option<&'r Table>,
    /// nat chains by name (a table can hold 40,000 chains: no linear lookups).
    index: ChainIndex<'r>,
    services: Vec<ServicePort>,
    /// Service index by chain hash, or by name for the userspace proxy's portals.
    by_key: HashMap<String, usize>,
}

/// The ipsets kube-proxy's IPVS mode matches in its iptables rules.
const IPVS_SETS: &[&str] = &[
    "KUBE-CLUSTER-IP",
    "KUBE-LOAD-BALANCER",
    "KUBE-EXTERNAL-IP",
    "KUBE-LOOP-BACK",
    "KUBE-NODE-PORT-",
    "KUBE-HEALTH-CHECK-NODE-PORT",
];

/// Whether kube-proxy runs in IPVS mode on this node: its nat rules match the IPVS mode's
/// ipsets, or it has the chains only IPVS mode writes (`KUBE-NODE-PORT`, `KUBE-LOAD-BALANCER`).
/// Services are then IPVS virtual servers (`ipvsadm -Ln`), not iptables rules.
pub fn ipvs_mode(ruleset: &Ruleset) -> bool {
    if !ruleset.ipvs.is_empty() {
        return true;
    }
    let Some(nat) = ruleset.table("nat") else {
        return false;
    };
    let sets = nat.chains.iter().flat_map(|c| &c.rules).any(|r| {
        r.matches.iter().any(|m| match m {
            crate::ext::matches::Match::Set(s) => {
                IPVS_SETS.iter().any(|p| s.name.value.starts_with(p))
            }
            _ => false,
        })
    });
    sets || nat
        .chains
        .iter()
        .any(|c| c.name == "KUBE-NODE-PORT" || c.name == "KUBE-LOAD-BALANCER")
}

pub fn decode(ruleset: &Ruleset) -> Vec<ServicePort> {
    let nat = ruleset.table("nat");
    let mut d = Decoder {
        nat,
        index: nat.map(Table::index).unwrap_or_default(),
        services: Vec::new(),
        by_key: HashMap::new(),
    };
    // Service keys in the order met (KUBE-SERVICES order), each once.
    let mut keys: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut add = |key: String| {
        if seen.insert(key.clone()) {
            keys.push(key);
        }
    };
    if let Some(nat) = d.nat {
        for entry in ENTRY_CHAINS {
            if let Some(chain) = d.chain(entry) {
                for i in 0..chain.rules.len() {
                    if let Some(key) = d.entry(nat, chain, i) {
                        add(key);
                    }
                }
            }
        }
        // Fragments without KUBE-SERVICES: a Service port's chains alone still make one —
        // but not under IPVS mode, where such chains are iptables mode's leftovers.
        let leftovers = ipvs_mode(ruleset);
        for chain in nat.chains.iter().filter(|_| !leftovers) {
            if let Some((_, hash)) = family(&chain.name) {
                add(hash.to_string());
            }
        }
    }
    let mut endpoint_chains: HashSet<String> = HashSet::new();
    for key in &keys {
        if d.by_key.contains_key(key) {
            let i = d.by_key[key];
            d.fill(i, key, &mut endpoint_chains);
        }
    }
    // Chains of the family that are some other Service's endpoints (the oldest proxier chained
    // KUBE-SVC to KUBE-SVC), or new ones from fragments.
    for key in &keys {
        if d.by_key.contains_key(key) {
            continue;
        }
        let used = FAMILY
            .iter()
            .any(|p| endpoint_chains.contains(&format!("{p}{key}")));
        // Empty leftovers (declared, no rules) say nothing about a Service.
        let has_rules = FAMILY.iter().any(|p| {
            d.chain(&format!("{p}{key}"))
                .is_some_and(|c| !c.rules.is_empty())
        });
        if !used && has_rules {
            let i = d.service(key.clone());
            d.fill(i, key, &mut endpoint_chains);
        }
    }
    if let Some(filter) = ruleset.table("filter") {
        d.filter_rules(filter);
    }
    let costs: Vec<Option<usize>> = d.services.iter().map(|s| cost_of(&d, s)).collect();
    for (s, c) in d.services.iter_mut().zip(costs) {
        s.cost = c;
    }
    for s in &mut d.services {
        if !s.named {
            s.name = s.chains.first().cloned().unwrap_or_else(|| s.name.clone());
        }
    }
    d.services.extend(ruleset.ipvs.iter().map(ipvs_service));
    d.services
}

/// A Service port from an IPVS virtual server: its address, its real servers as endpoints
/// with their shares by weight, `persistent` as session affinity.
fn ipvs_service(v: &crate::model::ipvs::VirtualServer) -> ServicePort {
    let proto = v.protocol.name().unwrap_or("ip");
    let label = format!("{proto} {}", v.addr);
    let endpoints = v
        .reals
        .iter()
        .zip(v.shares())
        .enumerate()
        .map(|(i, (r, share))| Endpoint {
            address: Some(r.addr.to_string()),
            chain: label.clone(),
            chain_present: true,
            local: None,
            rule: RuleRef {
                table: "ipvs".into(),
                chain: label.clone(),
                rule: i + 1,
                span: r.span,
            },
            p32: None,
            shown: Some(format!("weight {}", r.weight)),
            probability: share,
            hairpin: None,
        })
        .collect();
    ServicePort {
        protocol: Some(v.protocol),
        cluster_ip: Some(v.addr.to_string()),
        affinity_seconds: v.persistent,
        ipvs: true,
        endpoints_known: true,
        endpoints,
        unmatched: if v.reals.is_empty() { 1.0 } else { 0.0 },
        ..ServicePort::unnamed(format!("ipvs {label}"))
    }
}

impl<'r> Decoder<'r> {
    fn chain(&self, name: &str) -> Option<&'r Chain> {
        let nat = self.nat?;
        self.index.get(name).map(|i| &nat.chains[i])
    }

    fn service(&mut self, key: String) -> usize {
        if let Some(&i) = self.by_key.get(&key) {
            return i;
        }
        self.services.push(ServicePort::unnamed(key.clone()));
        self.by_key.insert(key, self.services.len() - 1);
        self.services.len() - 1
    }

    fn name_from(&mut self, i: usize, comment: Option<&str>) {
        let s = &mut self.services[i];
        if !s.named
            && let Some(name) = comment.and_then(service_name)
        {
            s.name = name;
            s.named = true;
        }
    }

    /// An entry rule (`KUBE-SERVICES`, `KUBE-NODEPORTS`, portals): which Service, reached how.
    fn entry(&mut self, nat: &Table, chain: &Chain, index: usize) -> Option<String> {
        let rule = &chain.rules[index];
        let target = rule.target.as_ref()?;
        let userspace = matches!(target.action, Action::Redirect(_) | Action::Dnat(_));
        let key = match family(&target.name) {
            Some((_, hash)) => hash.to_string(),
            None if userspace && chain.name != "KUBE-SERVICES" => {
                let port = dport(rule);
                rule.comment()
                    .and_then(service_name)
                    .or_else(|| destination(rule, port))?
            }
            None => return None,
        };
        let i = self.service(key.clone());
        self.name_from(i, rule.comment());
        let comment = rule.comment().unwrap_or("");
        let reach = if chain.name.contains("NODEPORT") {
            Reach::NodePort
        } else if comment.contains("cluster IP") || chain.name.starts_with("KUBE-PORTALS") {
            Reach::ClusterIp
        } else if comment.contains("external IP") {
            Reach::External
        } else if comment.contains("loadbalancer IP") || target.name.starts_with("KUBE-FW-") {
            Reach::LoadBalancer
        } else if target.name.starts_with("KUBE-EXT-") || self.services[i].cluster_ip.is_some() {
            Reach::External
        } else {
            Reach::ClusterIp
        };
        let port = dport(rule);
        let s = &mut self.services[i];
        s.userspace |= userspace;
        if s.protocol.is_none() {
            s.protocol = protocol(rule);
        }
        match reach {
            Reach::NodePort => s.node_port = s.node_port.or(port),
            Reach::ClusterIp => {
                if s.cluster_ip.is_none() {
                    s.cluster_ip = destination(rule, port);
                }
                if target.name.starts_with("KUBE-SVL-") {
                    s.internal_traffic_policy = Policy::Local;
                }
            }
            Reach::External => {
                if let Some(a) = destination(rule, port) {
                    push_unique(&mut s.external_ips, a);
                }
            }
            Reach::LoadBalancer => {
                if let Some(a) = destination(rule, port) {
                    push_unique(&mut s.load_balancer_ips, a);
                }
            }
        }
        s.entries.push(rule_ref(nat, chain, index));
        Some(key)
    }

    /// A Service port's own chains: endpoints and their cascade, locality, affinity, policies.
    fn fill(&mut self, i: usize, key: &str, endpoint_chains: &mut HashSet<String>) {
        let Some(nat) = self.nat else { return };
        let own: Vec<&Chain> = FAMILY
            .iter()
            .filter_map(|p| self.chain(&format!("{p}{key}")))
            .collect();
        for chain in &own {
            push_unique(&mut self.services[i].chains, chain.name.clone());
            for rule in &chain.rules {
                self.name_from(i, rule.comment());
            }
        }
        let svc = self.chain(&format!("KUBE-SVC-{key}"));
        let svl = self.chain(&format!("KUBE-SVL-{key}"));
        let xlb = self.chain(&format!("KUBE-XLB-{key}"));
        let ext = self.chain(&format!("KUBE-EXT-{key}"));
        let fw = self.chain(&format!("KUBE-FW-{key}"));
        // Local endpoints are the ones KUBE-SVL (or the older KUBE-XLB) jumps to.
        let locals: Option<Vec<&str>> = svl.or(xlb).map(|c| {
            c.rules
                .iter()
                .filter_map(target_name)
                .filter(|t| t.starts_with("KUBE-SEP-"))
                .collect()
        });
        // The cluster-wide cascade first; KUBE-SVL's own (local, possibly terminating)
        // endpoints after it when it has some the cluster cascade lacks.
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let mut unmatched = None;
        for chain in [svc, svl].into_iter().flatten() {
            let mut remaining = 1.0f64;
            let mut found = Vec::new();
            for (index, rule) in chain.rules.iter().enumerate() {
                let Some(target) = &rule.target else { continue };
                let recent = rule.matches.iter().find_map(|m| match m {
                    Match::Recent(r)
                        if matches!(
                            r.command.value,
                            RecentCommand::Rcheck | RecentCommand::Update
                        ) =>
                    {
                        Some(r.seconds)
                    }
                    _ => None,
                });
                if let Some(seconds) = recent {
                    self.services[i].affinity_seconds = seconds.or(Some(0));
                    continue;
                }
                let to_endpoint = match &target.action {
                    Action::Dnat(_) => true,
                    Action::Chain => {
                        !HELPERS.contains(&target.name.as_str())
                            && family(&target.name).is_none_or(|(_, h)| h != key)
                    }
                    _ => false,
                };
                // After a rule every connection takes, none is left for a later one (a cascade
                // pasted twice): those are unreachable, which the repeated-rule finding reports.
                if !to_endpoint || remaining <= 0.0 {
                    continue;
                }
                let p32 = rule.matches.iter().find_map(|m| match m {
                    Match::Statistic(Statistic::Random {
                        negated: false,
                        p32,
                    }) => Some(*p32),
                    _ => None,
                });
                let p = p32.map_or(1.0, Statistic::probability);
                let probability = remaining * p;
                remaining *= 1.0 - p;
                let (address, hairpin, present) = self.endpoint_address(rule);
                if matches!(target.action, Action::Chain) {
                    endpoint_chains.insert(target.name.clone());
                }
                let chain_name = match target.action {
                    Action::Chain => target.name.clone(),
                    _ => chain.name.clone(),
                };
                found.push(Endpoint {
                    address,
                    local: locals.as_ref().map(|l| l.contains(&chain_name.as_str())),
                    chain: chain_name,
                    chain_present: present,
                    rule: rule_ref(nat, chain, index),
                    p32,
                    shown: p32.map(|v| format!("{:.11}", Statistic::probability(v))),
                    probability,
                    hairpin,
                });
            }
            if found.is_empty() {
                continue;
            }
            unmatched.get_or_insert(remaining);
            if found
                .iter()
                .any(|e| !endpoints.iter().any(|k| k.chain == e.chain))
            {
                endpoints.extend(found);
            }
        }
        // Endpoints reached only through KUBE-XLB/KUBE-SVL are already the cascade's.
        let s = &mut self.services[i];
        for e in &endpoints {
            push_unique(&mut s.chains, e.chain.clone());
        }
        s.unmatched = unmatched.unwrap_or(0.0);
        s.endpoints_known = svc.is_some() || svl.is_some();
        s.endpoints = endpoints;
        if let Some(fw) = fw {
            for rule in &fw.rules {
                let to_service = target_name(rule).is_some_and(|t| family(t).is_some());
                if let (true, Some(src)) = (to_service, &rule.header.src)
                    && !src.negated
                {
                    push_unique(&mut s.source_ranges, src.value.to_string());
                }
            }
        }
        for chain in [xlb, svl] {
            let Some(chain) = chain else { continue };
            for (index, rule) in chain.rules.iter().enumerate() {
                let drop = target_name(rule) == Some("KUBE-MARK-DROP");
                if drop && s.no_local_endpoints.is_none() {
                    s.no_local_endpoints = Some(rule_ref(nat, chain, index));
                }
            }
        }
        let external =
            s.node_port.is_some() || !s.external_ips.is_empty() || !s.load_balancer_ips.is_empty();
        let ext_is_local = xlb.is_some()
            || ext.is_some_and(|c| {
                c.rules
                    .iter()
                    .filter_map(target_name)
                    .any(|t| t.starts_with("KUBE-SVL-"))
            });
        if external || ext.is_some() || xlb.is_some() || fw.is_some() {
            s.external_traffic_policy = Some(if ext_is_local {
                Policy::Local
            } else {
                Policy::Cluster
            });
        }
    }

    /// An endpoint's `ip:port` (from the DNAT of its chain, or kube-proxy's `-> ip:port`
    /// comment), its hairpin rule, and whether its chain is in the paste.
    fn endpoint_address(&self, rule: &Rule) -> (Option<String>, Option<RuleRef>, bool) {
        let from_comment = || {
            rule.comment()
                .and_then(|c| c.split_once(" -> "))
                .map(|(_, a)| a.trim().to_string())
        };
        let Some(target) = &rule.target else {
            return (None, None, false);
        };
        if let Action::Dnat(nat) = &target.action {
            return (nat_address(nat), None, true);
        }
        let Some(nat_table) = self.nat else {
            return (from_comment(), None, false);
        };
        let Some(chain) = self.chain(&target.name) else {
            return (from_comment(), None, false);
        };
        // The DNAT may sit one or two chains further down (the oldest proxier's KUBE-SVC pairs).
        let mut address = None;
        let mut current = chain;
        for _ in 0..3 {
            let dnat = current.rules.iter().find_map(|r| match &r.target {
                Some(t) => match &t.action {
                    Action::Dnat(n) => Some(nat_address(n)),
                    _ => None,
                },
                None => None,
            });
            if let Some(a) = dnat {
                address = a;
                break;
            }
            let next = current
                .rules
                .iter()
                .filter_map(target_name)
                .find(|t| !HELPERS.contains(t))
                .and_then(|t| self.chain(t));
            match next {
                Some(n) => current = n,
                None => break,
            }
        }
        let address = address.or_else(from_comment);
        let ip = address
            .as_deref()
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .map(|a| a.ip());
        let hairpin = chain.rules.iter().enumerate().find_map(|(index, r)| {
            let src = r.header.src.as_ref().filter(|s| !s.negated)?;
            let from_itself = match (&src.value, ip) {
                (Address::Net(c), Some(ip)) => {
                    c.addr == ip && c.prefix_len().is_some_and(|l| l >= 32)
                }
                _ => false,
            };
            let masq = match &r.target {
                Some(t) => t.name == "KUBE-MARK-MASQ" || matches!(t.action, Action::Mark { .. }),
                None => false,
            };
            (from_itself && masq).then(|| rule_ref(nat_table, chain, index))
        });
        (address, hairpin, true)
    }

    /// filter rules for Services without (local) endpoints: REJECT or DROP with kube-proxy's
    /// comment.
    fn filter_rules(&mut self, filter: &Table) {
        for chain in &filter.chains {
            if !matches!(
                chain.name.as_str(),
                "KUBE-SERVICES" | "KUBE-EXTERNAL-SERVICES" | "KUBE-NODEPORTS"
            ) {
                continue;
            }
            for (index, rule) in chain.rules.iter().enumerate() {
                let Some(comment) = rule.comment() else {
                    continue;
                };
                let local = comment.contains("has no local endpoints");
                if !local && !comment.contains("has no endpoints") {
                    continue;
                }
                let Some(name) = service_name(comment) else {
                    continue;
                };
                let found = self.services.iter().position(|s| s.name == name);
                let i = match found {
                    Some(i) => i,
                    None => {
                        let i = self.service(format!("filter:{name}"));
                        self.name_from(i, Some(comment));
                        i
                    }
                };
                let port = dport(rule);
                let to_node = rule
                    .matches
                    .iter()
                    .any(|m| matches!(m, Match::Addrtype(a) if a.dst.is_some()));
                let here = rule_ref(filter, chain, index);
                let s = &mut self.services[i];
                if s.protocol.is_none() {
                    s.protocol = protocol(rule);
                }
                if to_node {
                    s.node_port = s.node_port.or(port);
                } else if let Some(a) = destination(rule, port) {
                    if chain.name == "KUBE-SERVICES" && s.cluster_ip.is_none() {
                        s.cluster_ip = Some(a);
                    } else if s.cluster_ip.as_ref() != Some(&a) {
                        push_unique(&mut s.external_ips, a);
                    }
                }
                if local {
                    s.no_local_endpoints.get_or_insert(here);
                    s.external_traffic_policy = Some(Policy::Local);
                } else {
                    s.no_endpoints.get_or_insert(here);
                }
            }
        }
    }
}

/// Rules evaluated by a first packet to the cluster IP, for the endpoint at the end of the
/// cascade (the worst case).
fn cost_of(d: &Decoder<'_>, s: &ServicePort) -> Option<usize> {
    let entry = s
        .entries
        .iter()
        .find(|e| e.chain == "KUBE-SERVICES" && s.cluster_ip.is_some())?;
    let cascade = s
        .chains
        .iter()
        .find(|c| c.starts_with("KUBE-SVC-") || c.starts_with("KUBE-SVL-"))
        .and_then(|c| d.chain(c));
    let last = s.endpoints.last();
    let in_cascade = last.map_or(cascade.map_or(0, |c| c.rules.len()), |e| e.rule.rule);
    let in_endpoint = last
        .and_then(|e| d.chain(&e.chain))
        .map_or(0, |c| c.rules.len());
    Some(entry.rule + in_cascade + in_endpoint)
}

fn nat_address(nat: &crate::ext::targets::Nat) -> Option<String> {
    let (ip, _) = nat.addrs?;
    Some(match nat.ports {
        Some((port, _)) => SocketAddr::new(ip, port).to_string(),
        None => ip.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_first_service_shaped_word() {
        let cases = [
            ("default/testsvc: cluster IP", Some("default/testsvc")),
            (
                "kube-system/kube-dns:dns-tcp cluster IP",
                Some("kube-system/kube-dns:dns-tcp"),
            ),
            ("ns1/svc1:p80 -> 10.180.0.1:80", Some("ns1/svc1:p80")),
            (
                "masquerade traffic for ns2/svc2:p80 external destinations",
                Some("ns2/svc2:p80"),
            ),
            ("portal for default/kubernetes:", Some("default/kubernetes")),
            ("kubernetes service portals", None),
            (
                "Redirect pods trying to reach external loadbalancer VIP to clusterIP",
                None,
            ),
        ];
        for (comment, want) in cases {
            assert_eq!(service_name(comment).as_deref(), want, "{comment}");
        }
    }
}
