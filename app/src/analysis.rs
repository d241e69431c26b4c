//! The worker's model of the current paste: parsed, counted, its diagnostics placed, node
//! facts read, and (in a second step) its Kubernetes meaning. Only the worker holds it.

use std::collections::HashMap;

use chainlens_core::kube;
use chainlens_core::render::graph::ChainGraph;
use chainlens_core::sim::{Inferred, NodeFacts};
use chainlens_core::text::LineIndex;
use chainlens_core::{Parsed, Summary, read};

/// Above this many Service ports a table's graph opens with each Service folded into one node.
pub const FOLD_ABOVE: usize = 40;
/// Above this many Service ports the folded Services themselves are one node, except those a
/// search names.
pub const LIST_ABOVE: usize = 300;

#[derive(Debug)]
pub struct Analysis {
    pub parsed: Parsed,
    pub summary: Summary,
    pub kube: kube::Analysis,
    /// Node facts read off the rules, and what was guessed.
    pub facts: NodeFacts,
    pub inferred: Vec<Inferred>,
    /// The Service port each nat chain belongs to.
    pub owner: HashMap<String, String>,
    pub line_index: LineIndex,
}

impl Analysis {
    /// The text read: model, counts, diagnostics, node facts; no Services yet.
    pub fn read(text: &str) -> Self {
        let parsed = read(text);
        let summary = Summary::of(&parsed);
        let index = LineIndex::new(text);
        let (facts, inferred) = NodeFacts::infer(&parsed.ruleset);
        Analysis {
            parsed,
            summary,
            kube: kube::Analysis {
                services: Vec::new(),
                findings: Vec::new(),
            },
            facts,
            inferred,
            owner: HashMap::new(),
            line_index: index,
        }
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
