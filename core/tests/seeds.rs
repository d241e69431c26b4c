//! The seed fixtures (`../shared/fixtures/seeds/`): real pastes that must each load with a
//! useful result. Exact counts for the dumps; invariants for everything.

use std::path::PathBuf;

use chainlens_core::{Format, Severity, Summary, parse};

/// `$CHAINLENS_SHARED` (set by `cargo xtask test`), else `shared/` beside the repository.
fn shared() -> PathBuf {
    std::env::var_os("CHAINLENS_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        PathBuf::from,
    )
}

fn seeds_dir() -> PathBuf {
    shared().join("fixtures/seeds")
}

fn seed(name: &str) -> String {
    let path = seeds_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// `(table, chains, rules)` for each table, in paste order.
fn counts(name: &str) -> (Format, Vec<(String, usize, usize)>, usize) {
    let parsed = parse(&seed(name));
    let summary = Summary::of(&parsed);
    let tables = summary
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.chains, t.rules))
        .collect();
    (parsed.format, tables, summary.errors)
}

fn t(name: &str, chains: usize, rules: usize) -> (String, usize, usize) {
    (name.to_string(), chains, rules)
}

#[test]
fn kind_dump_counts() {
    assert_eq!(
        counts("kind-v1.23-iptables-v1.8.4.iptables-save"),
        (
            Format::Save,
            vec![t("mangle", 7, 0), t("filter", 10, 13), t("nat", 29, 58)],
            0
        )
    );
}

#[test]
fn bind_kube_proxy_dump_counts() {
    assert_eq!(
        counts("bind-kube-proxy-v1.4.21.iptables-save"),
        (Format::Save, vec![t("nat", 16, 37), t("filter", 7, 10)], 0)
    );
}

#[test]
fn bind_manual_dnat_dump_reads_rules_before_later_declarations() {
    assert_eq!(
        counts("bind-manual-dnat-v1.4.21.iptables-save"),
        (Format::Save, vec![t("nat", 16, 3), t("filter", 7, 0)], 0)
    );
}

#[test]
fn fragments_are_read_as_the_nat_table() {
    assert_eq!(
        counts("tutorial-clusterip-fragment.iptables-save"),
        (Format::Fragment, vec![t("nat", 5, 11)], 0)
    );
    assert_eq!(
        counts("tutorial-nodeport-fragment.iptables-save"),
        (Format::Fragment, vec![t("nat", 6, 14)], 0)
    );
}

/// Every seed, whatever its format: no panic, every diagnostic inside the text and on
/// character boundaries, and every non-blank line either read or reported.
#[test]
fn every_seed_loads_and_reports_what_it_did_not_read() {
    let mut names: Vec<_> = std::fs::read_dir(seeds_dir())
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.retain(|n| n != "README.md");
    names.sort();
    assert_eq!(names.len(), 14, "{names:?}");
    for name in names {
        let text = seed(&name);
        let parsed = parse(&text);
        for d in &parsed.diagnostics {
            assert!(
                d.span.start <= d.span.end && d.span.end <= text.len(),
                "{name}: {d:?}"
            );
            assert!(
                text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end),
                "{name}: {d:?}"
            );
        }
        let read_rules: usize = parsed.ruleset.tables.iter().map(|t| t.rule_count()).sum();
        let reported = parsed
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        assert!(
            read_rules + reported > 0,
            "{name}: nothing read and nothing reported"
        );
    }
}
