//! Inputs the fuzzers found (`fuzz/`), kept as fixtures in `tests/fuzz-regressions/` and held
//! to the fuzz targets' properties: no panic, every diagnostic span in bounds, ordered and on
//! character boundaries, printing a fixed point, and error-free input printing as text that
//! reads back without errors.

mod common;

use std::path::PathBuf;

use chainlens_core::diag::Severity;
use chainlens_core::{LineIndex, parse, print};

#[test]
fn fuzz_findings_hold_the_fuzz_properties() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let name = path.display();
        let parsed = parse(&text);
        let index = LineIndex::new(&text);
        common::assert_spans_valid(&name.to_string(), &text, &parsed.diagnostics);
        for d in &parsed.diagnostics {
            let _ = d.render(&text, &index);
        }
        let printed = print::ruleset(&parsed.ruleset);
        let again = parse(&printed);
        let reprinted = print::ruleset(&again.ruleset);
        if let Some((a, b)) = printed.lines().zip(reprinted.lines()).find(|(a, b)| a != b) {
            panic!("{name}: printing is not a fixed point:\n  once:  {a}\n  twice: {b}");
        }
        assert_eq!(
            printed.lines().count(),
            reprinted.lines().count(),
            "{name}: printing is not a fixed point"
        );
        // Input read without errors must print as text that reads back without errors.
        // Rules the model marks incomplete have no faithful iptables-save form, and `binary-input`
        // judges the share of odd characters in a whole paste, not its syntax.
        let clean = |p: &chainlens_core::Parsed| {
            p.diagnostics
                .iter()
                .all(|d| d.severity != Severity::Error || d.code == "binary-input")
                && p.ruleset
                    .tables
                    .iter()
                    .flat_map(|t| &t.chains)
                    .flat_map(|c| &c.rules)
                    .all(|r| r.complete)
        };
        assert!(
            !clean(&parsed) || clean(&again),
            "{name}: printed form does not read back:\n{printed}\n{:?}",
            again.diagnostics
        );
    }
}
