//! The `iptables-save` grammar: `*table`, `:CHAIN POLICY [p:b]`, `[p:b] -A CHAIN …`, `COMMIT`,
//! comments; and headerless fragments of `-A` lines as grep leaves them.

use std::collections::HashMap;

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, space0, space1, u64 as dec_u64};
use nom::combinator::{all_consuming, map, opt, rest};
use nom::sequence::{delimited, preceded, separated_pair, terminated};
use nom::{IResult, Parser};

use super::words::Token;
use super::words::split_words;
use crate::diag::Diagnostic;
use crate::model::{Chain, Counters, Origin, Rule, Table, TargetKind};
use crate::text::Span;

/// One line of a save dump, as the grammar sees it.
#[derive(Debug, PartialEq)]
enum Line<'a> {
    Blank,
    Comment,
    Table(&'a str),
    Chain {
        name: &'a str,
        policy: &'a str,
        counters: Option<Counters>,
    },
    Commit,
    Command {
        counters: Option<Counters>,
        command: &'a str,
    },
}

fn word(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| !c.is_whitespace())(i)
}

fn counters(i: &str) -> IResult<&str, Counters> {
    map(
        delimited(
            char('['),
            separated_pair(dec_u64, char(':'), dec_u64),
            char(']'),
        ),
        |(packets, bytes)| Counters { packets, bytes },
    )
    .parse(i)
}

fn line(i: &str) -> IResult<&str, Line<'_>> {
    let chain = map(
        (
            preceded(char(':'), word),
            preceded(space1, word),
            opt(preceded(space1, counters)),
            space0,
        ),
        |(name, policy, counters, _)| Line::Chain {
            name,
            policy,
            counters,
        },
    );
    let command = map(
        (opt(terminated(counters, space1)), rest),
        |(counters, command): (_, &str)| Line::Command { counters, command },
    );
    all_consuming(alt((
        map(space0.and(nom::combinator::eof), |_| Line::Blank),
        map(preceded(char('#'), rest), |_| Line::Comment),
        map(delimited(char('*'), word, space0), Line::Table),
        chain,
        map(terminated(tag("COMMIT"), space0), |_| Line::Commit),
        command,
    )))
    .parse(i)
}

/// Reads save lines one at a time (the paste reader in `parse/mod.rs` hands them over), and
/// gathers chains from listings into the same tables.
pub(super) struct Reader<'t> {
    text: &'t str,
    quiet_unknown: bool,
    /// Read IPv6 spellings (an `ip6tables-save` dump).
    v6: bool,
    tables: Vec<Table>,
    /// The table opened by the last `*table` line and not yet committed.
    current: Option<Table>,
    /// Rules met outside any `*table … COMMIT` block.
    loose: Option<Table>,
    /// Chain positions by name in `current` and in `loose`.
    current_index: HashMap<String, usize>,
    loose_index: HashMap<String, usize>,
    /// Rules inserted at the head of a chain (`-I CHAIN`), by chain position, in the order
    /// read: they go in front, last first, when the table is complete (inserting each one at
    /// the front as it comes would make 50,000 inserts quadratic). `true` keys `loose`.
    fronts: HashMap<(bool, usize), Vec<Rule>>,
    /// Committed tables by name.
    table_at: HashMap<String, usize>,
    diagnostics: Vec<Diagnostic>,
    understood: usize,
    /// `-t TABLE` of the commands that printed listings, for naming the headerless table.
    table_hints: Vec<String>,
    counters_seen: bool,
}

/// What the save reader gathered.
pub(super) struct Gathered {
    pub tables: Vec<Table>,
    pub diagnostics: Vec<Diagnostic>,
    pub ipv6: bool,
    /// Any `*table` header (a real dump rather than a fragment).
    pub dump: bool,
    /// Any `[p:b]` rule counters (`iptables-save -c`).
    pub counters: bool,
    /// Lines read as save syntax.
    pub understood: usize,
}

impl<'t> Reader<'t> {
    /// `quiet_unknown` suppresses per-line "not understood" diagnostics (used when one
    /// diagnostic already says the whole input is binary).
    pub(super) fn new(text: &'t str, quiet_unknown: bool) -> Self {
        Reader {
            text,
            quiet_unknown,
            v6: text.contains("ip6tables"),
            tables: Vec::new(),
            current: None,
            loose: None,
            current_index: HashMap::new(),
            loose_index: HashMap::new(),
            fronts: HashMap::new(),
            table_at: HashMap::new(),
            diagnostics: Vec::new(),
            understood: 0,
            table_hints: Vec::new(),
            counters_seen: false,
        }
    }

