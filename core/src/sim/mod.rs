//! The packet simulator: a packet walked through hooks, tables and chains in kernel order
//! (NETFILTER.md §1), branching wherever `statistic` (or a match the simulator cannot decide)
//! does, so the result is a distribution of outcomes, each with its probability and path.
//!
//! The first packet of a connection (conntrack NEW) walks the nat chains, which decide its
//! bindings; a later packet or the reply ([`Which`]) skips them and is rewritten by the
//! bindings instead, as conntrack does.

mod eval;
mod packet;
mod walk;

pub use packet::{Binding, Conn, Entry, NodeFacts, Packet};
pub use walk::{Outcome, Simulation, Simulator, Snat, Step, Verdict, Which, simulate};
