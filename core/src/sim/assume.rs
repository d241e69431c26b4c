//! What a simulation had to assume, as typed values: the tests the rules cannot decide (each
//! with the value one outcome took for it), and what the paste or the node facts leave open.
//! `Display` gives the sentences the app and the CLI show.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

/// A test the rules alone cannot decide. Two tests with the same `Undecidable` ask the same
/// question, so one outcome gives both the same answer (one truth per outcome).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "test", rename_all = "kebab-case")]
pub enum Undecidable<'r> {
    /// `-s`/`-d` holding a placeholder such as `x.x.x.x/32`, against the packet's address.
    Placeholder {
        source: bool,
        text: &'r str,
        address: IpAddr,
    },
    /// `-m set --match-set NAME FLAGS`: whether the looked-up addresses and ports are members.
    Set {
        name: &'r str,
        flags: &'r str,
        /// One value per dimension (ipset types have at most three).
        lookup: [Option<Lookup>; 3],
    },
    /// A match module chainlens does not evaluate, with its options as written.
    Module { module: &'r str, args: &'r [String] },
    /// A rule whose text was not fully understood: whether it matches, beyond what was read.
    Incomplete {
        table: &'r str,
        chain: &'r str,
        rule: u32,
    },
    /// `--tcp-option`.
    TcpOption(u8),
    /// An `icmp --icmp-type` test.
    IcmpType(&'r str),
    /// A conntrack test of the reply tuple, original ports, expiry or status of a later packet.
    ConntrackDetail,
    /// `recent --hitcount` on a list that holds the address.
    RecentHitcount(&'r str),
    /// A question a match's own file asks of what the rules cannot show (is there a local
    /// socket, which MAC address sent it): `-m module`: `asks` `value`.
    Extension {
        module: &'static str,
        asks: &'static str,
        value: &'r str,
    },
}

/// One value an ipset lookup is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum Lookup {
    Address(IpAddr),
    Port(u16),
}

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lookup::Address(a) => write!(f, "{a}"),
            Lookup::Port(p) => write!(f, "{p}"),
        }
    }
}

impl<'r> Undecidable<'r> {
    /// The question without the packet's values: tests of one family are written in the same
    /// rules, so a family tested in one rule that is passed once is never asked again.
    pub(super) fn family(&self) -> Family<'r> {
        match self {
            Undecidable::Placeholder { source, text, .. } => Family::Placeholder(*source, text),
            Undecidable::Set { name, flags, .. } => Family::Set(name, flags),
            Undecidable::Module { module, args } => Family::Module(module, args),
            Undecidable::Incomplete { table, chain, rule } => {
                Family::Incomplete(table, chain, *rule)
            }
            Undecidable::TcpOption(_)
            | Undecidable::IcmpType(_)
            | Undecidable::ConntrackDetail
            | Undecidable::RecentHitcount(_)
            | Undecidable::Extension { .. } => Family::Other,
        }
    }
}

/// See [`Undecidable::family`]. `Other` families are never forgotten early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Family<'a> {
    Placeholder(bool, &'a str),
    Set(&'a str, &'a str),
    Module(&'a str, &'a [String]),
    Incomplete(&'a str, &'a str, u32),
    Other,
}

impl fmt::Display for Undecidable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undecidable::Placeholder {
                source,
                text,
                address,
            } => write!(
                f,
                "{} `{text}` is a placeholder (is it {address}?)",
                if *source { "source" } else { "destination" }
            ),
            Undecidable::Set {
                name,
                flags,
                lookup,
            } => {
                let values: Vec<String> =
                    lookup.iter().flatten().map(ToString::to_string).collect();
                write!(
                    f,
                    "ipset `{name}` ({flags}) membership of {}",
                    values.join(",")
                )
            }
            Undecidable::Module { module, args: [] } => {
                write!(f, "`-m {module}`, which chainlens does not evaluate")
            }
            Undecidable::Module { module, args } => write!(
                f,
                "`-m {module} {}`, which chainlens does not evaluate",
                args.join(" ")
            ),
            Undecidable::Incomplete { table, chain, rule } => write!(
                f,
                "{table} {chain} rule {rule} was not fully understood: whether it matches"
            ),
            Undecidable::TcpOption(o) => write!(f, "`--tcp-option {o}`"),
            Undecidable::IcmpType(t) => write!(f, "the ICMP type test `{t}`"),
            Undecidable::ConntrackDetail => {
                write!(f, "a conntrack reply-tuple, port, expiry or status test")
            }
            Undecidable::RecentHitcount(list) => write!(f, "`recent --hitcount` on list `{list}`"),
            Undecidable::Extension {
                module,
                asks,
                value,
            } => write!(f, "`-m {module}`: {asks}{value}"),
        }
    }
}