    /// Whether a `*table` is open (so any line up to COMMIT belongs to it).
    pub(super) fn in_table(&self) -> bool {
        self.current.is_some()
    }

    /// Adds a chain read from an `iptables -L` listing. A chain also given as iptables-save
    /// lines keeps those (they are lossless); a chain listed twice keeps the later listing.
    pub(super) fn listing_chain(
        &mut self,
        name: &str,
        policy: Option<String>,
        counters: Option<Counters>,
        rules: Vec<Rule>,
        span: Span,
        table: Option<String>,
    ) {
        self.understood += 1;
        if let Some(t) = table {
            self.table_hints.push(t);
        }
        self.flush_fronts(true);
        let table = self.loose.get_or_insert_with(|| Table::new("", None));
        let chain = chain_mut(table, &mut self.loose_index, name);
        chain.declared.get_or_insert(span);
        if chain.is_builtin() {
            chain.policy = policy.or(chain.policy.take());
            chain.counters = counters.or(chain.counters);
        }
        // The whole listing block: its `Chain` header through its last row.
        // A listing block: its `Chain` header (when it comes first) through its last row.
        let block = |header: Span, rules: &[Rule]| match (rules.first(), rules.last()) {
            (Some(first), Some(last)) => Span::new(
                header.start.min(first.span.start),
                last.span.end.max(first.span.end),
            ),
            _ => header,
        };
        let note = match chain.rules.first().map(|r| r.origin) {
            // iptables-save lines say more than a listing of the same chain: keep them.
            Some(Origin::Save) => Some((
                block(span, &rules),
                "it is also given as iptables-save lines, which are used; this listing is not (a listing shows less)",
            )),
            Some(Origin::Listing { .. }) => {
                let earlier = block(chain.declared.unwrap_or(span), &chain.rules);
                chain.rules = rules;
                chain.declared = Some(span);
                Some((
                    earlier,
                    "it is listed again later, and the later listing is used",
                ))
            }
            // Assumed rules come after parsing; none is here yet.
            None | Some(Origin::Assumed) => {
                chain.rules = rules;
                None
            }
        };
        if let Some((at, note)) = note {
            self.diagnostics.push(Diagnostic::warning(
                "chain-seen-twice",
                at,
                format!("chain `{name}` appears more than once: {note}"),
            ));
        }
    }

    pub(super) fn line(&mut self, body: &str, span: Span) {
        let Ok((_, parsed)) = line(body) else {
            // `line` ends in a catch-all, so only a malformed chain line can get here.
            return self.unknown(span);
        };
        match parsed {
            Line::Blank | Line::Comment => {}
            Line::Table(name) => {
                self.understood += 1;
                self.flush_fronts(false);
                if let Some(open) = self.current.take() {
                    self.diagnostics.push(
                        Diagnostic::warning(
                            "missing-commit",
                            span,
                            format!("table `{}` is not closed by COMMIT before this table starts", open.name),
                        )
                        .with_help("iptables-save ends every table with a COMMIT line; was part of the paste cut off?"),
                    );
                    self.commit(open);
                }
                self.current = Some(Table::new(name, Some(span)));
                self.current_index.clear();
            }
            Line::Chain {
                name,
                policy,
                counters,
            } => {
                self.understood += 1;
                if let Some(problem) = crate::model::chain_name_problem(name) {
                    self.diagnostics.push(
                        Diagnostic::error("bad-chain-name", span, problem)
                            .with_help("the line was not read"),
                    );
                    return;
                }
                let valid_policy = crate::model::is_policy(policy);
                let (table, index) = self.table_for();
                let chain = chain_mut(table, index, name);
                let again = chain.declared.replace(span).is_some();
                chain.policy = (valid_policy && policy != "-").then(|| policy.to_string());
                chain.counters = counters;
                if !valid_policy {
                    self.diagnostics.push(
                        Diagnostic::error("bad-policy", span, format!("`{policy}` is not a chain policy"))
                            .with_help("built-in chains have ACCEPT or DROP, user chains `-`: `:NAME ACCEPT [0:0]`"),
                    );
                }
                if again {
                    self.diagnostics.push(Diagnostic::warning(
                        "duplicate-chain",
                        span,
                        format!("chain `{name}` is declared twice in this table"),
                    ));
                }
            }
            Line::Commit => {
                self.understood += 1;
                self.flush_fronts(false);
                match self.current.take() {
                    Some(table) => self.commit(table),
                    None => self.diagnostics.push(Diagnostic::warning(
                        "stray-commit",
                        span,
                        "COMMIT without a `*table` line before it",
                    )),
                }
            }
            Line::Command { counters, command } if command.starts_with('-') => {
                self.command(counters, command, span);
            }
            Line::Command { .. } => self.unknown(span),
        }
    }

