//! The ruleset model: `Ruleset > Table > Chain > Rule`, in netfilter's own words.
//!
//! A rule keeps its match arguments as the tokens the user wrote (with spans), and its target
//! by name. Whether a target names a chain or an extension is decided against the table, since
//! dumps may jump to a chain before declaring it.

pub mod ipset;
pub mod ipvs;
pub mod services;
pub mod values;

use serde::Serialize;

use crate::ext::matches::Match;
use crate::ext::targets::Action;
use crate::text::Span;
use values::{Address, Interface, Negatable, Protocol};

/// Everything read from one paste.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Ruleset {
    pub tables: Vec<Table>,
    /// An `ip6tables-save` dump (its header says so, or its addresses are IPv6).
    pub ipv6: bool,
    /// `ipset list` / `ipset save` output pasted with the rules: `-m set` is decided by them.
    pub ipsets: Vec<ipset::IpSet>,
    /// `ipvsadm -Ln` / `-Sn` output pasted with the rules: IPVS mode's Services.
    pub ipvs: Vec<ipvs::VirtualServer>,
}

impl Ruleset {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    /// The `*table` header, or `None` for rules pasted without one.
    pub header: Option<Span>,
    pub chains: Vec<Chain>,
}

impl Table {
    pub fn new(name: impl Into<String>, header: Option<Span>) -> Self {
        Table {
            name: name.into(),
            header,
            chains: Vec::new(),
        }
    }

    /// The chain called `name` (a linear search: for many lookups use [`Table::index`]).
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }

    /// Chain positions by name, for resolving many jumps at once.
    pub fn index(&self) -> ChainIndex<'_> {
        ChainIndex(
            self.chains
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.as_str(), i))
                .collect(),
        )
    }

    /// Not in the paste at all: added whole by `kube::complete`.
    pub fn assumed(&self) -> bool {
        self.header.is_none() && self.chains.iter().all(|c| c.assumed)
    }

    /// Rules as pasted (assumed ones not counted).
    pub fn rule_count(&self) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter(|r| r.origin != Origin::Assumed)
            .count()
    }

    /// What `target` names in this table: a chain of it, a verdict, an extension, or a chain the
    /// paste never declared.
    pub fn resolve(&self, target: &Target) -> TargetKind {
        resolve(target, self.chain(&target.name).is_some())
    }
}

/// Chain positions of one table by name.
#[derive(Clone, Debug, Default)]
pub struct ChainIndex<'t>(std::collections::HashMap<&'t str, usize>);

impl ChainIndex<'_> {
    pub fn get(&self, name: &str) -> Option<usize> {
        self.0.get(name).copied()
    }

    /// [`Table::resolve`] in constant time.
    pub fn resolve(&self, target: &Target) -> TargetKind {
        resolve(target, self.0.contains_key(target.name.as_str()))
    }
}

fn resolve(target: &Target, declared: bool) -> TargetKind {
    match target.action {
        Action::Chain if declared => TargetKind::Chain,
        Action::Chain => TargetKind::MissingChain,
        Action::Accept | Action::Drop | Action::Return | Action::Queue => TargetKind::Verdict,
        _ => TargetKind::Extension,
    }
}

/// Target extensions iptables ships (NETFILTER.md §2); a `-j` name that is neither one of
/// these nor a verdict is taken for a chain, missing from the paste if not declared.
pub const EXTENSION_TARGETS: &[&str] = &[
    "AUDIT",
    "CHECKSUM",
    "CLASSIFY",
    "CLUSTERIP",
    "CONNMARK",
    "CONNSECMARK",
    "CT",
    "DNAT",
    "DNPT",
    "DSCP",
    "ECN",
    "HL",
    "HMARK",
    "IDLETIMER",
    "LED",
    "LOG",
    "MARK",
    "MASQUERADE",
    "NETMAP",
    "NFLOG",
    "NFQUEUE",
    "NOTRACK",
    "RATEEST",
    "REDIRECT",
    "REJECT",
    "SECMARK",
    "SET",
    "SNAT",
    "SNPT",
    "SYNPROXY",
    "TCPMSS",
    "TCPOPTSTRIP",
    "TEE",
    "TOS",
    "TPROXY",
    "TRACE",
    "TTL",
    "ULOG",
];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chain {
    pub name: String,
    /// `Some` for built-in chains (`:INPUT ACCEPT`), `None` for user chains (`:KUBE-X -`).
    pub policy: Option<String>,
    pub counters: Option<Counters>,
    /// The `:CHAIN` line, or `None` when rules were appended to a chain never declared.
    pub declared: Option<Span>,
    pub rules: Vec<Rule>,
    /// Not in the paste: added because kube-proxy always writes it (`kube::complete`).
    pub assumed: bool,
}

impl Chain {
    pub fn new(name: impl Into<String>) -> Self {
        Chain {
            name: name.into(),
            policy: None,
            counters: None,
            declared: None,
            rules: Vec::new(),
            assumed: false,
        }
    }

