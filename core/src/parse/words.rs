//! Splits a rule line into shell words the way iptables-restore does: white space separates,
//! double quotes group, and a backslash inside quotes escapes `"` and `\`.

use crate::diag::Diagnostic;
use crate::model::Token;
use crate::text::Span;

/// Splits `line` (which starts at byte `base` of the source) into words. An unterminated quote
/// is reported and the rest of the line taken as its word.
pub fn split_words(line: &str, base: usize) -> (Vec<Token>, Option<Diagnostic>) {
    let mut words = Vec::new();
    let mut problem = None;
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut text = String::new();
        let mut end = start;
        let mut quote_open = None;
        while let Some(&(i, c)) = chars.peek() {
            if quote_open.is_none() && c.is_whitespace() {
                break;
            }
            chars.next();
            end = i + c.len_utf8();
            match (quote_open, c) {
                (None, '"') => quote_open = Some(i),
                (Some(_), '"') => quote_open = None,
                (Some(_), '\\') if matches!(chars.peek(), Some(&(_, '"' | '\\'))) => {
                    if let Some((j, escaped)) = chars.next() {
                        text.push(escaped);
                        end = j + escaped.len_utf8();
                    }
                }
                _ => text.push(c),
            }
        }
        if let Some(q) = quote_open {
            problem = Some(
                Diagnostic::error(
                    "unterminated-quote",
                    Span::new(base + q, base + end),
                    "this quote is never closed",
                )
                .with_help("close the quoted argument with `\"` on the same line"),
            );
        }
        words.push(Token {
            text,
            span: Span::new(base + start, base + end),
        });
    }
    (words, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split_words(line, 0).0.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn quotes_group_and_escapes_unescape() {
        assert_eq!(
            texts(r#"-m comment --comment "a \"b\" c\\d" -j X"#),
            ["-m", "comment", "--comment", r#"a "b" c\d"#, "-j", "X"]
        );
        assert_eq!(texts("  \t-A\tX  "), ["-A", "X"]);
        assert_eq!(texts(r#"--comment """#), ["--comment", ""]);
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
