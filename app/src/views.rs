//! The view-models: what the analysis worker sends the page, one type per thing a view draws.
//! Plain data (text, numbers, already-rendered charts), small enough to cross between threads
//! in a few milliseconds; the model itself stays in the worker.

use chainlens_core::render::graph::ChainGraph;
use chainlens_core::share::TraceQuery;
use serde::{Deserialize, Serialize};

/// What was read: counts, diagnostics, tables and node facts (no Services yet).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Read {
    pub format: String,
    pub tables: Vec<TableCount>,
    pub conntrack: usize,
    pub errors: usize,
    pub diagnostics_total: usize,
    /// The first [`crate::worker::DIAGNOSTICS_SHOWN`] diagnostics, each said once with every
    /// place it applies (`chainlens_core::diag::repeated`), the most severe first.
    pub diagnostics: Vec<Diagnostic>,
    pub default_table: Option<String>,
    /// What the node facts were read off the rules, or could not be, as sentences.
    pub inferred: Vec<String>,
}

impl Read {
    pub fn chains(&self) -> usize {
        self.tables.iter().map(|t| t.chains).sum()
    }

    pub fn rules(&self) -> usize {
        self.tables.iter().map(|t| t.rules).sum()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCount {
    pub name: String,
    pub chains: usize,
    pub rules: usize,
}

/// A diagnostic as shown: `line:column` count UTF-16 units, as the text field does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: String,
    pub code: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
    /// How many places say the same (1 for a diagnostic said once).
    pub times: usize,
    /// The lines of the other places, the first [`crate::worker::DIAGNOSTIC_PLACES_SHOWN`].
    pub also: Vec<usize>,
}

/// What the rules mean: Service counts and findings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Understood {
    pub services: usize,
    pub endpoints: usize,
    pub external: usize,
    pub findings: Vec<Finding>,
    pub findings_total: usize,
    /// The Service the views open on: the first finding's, else the first with more than one
    /// endpoint, else the first.
    pub default_service: Option<String>,
    /// Whether the graph opens with each Service folded into one node.
    pub fold: bool,
    /// Pasted `conntrack -L` entries: how many, and the SNAT pools they hold ports of (label,
    /// entries).
    pub conntrack_entries: usize,
    pub conntrack_pools: Vec<(String, usize)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub severity: String,
    pub message: String,
    pub explanation: String,
    pub action: String,
    pub service: Option<String>,
    pub rules: Vec<RuleRef>,
    pub rules_total: usize,
    /// The packet that shows it, as the tracer's form and as the planner's target.
    pub trace: Option<TraceQuery>,
    pub plan_target: Option<String>,
}

/// A rule of the paste, with its line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub table: String,
    pub chain: String,
    pub rule: usize,
    pub line: usize,
}

/// Which column the Services table sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    #[default]
    Name,
    Kind,
    Endpoints,
    Cost,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServicesPage {
    pub rows: Vec<ServiceRow>,
    /// How many Services match the filter.
    pub total: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub name: String,
    pub kind: String,
    pub addresses: String,
    pub endpoints: String,
    pub policy: String,
    pub cost: String,
}

/// One Service with what the tracer and the planner offer for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub name: String,
    /// Packets the tracer can send at once, with their labels.
    pub presets: Vec<(String, TraceQuery)>,
    /// `ip:port/proto` the planner can send traffic to.
    pub targets: Vec<String>,
}

/// A table's chain graph with the hover texts of its nodes and edges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    pub graph: ChainGraph,
    pub node_titles: Vec<String>,
    pub edge_titles: Vec<String>,
    /// What the graph leaves out, when it draws a neighbourhood rather than every chain.
    pub note: Option<String>,
}

/// One probability cascade, charted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cascade {
    pub title: String,
    pub svg: String,
    /// Where the chart's plot area is; one bar per step, left to right.
    pub plot: chainlens_core::render::chart::PlotArea,
    pub steps: Vec<CascadeStep>,
    pub note: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CascadeStep {
    pub endpoint: String,
    pub rule: String,
    pub probability: f64,
    pub deviation: f64,
}

