//! The netfilter hooks as the walk meets them: at each hook, the base chains of every table in
//! priority order (NETFILTER.md §1.1, §8) — iptables' tables are base chains at their standard
//! priorities — and the legs of a packet's journey between hooks. Also what the walk learns
//! about a ruleset's shape once: which chains loop, and which chains a walk enters at most once
//! (an undecidable test written only there is never asked again after it).

use std::collections::HashMap;

use super::assume::{Family, Undecidable};
use crate::ext::matches::Match;
use crate::model::values::Address;
use crate::model::{ChainIndex, Ruleset, Table};

/// The five netfilter hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub const ALL: [Hook; 5] = [
        Hook::Prerouting,
        Hook::Input,
        Hook::Forward,
        Hook::Output,
        Hook::Postrouting,
    ];

    /// The built-in chain iptables names after the hook.
    pub fn chain(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Where a packet leaves the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Route {
    Loopback,
    Pods,
    External,
    /// Behind the node's bridge of this index in [`super::NodeFacts::bridges`].
    Bridge(u16),
}

/// One leg of a packet's journey: a hook, and whether it is the second half of a locally
/// generated packet delivered to the node itself (back in through `lo`, NETFILTER.md §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Leg {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
    LoopPrerouting,
    LoopInput,
    /// A packet IPVS scheduled (at LOCAL_IN or LOCAL_OUT) leaving again: IPVS sends it through
    /// LOCAL_OUT, whose nat chains it skips (its destination binding is made), then
    /// POSTROUTING.
    IpvsOutput,
}

impl Leg {
    pub(super) fn hook(self) -> Hook {
        match self {
            Leg::Prerouting | Leg::LoopPrerouting => Hook::Prerouting,
            Leg::Input | Leg::LoopInput => Hook::Input,
            Leg::Forward => Hook::Forward,
            Leg::Output | Leg::IpvsOutput => Hook::Output,
            Leg::Postrouting => Hook::Postrouting,
        }
    }

    /// Order along a journey (legs that never meet in one journey may share a rank).
    pub(super) fn rank(self) -> u32 {
        match self {
            Leg::Prerouting | Leg::Output => 0,
            Leg::Input | Leg::Forward => 1,
            Leg::IpvsOutput => 2,
            Leg::Postrouting => 3,
            Leg::LoopPrerouting => 4,
            Leg::LoopInput => 5,
        }
    }

    pub(super) fn is_loopback(self) -> bool {
        matches!(self, Leg::LoopPrerouting | Leg::LoopInput)
    }
}

/// What runs at a hook, in priority order: a table's base chain, or IPVS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stage {
    Chain(Base),
    /// IPVS's scheduler: at LOCAL_IN (`ip_vs_remote_request4`, priority `NF_IP_PRI_NAT_SRC - 1`
    /// = 99: after filter, before nat's SNAT) and at LOCAL_OUT (`ip_vs_local_request4`,
    /// `NF_IP_PRI_NAT_DST + 2` = -98: after nat's DNAT, before filter). Does nothing without
    /// virtual servers.
    Ipvs {
        priority: i32,
    },
}

impl Stage {
    fn priority(&self) -> i32 {
        match self {
            Stage::Chain(b) => b.priority,
            Stage::Ipvs { priority } => *priority,
        }
    }
}

/// IPVS's priority at a hook, if it schedules there.
fn ipvs_priority(hook: Hook) -> Option<i32> {
    match hook {
        Hook::Input => Some(99),
        Hook::Output => Some(-98),
        _ => None,
    }
}

/// A base chain: where a table attaches to a hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Base {
    /// Position of the table in the ruleset, and of the chain in the table.
    pub table: usize,
    pub chain: usize,
    pub priority: i32,
    pub hook: Hook,
    /// A nat chain: consulted for a connection's first packet only.
    pub nat: bool,
    /// At a destination-manipulating hook (PREROUTING, OUTPUT) for nat.
    pub dst_manip: bool,
}

impl Base {
    pub(super) fn hook_is_output(&self) -> bool {
        self.hook == Hook::Output
    }
}

/// The priority of an iptables table's chain at a hook, if the table registers that hook
/// (NETFILTER.md §1.1: nat has DNAT at PREROUTING/OUTPUT and SNAT at POSTROUTING/INPUT).
pub fn iptables_priority(table: &str, hook: Hook) -> Option<i32> {
    use Hook::*;
    match (table, hook) {
        ("raw", Prerouting | Output) => Some(-300),
        ("mangle", _) => Some(-150),
        ("nat", Prerouting | Output) => Some(-100),
        ("nat", Postrouting | Input) => Some(100),
        ("filter", Input | Forward | Output) => Some(0),
        ("security", Input | Forward | Output) => Some(50),
        _ => None,
    }
}

/// Every hook's stages, in the order the kernel runs them.
#[derive(Debug, Default)]
pub(super) struct Hooks([Vec<Stage>; 5]);

impl Hooks {
    pub(super) fn of(ruleset: &Ruleset) -> Self {
        let mut hooks = Hooks::default();
        for hook in Hook::ALL {
            let list = &mut hooks.0[hook.index()];
            for (t, table) in ruleset.tables.iter().enumerate() {
                let Some(priority) = iptables_priority(&table.name, hook) else {
                    continue;
                };
                let Some(chain) = table.chains.iter().position(|c| c.name == hook.chain()) else {
                    continue;
                };
                // One table given twice (two `*nat` blocks) is read into one; if not, the
                // first wins, as the kernel has only one table of a name.
                if list.iter().any(
                    |s| matches!(s, Stage::Chain(b) if ruleset.tables[b.table].name == table.name),
                ) {
                    continue;
                }
                list.push(Stage::Chain(Base {
                    table: t,
                    chain,
                    priority,
                    hook,
                    nat: table.name == "nat",
                    dst_manip: matches!(hook, Hook::Prerouting | Hook::Output),
                }));
            }
            if let Some(priority) = ipvs_priority(hook) {
                list.push(Stage::Ipvs { priority });
            }
            // Stable: equal priorities keep the order they were registered (given) in.
            list.sort_by_key(Stage::priority);
        }
        hooks
    }

