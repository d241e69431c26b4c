//! Text → model + diagnostics. Parsing never fails: whatever is not understood becomes a
//! diagnostic pointing at it, and every other line is still read.

mod rule;
mod save;
mod words;

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::model::Ruleset;
use crate::text::Span;

pub use rule::{ReadRule, read as read_rule};
pub use words::split_words;

/// What kind of paste the text was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Nothing but white space.
    Empty,
    /// `iptables-save` output with `*table` headers.
    Save,
    /// `-A` lines without a `*table` header, as grep leaves them.
    Fragment,
    /// Nothing in it could be read as rules.
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Empty => "empty",
            Format::Save => "iptables-save",
            Format::Fragment => "iptables-save fragment",
            Format::Unknown => "unknown",
        }
    }
}

/// The result of reading a paste: the model, how it was read, and what was not understood.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Parsed {
    pub format: Format,
    pub ruleset: Ruleset,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a paste. Never fails and never panics; see [`Parsed::diagnostics`] for what was not
/// understood.
pub fn parse(text: &str) -> Parsed {
    if text.trim().is_empty() {
        return Parsed {
            format: Format::Empty,
            ruleset: Ruleset::default(),
            diagnostics: vec![
                Diagnostic::info(
                    "empty-input",
                    Span::new(0, text.len()),
                    "nothing to analyse",
                )
                .with_help(
                    "paste the output of `iptables-save` (or `iptables-save -c`) from a node",
                ),
            ],
        };
    }
    let binary = binary_share(text);
    let mut parsed = save::parse(text, binary.is_some());
    if let Some((bad, total)) = binary {
        parsed.diagnostics.insert(
            0,
            Diagnostic::error(
                "binary-input",
                Span::new(0, text.len()),
                format!("this looks like binary data, not text: {bad} of {total} characters are control characters"),
            )
            .with_help("paste the text that `iptables-save` prints, not a binary file"),
        );
    }
    parsed
}

/// Reads one rule written as iptables options (`-p tcp -m tcp --dport 80 -j ACCEPT`), outside
/// any dump: for rule-syntax tests and for explaining a single rule.
pub fn parse_rule(text: &str, v6: bool) -> (crate::model::Rule, Vec<Diagnostic>) {
    let (words, problem) = split_words(text, 0);
    let mut diagnostics: Vec<Diagnostic> = problem.into_iter().collect();
    let read = rule::read(&words, v6, &mut diagnostics);
    let rule = crate::model::Rule {
        span: Span::new(0, text.len()),
        counters: read.counters,
        header: read.header,
        matches: read.matches,
        target: read.target,
        complete: read.complete,
    };
    (rule, diagnostics)
}

/// `Some((control, total))` when too much of the text is control characters to be a paste of
/// command output.
fn binary_share(text: &str) -> Option<(usize, usize)> {
    let total = text.chars().count();
    let bad = text
        .chars()
        .filter(|&c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{fffd}')
        .count();
    (bad > 0 && (text.contains('\0') || bad * 20 > total)).then_some((bad, total))
}
