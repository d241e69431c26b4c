//! Text → model + diagnostics. Parsing never fails: whatever is not understood becomes a
//! diagnostic pointing at it, and every other line is still read.

pub mod conntrack;
mod ipset;
pub mod listing;
mod rule;
mod save;
mod words;

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::model::Ruleset;
use crate::text::Span;

pub use rule::{ReadRule, read as read_rule};
pub use words::{Token, split_words};

/// What kind of paste the text was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Nothing but white space.
    Empty,
    /// `iptables-save` output with `*table` headers.
    Save,
    /// `iptables-save -c`: the same with `[packets:bytes]` before each rule.
    SaveWithCounters,
    /// `-A` lines without a `*table` header, as grep leaves them.
    Fragment,
    /// `iptables -L` output.
    Listing,
    /// `conntrack -L` lines.
    Conntrack,
    /// `ipset list` or `ipset save` output alone.
    Ipset,
    /// `ipvsadm -Ln` or `-Sn` output alone.
    Ipvs,
    /// Several of the above with shell prompts or prose between them.
    Transcript,
    /// Nothing in it could be read as rules.
    Unknown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Empty => "empty",
            Format::Save => "iptables-save",
            Format::SaveWithCounters => "iptables-save -c",
            Format::Fragment => "iptables-save fragment",
            Format::Listing => "iptables -L listing",
            Format::Conntrack => "conntrack -L",
            Format::Ipset => "ipset list",
            Format::Ipvs => "ipvsadm -Ln",
            Format::Transcript => "shell transcript",
            Format::Unknown => "unknown",
        }
    }
}

/// The result of reading a paste: the model, how it was read, and what was not understood.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Parsed {
    pub format: Format,
    pub ruleset: Ruleset,
    /// `conntrack -L` entries found in the paste.
    pub conntrack: Vec<conntrack::ConntrackEntry>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a paste. Never fails and never panics; see [`Parsed::diagnostics`] for what was not
