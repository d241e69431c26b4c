//! Extensions: the typed form of every `-m` match and `-j` target chainlens understands. Like
//! iptables' own `extensions/`, each knows its options (how many arguments each takes), checks
//! what must be present, and prints the form iptables-save prints; a match also says what it
//! means and tests a packet, all in its own file under `matches/`. Anything else is kept as
//! written in an `Unknown` variant, never dropped.

pub mod matches;
pub mod targets;

/// What a rule's extensions may need to know about the rest of the rule.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleContext {
    /// The rule's `-p` protocol number, when given and not negated.
    pub protocol: Option<u8>,
}

/// Every option name the targets' `check` looks for (a match's own are in its `OPTIONS`).
pub const CHECKED_OPTIONS: &[&str] = &[
    "--set-xmark",
    "--set-mark",
    "--and-mark",
    "--or-mark",
    "--xor-mark",
    "--save-mark",
    "--restore-mark",
    "--on-port",
    "--checksum-fill",
    "--set-mss",
    "--clamp-mss-to-pmtu",
    "--to-destination",
    "--to-source",
    "--to-ports",
];

/// Prints a string argument the way `xtables_save_string` does: bare when it is a non-empty
/// run of `[A-Za-z0-9_-]`, else double-quoted with `"`, `\` and `'` escaped.
pub fn save_string(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A value printed as iptables does for marks: lower-case hex with `0x`.
pub fn hex(v: u32) -> String {
    format!("{v:#x}")
}

/// One free-text word (a name, a placeholder, a word kept as written), quoted only when it
/// would otherwise not read back as one word.
pub fn save_word(text: &str) -> String {
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | '\''))
    {
        save_string(text)
    } else {
        text.to_string()
    }
}

/// Arguments kept as written, printed back with quoting where needed.
pub fn save_raw(args: &[String]) -> String {
    args.iter()
        .map(|a| save_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_like_iptables_save() {
        assert_eq!(save_string("foo-bar_1"), "foo-bar_1");
        assert_eq!(
            save_string("default/kubernetes:https"),
            "\"default/kubernetes:https\""
        );
        assert_eq!(save_string(""), "\"\"");
        assert_eq!(save_string("a\"b'c\\"), "\"a\\\"b\\'c\\\\\"");
    }
}
