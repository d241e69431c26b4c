//! `chainlens analyze` and `chainlens diff`: the rules in Kubernetes terms.

use std::path::PathBuf;
use std::process::ExitCode;

use chainlens_core::kube::{
    Analysis, Cascade, CascadeForm, RuleRef, ServicePort, decode, diff as compare, explain_chain,
    explain_rule,
};
use chainlens_core::sim::NodeFacts;
use chainlens_core::text::LineIndex;
use chainlens_core::{Ruleset, read};

use crate::trace::{self, PacketArgs};

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The first ruleset; `-` reads standard input.
    pub a: PathBuf,
    /// The second ruleset.
    pub b: PathBuf,
    /// Trace this packet through both (give at least --src, --dst and --dport).
    #[command(flatten)]
    packet: Option<PacketArgs>,
    #[arg(long)]
    json: bool,
}

fn facts(ruleset: &Ruleset, local_ips: &[std::net::IpAddr]) -> NodeFacts {
    let (mut facts, _) = NodeFacts::infer(ruleset);
    facts.local_ips.extend(local_ips.iter().copied());
    facts
}

fn rules_json(text: &str, index: &LineIndex, rules: &[RuleRef]) -> serde_json::Value {
    rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "table": r.table, "chain": r.chain, "rule": r.rule,
                "line": index.line_col(text, r.span.start).line,
            })
        })
        .collect()
}

fn service_json(s: &ServicePort) -> serde_json::Value {
    let cascade = Cascade::of(s);
    serde_json::json!({
        "name": s.name,
        "named": s.named,
        "protocol": s.protocol.map(|p| p.to_string()),
        "cluster_ip": s.cluster_ip,
        "node_port": s.node_port,
        "external_ips": s.external_ips,
        "load_balancer_ips": s.load_balancer_ips,
        "source_ranges": s.source_ranges,
        "external_traffic_policy": s.external_traffic_policy,
        "internal_traffic_policy": s.internal_traffic_policy,
        "affinity_seconds": s.affinity_seconds,
        "userspace": s.userspace,
        "cost": s.cost,
        "endpoints_known": s.endpoints_known,
        "chains": s.chains,
        "cascade": { "form": cascade.form, "sum": cascade.sum, "spread": cascade.spread, "max_deviation": cascade.max_deviation, "unmatched": cascade.unmatched },
        "endpoints": s.endpoints.iter().map(|e| serde_json::json!({
            "address": e.address,
            "probability": e.probability,
            "rule_probability": e.shown,
            "chain": e.chain,
            "chain_in_paste": e.chain_present,
            "local": e.local,
        })).collect::<Vec<_>>(),
    })
}