/// understood.
pub fn parse(text: &str) -> Parsed {
    if text.trim().is_empty() {
        return Parsed {
            format: Format::Empty,
            ruleset: Ruleset::default(),
            conntrack: Vec::new(),
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
    let mut paste = Paste {
        save: save::Reader::new(text, binary.is_some()),
        ipsets: ipset::Reader::default(),
        ipvs: Vec::new(),
        conntrack: Vec::new(),
        diagnostics: Vec::new(),
        listing: None,
        table_hint: None,
        prose: None,
        seen: Seen::default(),
        listing_notes: (false, false),
    };
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        let start = offset + (body.len() - trimmed.len());
        paste.line(trimmed, Span::new(start, offset + body.len()));
        offset += raw.len();
    }
    let mut parsed = paste.finish();
    if binary.is_none() {
        parsed.diagnostics.extend(stray_controls(text));
    }
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

/// Which formats a paste held.
#[derive(Debug, Default)]
struct Seen {
    save: bool,
    ipset: bool,
    ipvs: bool,
    listing: bool,
    conntrack: bool,
    prompts: bool,
    prose: bool,
}

/// An `iptables -L` chain being read: its header, column line and rows so far.
struct OpenListing {
    header: listing::ChainHeader,
    span: Span,
    columns: Option<listing::Columns>,
    rules: Vec<crate::model::Rule>,
}

/// Reads a paste line by line, sending each line to the reader of its format.
struct Paste<'t> {
    save: save::Reader<'t>,
    ipsets: ipset::Reader,
    /// `ipvsadm -Ln` / `-Sn` virtual servers.
    ipvs: Vec<crate::model::ipvs::VirtualServer>,
    conntrack: Vec<conntrack::ConntrackEntry>,
    diagnostics: Vec<Diagnostic>,
    listing: Option<OpenListing>,
    /// `-t TABLE` of the last iptables command seen at a prompt.
    table_hint: Option<String>,
    /// The span of the prose lines being skipped, and how many.
    prose: Option<(Span, usize)>,
    seen: Seen,
    /// Whether the paste-wide notes about listings were given: (no `-v`, names without `-n`).
    listing_notes: (bool, bool),
}

impl Paste<'_> {
    fn line(&mut self, line: &str, span: Span) {
        if self.ipvs_line(line, span) {
            self.close_prose();
            self.seen.ipvs = true;
            return;
        }
        // Most lines of a dump are rules: send them straight to the save reader.
        if self.listing.is_none() && (line.starts_with("-A ") || line.starts_with(':')) {
            self.close_prose();
            self.seen.save = true;
            self.save.line(line, span);
            return;
        }
        if line.is_empty() {
            self.close_listing();
            self.close_prose();
            self.ipsets.close();
            return;
        }
        if let Some(d) = tool_warning(line, span) {
            self.diagnostics.push(d);
            return;
        }
        if self.listing.is_none() && self.ipsets.line(line, span, &mut self.diagnostics) {
            self.close_prose();
            self.seen.ipset = true;
            return;
        }
        if let Some(header) = listing::ChainHeader::parse(line) {
            self.close_listing();
            self.close_prose();
            self.seen.listing = true;
            self.listing = Some(OpenListing {
                header,
                span,
                columns: None,
                rules: Vec::new(),
            });
            return;
        }
        if self.listing_line(line, span) {
            return;
        }
        if let Some(command) = command_of(line) {
            self.close_prose();
            self.seen.prompts = true;
            self.table_hint = table_option(command).or(self
                .table_hint
                .take()
                .filter(|_| !command.contains("iptables")));
            return;
        }
        if conntrack::looks_like(line) {
            self.close_prose();
            self.seen.conntrack = true;
            match conntrack::entry(line, span) {
                Ok(e) => self.conntrack.push(e),
                Err(e) => self.diagnostics.push(Diagnostic::error(
                    "bad-conntrack",
                    span,
                    format!("conntrack entry not read: {e}"),
                )),
            }
            return;
        }
        if (self.save.in_table() || is_save_line(line)) && !is_bullet(line) {
            self.close_prose();
            self.seen.save = true;
            self.save.line(line, span);
            return;
        }
        self.seen.prose = true;
        self.prose = Some(match self.prose {
            Some((first, n)) => (Span::new(first.start, span.end), n + 1),
            None => (span, 1),
        });
    }

    /// `ipvsadm -Ln` (its headers, virtual and real server lines) and `ipvsadm -Sn` lines.
    fn ipvs_line(&mut self, line: &str, span: Span) -> bool {
        use crate::model::ipvs::{SaveLine, real_line, save_line, virtual_line};
        let t = line.trim_start();
        if t.starts_with("IP Virtual Server version")
            || t.starts_with("Prot LocalAddress:Port")
            || t.starts_with("-> RemoteAddress:Port")
        {
            return true;
        }
        if t.starts_with("-A -") || t.starts_with("-a -") {
            match save_line(t, span) {
                Some(SaveLine::Virtual(v)) => self.ipvs.push(v),
                Some(SaveLine::Real((p, a), r)) => {
                    match self
                        .ipvs
                        .iter_mut()
                        .rev()
                        .find(|v| v.protocol == p && v.addr == a)
                    {
                        Some(v) => v.reals.push(r),
                        None => self.diagnostics.push(Diagnostic::warning(
                            "ipvs-real-without-virtual",
                            span,
                            format!(
                                "real server for {a} before its virtual server (`-A`); left out"
                            ),
                        )),
                    }
                }
                None => return false,
            }
            return true;
        }
        if t.starts_with("->") {
            if let (Some(r), Some(v)) = (real_line(t, span), self.ipvs.last_mut()) {
                v.reals.push(r);
                return true;
            }
            return false;
        }
        let virtual_server = ["TCP ", "UDP ", "SCTP "].iter().any(|p| t.starts_with(p));
        if virtual_server && let Some(v) = virtual_line(t, span) {
            self.ipvs.push(v);
            return true;
        }
        false
    }

    /// Handles a line inside an open listing; false when the line ends the listing.
    fn listing_line(&mut self, line: &str, span: Span) -> bool {
        let Some(open) = &mut self.listing else {
            return false;
        };
        if open.columns.is_none()
            && let Some(columns) = listing::Columns::parse(line)
        {
            open.columns = Some(columns);
            if !columns.verbose && !self.listing_notes.0 {
                self.listing_notes.0 = true;
                self.diagnostics.push(
                    Diagnostic::warning("listing-without-v", span, "this listing was made without -v, so it does not show interface matches (-i/-o)")
                        .with_help("rules that test interfaces look here as if they did not; list with `iptables -L -v -n` or paste `iptables-save`"),
                );
            }
            return true;
        }
        if line.chars().all(|c| c == '.' || c == '…') && line.len() >= 3 {
            self.diagnostics.push(
                Diagnostic::warning(
                    "elided-rows",
                    span,
                    format!("rows were cut from chain `{}` here", open.header.name),
                )
                .with_help("the chain is incomplete: rules between the rows shown are unknown"),
            );
            return true;
        }
        if line.starts_with('#') && command_of(line).is_none() {
            // A note the user typed between rows.
            return true;
        }
        if let Some(columns) = open.columns
            && let Some(rule) = listing::row(line, span.start, columns, &mut self.diagnostics)
        {
            if !self.listing_notes.1
                && (line.contains("anywhere")
                    || line.contains(" dpt:") && rule.matches.iter().any(|_| false))
            {
                self.listing_notes.1 = true;
                self.diagnostics.push(Diagnostic::info(
                    "listing-names",
                    span,
                    "this listing was made without -n; names such as `anywhere` and `https` were mapped back to addresses and ports",
                ));
            }
            open.rules.push(rule);
            return true;
        }
        self.close_listing();
        false
    }

    fn close_listing(&mut self) {
        if let Some(open) = self.listing.take() {
            let h = open.header;
            self.save.listing_chain(
                &h.name,
                h.policy,
                h.counters,
                open.rules,
                open.span,
                self.table_hint.clone(),
            );
        }
    }

    fn close_prose(&mut self) {
        if let Some((span, lines)) = self.prose.take() {
            let what = if lines == 1 {
                "this line is"
            } else {
                "these lines are"
            };
            self.diagnostics.push(
                Diagnostic::info("not-rules", span, format!("{what} not rules ({lines} line(s) of text or command output) and were skipped"))
                    .with_help("chainlens reads iptables-save, iptables -L and conntrack -L output; other text is left out"),
            );
        }
    }

    fn finish(mut self) -> Parsed {
        self.close_listing();
        self.close_prose();
        self.ipsets.close();
        let gathered = self.save.finish();
        let mut diagnostics = gathered.diagnostics;
        diagnostics.append(&mut self.diagnostics);
        diagnostics.extend(unknown_extensions(&gathered.tables));
        diagnostics.sort_by_key(|d| d.span.start);
        let rules = gathered
            .tables
            .iter()
            .map(|t| t.rule_count())
            .sum::<usize>();
        let seen = &self.seen;
        let kinds = [
            seen.save,
            seen.listing,
            seen.conntrack,
            seen.ipset,
            seen.ipvs,
        ]
        .iter()
        .filter(|k| **k)
        .count();
        let ipsets = std::mem::take(&mut self.ipsets.sets);
        let ipvs = std::mem::take(&mut self.ipvs);
        let format = if kinds == 0
            || (rules == 0
                && self.conntrack.is_empty()
                && ipsets.is_empty()
                && ipvs.is_empty()
                && gathered.understood == 0)
        {
            Format::Unknown
        } else if kinds > 1 || seen.prompts {
            Format::Transcript
        } else if seen.listing {
            Format::Listing
        } else if seen.conntrack {
            Format::Conntrack
        } else if seen.ipset && rules == 0 {
            Format::Ipset
        } else if seen.ipvs && rules == 0 {
            Format::Ipvs
        } else if !gathered.dump {
            Format::Fragment
        } else if gathered.counters {
            Format::SaveWithCounters
        } else {
            Format::Save
        };
        Parsed {
            format,
            ruleset: Ruleset {
                tables: gathered.tables,
                ipv6: gathered.ipv6,
                ipsets,
                ipvs,
            },
            conntrack: self.conntrack,
            diagnostics,
        }
    }
}

