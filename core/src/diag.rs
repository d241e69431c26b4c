//! Diagnostics: what the core could not read or thinks is wrong, pointing at byte spans.

use std::fmt::Write as _;

use serde::Serialize;

use crate::text::{LineIndex, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One finding about the input: a stable `code`, what is wrong and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, span, message)
    }

    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, span, message)
    }

    pub fn info(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, span, message)
    }

    fn new(severity: Severity, code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            span,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders the diagnostic for a terminal: header, the source line with a gutter, a caret
    /// under the span, and the help line.
    pub fn render(&self, source: &str, index: &LineIndex) -> String {
        let at = index.line_col(source, self.span.start);
        let line_start = index.line_start(at.line - 1);
        let line_end = source[line_start..]
            .find('\n')
            .map_or(source.len(), |n| line_start + n);
        let line_text = source[line_start..line_end].trim_end_matches('\r');
        let gutter = at.line.to_string();
        let pad = " ".repeat(gutter.len());
        let caret_start = at.column - 1;
        let caret_len = source
            .get(self.span.start..self.span.end.min(line_start + line_text.len()))
            .map_or(1, |s| s.chars().count().max(1));
        let mut out = format!(
            "{}[{}]: {}\n{pad} --> line {}, column {}\n",
            self.severity.as_str(),
            self.code,
            self.message,
            at.line,
            at.column
        );
        if !source.is_empty() {
            // A long line is shown around the span, so a 1 MB line prints as one screen line.
            let width = line_text.chars().count();
            let (from, cut_left) = if width > SHOWN_LINE && caret_start > SHOWN_LINE / 2 {
                (caret_start - SHOWN_LINE / 2, true)
            } else {
                (0, false)
            };
            let shown: String = line_text
                .chars()
                .skip(from)
                .take(SHOWN_LINE)
                .map(printable)
                .collect();
            let cut_right = width > from + SHOWN_LINE;
            let (left, right) = (
                if cut_left { "…" } else { "" },
                if cut_right { "…" } else { "" },
            );
            let _ = writeln!(out, "{pad} |\n{gutter} | {left}{shown}{right}");
            let _ = writeln!(
                out,
                "{pad} | {}{}{}",
                if cut_left { " " } else { "" },
                " ".repeat(caret_start - from),
                "^".repeat(
                    caret_len
                        .min(SHOWN_LINE.saturating_sub(caret_start - from))
                        .max(1)
                )
            );
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// Diagnostics that say the same thing (severity, code, message and help) at several places,
/// as one: six `x.x.x.x/32` placeholders are one entry with six places, not six entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repeated<'d> {
    /// The first time it was said.
    pub first: &'d Diagnostic,
    /// Every place it was said, in the paste's order (`first`'s included).
    pub spans: Vec<Span>,
}

/// Groups `diagnostics` into [`Repeated`] entries, the most severe first and otherwise in the
/// order each was first said.
pub fn repeated(diagnostics: &[Diagnostic]) -> Vec<Repeated<'_>> {
    let mut out: Vec<Repeated> = Vec::new();
    let mut index: std::collections::HashMap<(Severity, &str, &str, Option<&str>), usize> =
        std::collections::HashMap::new();
    for d in diagnostics {
        let key = (d.severity, d.code, d.message.as_str(), d.help.as_deref());
        match index.get(&key) {
            Some(&i) => out[i].spans.push(d.span),
            None => {
                index.insert(key, out.len());
                out.push(Repeated {
                    first: d,
                    spans: vec![d.span],
                });
            }
        }
    }
    for r in &mut out {
        r.spans.sort_by_key(|s| s.start);
    }
    // Stable: equal severities keep their first-said order.
    out.sort_by_key(|r| std::cmp::Reverse(r.first.severity));
    out
}

/// How much of a source line a rendered diagnostic shows.
const SHOWN_LINE: usize = 160;

/// Control characters would garble a terminal; show them as the replacement character.
fn printable(c: char) -> char {
    if c.is_control() && c != '\t' {
        '\u{fffd}'
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_thing_said_at_several_places_is_one_entry_errors_first() {
        let placeholder = |at| {
            Diagnostic::warning(
                "placeholder",
                Span::new(at, at + 4),
                "`x.x.x.x/32` is a placeholder",
            )
        };
        let diags = vec![
            Diagnostic::info("no-table-header", Span::new(0, 1), "no header"),
            placeholder(30),
            placeholder(10),
            Diagnostic::error("bad-option", Span::new(50, 52), "bad"),
            placeholder(20),
            Diagnostic::warning(
                "placeholder",
                Span::new(60, 64),
                "`y.y.y.y/32` is a placeholder",
            ),
        ];
        let got: Vec<(&str, Vec<usize>)> = repeated(&diags)
            .iter()
            .map(|r| (r.first.code, r.spans.iter().map(|s| s.start).collect()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bad-option", vec![50]),
                ("placeholder", vec![10, 20, 30]),
                ("placeholder", vec![60]),
                ("no-table-header", vec![0]),
            ]
        );
    }

    #[test]
    fn render_points_at_the_span() {
        let src = "*nat\n-Q FOO\n";
        let d = Diagnostic::error("unknown-line", Span::new(5, 11), "not understood")
            .with_help("check the line");
        let text = d.render(src, &LineIndex::new(src));
        assert_eq!(
            text,
            "error[unknown-line]: not understood\n  --> line 2, column 1\n  |\n2 | -Q FOO\n  | ^^^^^^\n  = help: check the line\n"
        );
    }
}