    pub(super) fn unknown(&mut self, span: Span) {
        if self.quiet_unknown {
            return;
        }
        self.diagnostics.push(
            Diagnostic::error(
                "unknown-line",
                span,
                "this line is not iptables-save syntax and was not read",
            )
            .with_help("chainlens reads `iptables-save` output: `*table`, `:CHAIN POLICY`, `-A CHAIN …` and `COMMIT` lines"),
        );
    }

    fn command(&mut self, counters: Option<Counters>, command: &str, span: Span) {
        let base = Span::of(self.text, command).start;
        let (words, problem) = split_words(command, base);
        self.diagnostics.extend(problem);
        let op = words[0].text.as_ref();
        let Some(chain_word) = words.get(1) else {
            self.diagnostics.push(Diagnostic::error(
                "missing-chain",
                span,
                format!("`{op}` needs a chain name after it"),
            ));
            return;
        };
        let chain_name = chain_word.text.to_string();
        if let Some(problem) = crate::model::chain_name_problem(&chain_name) {
            self.diagnostics.push(
                Diagnostic::error("bad-chain-name", chain_word.span, problem)
                    .with_help("the line was not read"),
            );
            return;
        }
        match op {
            "-A" | "--append" | "-I" | "--insert" => {
                let mut args = &words[2..];
                let mut position = None;
                if op.starts_with("-I") || op == "--insert" {
                    if let Some(n) = args.first().and_then(|w| w.text.parse::<usize>().ok()) {
                        position = Some(n);
                        args = &args[1..];
                    } else {
                        position = Some(1);
                    }
                }
                let rule = self.rule(span, counters, args);
                self.understood += 1;
                self.counters_seen |= rule.counters.is_some();
                let loose = self.current.is_none();
                if position.is_some_and(|n| n > 1) {
                    self.flush_fronts(loose);
                }
                let at = {
                    let (table, index) = self.table_for();
                    chain_mut(table, index, &chain_name);
                    index.get(&chain_name).copied().unwrap_or(0)
                };
                let front = self.fronts.get(&(loose, at)).is_some_and(|f| !f.is_empty());
                let (table, index) = self.table_for();
                let rules = &mut chain_mut(table, index, &chain_name).rules;
                let mut superseded = None;
                if let (Some(first), Some(last)) = (rules.first(), rules.last())
                    && first.origin != Origin::Save
                    && !front
                {
                    // iptables-save lines say more than a listing of the same chain.
                    superseded = Some(Span::new(first.span.start, last.span.end));
                    rules.clear();
                }
                match position {
                    Some(1) => self.fronts.entry((loose, at)).or_default().push(rule),
                    Some(n) => rules.insert(n.saturating_sub(1).min(rules.len()), rule),
                    None => rules.push(rule),
                }
                if let Some(listed) = superseded {
                    self.diagnostics.push(Diagnostic::info(
                        "chain-seen-twice",
                        listed,
                        format!("chain `{chain_name}` is listed here and also given as iptables-save lines; the save lines are used (a listing shows less)"),
                    ));
                }
            }
            "-N" | "--new-chain" => {
                self.understood += 1;
                let loose = self.current.is_none();
                self.flush_fronts(loose);
                let (table, index) = self.table_for();
                let chain = chain_mut(table, index, &chain_name);
                // `iptables -S CHAIN` pasted twice (before and after a change): iptables-restore
                // would refuse the second `-N`; the later listing is the chain as it became.
                let earlier = match (chain.rules.first(), chain.rules.last()) {
                    (Some(first), Some(last)) if chain.declared.is_some() => Some((
                        Span::new(first.span.start, last.span.end),
                        chain.rules.len(),
                    )),
                    _ => None,
                };
                if let Some((at, n)) = earlier {
                    chain.rules.clear();
                    chain.declared = Some(span);
                    self.diagnostics.push(
                        Diagnostic::warning(
                            "chain-seen-twice",
                            at,
                            format!("chain `{chain_name}` appears more than once: it is declared again later (`-N`), and its later rules are used instead of these {n}"),
                        )
                        .with_help("paste each chain once, as it is now"),
                    );
                } else {
                    chain.declared.get_or_insert(span);
                }
            }
            "-P" | "--policy" => {
                self.understood += 1;
                let policy = words.get(2).map(|w| w.text.to_string()).unwrap_or_default();
                if !crate::model::is_policy(&policy) || policy == "-" {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "bad-policy",
                            span,
                            format!("`{policy}` is not a chain policy"),
                        )
                        .with_help("write `-P CHAIN ACCEPT` or `-P CHAIN DROP`"),
                    );
                    return;
                }
                let (table, index) = self.table_for();
                let chain = chain_mut(table, index, &chain_name);
                chain.policy = Some(policy);
                chain.declared.get_or_insert(span);
            }
            "-F" | "--flush" => {
                self.understood += 1;
                let loose = self.current.is_none();
                let (table, index) = self.table_for();
                chain_mut(table, index, &chain_name).rules.clear();
                if let Some(at) = index.get(&chain_name).copied() {
                    self.fronts.remove(&(loose, at));
                }
            }
            "-X" | "--delete-chain" => {
                self.understood += 1;
                self.flush_fronts(self.current.is_none());
                let (table, index) = self.table_for();
                table.chains.retain(|c| c.name != chain_name);
                index.clear();
            }
            _ => self.diagnostics.push(
                Diagnostic::error(
                    "unknown-command",
                    words[0].span,
                    format!("`{op}` is not a command iptables-save writes; the line was not read"),
                )
                .with_help("expected -A, -I, -N, -P, -F or -X"),
            ),
        }
    }

    /// Reads a rule's words into its typed form.
    fn rule(&mut self, span: Span, counters: Option<Counters>, words: &[Token<'_>]) -> Rule {
        let before = self.diagnostics.len();
        let read = super::rule::read(words, self.v6, &mut self.diagnostics);
        // A line of garbage can hold a problem per word: say the first few and count the rest.
        const PER_RULE: usize = 8;
        let said = self.diagnostics.len() - before;
        if said > PER_RULE {
            let at = self.diagnostics[before + PER_RULE].span;
            self.diagnostics.truncate(before + PER_RULE);
            self.diagnostics.push(
                Diagnostic::error(
                    "more-problems",
                    Span::new(at.start, span.end.max(at.start)),
                    format!("{} more problems in this rule, not listed", said - PER_RULE),
                )
                .with_help("fix the ones above first; the rule is not read in full"),
            );
        }
        Rule {
            span,
            counters: counters.or(read.counters),
            header: read.header,
            matches: read.matches,
            target: read.target,
            complete: read.complete,
            origin: Origin::Save,
        }
    }

    /// The table a chain or rule line belongs to (the open `*table`, else the loose rules), with
    /// its chain index.
    fn table_for(&mut self) -> (&mut Table, &mut HashMap<String, usize>) {
        match &mut self.current {
            Some(table) => (table, &mut self.current_index),
            None => (
                self.loose.get_or_insert_with(|| Table::new("", None)),
                &mut self.loose_index,
            ),
        }
    }

    /// Puts the rules inserted at chain heads in place, in the current table (or `loose`).
    fn flush_fronts(&mut self, loose: bool) {
        let keys: Vec<(bool, usize)> = self
            .fronts
            .keys()
            .filter(|(l, _)| *l == loose)
            .copied()
            .collect();
        let table = if loose {
            self.loose.as_mut()
        } else {
            self.current.as_mut()
        };
        let Some(table) = table else {
            return;
        };
        for key in keys {
            if let (Some(front), Some(chain)) =
                (self.fronts.remove(&key), table.chains.get_mut(key.1))
            {
                chain.rules.splice(0..0, front.into_iter().rev());
            }
        }
    }

    fn commit(&mut self, table: Table) {
        check_chains(&table, &mut self.diagnostics);
        if let Some(&old) = self.table_at.get(&table.name) {
            if let Some(header) = table.header {
                self.diagnostics.push(
                    Diagnostic::warning(
                        "duplicate-table",
                        header,
                        format!("table `{}` appears again; this copy replaces the earlier one, as iptables-restore would", table.name),
                    )
                    .with_help("paste one dump at a time to analyse each"),
                );
            }
            self.tables[old] = table;
            return;
        }
        self.table_at.insert(table.name.clone(), self.tables.len());
        self.tables.push(table);
    }

    pub(super) fn finish(mut self) -> Gathered {
        self.flush_fronts(false);
        if let Some(open) = self.current.take() {
            if let Some(header) = open.header {
                self.diagnostics.push(
                    Diagnostic::warning(
                        "missing-commit",
                        header,
                        format!("table `{}` is never closed by COMMIT", open.name),
                    )
                    .with_help("the paste may have been cut off; what was read is still analysed"),
                );
            }
            self.commit(open);
        }
        let has_header = !self.tables.is_empty();
        self.flush_fronts(true);
        if let Some(mut loose) = self.loose.take() {
            let hinted = self
                .table_hints
                .first()
                .filter(|h| self.table_hints.iter().all(|o| o == *h))
                .cloned();
            let (name, why) = match &hinted {
                Some(h) => (h.as_str(), "the command that printed it says `-t`"),
                None => guess_table(&loose),
            };
            let name = name.to_string();
            loose.name = name.clone();
            let first = loose
                .chains
                .iter()
                .flat_map(|c| c.rules.iter().map(|r| r.span).chain(c.declared))
                .min_by_key(|s| s.start)
                .unwrap_or_default();
            self.diagnostics.push(
                Diagnostic::info(
                    "no-table-header",
                    first,
                    format!("rules without a `*table` line; read as the `{name}` table ({why})"),
                )
                .with_help("paste the whole `iptables-save` output to see every table"),
            );
            self.commit(loose);
        }
        Gathered {
            ipv6: self.v6 || has_ipv6_address(&self.tables),
            tables: self.tables,
            diagnostics: self.diagnostics,
            dump: has_header,
            counters: self.counters_seen,
            understood: self.understood,
        }
    }
}

