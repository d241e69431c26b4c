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
/// search names; unfolded, only the neighbourhood of the searched Service (or the one the
/// findings start from) is drawn chain by chain.
pub const LIST_ABOVE: usize = 300;
/// Above this many chains of the components beside kube-proxy (Calico, Cilium, Docker…) in a
/// table, its graph opens with each component's chains folded into one node.
pub const FOLD_COMPONENTS_ABOVE: usize = 12;

/// What a graph folds: each Service's chains into one node, each component's chains into one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub services: bool,
    pub components: bool,
}

/// The Services a search names, and the one the story starts from.
struct Focus {
    search: String,
    default: Option<String>,
}

impl Focus {
    /// Whether the search names `service` (any case).
    fn named(&self, service: &str) -> bool {
        !self.search.is_empty() && service.to_ascii_lowercase().contains(&self.search)
    }

    /// Whether an unfolded graph draws `service`'s chains one by one: the searched Services,
    /// or without a search the story's.
    fn near(&self, service: &str) -> bool {
        self.named(service) || (self.search.is_empty() && self.default.as_deref() == Some(service))
    }
}

/// The label of the node that stands for `owner`'s chains.
pub fn component_label(owner: kube::owners::Owner) -> String {
    format!("{owner} chains")
}

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
    /// What the Services' chains stand for, in Kubernetes words (`kube::owners::service_words`).
    pub words: HashMap<String, String>,
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
            words: HashMap::new(),
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
        self.words = kube::owners::service_words(&self.kube.services);
    }

    /// The Service the story starts from: the one the most severe finding about a Service
    /// names (the first of those), else the first with several endpoints, else the first.
    pub fn default_service(&self) -> Option<String> {
        let services = &self.kube.services;
        self.kube
            .findings
            .iter()
            .filter(|f| f.service.is_some())
            .rev()
            .max_by_key(|f| f.severity)
            .and_then(|f| f.service.clone())
            .or_else(|| {
                services
                    .iter()
                    .find(|s| s.endpoints.len() > 1)
                    .or(services.first())
                    .map(|s| s.name.clone())
            })
    }

    /// What a graph leaves out, said: beyond [`LIST_ABOVE`] Services an unfolded graph shows
    /// one neighbourhood, not every chain.
    pub fn graph_note(&self, fold: Fold, search: &str) -> Option<String> {
        let n = self.kube.services.len();
        if fold.services || n <= LIST_ABOVE {
            return None;
        }
        let focus = self.focus(search);
        let shown = self
            .kube
            .services
            .iter()
            .filter(|s| focus.near(&s.name))
            .count();
        let around = match (search.trim(), shown) {
            ("", 0) => "no Service".to_string(),
            ("", _) => format!(
                "{} (the Service the other views open on)",
                focus.default.as_deref().unwrap_or_default()
            ),
            (s, 0) => {
                return Some(format!(
                    "No Service matches “{s}”: {n} Services are too many to draw chain by chain, so all their chains are one node."
                ));
            }
            (s, 1) => format!("the Service matching “{s}”"),
            (s, k) => format!("the {k} Services matching “{s}”"),
        };
        Some(format!(
            "{n} Services are too many to draw chain by chain: shown are the chains of {around} and every chain they reach or are reached from; the other Services' chains are one node. Search to show another Service."
        ))
    }

    /// Which Services an unfolded graph beyond [`LIST_ABOVE`] draws chain by chain.
    fn focus(&self, search: &str) -> Focus {
        Focus {
            search: search.trim().to_ascii_lowercase(),
            default: self.default_service(),
        }
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
    /// What the graph of `table` folds: what the user asked (the toggle folds both or
    /// neither), else Services above [`FOLD_ABOVE`] and components above
    /// [`FOLD_COMPONENTS_ABOVE`] chains.
    pub fn fold(&self, table: &str, asked: Option<bool>) -> Fold {
        let components = self.parsed.ruleset.table(table).map_or(0, |t| {
            t.chains
                .iter()
                .filter(|c| component(&c.name).is_some())
                .count()
        });
        Fold {
            services: asked.unwrap_or(self.kube.services.len() > FOLD_ABOVE),
            components: asked.unwrap_or(components > FOLD_COMPONENTS_ABOVE),
        }
    }

    pub fn graph(
        &self,
        table: &str,
        fold: Fold,
        expanded: &[String],
        search: &str,
    ) -> Option<ChainGraph> {
        let t = self.parsed.ruleset.table(table)?;
        let words = |chain: &str| kube::owners::chain_words(&self.words, chain);
        let many = self.kube.services.len() > LIST_ABOVE;
        if !fold.services && !fold.components && !many {
            return Some(ChainGraph::of(t).with_words(&words));
        }
        let focus = self.focus(search);
        let named = |service: &str| focus.named(service);
        let near = |service: &str| focus.near(service);
        // The rest node counts the Services it stands for.
        let others = self
            .kube
            .services
            .iter()
            .filter(|s| {
                !if fold.services {
                    named(&s.name)
                } else {
                    near(&s.name)
                }
            })
            .count();
        let rest = if fold.services {
            format!("{others} more Services (search to show)")
        } else {
            format!("the chains of {others} other Services (search to show)")
        };
        // A component with a chain or two keeps them as they are: a group would only hide names.
        let mut per_owner: HashMap<kube::owners::Owner, usize> = HashMap::new();
        for c in &t.chains {
            if let Some(owner) = component(&c.name) {
                *per_owner.entry(owner).or_default() += 1;
            }
        }
        Some(
            ChainGraph::grouped(t, &|chain: &str| {
                if fold.components
                    && let Some(owner) = component(chain)
                    && per_owner.get(&owner).is_some_and(|n| *n >= 3)
                {
                    let label = component_label(owner);
                    return (!expanded.contains(&label)).then_some(label);
                }
                let service = self.owner.get(chain)?;
                if !fold.services {
                    return (!near(service)).then(|| rest.clone());
                }
                if expanded.iter().any(|e| e == service) {
                    return None;
                }
                if many && !named(service) {
                    Some(rest.clone())
                } else {
                    Some(service.clone())
                }
            })
            .with_words(&words),
        )
    }
}

/// The component beside kube-proxy that writes `chain`, if its name says (kube-proxy's,
/// kubelet's and the built-in chains are not folded this way).
fn component(chain: &str) -> Option<kube::owners::Owner> {
    use kube::owners::Owner;
    kube::owners::owner(chain)
        .filter(|o| !matches!(o, Owner::Netfilter | Owner::KubeProxy | Owner::Kubelet))
}
