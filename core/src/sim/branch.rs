//! The walk's branches: where each stands (leg, base chain, chain, rule, and a jump stack
//! shared with its siblings), what its packet carries, what it assumed (a shared list, merged
//! in O(1)), and the queue of waiting branches that merges those alike.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use super::assume::{Assumption, Undecidable};
use super::hooks::{Leg, Route};
use super::outcome::{Snat, Step, say_all};

/// Where a branch is: the leg of its journey (which hook, and whether it is the second half of
/// a local delivery), the base chain within it, and the rule within the current chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct At {
    pub(super) leg: Leg,
    pub(super) base: u16,
    /// Whether the base chain `base` was entered (`chain` and `rule` are valid).
    pub(super) entered: bool,
    pub(super) chain: u32,
    pub(super) rule: u32,
}

impl At {
    pub(super) fn start(leg: Leg) -> Self {
        At {
            leg,
            base: 0,
            entered: false,
            chain: 0,
            rule: 0,
        }
    }
}

/// A return point on the jump stack, shared between branches that split below it.
#[derive(Debug)]
pub(super) struct Frame {
    pub(super) chain: u32,
    pub(super) resume: u32,
    pub(super) parent: Option<Rc<Frame>>,
    pub(super) hash: u64,
}

pub(super) fn same_stack(a: &Option<Rc<Frame>>, b: &Option<Rc<Frame>>) -> bool {
    let (mut a, mut b) = (a.as_ref(), b.as_ref());
    loop {
        match (a, b) {
            (None, None) => return true,
            (Some(x), Some(y)) if Rc::ptr_eq(x, y) => return true,
            (Some(x), Some(y)) if x.chain == y.chain && x.resume == y.resume => {
                a = x.parent.as_ref();
                b = y.parent.as_ref();
            }
            _ => return false,
        }
    }
}

/// The path so far, shared between branches that split after it.
#[derive(Debug)]
pub(super) struct Node<'r> {
    pub(super) step: Step<'r>,
    pub(super) parent: Option<Rc<Node<'r>>>,
}

// Both lists can be 100,000 long: drop them in a loop, not by recursion.
impl Drop for Node<'_> {
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(rc) = next {
            next = Rc::try_unwrap(rc).ok().and_then(|mut n| n.parent.take());
        }
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(rc) = next {
            next = Rc::try_unwrap(rc).ok().and_then(|mut f| f.parent.take());
        }
    }
}

/// What a packet carries along one branch, besides where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct State<'r> {
    pub(super) src: IpAddr,
    pub(super) dst: IpAddr,
    pub(super) sport: u16,
    pub(super) dport: u16,
    pub(super) mark: u32,
    /// The connection's mark.
    pub(super) ctmark: u32,
    pub(super) dnat: Option<SocketAddr>,
    pub(super) snat: Option<Snat>,
    /// Where the packet leaves (decided by routing at the start of the leg).
    pub(super) out: Route,
    /// REDIRECT sent it to the node itself (whose address on that interface may be unknown).
    pub(super) to_node: bool,
    /// `recent --set` entries added so far.
    pub(super) recent: Vec<(&'r str, IpAddr)>,
    /// Answers to undecidable tests that may be asked again, sorted.
    pub(super) known: Vec<(Undecidable<'r>, bool)>,
    /// The sum of the answers' hashes, kept as they are added (hashing `known` whole at every
    /// step would cost as much as the walk).
    pub(super) known_hash: u64,
}

impl Hash for State<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (
            self.src,
            self.dst,
            self.sport,
            self.dport,
            self.mark,
            self.ctmark,
        )
            .hash(h);
        (
            self.dnat,
            self.snat,
            self.out,
            self.to_node,
            &self.recent,
            self.known_hash,
        )
            .hash(h);
    }
}

impl<'r> State<'r> {
    pub(super) fn know(&mut self, test: Undecidable<'r>, holds: bool) {
        if let Err(i) = self.known.binary_search_by(|(t, _)| t.cmp(&test)) {
            let mut h = Fx(0);
            (&test, holds).hash(&mut h);
            // Mixed before adding: Fx alone makes (A yes, B no) and (A no, B yes) add up to
            // the same sum, and then every branch lands in one bucket of the merge index.
            self.known_hash = self.known_hash.wrapping_add(mix(h.finish()));
            self.known.insert(i, (test, holds));
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Branch<'r> {
    pub(super) p: f64,
    pub(super) paths: u64,
    pub(super) at: At,
    pub(super) callers: Option<Rc<Frame>>,
    pub(super) depth: u32,
    pub(super) st: State<'r>,
    pub(super) path: Option<Rc<Node<'r>>>,
    pub(super) path_len: usize,
    pub(super) looped_at: Option<usize>,
    /// Assumptions made along the way that later rules cannot change.
    pub(super) said: Said<'r>,
}

impl Branch<'_> {
    pub(super) fn key(&self) -> u64 {
        let mut h = Fx(0);
        self.at.hash(&mut h);
        self.depth.hash(&mut h);
        self.callers.as_ref().map_or(0, |f| f.hash).hash(&mut h);
        self.st.hash(&mut h);
        h.finish()
    }

    pub(super) fn same_place(&self, other: &Self) -> bool {
        self.at == other.at
            && self.depth == other.depth
            && self.st == other.st
            && same_stack(&self.callers, &other.callers)
    }
}

/// A small multiplicative hasher for the merge index (rustc's FxHash).
pub(super) struct Fx(u64);

impl Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// SplitMix64's finaliser: every input bit moves every output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

pub(super) fn frame_hash(parent: &Option<Rc<Frame>>, chain: u32, resume: u32) -> u64 {
    let mut h = Fx(parent.as_ref().map_or(0x9e37_79b9, |f| f.hash));
    h.write_u64((u64::from(chain) << 32) | u64::from(resume));
    h.finish()
}

/// What a branch assumed on its way, shared with the branches it split from and merged
/// with: adding is O(1), merging is O(1), and the list is made once, when the branch ends.
#[derive(Clone, Debug)]
pub(super) struct Said<'r>(Option<Rc<SaidNode<'r>>>);

