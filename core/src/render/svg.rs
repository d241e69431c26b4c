//! A standalone SVG document of a chain graph, for the CLI and exports. The app draws the same
//! [`ChainGraph`] with its own components, so both show one layout.

use std::fmt::Write as _;

use super::graph::ChainGraph;

/// Styles for a standalone file; the app themes the same class names from `style/`.
const STYLE: &str = "text{font:12px ui-monospace,monospace;fill:#1b1f24}\
rect.builtin{fill:#dbeafe;stroke:#1d4ed8}rect.user{fill:#f6f8fa;stroke:#57606a}\
rect.missing{fill:#fff;stroke:#9a6700;stroke-dasharray:4 3}\
path{fill:none;stroke:#8c959f;stroke-width:1.2}path.goto{stroke-dasharray:5 3}text.words{font:11px system-ui,sans-serif;fill:#57606a}";

/// Writes the graph as an SVG document. All user text is escaped.
pub fn chain_graph(graph: &ChainGraph) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="chain graph of the {t} table"><style>{STYLE}</style><defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#8c959f"/></marker></defs>"##,
        w = graph.width,
        h = graph.height,
        t = escape(&graph.table),
    );
    for edge in &graph.edges {
        let title = graph.edge_title(edge);
        let _ = write!(
            out,
            r#"<path class="{}" d="{}" marker-end="url(#arrow)"><title>{}</title></path>"#,
            if edge.goto { "goto" } else { "jump" },
            graph.edge_path(edge),
            escape(&title)
        );
    }
    for node in &graph.nodes {
        let (name_y, words) = match &node.words {
            Some(words) => (
                node.y + 17.0,
                format!(
                    r#"<text class="words" x="{:.1}" y="{:.1}">{}</text>"#,
                    node.x + 12.0,
                    node.y + 33.0,
                    escape(words)
                ),
            ),
            None => (node.y + node.height / 2.0 + 4.0, String::new()),
        };
        let _ = write!(
            out,
            r#"<g><title>{name} ({rules} rules)</title><rect class="{kind}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="4"/><text x="{tx:.1}" y="{name_y:.1}">{name}</text>{words}</g>"#,
            name = escape(&node.chain),
            rules = node.rules,
            kind = node.kind.as_str(),
            x = node.x,
            y = node.y,
            w = node.width,
            h = node.height,
            tx = node.x + 12.0,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters (even escaped) and U+FFFE/U+FFFF.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn user_text_is_escaped() {
        let parsed = parse("*filter\n:<img&\"> -\n:INPUT ACCEPT\n-A INPUT -j <img&\">\nCOMMIT\n");
        let svg = chain_graph(&ChainGraph::of(&parsed.ruleset.tables[0]));
        assert!(svg.contains("&lt;img&amp;&quot;&gt;"));
        assert!(!svg.contains("<img"));
    }
}