/// Something an outcome (or the whole simulation) depends on that the rules cannot tell.
/// Ordered, so an outcome's list is kept sorted and each assumption is in it once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Assumption<'r> {
    /// An undecidable test, and the value this outcome took for it (weighed 1/2 each way).
    Undecided { test: Undecidable<'r>, holds: bool },
    /// Outcomes that took either value of this test were merged: the outcome holds either way.
    Either { test: Undecidable<'r> },
    /// A table the paste does not hold (taken as empty, with ACCEPT policies).
    TableMissing { table: &'static str },
    /// A jump to a chain the paste does not hold (taken as returning without effect).
    ChainMissing { table: &'r str, chain: &'r str },
    /// A target chainlens does not evaluate (taken as continuing).
    TargetNotEvaluated { target: &'r str },
    /// QUEUE, NFQUEUE, TPROXY: the packet goes to another program (taken as accepted).
    HandedOff { target: &'r str },
    /// `statistic --mode nth` taken as its long-run share.
    NthLongRun,
    /// An IPVS scheduler that chooses by load or by client (`lc`, `sh`, …), taken as choosing
    /// by weight.
    IpvsScheduler { scheduler: &'r str },
    /// MASQUERADE on an interface whose address the node facts do not give.
    AddressUnknown { iface: String },
    /// REDIRECT to the node's address on the incoming interface, which the facts do not give.
    RedirectAddressUnknown { iface: String },
    /// The first packet of the connection was not delivered: no later packet or reply.
    NoConnection,
    /// For a later packet or a reply: how the first packet went.
    FirstPacket {
        verdict: super::Verdict,
        last: String,
    },
}

impl fmt::Display for Assumption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Assumption::Undecided { test, holds } => write!(
                f,
                "{test}: cannot be decided from the rules; taken as {} (both ways weighed evenly)",
                if *holds { "yes" } else { "no" }
            ),
            Assumption::Either { test } => write!(
                f,
                "{test}: cannot be decided from the rules, and this outcome is the same either way"
            ),
            Assumption::TableMissing { table } => write!(
                f,
                "the `{table}` table is not in the paste: taken as empty, with ACCEPT policies"
            ),
            Assumption::ChainMissing { table, chain } => write!(
                f,
                "chain `{chain}` ({table}) is not in the paste: where the packet goes from there is unknown (paste the chain to follow it)"
            ),
            Assumption::TargetNotEvaluated { target } => {
                write!(f, "target {target} is not evaluated: taken as continuing")
            }
            Assumption::HandedOff { target } => write!(
                f,
                "{target} hands the packet to another program: taken as accepted"
            ),
            Assumption::NthLongRun => {
                write!(f, "`statistic --mode nth` taken as its long-run share")
            }
            Assumption::IpvsScheduler { scheduler } => write!(
                f,
                "IPVS scheduler `{scheduler}` chooses by load or by client: the shares are taken by weight, its long-run guide"
            ),
            Assumption::AddressUnknown { iface } => write!(
                f,
                "the node's address on `{iface}` is unknown (give it as a local IP): the masqueraded source is shown as `node`"
            ),
            Assumption::RedirectAddressUnknown { iface } => write!(
                f,
                "REDIRECT delivers to the node's address on `{iface}`, which is unknown (give it as a local IP): the destination address is shown as it was"
            ),
            Assumption::NoConnection => write!(
                f,
                "the first packet is not delivered: there is no connection"
            ),
            Assumption::FirstPacket { verdict, last } => {
                let how = match verdict {
                    super::Verdict::Accept => "accepted after",
                    super::Verdict::Drop => "dropped by",
                    super::Verdict::Reject => "rejected by",
                    super::Verdict::Unknown => "lost at",
                };
                write!(f, "the first packet: {how} {last}")
            }
        }
    }
}
