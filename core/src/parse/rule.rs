//! One rule's words → typed header, matches and target, the way iptables' own option parser
//! reads them: `!` before an option (or, as iptables ≤ 1.4.11 accepted, before its value),
//! `--opt=value`, glued short options (`-ptcp`), options claimed by the most recently loaded
//! match that knows them, and `-m tcp`/`-m udp` loaded implicitly by `-p` as iptables does.

use super::words::Token;
use crate::diag::Diagnostic;
use crate::ext::RuleContext;
use crate::ext::matches::Match;
use crate::ext::targets::Action;
use crate::model::values::{Address, Interface, Negatable, Protocol};
use crate::model::{Counters, Header, Target};
use crate::text::Span;

/// What a rule's words said.
#[derive(Debug, Default)]
pub struct ReadRule {
    pub header: Header,
    pub matches: Vec<Match>,
    pub target: Option<Target>,
    /// `-c P B` (`iptables -S -v`).
    pub counters: Option<Counters>,
    /// False when some part of the rule was not understood (see the diagnostics).
    pub complete: bool,
}

/// Reads the words of a rule (after `-A CHAIN`). `v6` selects IPv6 spellings (REJECT types).
pub fn read(words: &[Token<'_>], v6: bool, diagnostics: &mut Vec<Diagnostic>) -> ReadRule {
    let mut reader = Reader {
        words,
        i: 0,
        v6,
        rule: ReadRule {
            complete: true,
            ..ReadRule::default()
        },
        owners: Vec::new(),
        target_claim: Claim::default(),
        option_start: 0,
        header_seen: Vec::new(),
        diagnostics,
    };
    reader.run();
    reader.finish()
}

struct Reader<'a, 'd> {
    words: &'a [Token<'a>],
    i: usize,
    v6: bool,
    rule: ReadRule,
    /// Per match: the span from its `-m` and the options it was given.
    /// Per match, in order: what it was given (see [`Claim`]).
    owners: Vec<Claim>,
    target_claim: Claim,
    /// Index of the first word of the option being read (its `!`, if any).
    option_start: usize,
    /// The header options given so far (`s d i o p f`): iptables takes each once.
    header_seen: Vec<char>,
    diagnostics: &'d mut Vec<Diagnostic>,
}

