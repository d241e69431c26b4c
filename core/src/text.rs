//! Byte spans into the pasted text, and the line index that turns them into line:column.
//!
//! Everything in the core speaks byte offsets; line and column are computed only at the edge,
//! when a diagnostic is shown (columns in UTF-16 code units for the browser's text fields,
//! in characters for terminals).

use serde::Serialize;

/// A half-open byte range `start..end` into the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub const fn len(self) -> usize {
        self.end - self.start
    }

    pub const fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The span of `part`, which must be a sub-slice of `whole` (as the parsers hand out).
    pub fn of(whole: &str, part: &str) -> Self {
        let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
        Span::new(start, start + part.len())
    }
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Line starts of a text, for turning byte offsets into line:column by binary search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 0-based line number holding `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// Byte offset where 0-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(0)
    }

    /// Line and column counted in Unicode scalar values (what a terminal shows).
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        self.locate(text, offset, |s| s.chars().count())
    }

    /// Line and column counted in UTF-16 code units (what a browser `<textarea>` counts).
    pub fn line_col_utf16(&self, text: &str, offset: usize) -> LineCol {
        self.locate(text, offset, |s| s.encode_utf16().count())
    }

    fn locate(&self, text: &str, offset: usize, width: impl Fn(&str) -> usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_start(line).min(offset);
        LineCol {
            line: line + 1,
            column: width(&text[start..offset]) + 1,
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_utf16_units() {
        let text = "ab\n€x𝄞y\n";
        let index = LineIndex::new(text);
        let y = text.find('y').unwrap_or_default();
        assert_eq!(index.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(index.line_col(text, y), LineCol { line: 2, column: 4 });
        assert_eq!(
            index.line_col_utf16(text, y),
            LineCol { line: 2, column: 5 }
        );
        assert_eq!(
            index.line_col(text, text.len()),
            LineCol { line: 3, column: 1 }
        );
    }

    #[test]
    fn offsets_inside_a_character_snap_back() {
        let text = "€";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 1), LineCol { line: 1, column: 1 });
    }
}

/// `text` made safe to print on a terminal: control characters (all but newline and tab),
/// C1 controls and the bidirectional overrides are shown as `\x1b` / `\u{202e}` escapes, so a
/// pasted comment can neither drive the terminal (`ESC ]0;…` retitles it) nor reorder what is
/// shown.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod printable_tests {
    #[test]
    fn escapes_drive_nothing() {
        assert_eq!(
            super::printable("a\u{1b}]0;pwned\u{7}b"),
            "a\\x1b]0;pwned\\x07b"
        );
        assert_eq!(super::printable("x\u{202e}y\u{9b}z"), "x\\u{202e}y\\u{9b}z");
        assert_eq!(super::printable("line\n\tok"), "line\n\tok");
    }
}
