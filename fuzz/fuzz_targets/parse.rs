//! Any bytes: parsing never panics, and every diagnostic points inside the text on character
//! boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = chainlens_core::parse(&text);
    for d in &parsed.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end <= text.len());
        assert!(text.is_char_boundary(d.span.start) && text.is_char_boundary(d.span.end));
        let index = chainlens_core::LineIndex::new(&text);
        let _ = index.line_col_utf16(&text, d.span.start);
        let _ = d.render(&text, &index);
    }
    let _ = chainlens_core::Summary::of(&parsed);
    for table in &parsed.ruleset.tables {
        let _ = chainlens_core::render::graph::ChainGraph::of(table);
    }
});
