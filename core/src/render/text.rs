//! The chain graph as text other tools draw — Mermaid (GitHub, GitLab and many docs render it
//! natively) and Graphviz DOT — and the analysis as Markdown.

use std::fmt::Write as _;

use super::graph::{ChainGraph, NodeKind};
use crate::kube::{Analysis, Cascade, Policy};

/// A label for Mermaid: quotes, angle brackets, `%` and braces (which would start a
/// `%%{init}%%` directive anywhere in the text) as Mermaid's `#…;` entities; line breaks and
/// control characters as spaces.
fn mermaid_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '%' => out.push_str("#37;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            '#' => out.push_str("#35;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Mermaid flowchart: nodes `n0["KUBE-SERVICES"]`, edges labelled with the jumping rules.
/// User text is written with [`mermaid_label`]'s entities, so no name can end a label or
/// start a directive.
pub fn mermaid(graph: &ChainGraph) -> String {
    let label = mermaid_label;
    // A comment cannot hold entities: keep only what cannot start anything.
    let plain: String = graph
        .table
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let mut out = format!("flowchart LR\n  %% chain graph of the {plain} table\n");
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
    let quote = |s: &str| {
        let clean: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
    };
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

/// User text in Markdown, as text: HTML is written as entities (so `<img onerror=…>` is
/// shown, never run), Markdown's own marks are backslash-escaped (no links, images or
/// emphasis from a chain name), and line breaks and control characters become spaces, so a
/// table cell stays one cell.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
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
                    .map(|r| format!("{} {} \\#{}", cell(&r.table), cell(&r.chain), r.rule))
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
                cell(s.cluster_ip.as_deref().unwrap_or("-")),
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
                    cell(step.shown.as_deref().unwrap_or("rest")),
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
    fn markdown_carries_html_and_markdown_as_text() {
        let hostile = "<img src=x onerror=alert(1)>[x](javascript:y) | *b* `c`";
        let shown = cell(hostile);
        assert_eq!(
            shown,
            "&lt;img src=x onerror=alert\\(1\\)&gt;\\[x\\]\\(javascript:y\\) \\| \\*b\\* \\`c\\`"
        );
        let md = markdown(
            hostile,
            &Analysis {
                services: Vec::new(),
                findings: Vec::new(),
            },
        );
        assert!(!md.contains('<') && !md.contains("](javascript"), "{md}");
    }

    #[test]
    fn mermaid_labels_cannot_start_a_directive() {
        let dump = "*%%{init}%%\n:INPUT ACCEPT [0:0]\n:%%{init}%% - [0:0]\n-A INPUT -j %%{init}%%\nCOMMIT\n";
        let parsed = crate::parse(dump);
        let m = mermaid(&ChainGraph::of(&parsed.ruleset.tables[0]));
        assert!(m.contains("#37;#37;#123;init#125;"), "{m}");
        assert!(!m.contains("%%{"), "{m}");
    }

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
