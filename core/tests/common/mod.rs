//! Helpers shared by the integration tests: where the shared test data is, and the invariants
//! every diagnostic must hold.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::path::PathBuf;

use chainlens_core::Diagnostic;

/// `$CHAINLENS_SHARED` (set by `cargo xtask test`), else `shared/` beside the repository.
pub fn shared() -> PathBuf {
    std::env::var_os("CHAINLENS_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        PathBuf::from,
    )
}

/// Every diagnostic points inside `text`, forwards, on character boundaries.
pub fn assert_spans_valid(name: &str, text: &str, diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        assert!(
            d.span.start <= d.span.end && d.span.end <= text.len(),
            "{name}: {d:?}"
        );
        assert!(
            text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end),
            "{name}: {d:?}"
        );
    }
}