    pub(super) fn stages(&self, hook: Hook) -> &[Stage] {
        &self.0[hook.index()]
    }
}

/// For each chain of `table`, whether it is part of a jump loop.
pub(super) fn looped_chains(table: &Table, index: &ChainIndex<'_>) -> Vec<bool> {
    let mut looped = vec![false; table.chains.len()];
    for group in table.jump_loops(index) {
        for c in group {
            looped[c] = true;
        }
    }
    looped
}

/// Which undecidable tests a walk can forget once it has answered them: those written in one
/// rule only, of a chain a walk enters at most once. Forgetting them lets branches that
/// answered differently but are otherwise alike merge (the answer is then "either way").
#[derive(Debug, Default)]
pub(super) struct Forgettable<'r> {
    /// For each family: how many rules test it, and the (table, chain) of the first.
    families: HashMap<Family<'r>, (u32, &'r str, usize)>,
    /// Per table name: which chains a walk enters at most once.
    once: HashMap<&'r str, Vec<bool>>,
}

impl<'r> Forgettable<'r> {
    pub(super) fn of<'i>(tables: impl Iterator<Item = (&'r Table, &'i ChainIndex<'r>)>) -> Self
    where
        'r: 'i,
    {
        let mut f = Forgettable::default();
        for (table, index) in tables {
            for (c, chain) in table.chains.iter().enumerate() {
                for (r, rule) in chain.rules.iter().enumerate() {
                    let mut count = |family: Family<'r>| {
                        let e = f.families.entry(family).or_insert((0, &table.name, c));
                        e.0 += 1;
                    };
                    for (addr, source) in [(&rule.header.src, true), (&rule.header.dst, false)] {
                        if let Some(a) = addr
                            && let Address::Placeholder(text) = &a.value
                        {
                            count(Family::Placeholder(source, text));
                        }
                    }
                    for m in &rule.matches {
                        match m {
                            Match::Set(s) => count(Family::Set(&s.name.value, &s.flags)),
                            Match::Unknown { module, args } => count(Family::Module(module, args)),
                            _ => {}
                        }
                    }
                    if !rule.complete {
                        count(Family::Incomplete(&table.name, &chain.name, r as u32 + 1));
                    }
                }
            }
            f.once.insert(&table.name, entered_once(table, index));
        }
        f
    }

    /// Whether `test`, just answered in `table`, can never be asked again in this walk.
    pub(super) fn can_forget(&self, test: &Undecidable<'r>, table: &Table) -> bool {
        let family = test.family();
        if family == Family::Other {
            return false;
        }
        let Some(&(count, name, chain)) = self.families.get(&family) else {
            return false;
        };
        count == 1
            && name == table.name
            && self
                .once
                .get(name)
                .and_then(|o| o.get(chain))
                .copied()
                .unwrap_or(false)
    }
}

/// For each chain, whether one walk enters it at most once: the number of ways to reach it
/// from the built-in chains a journey passes (PREROUTING then INPUT; PREROUTING, FORWARD,
/// POSTROUTING; OUTPUT, POSTROUTING and, for a local delivery outside nat, PREROUTING and
/// INPUT again) is at most one. Chains in loops never count as entered once.
fn entered_once(table: &Table, index: &ChainIndex<'_>) -> Vec<bool> {
    let n = table.chains.len();
    let looped = looped_chains(table, index);
    let edges: Vec<Vec<usize>> = (0..n)
        .map(|c| {
            table
                .jumps(index, c)
                .filter(|d| !looped[*d] && !looped[c])
                .collect()
        })
        .collect();
    // A topological order of the loop-free jump graph (Kahn).
    let mut indegree = vec![0u32; n];
    for d in edges.iter().flatten() {
        indegree[*d] += 1;
    }
    let mut order: Vec<usize> = (0..n).filter(|c| indegree[*c] == 0).collect();
    let mut i = 0;
    while let Some(&c) = order.get(i) {
        i += 1;
        for &d in &edges[c] {
            indegree[d] -= 1;
            if indegree[d] == 0 {
                order.push(d);
            }
        }
    }
    // Ways to reach each chain from each hook's built-in chain, saturating at 2.
    let mut ways = [(); 5].map(|_| vec![0u8; n]);
    for hook in Hook::ALL {
        let Some(start) = index.get(hook.chain()) else {
            continue;
        };
        let w = &mut ways[hook.index()];
        w[start] = 1;
        for &c in &order {
            if w[c] == 0 {
                continue;
            }
            for &d in &edges[c] {
                w[d] = (w[d] + w[c]).min(2);
            }
        }
    }
    use Hook::*;
    let mut journeys: Vec<&[Hook]> = vec![
        &[Prerouting, Input],
        &[Prerouting, Forward, Postrouting],
        &[Output, Postrouting],
    ];
    if table.name != "nat" {
        journeys.push(&[Output, Postrouting, Prerouting, Input]);
    }
    (0..n)
        .map(|c| {
            !looped[c]
                && journeys.iter().all(|hooks| {
                    hooks
                        .iter()
                        .map(|h| u32::from(ways[h.index()][c]))
                        .sum::<u32>()
                        <= 1
                })
        })
        .collect()
}