fn has_ipv6_address(tables: &[Table]) -> bool {
    use crate::model::values::Address;
    tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .any(|r| {
            [&r.header.src, &r.header.dst]
                .into_iter()
                .flatten()
                .any(|a| matches!(&a.value, Address::Net(c) if c.addr.is_ipv6()))
        })
}

/// The chain called `name` in `table`, created if new. `index` maps names to positions in
/// `table.chains` and is kept in step here (the reader's lookups must not be linear: dumps have
/// tens of thousands of chains).
fn chain_mut<'a>(
    table: &'a mut Table,
    index: &mut HashMap<String, usize>,
    name: &str,
) -> &'a mut Chain {
    if index.len() != table.chains.len() {
        *index = table
            .chains
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
    }
    let i = match index.get(name) {
        Some(&i) => i,
        None => {
            table.chains.push(Chain::new(name));
            index.insert(name.to_string(), table.chains.len() - 1);
            table.chains.len() - 1
        }
    };
    &mut table.chains[i]
}

/// Reports jumps to chains the table does not have, and (in a real dump) rules appended to
/// chains it never declared, which iptables-restore would refuse.
fn check_chains(table: &Table, diagnostics: &mut Vec<Diagnostic>) {
    let dump = table.header.is_some();
    let index = table.index();
    let mut missing: Vec<(&str, Span, usize)> = Vec::new();
    let mut missing_at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for chain in &table.chains {
        if dump
            && chain.declared.is_none()
            && let Some(first) = chain.rules.first()
        {
            diagnostics.push(
                Diagnostic::warning(
                    "undeclared-chain",
                    first.span,
                    format!(
                        "rules are appended to chain `{}`, which this table never declares",
                        chain.name
                    ),
                )
                .with_help(format!(
                    "iptables-restore needs a `:{} - [0:0]` line before its rules",
                    chain.name
                )),
            );
        }
        for target in chain.rules.iter().filter_map(|r| r.target.as_ref()) {
            if index.resolve(target) == TargetKind::MissingChain {
                match missing_at.get(target.name.as_str()) {
                    Some(&m) => missing[m].2 += 1,
                    None => {
                        missing_at.insert(&target.name, missing.len());
                        missing.push((&target.name, target.span, 1));
                    }
                }
            }
        }
    }
    // The kernel refuses a table whose chains jump to each other in a loop (ELOOP at load).
    for group in table.jump_loops(&index) {
        let names: Vec<&str> = group
            .iter()
            .map(|&c| table.chains[c].name.as_str())
            .collect();
        let first = group[0];
        let next = group.get(1).copied().unwrap_or(first);
        let at = table.chains[first]
            .rules
            .iter()
            .find(|r| {
                r.target
                    .as_ref()
                    .is_some_and(|t| index.get(&t.name) == Some(next))
            })
            .map_or(table.chains[first].declared.unwrap_or_default(), |r| r.span);
        let mut shown: Vec<String> = names.iter().take(6).map(|n| format!("`{n}`")).collect();
        if names.len() > 6 {
            shown.push(format!("{} more", names.len() - 6));
        }
        diagnostics.push(
            Diagnostic::error(
                "jump-loop",
                at,
                format!(
                    "chains {} jump to each other in a loop: the kernel refuses to load this `{}` table",
                    shown.join(", "),
                    table.name
                ),
            )
            .with_help("iptables-restore fails on it (Too many levels of links); a trace stops where the loop starts"),
        );
    }
    for (name, span, uses) in missing {
        let times = if uses == 1 {
            "once".to_string()
        } else {
            format!("{uses} times")
        };
        diagnostics.push(
            Diagnostic::warning(
                "missing-chain",
                span,
                format!(
                    "`{name}` is jumped to ({times}) but is not in the paste; its rules are unknown"
                ),
            )
            .with_help("paste the chain too, or the whole `iptables-save` output"),
        );
    }
}