impl<'a> Reader<'a, '_> {
    fn run(&mut self) {
        let mut negated: Option<Span> = None;
        while let Some(word) = self.words.get(self.i) {
            self.i += 1;
            if word.text == "!" {
                if negated.is_none() {
                    self.option_start = self.i - 1;
                }
                if negated.replace(word.span).is_some() {
                    self.error(
                        word.span,
                        "two `!` in a row",
                        "write one `!` before the option it negates",
                    );
                }
                continue;
            }
            let neg = negated.take().is_some();
            if !neg {
                self.option_start = self.i - 1;
            }
            let (opt, inline) = split_option(&word.text);
            if !opt.starts_with('-') || opt == "-" {
                self.error(
                    word.span,
                    format!("`{}` is not an option here", word.text),
                    "options start with `-`; quote values that contain spaces",
                );
                continue;
            }
            self.option(word, opt, inline, neg);
        }
        if let Some(span) = negated {
            self.error(
                span,
                "`!` at the end of the rule negates nothing",
                "put `!` before the option it negates",
            );
        }
    }

    fn option(&mut self, word: &Token<'_>, opt: &str, inline: Option<&'a str>, neg: bool) {
        let header = match opt {
            "-s" | "--source" | "--src" => Some('s'),
            "-d" | "--destination" | "--dst" => Some('d'),
            "-i" | "--in-interface" => Some('i'),
            "-o" | "--out-interface" => Some('o'),
            "-p" | "--protocol" => Some('p'),
            "-f" | "--fragment" => Some('f'),
            _ => None,
        };
        if let Some(flag) = header {
            if self.header_seen.contains(&flag) {
                self.error(
                    word.span,
                    format!(
                        "`-{flag}` is given twice: iptables refuses that (multiple -{flag} flags)"
                    ),
                    "give each of -s, -d, -i, -o, -p and -f at most once",
                );
                if flag != 'f' {
                    let _ = self.value(word, inline, neg);
                }
                self.rule.complete = false;
                return;
            }
            self.header_seen.push(flag);
        }
        match opt {
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => {
                let Some((mut neg, value, span)) = self.value(word, inline, neg) else {
                    return;
                };
                neg |= self.legacy_bang(&value, span);
                let value = if value == "!" {
                    self.next_word()
                        .map(|w| w.text.to_string())
                        .unwrap_or_default()
                } else {
                    value
                };
                let address = self.address(&value, span);
                let slot = if opt.starts_with("-s") || opt.starts_with("--s") {
                    &mut self.rule.header.src
                } else {
                    &mut self.rule.header.dst
                };
                *slot = Some(Negatable::new(neg, address));
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let Some((neg, value, span)) = self.value(word, inline, neg) else {
                    return;
                };
                let iface = match Interface::parse(&value) {
                    Ok(i) => i,
                    Err(e) => {
                        self.error(span, e, "Linux interface names have at most 15 characters");
                        Interface(value)
                    }
                };
                let slot = if opt == "-i" || opt == "--in-interface" {
                    &mut self.rule.header.in_iface
                } else {
                    &mut self.rule.header.out_iface
                };
                *slot = Some(Negatable::new(neg, iface));
            }
            "-p" | "--protocol" => {
                let Some((neg, value, span)) = self.value(word, inline, neg) else {
                    return;
                };
                match Protocol::parse(&value) {
                    Ok(Protocol(0)) if neg => self.error(
                        span,
                        "`! -p all` would never match",
                        "leave out -p to match every protocol",
                    ),
                    Ok(p) => self.rule.header.protocol = Some(Negatable::new(neg, p)),
                    Err(e) => self.error(
                        span,
                        e,
                        "use a protocol name such as tcp, udp, icmp, or a number",
                    ),
                }
            }
            "-f" | "--fragment" => self.rule.header.fragment = Some(neg),
            "-m" | "--match" => {
                let Some((_, module, span)) = self.value(word, inline, false) else {
                    return;
                };
                self.rule.matches.push(Match::load(&module));
                self.owners.push(Claim {
                    span: Span::new(word.span.start, span.end),
                    ..Claim::default()
                });
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let Some((_, name, span)) = self.value(word, inline, false) else {
                    return;
                };
                if self.rule.target.is_some() {
                    self.error(
                        word.span,
                        "a rule has one target; this second one was ignored",
                        "remove one of the -j/-g options",
                    );
                    return;
                }
                if let Some(problem) = crate::model::chain_name_problem(&name) {
                    self.error(
                        span,
                        problem,
                        "a target is a chain name or an extension such as DNAT",
                    );
                    return;
                }
                let goto = opt == "-g" || opt == "--goto";
                self.target_claim = Claim {
                    span: Span::new(word.span.start, span.end),
                    ..Claim::default()
                };
                let action = if goto {
                    Action::Chain
                } else {
                    Action::load(&name, false)
                };
                self.rule.target = Some(Target {
                    name,
                    goto,
                    span: Span::new(word.span.start, span.end),
                    action,
                });
            }
            "-c" | "--set-counters" => {
                let first = inline
                    .or_else(|| self.next_word().map(|w| w.text.as_ref()))
                    .unwrap_or_default();
                // `-c P,B` (iptables ≥ 1.8) or `-c P B`.
                let (packets, bytes) = match first.split_once(',') {
                    Some((p, b)) => (Some(p), Some(b)),
                    None => (Some(first), self.next_word().map(|w| w.text.as_ref())),
                };
                match (
                    packets.and_then(|p| p.parse().ok()),
                    bytes.and_then(|b| b.parse().ok()),
                ) {
                    (Some(packets), Some(bytes)) => {
                        self.rule.counters = Some(Counters { packets, bytes })
                    }
                    _ => self.error(
                        word.span,
                        "-c needs two numbers: packets and bytes",
                        "write `-c PACKETS BYTES`",
                    ),
                }
            }
            _ => self.extension_option(word, opt, inline, neg),
        }
    }

    /// An option of a match or the target.
    fn extension_option(
        &mut self,
        word: &Token<'_>,
        opt: &str,
        inline: Option<&'a str>,
        neg: bool,
    ) {
        let in_target = self.rule.target.as_ref().and_then(|t| t.action.option(opt));
        if let Some((name, arity)) = in_target {
            let Some((args, end)) = self.args(word, inline, arity) else {
                return;
            };
            let v6 = self.v6;
            let twice = self.target_claim.seen.contains(&name);
            let result = if twice {
                Err(format!(
                    "`{opt}` is given twice for one target: iptables refuses that"
                ))
            } else {
                self.rule
                    .target
                    .as_mut()
                    .map_or(Ok(()), |t| t.action.apply(opt, neg, &args, v6))
            };
            self.target_claim.failed |= result.is_err();
            self.record(result, Span::new(word.span.start, end));
            let consumed = self.consumed();
            self.target_claim.words.extend(consumed);
            self.target_claim.seen.push(name);
            return;
        }
        let owner = self
            .rule
            .matches
            .iter()
            .rposition(|m| m.option(opt).is_some());
        let owner = owner.or_else(|| self.implicit_match(opt));
        if let Some(m) = owner {
            let Some((name, arity)) = self.rule.matches[m].option(opt) else {
                return;
            };
            let neg = neg || (arity > 0 && inline.is_none() && self.old_bang());
            let Some((args, end)) = self.args(word, inline, arity) else {
                return;
            };
            let twice = self.owners[m].seen.contains(&name);
            let result = if twice {
                Err(format!(
                    "`{opt}` is given twice for one `-m {}`: iptables refuses that",
                    self.rule.matches[m].module()
                ))
            } else {
                self.rule.matches[m].apply(opt, neg, &args)
            };
            self.owners[m].failed |= result.is_err();
            self.record(result, Span::new(word.span.start, end));
            if opt == "--comment" {
                self.unquoted_comment(m, word.span.start);
            }
            let consumed = self.consumed();
            self.owners[m].words.extend(consumed);
            self.owners[m].seen.push(name);
            return;
        }
        // Options of a module chainlens does not model are kept as written.
        let last_unknown = match (&mut self.rule.target, self.rule.matches.last_mut()) {
            (
                Some(Target {
                    action: Action::Unknown(raw),
                    ..
                }),
                _,
            ) => Some(raw),
            (None, Some(Match::Unknown { args, .. })) => Some(args),
            _ => None,
        };
        if let Some(raw) = last_unknown {
            if neg {
                raw.push("!".into());
            }
            raw.push(word.text.to_string());
            while let Some(next) = self.words.get(self.i) {
                if next.text.starts_with('-')
                    && next.text.len() > 1
                    && !next.text[1..].starts_with(|c: char| c.is_ascii_digit())
                    || next.text == "!"
                {
                    break;
                }
                raw.push(next.text.to_string());
                self.i += 1;
            }
            return;
        }
        let module = self
            .rule
            .matches
            .last()
            .map(|m| format!(" for `-m {}`", m.module()))
            .unwrap_or_default();
        self.error(
            word.span,
            format!("unknown option `{opt}`{module}"),
            "check the spelling, or the `-m` module that provides this option",
        );
    }

    /// `--comment two words` (unquoted, as kube-proxy's test fakes and hand-typed pastes have
    /// it): iptables would refuse the rule; read the words up to the next option as the comment.
    fn unquoted_comment(&mut self, m: usize, start: usize) {
        let mut end = None;
        while let Some(next) = self
            .words
            .get(self.i)
            .filter(|w| !w.text.starts_with('-') && w.text != "!")
        {
            if let Match::Comment(c) = &mut self.rule.matches[m] {
                c.push(' ');
                c.push_str(&next.text);
            }
            end = Some(next.span.end);
            self.i += 1;
        }
        if let Some(end) = end {
            self.diagnostics.push(
                Diagnostic::warning(
                    "unquoted-comment",
                    Span::new(start, end),
                    "this comment has spaces but no quotes; read up to the next option",
                )
                .with_help("iptables-save quotes such comments: --comment \"two words\""),
            );
        }
    }

    /// The words of the option just read, as written (from its `!` to its last value).
    fn consumed(&self) -> Vec<String> {
        self.words[self.option_start.min(self.i)..self.i]
            .iter()
            .map(|w| w.text.to_string())
            .collect()
    }

    /// `-p tcp --dport 80` loads `-m tcp` implicitly, as iptables does (and saves it).
    fn implicit_match(&mut self, opt: &str) -> Option<usize> {
        let proto = self
            .rule
            .header
            .protocol
            .as_ref()
            .filter(|p| !p.negated)?
            .value;
        let module = match proto {
            Protocol::TCP => "tcp",
            Protocol::UDP => "udp",
            Protocol::ICMP => "icmp",
            _ => return None,
        };
        let m = Match::load(module);
        m.option(opt)?;
        self.rule.matches.push(m);
        let span = self
            .words
            .get(self.i.saturating_sub(1))
            .map_or_else(Span::default, |w| w.span);
        self.owners.push(Claim {
            span,
            ..Claim::default()
        });
        Some(self.rule.matches.len() - 1)
    }

    /// The value of `-x VALUE`, `-xVALUE` or `--opt=VALUE`, with the negation so far.
    fn value(
        &mut self,
        word: &Token<'_>,
        inline: Option<&'a str>,
        neg: bool,
    ) -> Option<(bool, String, Span)> {
        if let Some(v) = inline {
            return Some((neg, v.to_string(), word.span));
        }
        match self.next_word() {
            Some(w) => Some((neg, w.text.to_string(), w.span)),
            None => {
                self.error(
                    word.span,
                    format!("`{}` needs a value after it", word.text),
                    "the rule ends too early",
                );
                None
            }
        }
    }

    fn args(
        &mut self,
        word: &Token<'_>,
        inline: Option<&'a str>,
        arity: usize,
    ) -> Option<(Vec<&'a str>, usize)> {
        let mut args: Vec<&'a str> = inline.into_iter().collect();
        let mut end = word.span.end;
        while args.len() < arity {
            let words = self.words;
            match words.get(self.i) {
                Some(w) => {
                    args.push(&w.text);
                    end = w.span.end;
                    self.i += 1;
                }
                None => {
                    self.error(
                        word.span,
                        format!("`{}` needs {arity} value(s) after it", word.text),
                        "the rule ends too early",
                    );
                    return None;
                }
            }
        }
        Some((args, end))
    }

    /// `--dport ! 80`: the old placement of `!` for an extension option; consumes the `!`.
    fn old_bang(&mut self) -> bool {
        let Some(bang) = self.words.get(self.i).filter(|w| w.text == "!") else {
            return false;
        };
        let span = bang.span;
        self.i += 1;
        self.legacy_bang("!", span)
    }

    /// iptables ≤ 1.4.11 accepted `-s ! 10.0.0.0/8`; take it, and say it is old.
    fn legacy_bang(&mut self, value: &str, span: Span) -> bool {
        if value != "!" {
            return false;
        }
        self.diagnostics.push(
            Diagnostic::info(
                "old-negation",
                span,
                "`!` after the option is the old placement (iptables ≤ 1.4.11); read as negation",
            )
            .with_help("iptables-save writes `! -s ADDR`"),
        );
        true
    }

    fn address(&mut self, value: &str, span: Span) -> Address {
        match Address::parse(value) {
            Ok(a @ Address::Placeholder(_)) => {
                self.diagnostics.push(
                    Diagnostic::warning("placeholder-address", span, format!("`{value}` is a placeholder, not an address; rules using it cannot be evaluated"))
                        .with_help("replace it with the real address to simulate packets against it"),
                );
                a
            }
            Ok(a) => a,
            Err(e) => {
                self.rule.complete = false;
                self.diagnostics.push(
                    Diagnostic::error("bad-value", span, e)
                        .with_help("write an address as A.B.C.D, A.B.C.D/LEN or A.B.C.D/MASK"),
                );
                // Kept as written, so the rule still shows what was pasted.
                Address::Placeholder(value.to_string())
            }
        }
    }

    fn next_word(&mut self) -> Option<&'a Token<'a>> {
        let words = self.words;
        let w = words.get(self.i);
        if w.is_some() {
            self.i += 1;
        }
        w
    }

    fn record(&mut self, result: Result<(), String>, span: Span) {
        if let Err(e) = result {
            self.error(
                span,
                e,
                "see `iptables -m MODULE --help` for the option's forms",
            );
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>, help: &str) {
        self.rule.complete = false;
        self.diagnostics
            .push(Diagnostic::error("bad-option", span, message).with_help(help));
    }

    fn finish(mut self) -> ReadRule {
        let ctx = RuleContext {
            protocol: self
                .rule
                .header
                .protocol
                .as_ref()
                .filter(|p| !p.negated)
                .map(|p| p.value.0),
        };
        // A match or target that failed keeps its words as written instead of a half-read value.
        let matches = std::mem::take(&mut self.rule.matches);
        let claims = std::mem::take(&mut self.owners);
        for (m, claim) in matches.into_iter().zip(claims) {
            let checked = if claim.failed {
                Err(None)
            } else {
                m.check(&|o| claim.seen.contains(&o), ctx).map_err(Some)
            };
            match checked {
                Ok(()) => self.rule.matches.push(m),
                Err(problem) => {
                    if let Some(e) = problem {
                        self.diagnostics
                            .push(Diagnostic::error("incomplete-match", claim.span, e));
                    }
                    self.rule.complete = false;
                    self.rule.matches.push(Match::Unknown {
                        module: m.module().to_string(),
                        args: claim.words,
                    });
                }
            }
        }
        let claim = std::mem::take(&mut self.target_claim);
        let checked = match &self.rule.target {
            Some(_) if claim.failed => Err(None),
            Some(t) => t
                .action
                .check(&|o| claim.seen.contains(&o), ctx)
                .and_then(|()| self.tcpmss_needs_syn(&t.action))
                .map_err(Some),
            None => Ok(()),
        };
        if let (Err(problem), Some(t)) = (checked, &mut self.rule.target) {
            if let Some(e) = problem {
                self.diagnostics
                    .push(Diagnostic::error("incomplete-target", t.span, e));
            }
            self.rule.complete = false;
            t.action = Action::Unknown(claim.words);
        }
        self.rule
    }
}

