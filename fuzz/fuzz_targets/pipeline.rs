//! Any bytes through everything chainlens does with a paste (`chainlens_core::pipeline`):
//! no panic, bounded work, every property the pipeline checks holds, every SVG is well-formed
//! XML, and the documents carry the paste's text only as text.
#![no_main]

use chainlens_core::sim::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Small trace bounds: every path of the code, cut off sooner (the default bounds cost
    // seconds per input under the sanitiser on branch-heavy pastes, and libFuzzer stops at
    // the first input past its timeout).
    let limits = Limits {
        evaluations: 20_000,
        steps: 100_000,
        ..Limits::default()
    };
    let run = chainlens_core::pipeline::run_with(&text, limits);
    assert!(run.problems.is_empty(), "{:#?}", run.problems);
    for (name, body) in &run.exports {
        if name.ends_with(".svg") {
            if let Err(e) = roxmltree::Document::parse(body) {
                panic!("{name} is not well-formed XML: {e}");
            }
        }
        if name.ends_with(".md") {
            assert!(!body.contains('<'), "{name} carries raw HTML");
        }
        if name.ends_with(".mmd") {
            assert!(!body.contains("%%{"), "{name} carries a Mermaid directive");
        }
    }
});
