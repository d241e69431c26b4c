//! What a simulation gives back, typed: each outcome's verdict, NAT, addresses, mark, its path
//! of typed steps and what it assumed, and what was left unexplored. Outcomes that agree in
//! everything the packet carries away are merged here.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::assume::{Assumption, Undecidable};
use super::hooks::Hook;
use crate::model::Rule;
use crate::text::Span;

/// What one path step did, typed; `Display` prints it as the trace shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "effect", content = "to", rename_all = "kebab-case")]
pub enum Effect<'r> {
    Jump(&'r str),
    Goto(&'r str),
    /// A jump (or goto) to a chain the paste does not hold: the path ends there, unknown.
    JumpMissing(&'r str),
    Return,
    Accept,
    Drop,
    Reject(&'r str),
    /// The chain's policy, reached by falling off its end or by RETURN.
    Policy(Policy),
    /// A rule without a target: counted, and the walk goes on.
    Count,
    /// `mark = (mark & !mask) ^ value`, giving `result`.
    Mark {
        value: u32,
        mask: u32,
        result: u32,
    },
    Dnat(SocketAddr),
    Redirect(SocketAddr),
    Snat(SocketAddr),
    /// The source becomes the node's address on the way out, if the facts give it.
    Masquerade(Option<IpAddr>),
    /// IPVS scheduled the packet to a real server (`None`: it had none with a weight, and
    /// refused the packet), of `weight` out of the virtual server's `total`.
    Ipvs {
        scheduler: &'r str,
        to: Option<SocketAddr>,
        weight: u32,
        total: u32,
    },
    /// QUEUE, TPROXY: handed to another program.
    HandOff(&'r str),
    /// A target that acts and lets the walk go on (LOG, CONNMARK, CT…).
    Continue(&'r str),
    /// A target chainlens does not evaluate (taken as continuing).
    NotEvaluated(&'r str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Policy {
    Accept,
    Drop,
}

impl fmt::Display for Effect<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Jump(c) => write!(f, "jump {c}"),
            Effect::Goto(c) => write!(f, "goto {c}"),
            Effect::JumpMissing(c) => write!(f, "jump {c} (not in the paste)"),
            Effect::Return => write!(f, "RETURN"),
            Effect::Accept => write!(f, "ACCEPT"),
            Effect::Drop => write!(f, "DROP"),
            Effect::Reject("") => write!(f, "REJECT"),
            Effect::Reject(with) => write!(f, "REJECT {with}"),
            Effect::Policy(Policy::Accept) => write!(f, "policy ACCEPT"),
            Effect::Policy(Policy::Drop) => write!(f, "policy DROP"),
            Effect::Count => write!(f, "count"),
            Effect::Mark { value, mask, .. } => write!(f, "MARK set-xmark {value:#x}/{mask:#x}"),
            Effect::Dnat(to) => write!(f, "DNAT {to}"),
            Effect::Redirect(to) => write!(f, "REDIRECT {to}"),
            Effect::Snat(to) => write!(f, "SNAT {to}"),
            Effect::Masquerade(_) => write!(f, "MASQUERADE"),
            Effect::Ipvs {
                scheduler,
                to: Some(to),
                weight,
                total,
            } => write!(
                f,
                "IPVS ({scheduler}) DNAT {to}, weight {weight} of {total}"
            ),
            Effect::Ipvs {
                scheduler,
                to: None,
                ..
            } => write!(
                f,
                "IPVS ({scheduler}): no real server with a weight, refused (ICMP port unreachable)"
            ),
            Effect::HandOff(t) | Effect::Continue(t) | Effect::NotEvaluated(t) => write!(f, "{t}"),
        }
    }
}

/// One rule (or policy) the packet passed, at the granularity of the kernel's trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step<'r> {
    pub table: &'r str,
    pub chain: &'r str,
    /// 1-based position in the chain; `None` for the chain's policy and for IPVS.
    pub rule: Option<usize>,
    /// The rule's line in the paste (the chain's declaration for a policy), if known.
    #[serde(skip)]
    pub span: Option<Span>,
    /// The rule itself; `None` for a policy.
    #[serde(skip)]
    pub source: Option<&'r Rule>,
    pub effect: Effect<'r>,
    /// The hook the packet was at.
    pub hook: Hook,
    /// The probability of the path up to and including this step: the product of the kernel's
    /// random draws along it (`statistic`, an IPVS scheduler), 1 where there were none.
    pub p: f64,
}

impl<'r> Step<'r> {
    /// The rule of the model this step passed (`None` for a policy).
    pub fn rule_in_model(&self) -> Option<&'r Rule> {
        self.source
    }

    /// Where in its chain the step was, as a trace prints it: `#3`, or nothing for a policy
    /// (whose effect says `policy ACCEPT`) and for IPVS.
    pub fn position(&self) -> String {
        self.rule.map_or(String::new(), |r| format!("#{r}"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Delivered: to a local socket or forwarded out of the node.
    Accept,
    Drop,
    Reject,
    /// The path went into a chain the paste does not hold: what happens there is not known.
    Unknown,
}

/// How the source was rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Snat {
    /// MASQUERADE: the node's address on the way out (`None` when the facts do not give it).
    Masquerade(Option<IpAddr>),
    /// `SNAT --to-source` (or for a reply, the address DNAT had replaced), with the port when
    /// the rule gives one.
    To(IpAddr, Option<u16>),
}

impl fmt::Display for Snat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Snat::Masquerade(_) => write!(f, "masquerade"),
            Snat::To(ip, Some(port)) => write!(f, "{}", SocketAddr::new(*ip, *port)),
            Snat::To(ip, None) => write!(f, "{ip}"),
        }
    }
}

