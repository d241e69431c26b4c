//! The analysis worker. The page's own WebAssembly module, started a second time in a Web
//! Worker (`public/worker.js`), holds the pasted text and its model and answers the page's
//! questions ([`Ask`]) with view-models ([`crate::views`]); the page never parses or analyses,
//! so a long paste never blocks it. `client` is the page's side: it starts the worker, matches
//! answers to questions, and when the worker dies says so, drops what it showed and starts a
//! new one.

pub mod client;
mod session;

use chainlens_core::share::{Plan, ShareState, TraceQuery};
use serde::{Deserialize, Serialize};

use crate::views;

/// How many diagnostics and findings a view-model carries (the rest are counted).
pub const DIAGNOSTICS_SHOWN: usize = 200;
/// How many other places of a repeated diagnostic are listed (the rest are counted).
pub const DIAGNOSTIC_PLACES_SHOWN: usize = 50;
pub const FINDINGS_SHOWN: usize = 200;
/// How many rules of one chain the graph's side panel lists.
pub const CHAIN_RULES_SHOWN: usize = 500;

/// A question to the worker. `Read` carries the text beside the JSON (see [`client`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Ask {
    /// Read a new paste (the text travels beside the question): counts and diagnostics.
    Read,
    /// What the last paste read means: Services, findings.
    Understand,
    Services {
        filter: String,
        sort: views::Column,
        reverse: bool,
        limit: usize,
    },
    /// Service names containing `filter`, at most `limit`.
    ServiceNames {
        filter: String,
        limit: usize,
    },
    Service {
        name: String,
    },
    Graph {
        table: Option<String>,
        fold: Option<bool>,
        expanded: Vec<String>,
        search: String,
    },
    /// A Service's cascades, charted `width` wide.
    Cascade {
        service: String,
        width: u32,
    },
    /// One chain of a table: its rules as written and in words, for the graph's side panel.
    Chain {
        table: String,
        chain: String,
    },
    Trace {
        query: TraceQuery,
    },
    /// A conntrack plan run, charted `width` wide.
    Plan {
        plan: Plan,
        width: u32,
    },
    /// A second ruleset (beside the question) against the paste, and a packet through both.
    Compare {
        dst: String,
        port: String,
        proto: String,
        /// The interface the packet arrives on; empty: as each ruleset's own rules say.
        in_iface: String,
    },
    /// The link fragment for `state` (its input is the worker's paste).
    Link {
        state: ShareState,
        embed: Option<String>,
    },
    /// The analysis as a file, for links too long to share.
    File {
        state: ShareState,
    },
    Export {
        what: ExportKind,
        view: ViewState,
    },
    /// A test hook: the worker panics, as a bug would make it.
    Crash,
}

/// What an export is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportKind {
    /// The picture on show: the graph, or on the Cascade view the cascade.
    Svg,
    Mermaid,
    Dot,
    Markdown,
}

/// What the page shows, for exports of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ViewState {
    pub cascade: Option<String>,
    pub table: Option<String>,
    pub fold: Option<bool>,
    pub expanded: Vec<String>,
    pub search: String,
}

/// The worker's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Answer {
    Read(views::Read),
    Understood(views::Understood),
    Services(views::ServicesPage),
    ServiceNames(Vec<String>),
    Service(Option<views::ServiceDetail>),
    Graph(Option<views::Graph>),
    Cascade(Vec<views::Cascade>),
    Chain(Option<views::ChainDetail>),
    Trace(Result<views::Trace, String>),
    Plan(Result<views::Plan, String>),
    Compare(Option<views::Compare>),
    Text(String),
    Export(Option<views::Export>),
}

/// A question with its number, as it crosses to the worker.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    id: u64,
    ask: Ask,
}

/// What comes back: the answer to question `id`, or (id 0) a word from the worker itself.
#[derive(Debug, Serialize, Deserialize)]
enum Message {
    Ready,
    Answer {
        id: u64,
        answer: Box<Answer>,
    },
    /// The worker panicked with this message and is about to die.
    Died(String),
}

/// Runs in the worker: answers each question in turn, for as long as the worker lives.
pub fn serve() {
    session::serve();
}