/// Lines of the save grammar: `*table`, `:CHAIN`, `-A …`, `[p:b] -A …`, `COMMIT`, `# …`.
/// One warning per match module and target chainlens does not model, at its first rule, with
/// how many rules use it: those rules are kept as written and their tests are undecided.
fn unknown_extensions<'t>(tables: &'t [crate::model::Table]) -> Vec<Diagnostic> {
    use crate::ext::matches::{LISTING_TEXT, Match};
    use crate::ext::targets::Action;
    struct Use<'t> {
        kind: &'static str,
        name: &'t str,
        first: Span,
        rules: usize,
    }
    let mut seen: Vec<Use<'t>> = Vec::new();
    let mut note = |kind: &'static str, name: &'t str, span: Span| match seen
        .iter_mut()
        .find(|u| u.kind == kind && u.name == name)
    {
        Some(u) => u.rules += 1,
        None => seen.push(Use {
            kind,
            name,
            first: span,
            rules: 1,
        }),
    };
    for rule in tables.iter().flat_map(|t| &t.chains).flat_map(|c| &c.rules) {
        let mut modules: Vec<&str> = rule
            .matches
            .iter()
            .filter_map(|m| match m {
                Match::Unknown { module, .. } if module != LISTING_TEXT => Some(module.as_str()),
                _ => None,
            })
            .collect();
        modules.dedup();
        for m in modules {
            note("match", m, rule.span);
        }
        // A known target whose options were refused is said where it was refused.
        if let Some(t) = &rule.target
            && matches!(t.action, Action::Unknown(_))
            && matches!(Action::load(&t.name, false), Action::Unknown(_))
        {
            note("target", t.name.as_str(), rule.span);
        }
    }
    seen.into_iter()
        .map(|Use { kind, name, first: span, rules: n }| {
            let (what, effect) = if kind == "match" {
                (format!("`-m {name}`"), "its test is undecided in traces (each outcome says which way it was taken)")
            } else {
                (format!("`-j {name}`"), "a trace passes it as a target with no effect on the packet")
            };
            Diagnostic::warning(
                "unknown-extension",
                span,
                format!(
                    "{what} is not a {kind} chainlens models ({n} rule{}): kept as written; {effect}",
                    if n == 1 { "" } else { "s" }
                ),
            )
            .with_help("if it decides where these packets go, check those rules by hand")
        })
        .collect()
}

