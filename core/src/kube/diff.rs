//! Two rulesets compared: which Service ports and endpoints differ, and which rules (in their
//! canonical iptables-save form, so spelling differences do not count) are only in one.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ServicePort;
use crate::model::Ruleset;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceChange {
    pub name: String,
    /// What differs besides endpoints: `cluster IP 10.0.0.1:53 → 10.0.0.2:53`, …
    pub fields: Vec<String>,
    pub endpoints_removed: Vec<String>,
    pub endpoints_added: Vec<String>,
}

/// One rule only in one ruleset.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RuleLine {
    pub table: String,
    pub chain: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diff {
    pub services_only_in_a: Vec<String>,
    pub services_only_in_b: Vec<String>,
    pub services_changed: Vec<ServiceChange>,
    pub rules_only_in_a: Vec<RuleLine>,
    pub rules_only_in_b: Vec<RuleLine>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.services_only_in_a.is_empty()
            && self.services_only_in_b.is_empty()
            && self.services_changed.is_empty()
            && self.rules_only_in_a.is_empty()
            && self.rules_only_in_b.is_empty()
    }
}

fn endpoint_names(s: &ServicePort) -> Vec<String> {
    s.endpoints
        .iter()
        .map(|e| e.address.clone().unwrap_or_else(|| e.chain.clone()))
        .collect()
}

fn fields(a: &ServicePort, b: &ServicePort) -> Vec<String> {
    let mut out = Vec::new();
    let mut cmp = |what: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{what}: {x} → {y}"));
        }
    };
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
    cmp("cluster IP", opt(&a.cluster_ip), opt(&b.cluster_ip));
    cmp(
        "node port",
        a.node_port.map_or("none".into(), |p| p.to_string()),
        b.node_port.map_or("none".into(), |p| p.to_string()),
    );
    cmp(
        "external IPs",
        a.external_ips.join(","),
        b.external_ips.join(","),
    );
    cmp(
        "load balancer IPs",
        a.load_balancer_ips.join(","),
        b.load_balancer_ips.join(","),
    );
    cmp(
        "external traffic policy",
        format!("{:?}", a.external_traffic_policy),
        format!("{:?}", b.external_traffic_policy),
    );
    cmp(
        "internal traffic policy",
        format!("{:?}", a.internal_traffic_policy),
        format!("{:?}", b.internal_traffic_policy),
    );
    cmp(
        "session affinity",
        format!("{:?}", a.affinity_seconds),
        format!("{:?}", b.affinity_seconds),
    );
    out
}

/// Rules as (table, chain, canonical text) with their counts, to compare as multisets.
fn rule_lines(ruleset: &Ruleset) -> BTreeMap<RuleLine, usize> {
    let mut lines = BTreeMap::new();
    for table in &ruleset.tables {
        for chain in &table.chains {
            for rule in &chain.rules {
                let line = RuleLine {
                    table: table.name.clone(),
                    chain: chain.name.clone(),
                    text: crate::print::rule(rule, ruleset.ipv6),
                };
                *lines.entry(line).or_insert(0) += 1;
            }
        }
    }
    lines
}

fn only_in(x: &BTreeMap<RuleLine, usize>, y: &BTreeMap<RuleLine, usize>) -> Vec<RuleLine> {
    x.iter()
        .flat_map(|(line, &n)| {
            let extra = n.saturating_sub(y.get(line).copied().unwrap_or(0));
            std::iter::repeat_n(line.clone(), extra)
        })
        .collect()
}

pub fn diff(
    a: &Ruleset,
    a_services: &[ServicePort],
    b: &Ruleset,
    b_services: &[ServicePort],
) -> Diff {
    let find = |list: &[ServicePort], name: &str| list.iter().find(|s| s.name == name).cloned();
    let mut changed = Vec::new();
    let mut only_a = Vec::new();
    for s in a_services {
        match find(b_services, &s.name) {
            None => only_a.push(s.name.clone()),
            Some(t) => {
                let (ea, eb) = (endpoint_names(s), endpoint_names(&t));
                let change = ServiceChange {
                    name: s.name.clone(),
                    fields: fields(s, &t),
                    endpoints_removed: ea.iter().filter(|e| !eb.contains(e)).cloned().collect(),
                    endpoints_added: eb.iter().filter(|e| !ea.contains(e)).cloned().collect(),
                };
                if !(change.fields.is_empty()
                    && change.endpoints_removed.is_empty()
                    && change.endpoints_added.is_empty())
                {
                    changed.push(change);
                }
            }
        }
    }
    let only_b = b_services
        .iter()
        .filter(|s| find(a_services, &s.name).is_none())
        .map(|s| s.name.clone())
        .collect();
    let (la, lb) = (rule_lines(a), rule_lines(b));
    Diff {
        services_only_in_a: only_a,
        services_only_in_b: only_b,
        services_changed: changed,
        rules_only_in_a: only_in(&la, &lb),
        rules_only_in_b: only_in(&lb, &la),
    }
}
