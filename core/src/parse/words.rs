//! Splits a rule line into shell words the way iptables-restore does: white space separates,
//! double quotes group, and a backslash inside quotes escapes the next character.

use std::borrow::Cow;

use crate::diag::Diagnostic;
use crate::text::Span;

/// One shell word of a rule, unquoted, with the span of its written form. It borrows from the
/// paste unless unquoting changed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'t> {
    pub text: Cow<'t, str>,
    pub span: Span,
}

/// Splits `line` (which starts at byte `base` of the source) into words. An unterminated quote
/// is reported and the rest of the line taken as its word.
pub fn split_words(line: &str, base: usize) -> (Vec<Token<'_>>, Option<Diagnostic>) {
    // Byte-wise: every delimiter is ASCII, so slicing at them keeps UTF-8 intact. Most words
    // have no quotes and are copied in one piece.
    let bytes = line.as_bytes();
    let mut words = Vec::with_capacity(24);
    let mut problem = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'"' {
            i += 1;
        }
        if i == bytes.len() || bytes[i] != b'"' {
            words.push(Token {
                text: Cow::Borrowed(&line[start..i]),
                span: Span::new(base + start, base + i),
            });
            continue;
        }
        let mut text = String::from(&line[start..i]);
        let mut open_quote = None;
        while i < bytes.len() && (open_quote.is_some() || !bytes[i].is_ascii_whitespace()) {
            let run = i;
            match (open_quote, bytes[i]) {
                (None, b'"') => {
                    open_quote = Some(i);
                    i += 1;
                }
                (Some(_), b'"') => {
                    open_quote = None;
                    i += 1;
                }
                // Inside quotes a backslash escapes whatever follows (iptables-restore's
                // `add_param_to_argv`); iptables-save writes `\"`, `\\` and `\'` this way.
                (Some(_), b'\\') => match line[i + 1..].chars().next() {
                    Some(c) => {
                        text.push(c);
                        i += 1 + c.len_utf8();
                    }
                    None => i += 1,
                },
                (Some(_), _) => {
                    while i < bytes.len() && !matches!(bytes[i], b'"' | b'\\') {
                        i += 1;
                    }
                    text.push_str(&line[run..i]);
                }
                (None, _) => {
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'"' {
                        i += 1;
                    }
                    text.push_str(&line[run..i]);
                }
            }
        }
        if let Some(q) = open_quote {
            problem = Some(
                Diagnostic::error(
                    "unterminated-quote",
                    Span::new(base + q, base + i),
                    "this quote is never closed",
                )
                .with_help("close the quoted argument with `\"` on the same line"),
            );
        }
        words.push(Token {
            text: Cow::Owned(text),
            span: Span::new(base + start, base + i),
        });
    }
    (words, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split_words(line, 0)
            .0
            .into_iter()
            .map(|t| t.text.into_owned())
            .collect()
    }

    #[test]
    fn quotes_group_and_escapes_unescape() {
        assert_eq!(
            texts(r#"-m comment --comment "a \"b\" c\\d" -j X"#),
            ["-m", "comment", "--comment", r#"a "b" c\d"#, "-j", "X"]
        );
        assert_eq!(texts("  \t-A\tX  "), ["-A", "X"]);
        assert_eq!(texts(r#"--comment """#), ["--comment", ""]);
        assert_eq!(texts(r#"a"b c"d é\x"#), [r#"ab cd"#, r#"é\x"#]);
        assert_eq!(texts(r#""a\zb\'c""#), ["azb'c"]);
    }

    #[test]
    fn spans_cover_the_written_form() {
        let (words, problem) = split_words(r#"-A "x y""#, 10);
        assert_eq!(words[1].span, Span::new(13, 18));
        assert!(problem.is_none());
    }

    #[test]
    fn an_unterminated_quote_is_reported() {
        let (words, problem) = split_words(r#"--comment "open"#, 0);
        assert_eq!(words[1].text, "open");
        assert_eq!(problem.map(|d| d.code), Some("unterminated-quote"));
    }
}