/// What iptables' own `# Warning:` lines say about the paste: both say it is not the whole
/// ruleset the kernel runs.
fn tool_warning(line: &str, span: Span) -> Option<Diagnostic> {
    let text = line.trim().strip_prefix("# Warning: ")?;
    if text.starts_with("iptables-legacy tables present") {
        Some(
            Diagnostic::warning(
                "legacy-tables-present",
                span,
                "iptables-nft printed this and warns that iptables-legacy tables exist too: the kernel runs both, and this paste shows only the nf_tables ones",
            )
            .with_help("paste `iptables-legacy-save` as well (Weave, older Calico and kube-proxy images write legacy rules)"),
        )
    } else if text.contains("is managed by iptables-nft") {
        Some(
            Diagnostic::info(
                "iptables-nft-table",
                span,
                format!("nft says: {text}; its rules are iptables rules, and `iptables-nft-save` prints them as iptables reads them"),
            )
            .with_help("paste `iptables-nft-save` for this table: matches nft shows as `xt match` are then readable"),
        )
    } else {
        None
    }
}

/// A line of prose written as a list item (` - A test for…`, `* note`): iptables' commands
/// are `-A`, `-N`…, never a dash and a blank, and a table is `*nat`.
fn is_bullet(line: &str) -> bool {
    let t = line.trim_start();
    ["- ", "* ", "• ", "-- "].iter().any(|b| t.starts_with(b))
}

