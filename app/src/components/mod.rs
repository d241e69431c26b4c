//! The page's components; each reads [`crate::app::AppState`] from context.

mod cascade;
mod compare;
mod conntrack;
mod diagnostics;
mod graph;
mod input;
mod overview;
mod services;
mod share;
mod summary;
mod trace;

pub use cascade::CascadeView;
pub use compare::CompareView;
pub use conntrack::ConntrackView;
pub use diagnostics::Diagnostics;
pub use graph::ChainGraphView;
pub use input::RulesInput;
pub use overview::Overview;
pub use services::ServicesTable;
pub use share::{Embed, SharePanel, with_fragment};
pub use summary::SummaryLine;
pub use trace::TraceView;
