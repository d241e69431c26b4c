//! The packet simulator: a packet walked through hooks, base chains and chains in kernel order
//! (NETFILTER.md §1, §8), branching wherever `statistic` (or a test the simulator cannot
//! decide) does, so the result is a distribution of outcomes, each with its probability, its
//! typed path and what it assumed.
//!
//! The first packet of a connection (conntrack NEW) walks the nat chains, which decide its
//! bindings; a later packet or the reply ([`Which`]) skips them and is rewritten by the
//! bindings instead, as conntrack does. Every walk is bounded ([`Limits`]).

mod assume;
mod branch;
pub(crate) mod eval;
mod hooks;
mod outcome;
mod packet;
mod query;
mod walk;

pub use assume::{Assumption, Lookup, Undecidable};
pub use hooks::{Hook, iptables_priority};
pub use outcome::{
    Cutoff, Effect, Hop, Outcome, Pass, Policy, Simulation, Snat, Step, Unexplored, Verdict, Which,
};
pub use packet::{Binding, Conn, Entry, Inferred, NodeFacts, Packet};
pub use query::{Query, QueryError, Traced};
pub(crate) use walk::ct_bit;
pub use walk::{Limits, Simulator, simulate};

#[cfg(test)]
mod tests;