/// Which table headerless rules most likely came from, and why.
fn guess_table(table: &Table) -> (&'static str, &'static str) {
    const NAT_TARGETS: &[&str] = &["DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"];
    const NAT_CHAINS: &[&str] = &[
        "KUBE-SVC-",
        "KUBE-SEP-",
        "KUBE-SVL-",
        "KUBE-EXT-",
        "KUBE-FW-",
        "KUBE-XLB-",
        "KUBE-MARK-MASQ",
        "KUBE-POSTROUTING",
    ];
    let nat_target = table
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .filter_map(|r| r.target.as_ref())
        .any(|t| NAT_TARGETS.contains(&t.name.as_str()));
    let nat_chain = table.chains.iter().any(|c| {
        NAT_CHAINS.iter().any(|p| c.name.starts_with(p))
            || c.name == "PREROUTING"
            || c.name == "POSTROUTING"
    });
    if nat_target {
        ("nat", "they use NAT targets")
    } else if nat_chain {
        ("nat", "their chains are kube-proxy's nat chains")
    } else {
        ("filter", "the default table")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::targets::{Action, Nat};
    use crate::model::values::Protocol;
    use crate::parse::parse;

    #[test]
    fn the_line_grammar() {
        assert_eq!(line("*nat").map(|r| r.1), Ok(Line::Table("nat")));
        assert_eq!(
            line(":PREROUTING ACCEPT [2754:238511]").map(|r| r.1),
            Ok(Line::Chain {
                name: "PREROUTING",
                policy: "ACCEPT",
                counters: Some(Counters {
                    packets: 2754,
                    bytes: 238511
                })
            })
        );
        assert_eq!(
            line(":KUBE-X -").map(|r| r.1),
            Ok(Line::Chain {
                name: "KUBE-X",
                policy: "-",
                counters: None
            })
        );
        assert_eq!(line("COMMIT").map(|r| r.1), Ok(Line::Commit));
        assert_eq!(
            line("[5:300] -A X -j ACCEPT").map(|r| r.1),
            Ok(Line::Command {
                counters: Some(Counters {
                    packets: 5,
                    bytes: 300
                }),
                command: "-A X -j ACCEPT"
            })
        );
        assert_eq!(line("# Generated by").map(|r| r.1), Ok(Line::Comment));
    }

    #[test]
    fn rules_split_into_matches_and_target() {
        let parsed =
            parse("*nat\n:X - [0:0]\n-A X -p tcp -j DNAT --to-destination 10.0.0.1:53\nCOMMIT\n");
        let rule = &parsed.ruleset.tables[0].chains[0].rules[0];
        let action = rule.target.as_ref().map(|t| &t.action);
        let expected = Action::Dnat(Nat {
            addrs: Some((
                "10.0.0.1".parse().expect("ip"),
                "10.0.0.1".parse().expect("ip"),
            )),
            ports: Some((53, 53)),
            ..Nat::default()
        });
        assert_eq!(action, Some(&expected));
        assert_eq!(
            rule.header.protocol.as_ref().map(|p| p.value),
            Some(Protocol::TCP)
        );
        assert!(rule.matches.is_empty());
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    }

    #[test]
    fn a_chain_shown_twice_with_s_keeps_the_later_rules_and_says_so() {
        // conformance/real-nodes/16: `iptables -S KUBE-EXT-…` before and after a change.
        let text = "$ iptables -t nat -S KUBE-EXT-X\n-N KUBE-EXT-X\n-A KUBE-EXT-X -j KUBE-MARK-MASQ\n-A KUBE-EXT-X -j KUBE-SVC-X\n$ iptables -t nat -S KUBE-EXT-X\n-N KUBE-EXT-X\n-A KUBE-EXT-X -s 10.42.0.0/16 -j KUBE-SVC-X\n-A KUBE-EXT-X -j KUBE-SVL-X\n";
        let parsed = parse(text);
        let twice: Vec<&Diagnostic> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.code == "chain-seen-twice")
            .collect();
        assert_eq!(twice.len(), 1, "{:?}", parsed.diagnostics);
        assert_eq!(twice[0].severity, crate::Severity::Warning);
        assert_eq!(
            &text[twice[0].span.start..twice[0].span.end],
            "-A KUBE-EXT-X -j KUBE-MARK-MASQ\n-A KUBE-EXT-X -j KUBE-SVC-X"
        );
        let chain = parsed.ruleset.tables[0].chain("KUBE-EXT-X").expect("chain");
        let targets: Vec<&str> = chain
            .rules
            .iter()
            .filter_map(|r| r.target.as_ref().map(|t| t.name.as_str()))
            .collect();
        assert_eq!(targets, ["KUBE-SVC-X", "KUBE-SVL-X"]);
    }

    #[test]
    fn unknown_modules_are_reported_once_each_with_their_rules() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m foo --bar 1 -j ACCEPT\n-A INPUT -p tcp -m foo --bar 2 -j DROP\n-A INPUT -m cgroup --path web -j ACCEPT\n-A INPUT -m socket --transparent -j ACCEPT\n-A INPUT -j FROB\nCOMMIT\n";
        let parsed = parse(text);
        let said: Vec<(&str, &str)> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.code == "unknown-extension")
            .map(|d| (&text[d.span.start..d.span.end], d.message.as_str()))
            .collect();
        assert_eq!(said.len(), 2, "{:?}", parsed.diagnostics);
        assert!(
            said[0].0.starts_with("-A INPUT -m foo --bar 1")
                && said[0].1.contains("`-m foo`")
                && said[0].1.contains("2 rules"),
            "{said:?}"
        );
        // `-m socket` is typed (its own file): not reported.
        assert!(said[1].1.contains("`-m cgroup`"), "{said:?}");
        // `-j FROB` names a chain that is not there: said as a missing chain, not here.
        assert!(
            parsed.diagnostics.iter().any(|d| d.code == "missing-chain"),
            "{:?}",
            parsed.diagnostics
        );
    }

    #[test]
    fn prose_bullets_between_rules_are_prose() {
        // conformance/real-nodes/16: the author's notes inside the pasted block.
        let text = "-A KUBE-EXT-X -j KUBE-SVC-X\nTwo noticable changes in KUBE-EXT-X\n - A test for source in 10.42.0.0/16 calls KUBE-SVC-X.\n - The default rule is changed.\n-A KUBE-SVC-X -j ACCEPT\n";
        let parsed = parse(text);
        let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code).collect();
        assert!(
            !codes.contains(&"unknown-command"),
            "{:?}",
            parsed.diagnostics
        );
        assert!(codes.contains(&"not-rules"), "{codes:?}");
        assert_eq!(parsed.ruleset.tables[0].rule_count(), 2);
    }

    #[test]
    fn crlf_tabs_and_the_legacy_warning_line() {
        let text = "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\r\n*nat\r\n\t:X - [0:0]\r\n\t-A X -j ACCEPT\r\nCOMMIT\r\n";
        let parsed = parse(text);
        let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["legacy-tables-present"], "{:?}", parsed.diagnostics);
        assert_eq!(parsed.ruleset.tables[0].rule_count(), 1);
    }

    #[test]
    fn old_negation_placement_is_read_and_noted() {
        let parsed = parse(
            "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s ! 10.0.0.0/8 -p tcp --dport ! 80 -j ACCEPT\nCOMMIT\n",
        );
        let rule = &parsed.ruleset.tables[0].chains[0].rules[0];
        assert_eq!(
            crate::print::rule(rule, false),
            "! -s 10.0.0.0/8 -p tcp -m tcp ! --dport 80 -j ACCEPT"
        );
        let codes: Vec<_> = parsed.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["old-negation", "old-negation"]);
    }

    #[test]
    fn counters_in_both_forms() {
        let save_c = parse("*filter\n:INPUT ACCEPT [1:2]\n[5:300] -A INPUT -j ACCEPT\nCOMMIT\n");
        assert_eq!(save_c.format, crate::parse::Format::SaveWithCounters);
        let s_v =
            parse("*filter\n:INPUT ACCEPT [1:2]\n-A INPUT -p tcp -c 10 20 -j ACCEPT\nCOMMIT\n");
        let rule = &s_v.ruleset.tables[0].chains[0].rules[0];
        assert_eq!(
            rule.counters,
            Some(Counters {
                packets: 10,
                bytes: 20
            })
        );
        assert!(s_v.diagnostics.is_empty(), "{:?}", s_v.diagnostics);
    }

    #[test]
    fn jump_loops_are_errors_and_deep_chains_are_not() {
        let looped = crate::parse(
            "*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n-A A -j B\n-A B -g A\nCOMMIT\n",
        );
        let loops: Vec<_> = looped
            .diagnostics
            .iter()
            .filter(|d| d.code == "jump-loop")
            .collect();
        assert_eq!(loops.len(), 1, "{:?}", looped.diagnostics);
        assert!(loops[0].message.contains("`A`") && loops[0].message.contains("`B`"));
        let mut deep = String::from("*filter\n:INPUT ACCEPT [0:0]\n");
        for i in 0..200 {
            deep.push_str(&format!(":C{i} - [0:0]\n"));
        }
        deep.push_str("-A INPUT -j C0\n");
        for i in 0..199 {
            deep.push_str(&format!("-A C{i} -j C{}\n", i + 1));
        }
        deep.push_str("COMMIT\n");
        let parsed = crate::parse(&deep);
        assert!(parsed.diagnostics.iter().all(|d| d.code != "jump-loop"));
    }

    #[test]
    fn undeclared_and_missing_chains_are_reported() {
        let parsed = parse(
            "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j KUBE-SERVICES\n-A KUBE-X -j ACCEPT\nCOMMIT\n",
        );
        let codes: Vec<_> = parsed.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["missing-chain", "undeclared-chain"]);
    }

    #[test]
    fn many_inserts_keep_iptables_order() {
        // Each `-I CHAIN` goes first; `-I CHAIN 2` goes second at that moment.
        let dump = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.9/32 -j ACCEPT\n\
            -I INPUT -s 10.0.0.1/32 -j ACCEPT\n-I INPUT -s 10.0.0.2/32 -j ACCEPT\n\
            -I INPUT 2 -s 10.0.0.3/32 -j ACCEPT\n-I INPUT -s 10.0.0.4/32 -j ACCEPT\nCOMMIT\n\
            *nat\n:PREROUTING ACCEPT [0:0]\n-I PREROUTING -s 10.0.0.5/32 -j ACCEPT\nCOMMIT\n";
        let parsed = crate::parse(dump);
        let sources = |t: &str, c: &str| -> Vec<String> {
            parsed
                .ruleset
                .table(t)
                .and_then(|t| t.chain(c))
                .map(|c| {
                    c.rules
                        .iter()
                        .map(|r| crate::print::rule(r, false))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(
            sources("filter", "INPUT"),
            [
                "-s 10.0.0.4/32 -j ACCEPT",
                "-s 10.0.0.2/32 -j ACCEPT",
                "-s 10.0.0.3/32 -j ACCEPT",
                "-s 10.0.0.1/32 -j ACCEPT",
                "-s 10.0.0.9/32 -j ACCEPT"
            ]
        );
        assert_eq!(sources("nat", "PREROUTING"), ["-s 10.0.0.5/32 -j ACCEPT"]);
    }

    #[test]
    fn insert_places_the_rule_first() {
        let parsed =
            parse("*filter\n:INPUT ACCEPT\n-A INPUT -j DROP\n-I INPUT -j ACCEPT\nCOMMIT\n");
        let names: Vec<_> = parsed.ruleset.tables[0].chains[0]
            .rules
            .iter()
            .filter_map(|r| r.target.as_ref().map(|t| t.name.as_str()))
            .collect();
        assert_eq!(names, ["ACCEPT", "DROP"]);
    }
}
