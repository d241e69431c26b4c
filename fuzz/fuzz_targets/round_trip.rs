//! parse → print → parse → print is a fixed point: printing what was read and reading it again
//! gives the same text, with no new errors.
#![no_main]

use chainlens_core::diag::Severity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = chainlens_core::parse(&text);
    let printed = chainlens_core::print::ruleset(&first.ruleset);
    let second = chainlens_core::parse(&printed);
    let errors = second.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    // Rules that were only partly understood print only what was understood; that text must
    // read back cleanly.
    assert_eq!(errors, 0, "printed form does not read back:\n{printed}\n{:?}", second.diagnostics);
    assert_eq!(printed, chainlens_core::print::ruleset(&second.ruleset));
});
