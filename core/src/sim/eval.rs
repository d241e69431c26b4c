//! Whether one rule matches a packet at one point of its walk: the header first, then each
//! match in order (NETFILTER.md §1.5), each a [`Test`]. A rule's result is a short list of
//! [`Alt`]ernatives with their probabilities: one when every test is decided, two where
//! `statistic` draws, and one more for each undecidable test not yet answered on this path —
//! an undecidable test already answered (the same ipset and lookup, the same placeholder, the
//! same unknown module) keeps its answer, so an outcome never takes both.

use std::net::IpAddr;

use super::assume::{Assumption, Undecidable};
use super::packet::NodeFacts;
use crate::model::values::{Address, Protocol};
use crate::model::{Header, Rule};

/// The packet as a rule sees it at this point of the walk.
pub(crate) struct View<'a, 'r> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: Protocol,
    pub sport: u16,
    pub dport: u16,
    pub tcp_flags: u8,
    pub mark: u32,
    /// The connection's mark (`CONNMARK`, `-m connmark`).
    pub ctmark: u32,
    /// Empty where the hook has no such interface (no input device in OUTPUT, …).
    pub in_iface: &'a str,
    pub out_iface: &'a str,
    /// Conntrack state bits over `CT_STATES` (NEW or ESTABLISHED, plus DNAT/SNAT once bound).
    pub ct_state: u8,
    /// The packet travels in the connection's reply direction.
    pub ct_reply: bool,
    pub orig_src: IpAddr,
    pub orig_dst: IpAddr,
    /// `recent` entries this walk has added so far, besides the node's.
    pub recent: &'a [(&'r str, IpAddr)],
    pub facts: &'a NodeFacts,
    /// Undecidable tests this path has answered already, sorted.
    pub known: &'a [(Undecidable<'r>, bool)],
}