impl Reader<'_, '_> {
    /// The kernel refuses TCPMSS unless the rule only sees SYN packets (`tcpmss_tg4_check`):
    /// a `-m tcp --tcp-flags` test that requires SYN.
    fn tcpmss_needs_syn(&self, action: &Action) -> Result<(), String> {
        if !matches!(action, Action::Tcpmss(_)) {
            return Ok(());
        }
        let syn = self.rule.matches.iter().any(|m| match m {
            Match::Tcp(t) => t
                .flags
                .as_ref()
                .is_some_and(|f| !f.negated && f.value.0 & 0x02 != 0 && f.value.1 & 0x02 != 0),
            _ => false,
        });
        if syn {
            Ok(())
        } else {
            Err("TCPMSS only works on TCP SYN packets: add `-m tcp --tcp-flags SYN,RST SYN`".into())
        }
    }
}

/// What one match or the target was given: where its `-m`/`-j` is, the options `check` looks
/// for, the words it consumed as written, and whether any of them failed. A match or target
/// that failed becomes `Unknown` with those words, so the model never holds a half-read value.
#[derive(Debug, Default)]
struct Claim {
    span: Span,
    seen: Vec<&'static str>,
    words: Vec<String>,
    failed: bool,
}

/// Splits `--opt=value` and glued short options (`-ptcp`, `-s1.2.3.4`).
fn split_option(word: &str) -> (&str, Option<&str>) {
    if let Some(long) = word.strip_prefix("--") {
        return match long.split_once('=') {
            Some((name, value)) => (&word[..name.len() + 2], Some(value)),
            None => (word, None),
        };
    }
    if word.len() > 2 && word.starts_with('-') && word.is_char_boundary(2) {
        let short = &word[..2];
        if matches!(
            short,
            "-s" | "-d" | "-i" | "-o" | "-p" | "-m" | "-j" | "-g" | "-c"
        ) {
            return (short, Some(&word[2..]));
        }
    }
    (word, None)
}
