//! netfilter's own rule-syntax tests (`shared/conformance/iptables-syntax/extensions/*.t`,
//! lines `RULE;SAVED;OK|FAIL[;NFT|LEGACY[;ALT]]`): every OK rule must read without errors and
//! print as SAVED; every FAIL rule should give an error. Results per file are a committed
//! snapshot (`tests/snapshots/iptables-syntax.tsv`); run with `UPDATE_SNAPSHOTS=1` to rewrite it,
//! and with `SHOW_MISSES=1 … -- --nocapture` to list every rule not yet read right.

mod common;

use std::fmt::Write as _;

use chainlens_core::diag::Severity;
use chainlens_core::parse::parse_rule;
use chainlens_core::print;

#[derive(Default)]
struct FileResult {
    ok_pass: usize,
    ok_total: usize,
    fail_pass: usize,
    fail_total: usize,
    /// Lines scoped to the nft variant: chainlens reads dumps as legacy iptables prints them.
    nft_only: usize,
    misses: Vec<String>,
}

/// Files whose extensions the issue names: these must pass every OK line.
const REQUIRED: &[&str] = &[
    "iptables.t",
    "libipt_standard.t",
    "libxt_standard.t",
    "libxt_comment.t",
    "libxt_mark.t",
    "libxt_tcp.t",
    "libxt_udp.t",
    "libxt_multiport.t",
    "libxt_addrtype.t",
    "libxt_physdev.t",
    "libxt_conntrack.t",
    "libipt_conntrack.t",
    "libxt_state.t",
    "libxt_statistic.t",
    "libipt_recent.t",
    "libxt_recent.t",
    "libxt_set.t",
    "libxt_limit.t",
    "libxt_nfacct.t",
    "libipt_REJECT.t",
    "libxt_MARK.t",
    "libxt_CONNMARK.t",
    "libipt_DNAT.t",
    "libipt_SNAT.t",
    "libipt_MASQUERADE.t",
    "libxt_REDIRECT.t",
    "libipt_LOG.t",
    "libxt_NFLOG.t",
    "libxt_CT.t",
    "libxt_NOTRACK.t",
    "libipt_TPROXY.t",
    "libxt_CHECKSUM.t",
    "libxt_TCPMSS.t",
];

fn run_file(name: &str, text: &str) -> FileResult {
    let v6 = name.starts_with("libip6t");
    let mut result = FileResult::default();
    for line in text.lines() {
        if line.is_empty() || line.starts_with(['#', ':', '*', '@']) {
            continue;
        }
        let fields: Vec<&str> = line.split(';').collect();
        if fields.len() < 3 {
            continue;
        }
        if fields.get(3) == Some(&"NFT") {
            result.nft_only += 1;
            continue;
        }
        let (rule_text, saved, verdict) = (fields[0], fields[1], fields[2]);
        let (rule, diagnostics) = parse_rule(rule_text, v6);
        let errors: Vec<&str> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.message.as_str())
            .collect();
        if verdict == "OK" {
            result.ok_total += 1;
            let expected = if saved == "=" { rule_text } else { saved };
            let printed = print::rule(&rule, v6);
            if errors.is_empty() && printed == expected {
                result.ok_pass += 1;
            } else {
                result.misses.push(format!(
                    "OK   {rule_text}\n     want {expected}\n     got  {printed} {errors:?}"
                ));
            }
        } else {
            result.fail_total += 1;
            if errors.is_empty() {
                result.misses.push(format!(
                    "FAIL {rule_text}\n     read without error as {}",
                    print::rule(&rule, v6)
                ));
            } else {
                result.fail_pass += 1;
            }
        }
    }
    result
}

#[test]
fn iptables_extension_syntax_tests() {
    let dir = common::shared().join("conformance/iptables-syntax/extensions");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".t") && !n.starts_with("libarpt_") && !n.starts_with("libebt_"))
        .collect();
    names.sort();
    let mut snapshot = String::from(
        "# file\tOK read and printed as SAVED\tFAIL reported as errors\tnft-only lines\n",
    );
    let mut totals = FileResult::default();
    let mut required_misses = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let r = run_file(name, &text);
        let _ = writeln!(
            snapshot,
            "{name}\t{}/{}\t{}/{}\t{}",
            r.ok_pass, r.ok_total, r.fail_pass, r.fail_total, r.nft_only
        );
        if std::env::var_os("SHOW_MISSES").is_some() {
            for m in &r.misses {
                println!("{name}: {m}");
            }
        }
        if REQUIRED.contains(&name.as_str()) {
            required_misses.extend(
                r.misses
                    .iter()
                    .filter(|m| m.starts_with("OK"))
                    .map(|m| format!("{name}: {m}")),
            );
        }
        totals.ok_pass += r.ok_pass;
        totals.ok_total += r.ok_total;
        totals.fail_pass += r.fail_pass;
        totals.fail_total += r.fail_total;
    }
    let _ = writeln!(
        snapshot,
        "TOTAL\t{}/{}\t{}/{}",
        totals.ok_pass, totals.ok_total, totals.fail_pass, totals.fail_total
    );
    assert!(
        required_misses.is_empty(),
        "OK rules of required extensions not read back:\n{}",
        required_misses.join("\n")
    );
    common::snapshot("iptables-syntax.tsv", &snapshot, "the conformance results");
}