/// A traced packet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// About the node and the paste as a whole.
    pub assumed: Vec<String>,
    pub outcomes: Vec<Outcome>,
    /// Parts of the walk past the simulator's limits, said.
    pub unexplored: Vec<String>,
    /// The (table, chain) pairs any outcome passed, for the graph.
    pub path: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub probability: f64,
    pub paths: u64,
    pub verdict: String,
    /// What happened, in words (`Outcome::headline`), and the packet as it leaves.
    pub headline: String,
    pub ends_as: String,
    pub dnat: String,
    pub snat: String,
    pub src: String,
    pub dst: String,
    pub steps: Vec<Step>,
    /// Where the second half of a delivery through `lo` starts.
    pub looped_at: Option<usize>,
    pub assumptions: Vec<String>,
    /// Tests that cannot be decided and make no difference to this outcome.
    pub either: Vec<String>,
    pub path: Vec<(String, String)>,
    /// The path as the kernel runs it: hook by hook, each table's base chain in turn.
    pub hops: Vec<Hop>,
}

/// One hook of a traced path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// `PREROUTING`, `INPUT`…
    pub hook: String,
    /// In the second half of a delivery through `lo`.
    pub again: bool,
    pub passes: Vec<Pass>,
}

/// One table's base chain at a hook, and what the packet met from there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pass {
    pub table: String,
    /// The chains entered, in order, each with what it stands for in Kubernetes words.
    pub chains: Vec<(String, Option<String>)>,
    /// What happened there that lasts, in order.
    pub events: Vec<Event>,
    /// How the table's walk ended (its last step's action).
    pub ends: String,
    /// The first of its steps in [`Outcome::steps`].
    pub first_step: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// A random draw of the kernel (`statistic`, an IPVS scheduler): the share of the packets
    /// reaching the rule that took this way, and the way.
    Draw { share: f64, took: String },
    /// An address rewritten: DNAT, SNAT, MASQUERADE, REDIRECT, IPVS.
    Nat(String),
    /// The packet's mark set.
    Mark(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub table: String,
    pub chain: String,
    pub rule: String,
    pub action: String,
    /// The rule's line in the paste.
    pub line: Option<usize>,
}

/// A conntrack plan, run and charted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub svg: String,
    /// Where the chart's plot area is, and the first run's values per second, for the
    /// read-out at the pointer.
    pub plot: chainlens_core::render::chart::PlotArea,
    pub readout: Vec<Readout>,
    pub pool_labels: Vec<String>,
    pub summary: String,
    pub saturated: bool,
    pub notes: Vec<String>,
    pub pools: Vec<String>,
    pub samples: Option<String>,
}

/// The second ruleset against the first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Compare {
    pub removed: Vec<String>,
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub rules_only_in_a: usize,
    pub rules_only_in_b: usize,
    /// The rule lines that differ, `- ` and `+ ` first (at most 500 of each).
    pub rules: String,
    /// The same packet traced through A and B, one line per outcome.
    pub trace: Option<(Vec<String>, Vec<String>)>,
}

/// A file to download.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub name: String,
    pub mime: String,
    pub contents: String,
}

/// One chain for the graph's side panel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainDetail {
    pub table: String,
    pub chain: String,
    /// What it stands for in Kubernetes words (a Service, an endpoint, a component).
    pub words: Option<String>,
    pub explanation: String,
    /// The line that declares it.
    pub line: usize,
    /// The first [`crate::worker::CHAIN_RULES_SHOWN`] rules.
    pub rules: Vec<ChainRule>,
    pub rules_total: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainRule {
    /// Its line in the paste; `None` for a rule assumed for a fragment.
    pub line: Option<usize>,
    pub text: String,
    pub explanation: String,
}

/// The conntrack chart's values at one second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Readout {
    pub t: f64,
    pub entries: f64,
    pub count: f64,
    pub refused: f64,
    pub pools: Vec<f64>,
}
