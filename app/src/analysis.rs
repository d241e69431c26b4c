//! The view-model: one analysis of the current input, computed by the core and read by every
//! component. The app never analyses anything itself.

use chainlens_core::render::graph::ChainGraph;
use chainlens_core::text::LineIndex;
use chainlens_core::{Parsed, Summary, parse};

/// The example the app opens with: a full dump from a kind cluster.
pub const DEFAULT_EXAMPLE: &str =
    include_str!("../../public/examples/kind-v1.23-iptables-v1.8.4.iptables-save");

#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub parsed: Parsed,
    pub summary: Summary,
    /// One chain graph per table, in paste order.
    pub graphs: Vec<ChainGraph>,
    /// Diagnostics as shown: severity, code, `line:column` (UTF-16, as the text field counts),
    /// message and help.
    pub diagnostics: Vec<ShownDiagnostic>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ShownDiagnostic {
    pub severity: &'static str,
    pub code: &'static str,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
}

impl Analysis {
    pub fn of(text: &str) -> Self {
        let parsed = parse(text);
        let summary = Summary::of(&parsed);
        let graphs = parsed.ruleset.tables.iter().map(ChainGraph::of).collect();
        let index = LineIndex::new(text);
        let diagnostics = parsed
            .diagnostics
            .iter()
            .map(|d| {
                let at = index.line_col_utf16(text, d.span.start);
                ShownDiagnostic {
                    severity: d.severity.as_str(),
                    code: d.code,
                    line: at.line,
                    column: at.column,
                    message: d.message.clone(),
                    help: d.help.clone(),
                }
            })
            .collect();
        Analysis {
            parsed,
            summary,
            graphs,
            diagnostics,
        }
    }

    /// The graph to show first: nat, where kube-proxy's Services live, else the first table.
    pub fn default_table(&self) -> Option<String> {
        let names: Vec<&str> = self.graphs.iter().map(|g| g.table.as_str()).collect();
        names
            .iter()
            .find(|n| **n == "nat")
            .or(names.first())
            .map(|n| n.to_string())
    }
}
