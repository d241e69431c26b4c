//! Every dump in `shared/conformance/` (kube-proxy's test dumps, iptables' own save/restore
//! dumps, real Kubernetes dumps) reads with zero errors, and printing is a fixed point:
//! parse → print → parse → print gives the same text.

mod common;

use std::path::{Path, PathBuf};

use chainlens_core::diag::Severity;
use chainlens_core::{parse, print};

/// Reads `text`, checks it has no errors, that every `-A`/`-I` line became a rule, and that
/// printing is stable.
fn check_dump(name: &str, text: &str) {
    let parsed = parse(text);
    let errors: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} `{}`", d.message, &text[d.span.start..d.span.end]))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    let once = print::ruleset(&parsed.ruleset);
    let again = parse(&once);
    assert!(
        again
            .diagnostics
            .iter()
            .all(|d| d.severity != Severity::Error),
        "{name}: the printed form does not read back: {:?}",
        again.diagnostics
    );
    let twice = print::ruleset(&again.ruleset);
    assert_eq!(once, twice, "{name}: printing is not stable");
    let written = text
        .lines()
        .map(str::trim_start)
        .filter(|l| {
            l.starts_with("-A ")
                || l.starts_with("-I ")
                || (l.starts_with('[') && l.contains("] -A "))
        })
        .count();
    let read: usize = parsed.ruleset.tables.iter().map(|t| t.rule_count()).sum();
    // `-F`/`-X` in kube-proxy's partial restores may legitimately remove rules read earlier.
    let removes = text
        .lines()
        .any(|l| l.starts_with("-F ") || l.starts_with("-X "));
    assert!(
        read == written || (removes && read <= written),
        "{name}: {written} rule lines, {read} rules read"
    );
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    out
}

#[test]
fn kube_proxy_case_dumps() {
    let dir = common::shared().join("conformance/kube-proxy/cases");
    let mut cases = 0;
    for path in files(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let dump = json["iptables_save"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no iptables_save", path.display()));
        check_dump(&path.display().to_string(), dump);
        cases += 1;
    }
    assert_eq!(cases, 45);
}

#[test]
fn iptables_and_real_dumps() {
    let conformance = common::shared().join("conformance");
    let mut read = 0;
    for sub in [
        "iptables-dumps/ipt-save",
        "iptables-dumps/ipt-restore",
        "iptables-dumps/firewalld-restore",
        "real-dumps",
    ] {
        for path in files(&conformance.join(sub)) {
            // INDEX.md describes the dumps; the .xml is iptables-xml's rendering of a dump, kept
            // there as that tool's expected output (the benchmark compares against iptables-xml).
            if path.extension().is_some_and(|e| e == "md" || e == "xml") {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            check_dump(&path.display().to_string(), &text);
            read += 1;
        }
    }
    assert_eq!(read, 12);
}