    pub fn is_builtin(&self) -> bool {
        BUILTIN_CHAINS.contains(&self.name.as_str())
    }
}

/// Why `name` cannot name a chain, if it cannot: iptables allows at most 28 characters
/// (`XT_EXTENSION_MAXNAMELEN` less the NUL), no blanks, and no leading `-` or `!`.
pub fn chain_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("a chain name cannot be empty".into())
    } else if name.len() > 28 {
        Some(format!("chain name `{name}` is longer than 28 characters"))
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(format!(
            "chain name `{name}` contains blanks or control characters"
        ))
    } else if name.starts_with(['-', '!']) {
        Some(format!("chain name `{name}` starts with `{}`", &name[..1]))
    } else {
        None
    }
}

/// Whether `text` is a chain policy as iptables-save writes it: `ACCEPT` or `DROP` for built-in
/// chains, `-` for user chains.
pub fn is_policy(text: &str) -> bool {
    matches!(text, "ACCEPT" | "DROP" | "-")
}

/// The five hooks' chains, in the order a packet meets them.
pub const BUILTIN_CHAINS: &[&str] = &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

/// Packet and byte counters, as in `[packets:bytes]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The whole line the rule came from.
    pub span: Span,
    pub counters: Option<Counters>,
    pub header: Header,
    /// The `-m` matches, in order.
    pub matches: Vec<Match>,
    pub target: Option<Target>,
    /// False when part of the rule was not understood (a diagnostic says which); a simulator
    /// must treat such a rule as undecided.
    pub complete: bool,
    pub origin: Origin,
}

/// Where a rule was read from, and so how much of it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Origin {
    /// `iptables-save` (or `-S`) syntax: everything is known.
    Save,
    /// An `iptables -L` row; without `-v` the listing does not show `-i`/`-o`.
    Listing { interfaces_shown: bool },
    /// Not in the paste: a rule kube-proxy always writes, assumed for a fragment
    /// (`kube::complete`).
    Assumed,
}

impl Rule {
    /// The value of the `--comment` match, if the rule has one.
    pub fn comment(&self) -> Option<&str> {
        self.matches.iter().find_map(|m| match m {
            Match::Comment(c) => Some(c.as_str()),
            _ => None,
        })
    }
}

/// The options every rule has: `-s -d -i -o -p -f`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Header {
    pub src: Option<Negatable<Address>>,
    pub dst: Option<Negatable<Address>>,
    pub in_iface: Option<Negatable<Interface>>,
    pub out_iface: Option<Negatable<Interface>>,
    pub protocol: Option<Negatable<Protocol>>,
    /// `Some(false)` for `-f`, `Some(true)` for `! -f`.
    pub fragment: Option<bool>,
}

/// `-j NAME [options]` or `-g NAME`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    pub name: String,
    /// `-g`: a goto, which does not return to the calling chain.
    pub goto: bool,
    pub span: Span,
    pub action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TargetKind {
    Chain,
    MissingChain,
    Verdict,
    Extension,
}

impl Table {
    /// The chains each rule of `chain` jumps or goes to, by position (chains the table does
    /// not declare are left out).
    pub fn jumps<'t>(
        &'t self,
        index: &'t ChainIndex<'_>,
        chain: usize,
    ) -> impl Iterator<Item = usize> + 't {
        self.chains[chain].rules.iter().filter_map(|r| {
            let t = r.target.as_ref()?;
            matches!(t.action, Action::Chain)
                .then(|| index.get(&t.name))
                .flatten()
        })
    }

    /// Groups of chains that jump to each other in a loop, each as chain positions in the
    /// order the loop runs; the kernel refuses to load such a table (NETFILTER.md §1.5).
    /// Iterative (Tarjan's strongly connected components), so chains nested 100,000 deep cost
    /// no stack.
    pub fn jump_loops(&self, index: &ChainIndex<'_>) -> Vec<Vec<usize>> {
        let n = self.chains.len();
        let edges: Vec<Vec<usize>> = (0..n).map(|c| self.jumps(index, c).collect()).collect();
        const NONE: usize = usize::MAX;
        let mut order = vec![NONE; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut next = 0;
        let mut loops = Vec::new();
        for root in 0..n {
            if order[root] != NONE {
                continue;
            }
            // (chain, index of the next edge to look at)
            let mut work = vec![(root, 0usize)];
            order[root] = next;
            low[root] = next;
            next += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(top) = work.last_mut() {
                let v = top.0;
                if let Some(&w) = edges[v].get(top.1) {
                    top.1 += 1;
                    if order[w] == NONE {
                        order[w] = next;
                        low[w] = next;
                        next += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(order[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == order[v] {
                    let mut group = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        group.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = edges[v].contains(&v);
                    if group.len() > 1 || self_loop {
                        group.reverse();
                        loops.push(group);
                    }
                }
            }
        }
        loops
    }
}
