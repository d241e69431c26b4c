//! The chain graph as text other tools draw — Mermaid (GitHub, GitLab and many docs render it
//! natively) and Graphviz DOT — and the analysis as Markdown.

use std::fmt::Write as _;

use super::graph::{ChainGraph, NodeKind};
use crate::kube::{Analysis, Cascade, Policy};

/// Mermaid flowchart: nodes `n0["KUBE-SERVICES"]`, edges labelled with the jumping rules.
/// Quotes and angle brackets in labels are written as Mermaid entities.
pub fn mermaid(graph: &ChainGraph) -> String {
    let label = |s: &str| {
        s.replace('"', "#quot;")
            .replace('<', "#lt;")
            .replace('>', "#gt;")
    };
    let mut out = format!(
        "flowchart LR\n  %% chain graph of the {} table\n",
        label(&graph.table)
    );
    for (i, n) in graph.nodes.iter().enumerate() {
        let _ = match n.kind {
            NodeKind::Builtin => writeln!(out, "  n{i}([\"{}\"])", label(&n.chain)),
            NodeKind::Missing => {
                writeln!(out, "  n{i}[/\"{} (not in the paste)\"/]", label(&n.chain))
            }
            NodeKind::Group => writeln!(
                out,
                "  n{i}[[\"{} ({} chains)\"]]",
                label(&n.chain),
                n.members
            ),
            NodeKind::User => writeln!(out, "  n{i}[\"{}\"]", label(&n.chain)),
        };
    }
    for e in &graph.edges {
        let rules: Vec<String> = e.rules.iter().map(|r| format!("#{r}")).collect();
        let arrow = if e.goto { "-.->" } else { "-->" };
        let _ = writeln!(
            out,
            "  n{} {arrow}|\"{}\"| n{}",
            e.from,
            rules.join(" "),
            e.to
        );
    }
    out
}

/// Graphviz DOT, left to right.
pub fn dot(graph: &ChainGraph) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
        quote(&graph.table)
    );
    for (i, n) in graph.nodes.iter().enumerate() {
        let style = match n.kind {
            NodeKind::Builtin => ", style=filled, fillcolor=\"#dbeafe\"",
            NodeKind::Missing => ", style=dashed",
            NodeKind::Group => ", style=\"rounded,dashed\"",
            NodeKind::User => "",
        };
        let _ = writeln!(out, "  n{i} [label={}{style}];", quote(&n.chain));
    }
    for e in &graph.edges {
        let rules: Vec<String> = e.rules.iter().map(|r| format!("#{r}")).collect();
        let style = if e.goto { ", style=dashed" } else { "" };
        let _ = writeln!(
            out,
            "  n{} -> n{} [label={}{style}];",
            e.from,
            e.to,
            quote(&rules.join(" "))
        );
    }
    out.push_str("}\n");
    out
}

/// Markdown cells hold user text: pipes and line breaks would break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The analysis as Markdown: Services, their cascades, findings.
pub fn markdown(title: &str, analysis: &Analysis) -> String {
    let mut out = format!("# {}\n\n", cell(title));
    let _ = writeln!(
        out,
        "{} Service ports, {} findings.\n",
        analysis.services.len(),
        analysis.findings.len()
    );
    if !analysis.findings.is_empty() {
        out.push_str("## Findings\n\n");
        for f in &analysis.findings {
            let _ = writeln!(
                out,
                "- **{}** `{}`: {}\n  - Why: {}\n  - What to do: {}",
                f.severity.as_str(),
                f.code,
                cell(&f.message),
                cell(&f.explanation),
                cell(&f.action)
            );
            if !f.rules.is_empty() {
                let rules: Vec<String> = f
                    .rules
                    .iter()
                    .take(10)
                    .map(|r| format!("`{} {} #{}`", r.table, cell(&r.chain), r.rule))
                    .collect();
                let _ = writeln!(out, "  - Rules: {}", rules.join(", "));
            }
        }
        out.push('\n');
    }
    if !analysis.services.is_empty() {
        out.push_str("## Services\n\n| Service | Protocol | Cluster IP | Node port | External / LB IPs | External policy | Endpoints |\n|---|---|---|---|---|---|---|\n");
        for s in &analysis.services {
            let external: Vec<&str> = s
                .external_ips
                .iter()
                .chain(&s.load_balancer_ips)
                .map(String::as_str)
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                cell(&s.name),
                s.protocol.map_or("-".into(), |p| p.to_string()),
                s.cluster_ip.as_deref().unwrap_or("-"),
                s.node_port.map_or("-".into(), |p| p.to_string()),
                if external.is_empty() {
                    "-".into()
                } else {
                    cell(&external.join(", "))
                },
                match s.external_traffic_policy {
                    Some(Policy::Local) => "Local",
                    Some(Policy::Cluster) => "Cluster",
                    None => "-",
                },
                s.endpoints.len()
            );
        }
        out.push_str("\n## Probability cascades\n\n");
        for s in analysis.services.iter().filter(|s| s.endpoints.len() > 1) {
            let c = Cascade::of(s);
            let _ = writeln!(
                out,
                "### {}\n\n| Endpoint | Rule's probability | Share of connections |\n|---|---|---|",
                cell(&s.name)
            );
            for step in &c.steps {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.6}% |",
                    cell(step.endpoint.as_deref().unwrap_or("(not in the paste)")),
                    step.shown.as_deref().unwrap_or("rest"),
                    step.probability * 100.0
                );
            }
            let _ = writeln!(out, "\nSpread {:.2e}, sum {:.12}.\n", c.spread, c.sum);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_break_out() {
        let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:A\"B - [0:0]\n-A PREROUTING -j A\"B\nCOMMIT\n";
        let parsed = crate::parse(dump);
        let graph = ChainGraph::of(parsed.ruleset.table("nat").expect("nat"));
        let m = mermaid(&graph);
        assert!(!m.contains("A\"B"), "{m}");
        let d = dot(&graph);
        assert!(d.contains("A\\\"B"), "{d}");
    }
}
