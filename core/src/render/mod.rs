//! Pictures of the analysis, shared by the app and the CLI: layouts as plain data, and writers
//! that turn them into SVG (and later Mermaid and DOT).

pub mod chart;
pub mod graph;
pub mod svg;
pub mod text;
