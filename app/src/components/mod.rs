//! The page's components; each reads [`crate::app::AppState`] from context.

mod diagnostics;
mod graph;
mod input;
mod summary;

pub use diagnostics::Diagnostics;
pub use graph::ChainGraphView;
pub use input::RulesInput;
pub use summary::SummaryLine;
