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

/// Reads a paste as the front ends do: [`parse`], then what a fragment lacks of kube-proxy's
/// entry rules and standard chains assumed ([`kube::complete`]), and kube-proxy rules printed
/// without matches kube-proxy always writes marked incomplete ([`kube::flag_lossy`]); each
/// said as a diagnostic.
pub fn read(text: &str) -> Parsed {
    let mut parsed = parse(text);
    kube::complete(&mut parsed);
    kube::flag_lossy(&mut parsed);
    parsed
}