fn is_save_line(line: &str) -> bool {
    line.starts_with(['*', ':', '-', '#'])
        || line.starts_with("COMMIT")
        || (line.starts_with('[') && line[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Commands people run before pasting their output.
const COMMANDS: &[&str] = &[
    "iptables",
    "ip6tables",
    "iptables-save",
    "ip6tables-save",
    "iptables-legacy",
    "iptables-legacy-save",
    "iptables-nft",
    "iptables-nft-save",
    "ip6tables-legacy-save",
    "ip6tables-nft-save",
    "conntrack",
    "kubectl",
    "grep",
    "egrep",
    "cat",
    "sudo",
    "ipvsadm",
    "ipset",
    "nft",
    "watch",
    "less",
    "head",
    "tail",
    "ssh",
    "docker",
    "crictl",
    "ip",
    "ss",
    "dig",
    "nslookup",
    "curl",
];

/// The command of a shell prompt line (`$ …`, `# …`, `➜  ~ …`, `user@host:~$ …`, `[root@x ~]# …`,
/// or a bare known command such as `sudo iptables …`), or `None`.
fn command_of(line: &str) -> Option<&str> {
    let known = |rest: &str| {
        let mut words = rest.split_whitespace();
        let first = words.next().unwrap_or("");
        let cmd = if first == "sudo" {
            words.next().unwrap_or("")
        } else {
            first
        };
        COMMANDS.contains(&cmd.rsplit('/').next().unwrap_or(cmd))
    };
    if let Some(rest) = line.strip_prefix("$ ") {
        return Some(rest);
    }
    if let Some(rest) = line.strip_prefix('➜') {
        // zsh themes: `➜  dir command …`
        let rest = rest.trim_start();
        return Some(
            rest.split_once(char::is_whitespace)
                .map_or("", |(_, r)| r.trim_start()),
        );
    }
    if let Some(rest) = line.strip_prefix("# ") {
        return known(rest).then_some(rest);
    }
    if line.starts_with('[')
        && let Some(i) = line.find("]$ ").or_else(|| line.find("]# "))
    {
        return Some(&line[i + 3..]);
    }
    if let Some(at) = line.find('@')
        && !line[..at].contains(char::is_whitespace)
        && let Some(i) = line.find("$ ").or_else(|| line.find("# "))
        && i > at
    {
        return Some(&line[i + 2..]);
    }
    known(line).then_some(line)
}

/// `-t nat` / `--table=nat` / `-tnat` in an iptables command.
fn table_option(command: &str) -> Option<String> {
    if !command.contains("tables") {
        return None;
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| match *w {
        "-t" | "--table" => words.get(i + 1).map(|t| t.to_string()),
        _ => w
            .strip_prefix("--table=")
            .or_else(|| {
                w.strip_prefix("-t")
                    .filter(|t| !t.is_empty() && !t.starts_with('-'))
            })
            .map(str::to_string),
    })
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
        origin: crate::model::Origin::Save,
    };
    (rule, diagnostics)
}

/// `Some((control, total))` when too much of the text is control characters to be a paste of
/// command output. Counted on bytes: C0 controls and DEL are single bytes, C1 controls are
/// `C2 80..9F`, and U+FFFD (what invalid UTF-8 became) is `EF BF BD`.
fn binary_share(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let total = bytes.iter().filter(|&&b| (b as i8) >= -0x40).count();
    let mut bad = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            0 => bad += 1,
            b'\t' | b'\n' | b'\r' => {}
            0x01..=0x1f | 0x7f => bad += 1,
            0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => bad += 1,
            0xef if bytes.get(i + 1..i + 3) == Some(&[0xbf, 0xbd]) => bad += 1,
            _ => {}
        }
    }
    // A NUL near the start is a binary file's mark; one further in is a stray byte in a text.
    let early_nul = bytes.iter().take(512).any(|&b| b == 0);
    (bad > 0 && (early_nul && bad * 100 > total || bad * 20 > total)).then_some((bad, total))
}

/// Control characters in a text that is not binary: each is said where it is (the first few),
/// so a stray byte is found, and the rest of the paste is read as usual.
fn stray_controls(text: &str) -> Vec<Diagnostic> {
    const SAID: usize = 20;
    let strays: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || *c == '\u{fffd}')
        .collect();
    let mut out: Vec<Diagnostic> = strays
        .iter()
        .take(SAID)
        .map(|&(at, c)| {
            let what = if c == '\u{fffd}' {
                "a byte that is not UTF-8 (shown as U+FFFD)".to_string()
            } else {
                format!("the control character U+{:04X}", c as u32)
            };
            Diagnostic::warning(
                "control-character",
                Span::new(at, at + c.len_utf8()),
                format!("{what} in the text"),
            )
            .with_help("it was probably not in what the command printed; the line is read as it is")
        })
        .collect();
    if strays.len() > SAID {
        let (at, _) = strays[SAID];
        out.push(Diagnostic::info(
            "control-character",
            Span::new(at, at),
            format!("{} more control characters not listed", strays.len() - SAID),
        ));
    }
    out
}
