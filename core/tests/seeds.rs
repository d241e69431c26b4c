//! The seed fixtures (`../shared/fixtures/seeds/`): real pastes that must each load with a
//! useful result. Exact counts for the dumps; invariants for everything.

mod common;

use std::path::PathBuf;

use chainlens_core::{Format, LineIndex, Span, Summary, parse};

fn seeds_dir() -> PathBuf {
    common::shared().join("fixtures/seeds")
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

#[test]
fn listings_and_transcripts_read_onto_the_model() {
    // The aliyun listing: 9 chains, 21 rows, one `......` elision.
    assert_eq!(
        counts("aliyun-v1.12-nat-listing.iptables-L"),
        (Format::Transcript, vec![t("nat", 9, 21)], 0)
    );
    assert_eq!(
        counts("kube-dns-chains-resolved-names.iptables-L"),
        (Format::Transcript, vec![t("nat", 3, 15)], 0)
    );
    // A transcript shows each chain twice (listing, then grep of iptables-save): the lossless
    // save lines win, so it reads to exactly its fragment.
    assert_eq!(
        counts("tutorial-clusterip-transcript.txt"),
        (Format::Transcript, vec![t("nat", 5, 11)], 0)
    );
    assert_eq!(
        counts("tutorial-nodeport-transcript.txt"),
        (Format::Transcript, vec![t("nat", 6, 14)], 0)
    );
    assert_eq!(
        counts("tutorial-nodeport-etp-local-transcript.txt"),
        (Format::Transcript, vec![t("nat", 8, 19)], 0)
    );
    assert_eq!(
        counts("tutorial-nodeport-etp-local-fragment.iptables-save"),
        (Format::Fragment, vec![t("nat", 8, 19)], 0)
    );
}

#[test]
fn conntrack_lines_are_read() {
    for name in [
        "tutorial-clusterip-conntrack.txt",
        "tutorial-nodeport-conntrack.txt",
    ] {
        let parsed = parse(&seed(name));
        assert_eq!(
            (
                parsed.format,
                parsed.conntrack.len(),
                parsed.diagnostics.len()
            ),
            (Format::Conntrack, 1, 0),
            "{name}"
        );
    }
    let udp = &parse(&seed("tutorial-clusterip-conntrack.txt")).conntrack[0];
    assert_eq!(
        (
            udp.protocol.as_str(),
            udp.original.dport,
            udp.reply.src.to_string()
        ),
        ("udp", Some(53), "10.64.1.7".to_string())
    );
}

/// Every seed, whatever its format: no panic, no errors, every diagnostic inside the text on
/// character boundaries, and nothing silently dropped: every non-blank line is covered by a
/// rule, a chain, a conntrack entry or a diagnostic, or is structure (comment, prompt, column
/// line, `*table`, `COMMIT`).
#[test]
fn every_seed_loads_and_nothing_is_dropped_silently() {
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
        assert_eq!(
            Summary::of(&parsed).errors,
            0,
            "{name}: {:#?}",
            parsed.diagnostics
        );
        let mut covered: Vec<Span> = parsed.diagnostics.iter().map(|d| d.span).collect();
        common::assert_spans_valid(&name, &text, &parsed.diagnostics);
        for table in &parsed.ruleset.tables {
            covered.extend(table.header);
            for chain in &table.chains {
                covered.extend(chain.declared);
                covered.extend(chain.rules.iter().map(|r| r.span));
            }
        }
        covered.extend(parsed.conntrack.iter().map(|c| c.span));
        let index = LineIndex::new(&text);
        let mut line_covered = vec![false; text.lines().count() + 1];
        for span in covered {
            let (a, b) = (
                index.line_of(span.start),
                index.line_of(span.end.saturating_sub(1).max(span.start)),
            );
            for line in a..=b.min(line_covered.len() - 1) {
                line_covered[line] = true;
            }
        }
        for (n, line) in text.lines().enumerate() {
            let l = line.trim();
            let structural = l.is_empty()
                || l.starts_with('#')
                || l.starts_with('$')
                || l.starts_with('➜')
                || l.starts_with("sudo ")
                || l == "COMMIT"
                || l.starts_with('*')
                || (l.contains("target") && l.contains("prot") && l.contains("destination"));
            assert!(
                structural || line_covered[n],
                "{name}:{}: `{line}` was neither read nor reported",
                n + 1
            );
        }
    }
}
