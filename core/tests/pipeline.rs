//! The whole pipeline (`chainlens_core::pipeline`: read, understand, trace every preset of
//! the first Services, plan, draw, export, share) over every paste the tests know and the
//! hostile inputs: no panic, every property it checks holds, every SVG parses as XML, and the
//! text exports carry the user's text only as text.

mod common;

use chainlens_core::pipeline;

/// What each export must never contain, whatever was pasted.
fn check_exports(name: &str, run: &pipeline::Run) {
    for (export, body) in &run.exports {
        let what = format!("{name}: {export}");
        if export.ends_with(".svg")
            && let Err(e) = roxmltree::Document::parse(body)
        {
            panic!("{what} is not well-formed XML: {e}");
        }
        if export.ends_with(".md") {
            // The Markdown writer writes no HTML of its own: any `<` came from the paste.
            assert!(!body.contains('<'), "{what} carries raw HTML");
        }
        if export.ends_with(".mmd") {
            assert!(!body.contains("%%{"), "{what} carries a Mermaid directive");
            for line in body.lines().skip(1) {
                let t = line.trim_start();
                assert!(
                    t.starts_with("%% chain graph") || t.starts_with('n'),
                    "{what}: a line escaped its node: {line}"
                );
            }
        }
        // The canonical iptables-save text keeps a comment's bytes as they were (the CLI makes
        // whatever it prints printable); the drawings and documents do not carry them.
        assert!(
            export == "printed.txt" || !body.contains('\u{1b}'),
            "{what} carries a terminal escape"
        );
    }
}

#[test]
fn every_paste_goes_through_the_whole_pipeline() {
    let mut all = common::corpus::pastes();
    all.extend(common::corpus::hostile());
    common::corpus::write_corpus(&all);
    assert!(all.len() > 100, "only {} pastes found", all.len());
    let mut traced = 0;
    for (name, text) in &all {
        let run = pipeline::run(text);
        assert!(run.problems.is_empty(), "{name}: {:#?}", run.problems);
        check_exports(name, &run);
        traced += run.traces;
    }
    assert!(traced > 100, "only {traced} traces were run");
}

#[test]
fn twenty_undecidable_rules_ahead_of_a_node_port_are_merged_not_multiplied() {
    let dump = common::corpus::undecidable_before_node_port(20);
    let parsed = chainlens_core::parse(&dump);
    let q = chainlens_core::sim::Query::new(
        "203.0.113.77".parse().expect("ip"),
        "192.0.2.1".parse().expect("ip"),
        chainlens_core::model::values::Protocol::TCP,
        30080,
    );
    let mut q = q;
    q.local_ips = vec!["192.0.2.1".parse().expect("ip")];
    let sim = q.trace(&parsed.ruleset).simulation;
    assert_eq!(sim.outcomes.len(), 1, "{:#?}", sim.outcomes);
    assert!(sim.unexplored.is_empty());
    let o = &sim.outcomes[0];
    assert_eq!(
        o.dnat.map(|d| d.to_string()).as_deref(),
        Some("203.0.113.10:8080")
    );
    assert!(o.masqueraded());
    let either = o
        .assumptions
        .iter()
        .filter(|a| matches!(a, chainlens_core::sim::Assumption::Either { .. }))
        .count();
    assert_eq!(either, 20);
}
