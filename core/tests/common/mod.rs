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

/// kube-proxy's conformance cases (`conformance/kube-proxy/cases/*.json`), sorted.
pub fn kube_proxy_cases() -> Vec<PathBuf> {
    let dir = shared().join("conformance/kube-proxy/cases");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    names
}

/// Compares `text` with the committed snapshot `tests/snapshots/NAME`; `UPDATE_SNAPSHOTS=1`
/// rewrites it first. `what` says what changed when they differ.
pub fn snapshot(name: &str, text: &str, what: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        text,
        "{what} changed ({name}); if intended, run with UPDATE_SNAPSHOTS=1 and commit"
    );
}
pub mod corpus;
