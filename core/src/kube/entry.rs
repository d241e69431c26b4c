//! Fragments completed as kube-proxy completes a node. A grep'd paste, `iptables -S CHAIN` or
//! `-L CHAIN` holds kube-proxy's chains without the rules that lead into them from the
//! built-in chains (`PREROUTING -j KUBE-SERVICES` …) or the small chains every kube-proxy
//! writes (`KUBE-MARK-MASQ`, `KUBE-POSTROUTING`). Those are the same on every node of a
//! generation, so they are assumed — added as rules of origin [`Origin::Assumed`], said in a
//! diagnostic — and a packet can be traced through the paste. A `KUBE-SVC-…` chain pasted alone
//! gets its cluster IP back from its own masquerade rule.

use std::collections::HashSet;

use crate::diag::Diagnostic;
use crate::ext::matches::Match;
use crate::ext::targets::Action;
use crate::model::values::{Address, Protocol};
use crate::model::{Chain, Origin, Table};
use crate::parse::Parsed;
use crate::text::Span;

/// kube-proxy's filter jumps (`iptablesJumpChains`, NETFILTER.md §6.1), in the kind seed's
/// order: (built-in chain, kube-proxy chain, for new connections only).
const FILTER_JUMPS: &[(&str, &str, bool)] = &[
    ("INPUT", "KUBE-PROXY-FIREWALL", true),
    ("INPUT", "KUBE-NODEPORTS", false),
    ("INPUT", "KUBE-EXTERNAL-SERVICES", true),
    ("INPUT", "KUBE-FIREWALL", false),
    ("FORWARD", "KUBE-PROXY-FIREWALL", true),
    ("FORWARD", "KUBE-FORWARD", false),
    ("FORWARD", "KUBE-SERVICES", true),
    ("FORWARD", "KUBE-EXTERNAL-SERVICES", true),
    ("OUTPUT", "KUBE-PROXY-FIREWALL", true),
    ("OUTPUT", "KUBE-SERVICES", true),
    ("OUTPUT", "KUBE-FIREWALL", false),
];

/// nat jumps: (built-in chain, kube-proxy chain, options). The userspace proxy's portals too.
const NAT_JUMPS: &[(&str, &str, &str)] = &[
    (
        "PREROUTING",
        "KUBE-SERVICES",
        "-m comment --comment \"kubernetes service portals\"",
    ),
    (
        "OUTPUT",
        "KUBE-SERVICES",
        "-m comment --comment \"kubernetes service portals\"",
    ),
    (
        "POSTROUTING",
        "KUBE-POSTROUTING",
        "-m comment --comment \"kubernetes postrouting rules\"",
    ),
    (
        "PREROUTING",
        "KUBE-PORTALS-CONTAINER",
        "-m comment --comment \"handle ClusterIPs; NOTE: this must be before the NodePort rules\"",
    ),
    (
        "OUTPUT",
        "KUBE-PORTALS-HOST",
        "-m comment --comment \"handle ClusterIPs; NOTE: this must be before the NodePort rules\"",
    ),
    (
        "PREROUTING",
        "KUBE-NODEPORT-CONTAINER",
        "-m addrtype --dst-type LOCAL -m comment --comment \"handle service NodePorts; NOTE: this must be the last rule in the chain\"",
    ),
    (
        "OUTPUT",
        "KUBE-NODEPORT-HOST",
        "-m addrtype --dst-type LOCAL -m comment --comment \"handle service NodePorts; NOTE: this must be the last rule in the chain\"",
    ),
];

/// The small chains every kube-proxy writes, as it writes them.
const STANDARD_CHAINS: &[(&str, &[&str])] = &[
    ("KUBE-MARK-MASQ", &["-j MARK --set-xmark 0x4000/0x4000"]),
    ("KUBE-MARK-DROP", &["-j MARK --set-xmark 0x8000/0x8000"]),
    (
        "KUBE-POSTROUTING",
        &[
            "-m mark ! --mark 0x4000/0x4000 -j RETURN",
            "-j MARK --set-xmark 0x4000/0x0",
            "-m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE",
        ],
    ),
];

/// What was assumed in one table, as `CHAIN: rule` lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assumed {
    pub table: String,
    pub rules: Vec<String>,
}