/// One way the packet can go, with its probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome<'r> {
    pub probability: f64,
    /// How many paths this outcome stands for (they differ only in rules without a lasting
    /// effect); `path` is the most likely of them.
    pub paths: u64,
    pub verdict: Verdict,
    /// Where DNAT sent the packet (for a reply, the client the masquerade stood for).
    pub dnat: Option<SocketAddr>,
    pub snat: Option<Snat>,
    pub mark: u32,
    /// The connection's mark (`CONNMARK`) where the walk ended.
    pub ctmark: u32,
    /// The packet's addresses and ports where its walk ended.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub path: Vec<Step<'r>>,
    /// The packet left through `lo` and arrived again: the path's second half starts here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub looped_at: Option<usize>,
    /// `recent --set` entries this packet added, as (list, address).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recent_set: Vec<(&'r str, IpAddr)>,
    /// What this outcome depends on that the rules cannot tell, each once.
    pub assumptions: Vec<Assumption<'r>>,
}

impl<'r> Outcome<'r> {
    /// What happened, first, in words: the verdict, then where NAT sent the packet and what
    /// became of its source (`accepted, DNAT to 10.100.13.3:53, source rewritten to the node's
    /// address 10.5.6.29 (masquerade)`).
    pub fn headline(&self) -> String {
        let mut out = match self.verdict {
            Verdict::Accept => "accepted",
            Verdict::Drop => "dropped",
            Verdict::Reject => "rejected",
            Verdict::Unknown => "unknown: the path goes into a chain the paste does not hold",
        }
        .to_string();
        if let Some(d) = self.dnat {
            out.push_str(&format!(", DNAT to {d}"));
        }
        match self.snat {
            Some(Snat::Masquerade(Some(ip))) => out.push_str(&format!(
                ", source rewritten to the node's address {ip} (masquerade)"
            )),
            Some(Snat::Masquerade(None)) => out.push_str(
                ", source rewritten to the node's address on the way out (masquerade; give the node's address to see it)",
            ),
            Some(Snat::To(ip, Some(port))) => {
                out.push_str(&format!(", source rewritten to {} (SNAT)", SocketAddr::new(ip, port)))
            }
            Some(Snat::To(ip, None)) => {
                out.push_str(&format!(", source rewritten to {ip} (SNAT)"))
            }
            None => {}
        }
        out
    }

    /// The packet as it leaves the walk, `src → dst`; a masqueraded source whose address is
    /// not known shows as `node`.
    pub fn ends_as(&self) -> String {
        match self.snat {
            Some(Snat::Masquerade(None)) => format!("node:{} → {}", self.src.port(), self.dst),
            _ => format!("{} → {}", self.src, self.dst),
        }
    }

    /// Whether the walk rewrote the packet's source (SNAT or MASQUERADE).
    pub fn masqueraded(&self) -> bool {
        self.snat.is_some()
    }

