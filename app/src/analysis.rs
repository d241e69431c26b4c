//! The view-model: one analysis of the current input, computed by the core and read by every
//! component. The app never analyses anything itself.

use std::collections::HashMap;

use chainlens_core::kube;
use chainlens_core::render::graph::ChainGraph;
use chainlens_core::sim::NodeFacts;
use chainlens_core::text::LineIndex;
use chainlens_core::{Parsed, Summary, parse};

/// The seed fixtures, offered as examples; the first is what the app opens with.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "kind-v1.23-iptables-v1.8.4.iptables-save",
        include_str!("../../public/examples/kind-v1.23-iptables-v1.8.4.iptables-save"),
    ),
    (
        "bind-kube-proxy-v1.4.21.iptables-save",
        include_str!("../../public/examples/bind-kube-proxy-v1.4.21.iptables-save"),
    ),
    (
        "bind-manual-dnat-v1.4.21.iptables-save",
        include_str!("../../public/examples/bind-manual-dnat-v1.4.21.iptables-save"),
    ),
    (
        "aliyun-v1.12-nat-listing.iptables-L",
        include_str!("../../public/examples/aliyun-v1.12-nat-listing.iptables-L"),
    ),
    (
        "kube-dns-chains-resolved-names.iptables-L",
        include_str!("../../public/examples/kube-dns-chains-resolved-names.iptables-L"),
    ),
    (
        "tutorial-clusterip-transcript.txt",
        include_str!("../../public/examples/tutorial-clusterip-transcript.txt"),
    ),
    (
        "tutorial-clusterip-fragment.iptables-save",
        include_str!("../../public/examples/tutorial-clusterip-fragment.iptables-save"),
    ),
    (
        "tutorial-clusterip-conntrack.txt",
        include_str!("../../public/examples/tutorial-clusterip-conntrack.txt"),
    ),
    (
        "tutorial-nodeport-transcript.txt",
        include_str!("../../public/examples/tutorial-nodeport-transcript.txt"),
    ),
    (
        "tutorial-nodeport-fragment.iptables-save",
        include_str!("../../public/examples/tutorial-nodeport-fragment.iptables-save"),
    ),
    (
        "tutorial-nodeport-conntrack.txt",
        include_str!("../../public/examples/tutorial-nodeport-conntrack.txt"),
    ),
    (
        "tutorial-nodeport-etp-local-transcript.txt",
        include_str!("../../public/examples/tutorial-nodeport-etp-local-transcript.txt"),
    ),
    (
        "tutorial-nodeport-etp-local-fragment.iptables-save",
        include_str!("../../public/examples/tutorial-nodeport-etp-local-fragment.iptables-save"),
    ),
    (
        "bind-conntrack-count-2500rps.csv",
        include_str!("../../public/examples/bind-conntrack-count-2500rps.csv"),
    ),
];

pub const DEFAULT_EXAMPLE: &str = EXAMPLES[0].1;

/// Above this many Service ports a table's graph opens with each Service folded into one node.
pub const FOLD_ABOVE: usize = 40;
/// Above this many Service ports the folded Services themselves are one node, except those a
/// search names.
pub const LIST_ABOVE: usize = 300;

#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub parsed: Parsed,
    pub summary: Summary,
    /// Diagnostics as shown: severity, code, `line:column` (UTF-16, as the text field counts),
    /// message and help.
    pub diagnostics: Vec<ShownDiagnostic>,
    pub kube: kube::Analysis,
    /// Node facts read off the rules, and what was guessed.
    pub facts: NodeFacts,
    pub assumptions: Vec<String>,
    /// The Service port each nat chain belongs to.
    pub owner: HashMap<String, String>,
    pub line_index: LineIndex,
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
    /// The text read: model, counts, diagnostics, node facts; no Services yet.
    pub fn read(text: &str) -> Self {
        let parsed = parse(text);
        let summary = Summary::of(&parsed);
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
        let (facts, assumptions) = NodeFacts::infer(&parsed.ruleset);
        Analysis {
            parsed,
            summary,
            diagnostics,
            kube: kube::Analysis {
                services: Vec::new(),
                findings: Vec::new(),
            },
            facts,
            assumptions,
            owner: HashMap::new(),
            line_index: index,
        }
    }

    /// Everything: the reading of the text, then its Kubernetes meaning.
    pub fn of(text: &str) -> Self {
        let mut a = Analysis::read(text);
        a.understand();
        a
    }

    /// The Kubernetes meaning of what [`Analysis::read`] read: Services, findings, owners.
    /// A separate step so the page can show the counts before it (a long paste's two halves
    /// are two shorter tasks rather than one long one).
    pub fn understand(&mut self) {
        self.kube = kube::Analysis::of(&self.parsed.ruleset, &self.facts);
        self.owner = self
            .kube
            .services
            .iter()
            .flat_map(|s| s.chains.iter().map(|c| (c.clone(), s.name.clone())))
            .collect();
    }

    pub fn tables(&self) -> Vec<String> {
        self.parsed
            .ruleset
            .tables
            .iter()
            .map(|t| t.name.clone())
            .collect()
    }

    /// The graph to show first: nat, where kube-proxy's Services live, else the first table.
    pub fn default_table(&self) -> Option<String> {
        let names = self.tables();
        names
            .iter()
            .find(|n| *n == "nat")
            .or(names.first())
            .cloned()
    }

    /// The chain graph of `table`, Services folded unless expanded (or all shown when there
    /// are few), and beyond [`LIST_ABOVE`] the Services a search does not name folded into one.
    pub fn graph(
        &self,
        table: &str,
        fold: bool,
        expanded: &[String],
        search: &str,
    ) -> Option<ChainGraph> {
        let t = self.parsed.ruleset.table(table)?;
        if !fold {
            return Some(ChainGraph::of(t));
        }
        let many = self.kube.services.len() > LIST_ABOVE;
        let search = search.trim().to_ascii_lowercase();
        let rest = format!(
            "{} more Services (search to show)",
            self.kube.services.len()
        );
        Some(ChainGraph::grouped(t, &|chain: &str| {
            let service = self.owner.get(chain)?;
            if expanded.iter().any(|e| e == service) {
                return None;
            }
            let named = !search.is_empty() && service.to_ascii_lowercase().contains(&search);
            if many && !named {
                Some(rest.clone())
            } else {
                Some(service.clone())
            }
        }))
    }
}