/// Adds kube-proxy's entry rules and standard chains a fragment lacks, and says so.
pub fn complete(parsed: &mut Parsed) -> Vec<Assumed> {
    let v6 = parsed.ruleset.ipv6;
    let mut said = Vec::new();
    // Packets nat marks with KUBE-MARK-DROP are dropped by filter's KUBE-FIREWALL, which a nat
    // fragment does not show: the filter table is assumed too (kube-proxy < 1.28 wrote both).
    let marks_drop = parsed.ruleset.table("nat").is_some_and(|t| {
        t.chains.iter().flat_map(|c| &c.rules).any(|r| {
            r.target
                .as_ref()
                .is_some_and(|t| t.name == "KUBE-MARK-DROP")
        })
    });
    if marks_drop && !v6 && parsed.ruleset.table("filter").is_none() {
        parsed.ruleset.tables.push(Table::new("filter", None));
    }
    for table in &mut parsed.ruleset.tables {
        let mut c = Completer {
            table,
            v6,
            added: Vec::new(),
        };
        // A table that declares a built-in chain is whole (`iptables-save`, `-S`, `-L` of the
        // table): nothing is assumed for it, even where its rules leave kube-proxy's chains
        // unreached (the founding story's hand-written DNAT is such a table).
        if c.table
            .chains
            .iter()
            .any(|ch| ch.is_builtin() && ch.declared.is_some())
        {
            continue;
        }
        match c.table.name.as_str() {
            "nat" => c.nat(),
            "filter" => c.filter(),
            _ => {}
        }
        if !c.added.is_empty() {
            // The entry rules first: they are what makes the paste traceable.
            c.added.sort_by_key(|r| r.starts_with("-A KUBE-"));
            said.push(Assumed {
                table: c.table.name.clone(),
                rules: c.added,
            });
        }
    }
    // What the parser said was missing and is now assumed is no longer missing.
    let added: Vec<String> = parsed
        .ruleset
        .tables
        .iter()
        .flat_map(|t| {
            t.chains
                .iter()
                .filter(|c| c.assumed || c.rules.iter().any(|r| r.origin == Origin::Assumed))
        })
        .map(|c| format!("`{}`", c.name))
        .collect();
    parsed.diagnostics.retain(|d| {
        d.code != "missing-chain"
            || !added
                .iter()
                .any(|name| d.message.starts_with(name.as_str()))
    });
    for a in &said {
        let at = parsed
            .ruleset
            .table(&a.table)
            .and_then(|t| t.header)
            .or_else(|| {
                parsed.ruleset.table(&a.table).and_then(|t| {
                    t.chains
                        .iter()
                        .flat_map(|c| c.rules.iter().filter(|r| r.origin != Origin::Assumed))
                        .map(|r| r.span)
                        .min_by_key(|s| s.start)
                })
            })
            .unwrap_or_default();
        let shown: Vec<&str> = a.rules.iter().take(6).map(String::as_str).collect();
        let more = a.rules.len().saturating_sub(shown.len());
        parsed.diagnostics.push(
            Diagnostic::info(
                "assumed-kube-proxy-rules",
                at,
                format!(
                    "the paste holds kube-proxy's chains but not all the rules that lead into them: assumed as kube-proxy writes them in `{}`: {}{}",
                    a.table,
                    shown.join("; "),
                    if more > 0 { format!("; and {more} more") } else { String::new() }
                ),
            )
            .with_help("a trace goes through these as on a node; paste the whole `iptables-save` output to see the real ones"),
        );
    }
    said
}

struct Completer<'t> {
    table: &'t mut Table,
    v6: bool,
    added: Vec<String>,
}