    /// The undecidable tests this outcome took a value for, with the value.
    pub fn answers(&self) -> impl Iterator<Item = (&Undecidable<'r>, bool)> + '_ {
        self.assumptions.iter().filter_map(|a| match a {
            Assumption::Undecided { test, holds } => Some((test, *holds)),
            _ => None,
        })
    }

    /// The path as the kernel runs it: each hook in turn, and in it each table's base chain
    /// with the steps taken from there (the chains it jumped to included), in priority order.
    pub fn hops(&self) -> Vec<Hop> {
        let mut hops: Vec<Hop> = Vec::new();
        for (i, s) in self.path.iter().enumerate() {
            let again = self.looped_at.is_some_and(|l| i >= l);
            let same_hop = hops
                .last()
                .is_some_and(|h| h.hook == s.hook && h.again == again);
            if !same_hop {
                hops.push(Hop {
                    hook: s.hook,
                    again,
                    passes: Vec::new(),
                });
            }
            let hop = hops.last_mut().expect("pushed above");
            match hop.passes.last_mut() {
                Some(pass) if self.path[pass.steps.start].table == s.table => {
                    pass.steps.end = i + 1
                }
                _ => hop.passes.push(Pass { steps: i..i + 1 }),
            }
        }
        hops
    }

    /// Where step `i` was a random draw's way (`statistic`, an IPVS scheduler): the share of the
    /// packets reaching the previous step that took this one.
    pub fn chance(&self, i: usize) -> Option<f64> {
        let before = match i {
            0 => 1.0,
            _ => self.path.get(i - 1)?.p,
        };
        let share = self.path.get(i)?.p / before;
        (before > 0.0 && share < 1.0 - 1e-12).then_some(share)
    }
}

/// One hook of a path ([`Outcome::hops`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hop {
    pub hook: Hook,
    /// In the second half of a delivery through `lo` (after [`Outcome::looped_at`]).
    pub again: bool,
    /// Each table's base chain passed at this hook, in the order they ran.
    pub passes: Vec<Pass>,
}

/// The steps one table's base chain took at a hook: indexes into [`Outcome::path`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pass {
    pub steps: std::ops::Range<usize>,
}

/// Why part of a simulation was not followed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "limit", rename_all = "kebab-case")]
pub enum Cutoff {
    Branches {
        at_most: usize,
    },
    Outcomes {
        at_most: usize,
    },
    Steps {
        at_most: usize,
    },
    Evaluations {
        at_most: u64,
    },
    /// The rules loop through this chain, which the kernel refuses to load (NETFILTER.md §1.5).
    Loop {
        table: String,
        chain: String,
    },
}

/// Probability left unexplored, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unexplored {
    pub probability: f64,
    pub branches: u64,
    pub why: Cutoff,
}

impl fmt::Display for Unexplored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let share = self.probability * 100.0;
        let n = self.branches;
        match &self.why {
            Cutoff::Branches { at_most } => write!(
                f,
                "{share:.4}% of packets ({n} branches) not followed: more than {at_most} ways at once"
            ),
            Cutoff::Outcomes { at_most } => write!(
                f,
                "{share:.4}% of packets ({n} outcomes) not listed: more than {at_most} outcomes"
            ),
            Cutoff::Steps { at_most } => write!(
                f,
                "{share:.4}% of packets ({n} outcomes) not listed: their paths pass the limit of {at_most} steps"
            ),
            Cutoff::Evaluations { at_most } => write!(
                f,
                "{share:.4}% of packets ({n} branches) not followed: the walk passed {at_most} rule evaluations"
            ),
            Cutoff::Loop { table, chain } => write!(
                f,
                "{share:.4}% of packets stop at `{chain}` ({table}): its chains jump to each other in a loop, which the kernel refuses to load"
            ),
        }
    }
}

/// All outcomes (with what was left unexplored their probabilities sum to 1) and what was
/// assumed about the whole paste.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Simulation<'r> {
    pub outcomes: Vec<Outcome<'r>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unexplored: Vec<Unexplored>,
    pub assumptions: Vec<Assumption<'r>>,
    /// Rules evaluated, over all branches.
    pub evaluations: u64,
    /// The deepest nesting of jumps reached.
    pub max_depth: usize,
}

impl Simulation<'_> {
    /// The share of packets the outcomes cover (1 unless something was left unexplored).
    pub fn explored(&self) -> f64 {
        self.outcomes.iter().map(|o| o.probability).sum()
    }
}

