//! parse → print → parse → print is a fixed point, and input read without errors (every rule
//! complete) prints as text that reads back without errors.
#![no_main]

use chainlens_core::diag::Severity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = chainlens_core::parse(&text);
    let printed = chainlens_core::print::ruleset(&first.ruleset);
    let second = chainlens_core::parse(&printed);
    assert_eq!(printed, chainlens_core::print::ruleset(&second.ruleset), "printing is not a fixed point");
    // Rules the model marks incomplete have no faithful iptables-save form, and `binary-input`
        // judges the share of odd characters in a whole paste, not its syntax.
    let clean = |p: &chainlens_core::Parsed| {
        p.diagnostics.iter().all(|d| d.severity != Severity::Error || d.code == "binary-input")
            && p.ruleset.tables.iter().flat_map(|t| &t.chains).flat_map(|c| &c.rules).all(|r| r.complete)
    };
    assert!(!clean(&first) || clean(&second), "printed form does not read back:\n{printed}\n{:?}", second.diagnostics);
});