#[derive(Debug)]
pub(super) enum SaidNode<'r> {
    One(Assumption<'r>, Said<'r>),
    Both(Said<'r>, Said<'r>),
}

impl<'r> Said<'r> {
    pub(super) fn none() -> Self {
        Said(None)
    }

    pub(super) fn say(&mut self, a: Assumption<'r>) {
        let rest = std::mem::replace(self, Said::none());
        *self = Said(Some(Rc::new(SaidNode::One(a, rest))));
    }

    pub(super) fn both(a: &Said<'r>, b: &Said<'r>) -> Said<'r> {
        match (&a.0, &b.0) {
            (_, None) => a.clone(),
            (None, _) => b.clone(),
            (Some(x), Some(y)) if Rc::ptr_eq(x, y) => a.clone(),
            _ => Said(Some(Rc::new(SaidNode::Both(a.clone(), b.clone())))),
        }
    }

    /// Everything said, each once, sorted; a test answered both ways is "either way".
    pub(super) fn list(&self) -> Vec<Assumption<'r>> {
        let mut all = Vec::new();
        let mut seen: std::collections::HashSet<*const SaidNode<'r>> = Default::default();
        let mut work: Vec<&Rc<SaidNode<'r>>> = self.0.iter().collect();
        while let Some(node) = work.pop() {
            if !seen.insert(Rc::as_ptr(node)) {
                continue;
            }
            match &**node {
                SaidNode::One(a, rest) => {
                    all.push(a.clone());
                    work.extend(rest.0.iter());
                }
                SaidNode::Both(x, y) => work.extend(x.0.iter().chain(y.0.iter())),
            }
        }
        all.sort();
        all.dedup();
        let mut out = Vec::new();
        say_all(&mut out, all);
        out
    }
}

// Long lists are dropped in a loop, not by recursion.
impl<'r> Drop for SaidNode<'r> {
    fn drop(&mut self) {
        fn take<'r>(s: &mut Said<'r>, work: &mut Vec<Rc<SaidNode<'r>>>) {
            work.extend(s.0.take());
        }
        let mut work: Vec<Rc<SaidNode<'r>>> = Vec::new();
        match self {
            SaidNode::One(_, rest) => take(rest, &mut work),
            SaidNode::Both(x, y) => {
                take(x, &mut work);
                take(y, &mut work);
            }
        }
        while let Some(rc) = work.pop() {
            if let Ok(mut node) = Rc::try_unwrap(rc) {
                match &mut node {
                    SaidNode::One(_, rest) => take(rest, &mut work),
                    SaidNode::Both(x, y) => {
                        take(x, &mut work);
                        take(y, &mut work);
                    }
                }
            }
        }
    }
}

/// Waiting branches: the furthest along first (a branch that has left its base chain — a
/// cascade's DNATed endpoint — runs to its end and frees its place), then, within one base
/// chain, the deepest first and the earliest rule first, so branches that went into a chain
/// catch up with those that did not before either goes on and they merge; then most likely.
pub(super) struct Live<'r> {
    pub(super) slab: Vec<Option<Branch<'r>>>,
    pub(super) free: Vec<usize>,
    pub(super) heap: BinaryHeap<Waiting>,
    pub(super) index: HashMap<u64, Vec<usize>>,
    pub(super) len: usize,
}

#[derive(Debug, PartialEq)]
pub(super) struct Waiting {
    pub(super) depth: u32,
    pub(super) rank: u32,
    pub(super) rule: u32,
    pub(super) p: f64,
    pub(super) seq: u64,
    pub(super) slot: usize,
    pub(super) key: u64,
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank
            .cmp(&other.rank)
            .then(self.depth.cmp(&other.depth))
            .then(other.rule.cmp(&self.rule))
            .then(self.p.total_cmp(&other.p))
            .then(other.seq.cmp(&self.seq))
    }
}

impl<'r> Live<'r> {
    pub(super) fn new() -> Self {
        Live {
            slab: Vec::new(),
            free: Vec::new(),
            heap: BinaryHeap::new(),
            index: HashMap::new(),
            len: 0,
        }
    }

    pub(super) fn pop(&mut self) -> Option<Branch<'r>> {
        while let Some(w) = self.heap.pop() {
            let Some(b) = self.slab.get_mut(w.slot).and_then(Option::take) else {
                continue;
            };
            self.free.push(w.slot);
            if let Some(slots) = self.index.get_mut(&w.key) {
                slots.retain(|s| *s != w.slot);
                if slots.is_empty() {
                    self.index.remove(&w.key);
                }
            }
            self.len -= 1;
            return Some(b);
        }
        None
    }

    pub(super) fn drain(&mut self) -> Vec<Branch<'r>> {
        let mut out = Vec::new();
        while let Some(b) = self.pop() {
            out.push(b);
        }
        out
    }
}
