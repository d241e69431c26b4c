//! The packet simulator: a packet walked through hooks, tables and chains in kernel order
//! (NETFILTER.md §1), branching wherever `statistic` (or a match the simulator cannot decide)
//! does, so the result is a distribution of outcomes, each with its probability and path.
//!
//! This first version simulates the first packet of a connection (conntrack state NEW), which is
//! what decides NAT: later packets reuse the bindings it made.

mod eval;
mod packet;
mod walk;

pub use packet::{Entry, NodeFacts, Packet};
pub use walk::{Outcome, Simulation, Snat, Step, Verdict, simulate};
