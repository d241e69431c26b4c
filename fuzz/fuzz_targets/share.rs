//! Any text as a link's fragment: reading it never panics, is bounded, and a state it reads
//! writes back as a link that reads to the same state.
#![no_main]

use chainlens_core::share::{Display, fragment, parse_fragment};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok((state, display)) = parse_fragment(&text) {
        let again = fragment(&state, &Display { embed: display.embed.clone(), theme: display.theme.clone() });
        let (back, _) = parse_fragment(&again).expect("a link written from a state reads back");
        assert_eq!(back, state);
    }
});