pub fn analyze(text: &str, name: &str, local_ips: &[std::net::IpAddr], json: bool) -> ExitCode {
    let parsed = read(text);
    let analysis = Analysis::of(&parsed.ruleset, &facts(&parsed.ruleset, local_ips));
    let index = LineIndex::new(text);
    if json {
        let out = serde_json::json!({
            "services": analysis.services.iter().map(service_json).collect::<Vec<_>>(),
            "findings": analysis.findings.iter().map(|f| serde_json::json!({
                "code": f.code,
                "severity": f.severity,
                "message": f.message,
                "explanation": f.explanation,
                "action": f.action,
                "service": f.service,
                "rules": rules_json(text, &index, &f.rules),
            })).collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    say!(
        "{name}: {} Service port{}, {} finding{}",
        analysis.services.len(),
        if analysis.services.len() == 1 {
            ""
        } else {
            "s"
        },
        analysis.findings.len(),
        if analysis.findings.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    for s in &analysis.services {
        print_service(s);
    }
    for f in &analysis.findings {
        say!("\n{}[{}]: {}", f.severity.as_str(), f.code, f.message);
        say!("  why: {}", f.explanation);
        say!("  what to do: {}", f.action);
        let rules: Vec<String> = f
            .rules
            .iter()
            .take(6)
            .map(|r| {
                format!(
                    "{} {} #{} (line {})",
                    r.table,
                    r.chain,
                    r.rule,
                    index.line_col(text, r.span.start).line
                )
            })
            .collect();
        if !rules.is_empty() {
            let more = f.rules.len().saturating_sub(6);
            say!(
                "  rules: {}{}",
                rules.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
    ExitCode::SUCCESS
}

fn print_service(s: &ServicePort) {
    let mut reach = Vec::new();
    if let Some(c) = &s.cluster_ip {
        reach.push(format!("cluster IP {c}"));
    }
    if let Some(p) = s.node_port {
        reach.push(format!("node port {p}"));
    }
    if !s.external_ips.is_empty() {
        reach.push(format!("external IPs {}", s.external_ips.join(", ")));
    }
    if !s.load_balancer_ips.is_empty() {
        reach.push(format!("load balancer {}", s.load_balancer_ips.join(", ")));
    }
    if let Some(p) = s.external_traffic_policy {
        reach.push(format!(
            "externalTrafficPolicy {}",
            match p {
                chainlens_core::kube::Policy::Local => "Local",
                chainlens_core::kube::Policy::Cluster => "Cluster",
            }
        ));
    }
    if let Some(a) = s.affinity_seconds {
        reach.push(format!("affinity {a} s"));
    }
    if s.userspace {
        reach.push("userspace proxy".into());
    }
    say!(
        "\n{}  {}  {}",
        s.name,
        s.protocol.map_or("?".into(), |p| p.to_string()),
        reach.join(", ")
    );
    let cascade = Cascade::of(s);
    let form = match cascade.form {
        CascadeForm::Single => "one endpoint",
        CascadeForm::Legacy => "kube-proxy ≤ 1.16 probabilities (5 decimals)",
        CascadeForm::Modern => "kube-proxy ≥ 1.17 probabilities (10 decimals)",
        CascadeForm::Other => "probabilities not as kube-proxy writes them",
    };
    if s.userspace && s.endpoints.is_empty() {
        say!("  endpoints are chosen by kube-proxy's userspace proxy, not by these rules");
    } else if !s.endpoints_known && s.no_endpoints.is_none() {
        say!("  endpoints unknown: its load-balancing chain is not in the paste");
    } else if s.endpoints.is_empty() {
        say!("  no endpoints");
    } else {
        say!(
            "  {} endpoint{} ({form}; effective probabilities spread {:.2e})",
            s.endpoints.len(),
            if s.endpoints.len() == 1 { "" } else { "s" },
            cascade.spread
        );
    }
    for e in &s.endpoints {
        say!(
            "    {:<24} {:>9.5}%  rule {:<14} {}{}",
            e.address.as_deref().unwrap_or(if e.chain_present {
                "(no DNAT in its chain)"
            } else {
                "(chain not in the paste)"
            }),
            e.probability * 100.0,
            e.shown.as_deref().unwrap_or("-"),
            e.chain,
            match e.local {
                Some(true) => "  local",
                _ => "",
            }
        );
    }
}

pub fn diff(a_text: &str, b_text: &str, args: &DiffArgs) -> ExitCode {
    let (a, b) = (read(a_text), read(b_text));
    let no_ips: &[std::net::IpAddr] = &[];
    let a_analysis = Analysis::of(&a.ruleset, &facts(&a.ruleset, no_ips));
    let b_analysis = Analysis::of(&b.ruleset, &facts(&b.ruleset, no_ips));
    let d = compare(
        &a.ruleset,
        &a_analysis.services,
        &b.ruleset,
        &b_analysis.services,
    );
    if args.json {
        say!("{}", serde_json::to_string_pretty(&d).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    let (an, bn) = (args.a.display(), args.b.display());
    if d.is_empty() {
        say!("{an} and {bn} have the same Services and rules");
    }
    for s in &d.services_only_in_a {
        say!("- Service {s} (only in {an})");
    }
    for s in &d.services_only_in_b {
        say!("+ Service {s} (only in {bn})");
    }
    for c in &d.services_changed {
        say!("~ Service {}", c.name);
        for f in &c.fields {
            say!("    {f}");
        }
        for e in &c.endpoints_removed {
            say!("    - endpoint {e}");
        }
        for e in &c.endpoints_added {
            say!("    + endpoint {e}");
        }
    }
    if !d.rules_only_in_a.is_empty() || !d.rules_only_in_b.is_empty() {
        say!(
            "\nrules: {} only in {an}, {} only in {bn}",
            d.rules_only_in_a.len(),
            d.rules_only_in_b.len()
        );
        for r in &d.rules_only_in_a {
            say!("- [{}] -A {} {}", r.table, r.chain, r.text);
        }
        for r in &d.rules_only_in_b {
            say!("+ [{}] -A {} {}", r.table, r.chain, r.text);
        }
    }
    if let Some(packet) = &args.packet {
        for (name, text) in [(an.to_string(), a_text), (bn.to_string(), b_text)] {
            say!("\n== {name}");
            match packet.query() {
                Ok(q) => {
                    let parsed = read(text);
                    trace::print_text(&q.trace(&parsed.ruleset));
                }
                Err(message) => {
                    warn!("{message}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    ExitCode::SUCCESS
}

pub fn explain(text: &str, chain: &str, table: Option<&str>, rule: Option<usize>) -> ExitCode {
    let parsed = read(text);
    let found = parsed
        .ruleset
        .tables
        .iter()
        .filter(|t| table.is_none_or(|name| t.name == name))
        .find_map(|t| t.chain(chain).map(|c| (t, c)));
    let Some((t, c)) = found else {
        warn!(
            "no chain {chain}{} in the paste",
            table.map_or(String::new(), |t| format!(" in table {t}"))
        );
        return ExitCode::from(2);
    };
    let services = decode(&parsed.ruleset);
    let index = LineIndex::new(text);
    say!("{} {}: {}", t.name, c.name, explain_chain(t, c, &services));
    let rules: Vec<usize> = match rule {
        Some(n) if n == 0 || n > c.rules.len() => {
            warn!(
                "{} {} has {} rules; --rule must be 1 to {}",
                t.name,
                c.name,
                c.rules.len(),
                c.rules.len()
            );
            return ExitCode::from(2);
        }
        Some(n) => vec![n - 1],
        None => (0..c.rules.len()).collect(),
    };
    for i in rules {
        let line = index.line_col(text, c.rules[i].span.start).line;
        say!(
            "\n#{} (line {line}): {}",
            i + 1,
            explain_rule(t, c, i, &services)
        );
    }
    ExitCode::SUCCESS
}