/// Which packet of a connection to follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// The first packet (conntrack NEW), which decides NAT.
    First,
    /// A later packet from the client, once the connection is established.
    Next,
    /// The server's answer, travelling back through the same bindings.
    Reply,
}

/// Adds `a` to a sorted list of assumptions unless it is there; two answers to one test
/// become "either way".
pub(super) fn say<'r>(list: &mut Vec<Assumption<'r>>, a: Assumption<'r>) {
    match &a {
        Assumption::Undecided { test, holds } => {
            let either = Assumption::Either { test: test.clone() };
            if list.binary_search(&either).is_ok() {
                return;
            }
            let other = Assumption::Undecided {
                test: test.clone(),
                holds: !holds,
            };
            if let Ok(i) = list.binary_search(&other) {
                list.remove(i);
                insert_sorted(list, either);
                return;
            }
        }
        Assumption::Either { test } => {
            for holds in [false, true] {
                let answered = Assumption::Undecided {
                    test: test.clone(),
                    holds,
                };
                if let Ok(i) = list.binary_search(&answered) {
                    list.remove(i);
                }
            }
        }
        _ => {}
    }
    insert_sorted(list, a);
}

/// Both sorted lists in one, in linear time, with [`say`]'s rule for two answers to one test.
pub(super) fn say_all<'r>(list: &mut Vec<Assumption<'r>>, more: Vec<Assumption<'r>>) {
    if more.is_empty() || *list == more {
        return;
    }
    let mine = std::mem::take(list);
    let mut union = Vec::with_capacity(mine.len() + more.len());
    let (mut a, mut b) = (mine.into_iter().peekable(), more.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Less => a.next(),
                Ordering::Greater => b.next(),
                Ordering::Equal => {
                    b.next();
                    a.next()
                }
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => break,
        };
        union.extend(next);
    }
    // Undecided entries of one test are adjacent (ordered by test, then answer).
    let mut either: BTreeSet<Undecidable<'r>> = BTreeSet::new();
    for w in union.windows(2) {
        if let [
            Assumption::Undecided { test: t1, .. },
            Assumption::Undecided { test: t2, .. },
        ] = w
            && t1 == t2
        {
            either.insert(t1.clone());
        }
    }
    for a in &union {
        if let Assumption::Either { test } = a {
            either.insert(test.clone());
        }
    }
    if either.is_empty() {
        *list = union;
        return;
    }
    union.retain(|a| !matches!(a, Assumption::Undecided { test, .. } if either.contains(test)));
    for test in either {
        insert_sorted(&mut union, Assumption::Either { test });
    }
    *list = union;
}

fn insert_sorted<T: Ord>(list: &mut Vec<T>, a: T) {
    if let Err(i) = list.binary_search(&a) {
        list.insert(i, a);
    }
}

/// Outcomes that agree in everything the packet carries away — verdict, NAT, addresses, mark,
/// `recent` entries — are one outcome: probabilities add, the most likely path is kept, and a
/// test they answered differently is "either way".
pub(super) fn merge_outcomes<'r>(outcomes: Vec<Outcome<'r>>) -> Vec<Outcome<'r>> {
    type Key<'r> = (
        Verdict,
        Option<SocketAddr>,
        Option<Snat>,
        SocketAddr,
        SocketAddr,
        (u32, u32),
        Vec<(&'r str, IpAddr)>,
        bool,
    );
    let mut at: HashMap<Key<'r>, usize> = HashMap::new();
    let mut out: Vec<Outcome<'r>> = Vec::new();
    for o in outcomes {
        let key = (
            o.verdict,
            o.dnat,
            o.snat,
            o.src,
            o.dst,
            (o.mark, o.ctmark),
            o.recent_set.clone(),
            o.looped_at.is_some(),
        );
        match at.get(&key) {
            Some(&i) => {
                let m = &mut out[i];
                m.paths = m.paths.saturating_add(o.paths);
                let mut assumptions = std::mem::take(&mut m.assumptions);
                if o.probability > m.probability {
                    m.path = o.path;
                    m.looped_at = o.looped_at;
                }
                m.probability += o.probability;
                say_all(&mut assumptions, o.assumptions);
                m.assumptions = assumptions;
            }
            None => {
                at.insert(key, out.len());
                out.push(o);
            }
        }
    }
    out
}