impl Completer<'_> {
    fn has(&self, chain: &str) -> bool {
        self.table.chains.iter().any(|c| c.name == chain)
    }

    fn jumped_to(&self, chain: &str) -> bool {
        self.table
            .chains
            .iter()
            .flat_map(|c| &c.rules)
            .filter_map(|r| r.target.as_ref())
            .any(|t| t.name == chain)
    }

    /// Chains reached from the built-in chains.
    fn reachable(&self) -> HashSet<String> {
        let index = self.table.index();
        let mut seen: HashSet<usize> = HashSet::new();
        let mut work: Vec<usize> = self
            .table
            .chains
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_builtin())
            .map(|(i, _)| i)
            .collect();
        while let Some(c) = work.pop() {
            if !seen.insert(c) {
                continue;
            }
            work.extend(self.table.jumps(&index, c));
        }
        seen.into_iter()
            .map(|i| self.table.chains[i].name.clone())
            .collect()
    }

    /// The chain called `name`, added (as assumed) when the paste lacks it.
    fn chain(&mut self, name: &str) -> &mut Chain {
        let i = match self.table.chains.iter().position(|c| c.name == name) {
            Some(i) => i,
            None => {
                let mut chain = Chain::new(name);
                chain.assumed = true;
                if chain.is_builtin() {
                    chain.policy = Some("ACCEPT".into());
                }
                self.table.chains.push(chain);
                self.table.chains.len() - 1
            }
        };
        &mut self.table.chains[i]
    }

    /// Adds `-A CHAIN text` (first when `first`), read as iptables-save reads it.
    fn rule(&mut self, chain: &str, text: &str, first: bool) {
        let line = format!("*{}\n-A {chain} {text}\nCOMMIT\n", self.table.name);
        let read = crate::parse::parse(&line);
        let Some(mut rule) = read
            .ruleset
            .tables
            .into_iter()
            .flat_map(|t| t.chains)
            .flat_map(|c| c.rules)
            .next()
        else {
            return;
        };
        // Its words are not in the paste: no span of its own, and its origin says so.
        rule.span = Span::default();
        if let Some(t) = rule.target.as_mut() {
            t.span = Span::default();
        }
        rule.origin = Origin::Assumed;
        let rules = &mut self.chain(chain).rules;
        if first {
            rules.insert(0, rule);
        } else {
            rules.push(rule);
        }
        self.added.push(format!("-A {chain} {text}"));
    }

    fn nat(&mut self) {
        // Standard chains jumped to but not pasted.
        for (name, rules) in STANDARD_CHAINS {
            let needed = self.jumped_to(name)
                || (*name == "KUBE-POSTROUTING" && self.jumped_to("KUBE-MARK-MASQ"));
            if needed && !self.has(name) && !(self.v6 && *name == "KUBE-MARK-DROP") {
                for r in *rules {
                    self.rule(name, r, false);
                }
            }
        }
        // A KUBE-SVC chain no entry rule reaches: its own masquerade rule names its cluster IP
        // (also when a KUBE-EXT chain pasted with it jumps to it: that is not the cluster IP's
        // way in).
        let reachable = self.reachable();
        let entries: Vec<(String, String)> = self
            .table
            .chains
            .iter()
            .filter(|c| c.name.starts_with("KUBE-SVC-") && !reachable.contains(&c.name))
            .filter(|c| !self.rule_jumps("KUBE-SERVICES", &c.name))
            .filter_map(|c| cluster_ip_entry(c).map(|e| (c.name.clone(), e)))
            .collect();
        for (svc, entry) in entries {
            self.rule("KUBE-SERVICES", &format!("{entry} -j {svc}"), false);
        }
        // KUBE-NODEPORTS is the last rule of KUBE-SERVICES (which may be unreached yet).
        if self.has("KUBE-NODEPORTS") && !self.jumped_to("KUBE-NODEPORTS") {
            self.rule(
                "KUBE-SERVICES",
                "-m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",
                false,
            );
        }
        let reachable = self.reachable();
        for (from, to, options) in NAT_JUMPS {
            if self.has(to) && !reachable.contains(*to) && !self.rule_jumps(from, to) {
                self.rule(from, &format!("{options} -j {to}"), true);
            }
        }
    }

    fn filter(&mut self) {
        let marks_drop = self.table.chains.is_empty();
        if marks_drop {
            // An assumed table: only the firewall that drops what nat marked.
            self.rule(
                "KUBE-FIREWALL",
                "-m comment --comment \"kubernetes firewall for dropping marked packets\" -m mark --mark 0x8000/0x8000 -j DROP",
                false,
            );
        }
        let reachable = self.reachable();
        // Rules are inserted first, so walk the list backwards to keep kube-proxy's order.
        for (from, to, new) in FILTER_JUMPS.iter().rev() {
            if self.has(to) && !reachable.contains(*to) && !self.rule_jumps(from, to) {
                let state = if *new {
                    "-m conntrack --ctstate NEW "
                } else {
                    ""
                };
                self.rule(from, &format!("{state}-j {to}"), true);
            }
        }
    }

    fn rule_jumps(&self, from: &str, to: &str) -> bool {
        self.table
            .chains
            .iter()
            .filter(|c| c.name == from)
            .flat_map(|c| &c.rules)
            .any(|r| r.target.as_ref().is_some_and(|t| t.name == to))
    }
}

/// `-d IP -p PROTO -m PROTO --dport PORT` from a Service chain's
/// `! -s CIDR -d IP -p PROTO … --dport PORT -j KUBE-MARK-MASQ` (kube-proxy ≥ 1.24 writes the
/// cluster-IP masquerade rule there).
fn cluster_ip_entry(chain: &Chain) -> Option<String> {
    chain.rules.iter().find_map(|r| {
        let t = r.target.as_ref()?;
        if t.name != "KUBE-MARK-MASQ" || !matches!(t.action, Action::Chain) {
            return None;
        }
        let dst = r.header.dst.as_ref().filter(|d| !d.negated)?;
        let Address::Net(cidr) = &dst.value else {
            return None;
        };
        let proto: Protocol = r.header.protocol.as_ref().filter(|p| !p.negated)?.value;
        let name = proto.name()?;
        let port = r.matches.iter().find_map(|m| match m {
            Match::Tcp(t) => t.ports.dport.as_ref(),
            Match::Udp(p) => p.dport.as_ref(),
            _ => None,
        })?;
        let comment = r
            .comment()
            .map(|c| format!(" -m comment --comment {}", crate::ext::save_string(c)))
            .unwrap_or_default();
        Some(format!(
            "-d {cidr} -p {name}{comment} -m {name} --dport {}",
            port.value
        ))
    })
}
