//! chainlens-core: the analysis engine shared by the browser app and the CLI.
//!
//! Data flows one way: text → [`parse`] → [`model`] → [`render`]. The crate does no IO,
//! reads no clock and owns no global random state, so every result is a pure function of
//! its inputs and the crate builds for `wasm32-unknown-unknown`.

pub mod conntrack;
pub mod diag;
pub mod ext;
pub mod kube;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod print;
pub mod render;
pub mod rng;
pub mod share;
pub mod sim;
pub mod summary;
pub mod text;

pub use diag::{Diagnostic, Severity};
pub use model::{Chain, Rule, Ruleset, Table, Target};
pub use parse::{Format, Parsed, parse};
pub use summary::Summary;
pub use text::{LineIndex, Span};
