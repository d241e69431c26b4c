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

/// The words `iptables -L` printed for a rule's matches and target options, read left to
/// right. An extension that has a listing form (its libxt `print` function) reads its own
/// words back with `listed`, taking what it owns and leaving the rest.
#[derive(Debug)]
pub struct Listed<'w> {
    words: &'w [&'w str],
    at: usize,
}

impl<'w> Listed<'w> {
    pub fn new(words: &'w [&'w str]) -> Self {
        Listed { words, at: 0 }
    }

    /// The next word, not taken.
    pub fn peek(&self) -> Option<&'w str> {
        self.words.get(self.at).copied()
    }

    /// Takes the next word.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&'w str> {
        let w = self.peek();
        self.at += usize::from(w.is_some());
        w
    }

    /// Takes the next word, which must be there: `Err("{what} missing")` if not.
    pub fn value(&mut self, what: &str) -> Result<&'w str, String> {
        self.next().ok_or_else(|| format!("{what} missing"))
    }

    /// Takes the next word if it is `word`.
    pub fn skip(&mut self, word: &str) -> bool {
        let yes = self.peek() == Some(word);
        self.at += usize::from(yes);
        yes
    }

    /// The words not taken yet.
    pub fn rest(&self) -> &'w [&'w str] {
        self.words.get(self.at..).unwrap_or_default()
    }
}

/// A listing word with `!` glued to its front (`!0x4000/0x4000`): whether it was, and the rest.
pub fn listed_bang(text: &str) -> (bool, &str) {
    match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    }
}

/// An extension's options by how many arguments they take.
#[derive(Debug)]
pub struct Options {
    pub flags: &'static [&'static str],
    pub one: &'static [&'static str],
    pub two: &'static [&'static str],
}

impl Options {
    /// The option's own `&'static` name and its number of arguments.
    pub fn find(&self, opt: &str) -> Option<(&'static str, usize)> {
        [self.flags, self.one, self.two]
            .into_iter()
            .enumerate()
            .find_map(|(arity, names)| names.iter().find(|n| **n == opt).map(|n| (*n, arity)))
    }
}

/// What an extension's check may ask: which options were given, and the rule's protocol.
pub struct Check<'a> {
    /// The extension's name, and whether it is a match (`-m NAME`) or a target.
    name: &'a str,
    is_match: bool,
    seen: &'a dyn Fn(&str) -> bool,
    pub ctx: RuleContext,
}

impl std::fmt::Debug for Check<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("ctx", &self.ctx)
            .finish_non_exhaustive()
    }
}

impl<'a> Check<'a> {
    pub fn of_match(name: &'a str, seen: &'a dyn Fn(&str) -> bool, ctx: RuleContext) -> Self {
        Check {
            name,
            is_match: true,
            seen,
            ctx,
        }
    }

    pub fn of_target(name: &'a str, seen: &'a dyn Fn(&str) -> bool, ctx: RuleContext) -> Self {
        Check {
            name,
            is_match: false,
            seen,
            ctx,
        }
    }

    /// How messages name the extension: "`-m set`", "DNAT".
    fn label(&self) -> String {
        if self.is_match {
            format!("`-m {}`", self.name)
        } else {
            self.name.to_string()
        }
    }

    pub fn seen(&self, opt: &str) -> bool {
        (self.seen)(opt)
    }

    /// `Err` unless `opt` was given.
    pub fn need(&self, opt: &str) -> Result<(), String> {
        if self.seen(opt) {
            Ok(())
        } else {
            Err(format!("{} needs {opt}", self.label()))
        }
    }

    /// `Err` unless the rule's `-p` is one of `nums` (named `names`).
    pub fn protocol(&self, names: &[&str], nums: &[u8]) -> Result<(), String> {
        match self.ctx.protocol {
            Some(p) if nums.contains(&p) => Ok(()),
            _ => Err(format!(
                "{} needs `-p {}`",
                self.label(),
                names.join("` or `-p ")
            )),
        }
    }
}

/// An extension's options as iptables-save prints them, built option by option.
#[derive(Debug, Default)]
pub struct Save(String);

impl Save {
    /// ` [! ]NAME [VALUE]`.
    pub fn opt(&mut self, negated: bool, name: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        if negated {
            self.0.push_str("! ");
        }
        self.0.push_str(name);
        if !value.is_empty() {
            self.0.push(' ');
            self.0.push_str(value);
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

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