/// One way a rule can go for the packet.
#[derive(Clone, Debug)]
pub(super) struct Alt<'r> {
    pub p: f64,
    pub matched: bool,
    /// Undecidable tests this alternative answered, with the answer.
    pub answered: Vec<(Undecidable<'r>, bool)>,
    /// `recent --set` entries: the kernel adds them when it reaches that match, whether or not
    /// later matches hold.
    pub recent_set: Vec<(&'r str, IpAddr)>,
    pub notes: Vec<Assumption<'r>>,
}

impl Alt<'_> {
    fn start() -> Self {
        Alt {
            p: 1.0,
            matched: true,
            answered: Vec::new(),
            recent_set: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// One test of a rule.
pub(crate) enum Test<'r> {
    Certain(bool),
    /// Matches with this probability, drawn afresh each time (`statistic`).
    Chance(f64),
    Undecided(Undecidable<'r>),
}

/// The alternatives of one rule, built test by test; a test only runs on the alternatives
/// still matching, as the kernel stops at the first test that fails. Each match's `eval`
/// (`ext::matches`) tests the packet through it.
pub(crate) struct Eval<'v, 'a, 'r> {
    view: &'v View<'a, 'r>,
    live: Vec<Alt<'r>>,
    out: Vec<Alt<'r>>,
}

impl<'v, 'a, 'r> Eval<'v, 'a, 'r> {
    /// The packet being tested.
    pub(crate) fn view(&self) -> &'v View<'a, 'r> {
        self.view
    }

    /// Whether some alternative still matches (later tests run only on those).
    pub(crate) fn alive(&self) -> bool {
        !self.live.is_empty()
    }

    fn answer(&self, alt: &Alt<'r>, key: &Undecidable<'r>) -> Option<bool> {
        // `known` is sorted; what this rule answered so far is a handful.
        let known = self.view.known;
        if let Ok(i) = known.binary_search_by(|(k, _)| k.cmp(key)) {
            return Some(known[i].1);
        }
        alt.answered.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn test(&mut self, test: Test<'r>) {
        let live = std::mem::take(&mut self.live);
        for mut alt in live {
            let sure = |b: bool| if b { (1.0, 0.0) } else { (0.0, 1.0) };
            let (yes, no) = match &test {
                Test::Certain(b) => sure(*b),
                Test::Chance(q) => (q.clamp(0.0, 1.0), 1.0 - q.clamp(0.0, 1.0)),
                Test::Undecided(key) => match self.answer(&alt, key) {
                    Some(b) => sure(b),
                    None => {
                        let mut fails = alt.clone();
                        fails.p *= 0.5;
                        fails.matched = false;
                        fails.answered.push((key.clone(), false));
                        self.out.push(fails);
                        alt.p *= 0.5;
                        alt.answered.push((key.clone(), true));
                        self.live.push(alt);
                        continue;
                    }
                },
            };
            if no > 0.0 && yes > 0.0 {
                let mut fails = alt.clone();
                fails.p *= no;
                fails.matched = false;
                self.out.push(fails);
                alt.p *= yes;
                self.live.push(alt);
            } else if yes > 0.0 {
                self.live.push(alt);
            } else {
                alt.matched = false;
                self.out.push(alt);
            }
        }
    }

    /// A test whose answer is known.
    pub(crate) fn certain(&mut self, yes: bool) {
        self.test(Test::Certain(yes));
    }

    /// A test that holds with probability `p`, drawn afresh each time (`statistic`).
    pub(crate) fn chance(&mut self, p: f64) {
        self.test(Test::Chance(p));
    }

    /// A test the rules cannot decide: each way once, unless this path answered it already.
    pub(crate) fn undecided(&mut self, key: Undecidable<'r>) {
        self.test(Test::Undecided(key));
    }

    /// An undecidable test written with `!`: the same question, the match on the other answer.
    pub(crate) fn undecided_negated(&mut self, key: Undecidable<'r>, negated: bool) {
        negated_undecided(self, key, negated);
    }

    /// Says `note` on every alternative still matching.
    pub(crate) fn note(&mut self, note: Assumption<'r>) {
        for alt in &mut self.live {
            alt.notes.push(note.clone());
        }
    }

    /// A `recent --set` entry the kernel adds on reaching the match.
    pub(crate) fn recent_set(&mut self, entry: (&'r str, IpAddr)) {
        for alt in &mut self.live {
            alt.recent_set.push(entry);
        }
    }
}

/// Where a rule sits, to name it when it cannot be decided as a whole.
#[derive(Clone, Copy, Debug)]
pub(super) struct At<'r> {
    pub table: &'r str,
    pub chain: &'r str,
    /// 1-based.
    pub rule: u32,
}

/// The ways `rule` can go for the packet `v` shows. An incomplete rule (part of its text was
/// not understood) matches only if what was read matches *and* what was not read does; the
/// latter is undecided, never taken from the part that was read.
pub(super) fn rule<'r>(rule: &'r Rule, at: At<'r>, v: &View<'_, 'r>) -> Vec<Alt<'r>> {
    let mut e = Eval {
        view: v,
        live: vec![Alt::start()],
        out: Vec::new(),
    };
    header(&rule.header, &mut e);
    for m in &rule.matches {
        if !e.alive() {
            break;
        }
        m.eval(&mut e);
    }
    if !rule.complete && e.alive() {
        e.undecided(Undecidable::Incomplete {
            table: at.table,
            chain: at.chain,
            rule: at.rule,
        });
    }
    let mut out = e.out;
    out.append(&mut e.live);
    out
}

fn flip(negated: bool, yes: bool) -> bool {
    yes != negated
}

fn header<'r>(h: &'r Header, e: &mut Eval<'_, '_, 'r>) {
    let v = e.view;
    for (addr, ip, source) in [(&h.src, v.src, true), (&h.dst, v.dst, false)] {
        if let Some(a) = addr {
            match &a.value {
                Address::Net(c) => e.certain(flip(a.negated, c.contains(ip))),
                Address::Placeholder(text) => {
                    // A negated placeholder asks the same question with the answer flipped.
                    let key = Undecidable::Placeholder {
                        source,
                        text,
                        address: ip,
                    };
                    negated_undecided(e, key, a.negated);
                }
            }
            if !e.alive() {
                return;
            }
        }
    }
    for (iface, name) in [(&h.in_iface, v.in_iface), (&h.out_iface, v.out_iface)] {
        if let Some(i) = iface {
            e.certain(flip(i.negated, i.value.matches(name)));
        }
    }
    if let Some(p) = &h.protocol {
        e.certain(flip(p.negated, p.value.0 == 0 || p.value == v.protocol));
    }
    if let Some(negated) = h.fragment {
        // The tables see reassembled packets (conntrack defragments first): never a fragment.
        e.certain(negated);
    }
}

/// An undecidable test written with `!`: the same question, the match on the other answer.
fn negated_undecided<'r>(e: &mut Eval<'_, '_, 'r>, key: Undecidable<'r>, negated: bool) {
    if !negated {
        e.undecided(key);
        return;
    }
    // Split on the question, then keep the alternatives where the answer was "no".
    let live = std::mem::take(&mut e.live);
    for alt in live {
        match e.answer(&alt, &key) {
            Some(b) => {
                let mut alt = alt;
                if b {
                    alt.matched = false;
                    e.out.push(alt);
                } else {
                    e.live.push(alt);
                }
            }
            None => {
                let mut member = alt.clone();
                member.p *= 0.5;
                member.matched = false;
                member.answered.push((key.clone(), true));
                e.out.push(member);
                let mut not = alt;
                not.p *= 0.5;
                not.answered.push((key.clone(), false));
                e.live.push(not);
            }
        }
    }
}
