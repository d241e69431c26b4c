//! The conntrack table and SNAT port pools over time (NETFILTER.md §4–5): given the rules, a
//! traffic profile toward one Service address and the kernel, how many entries live, how full
//! each SNAT pool is, and how many new flows are refused, second by second.
//!
//! Which flows are SNATed, to which endpoint and with what share comes from walking a client's
//! packet through the simulator ([`pools`]), never from the user. Two modes compute the series:
//! [`analytic`] (a fluid model, one step a second, fast enough for hours at any rate) and
//! [`flows`] (every flow with its own source port and the kernel's bounded port search, seeded),
//! which agree where both apply and differ where the port search matters (bursts, failures
//! below the ceiling). Time, seed and node facts are parameters; nothing here reads a clock.

mod analytic;
mod flows;
mod plan;
mod samples;

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::model::Ruleset;
use crate::model::values::Protocol;
use crate::sim::{Entry, Limits, NodeFacts, Packet, Simulator, Snat, Verdict};

pub use analytic::analytic;
pub use flows::flows;
pub use plan::{
    FLOW_BUDGET, MAX_DURATION, MAX_RATE, Mode, PlanError, Planned, Request, parse_target,
};
pub use samples::{Fit, Sample, Samples, fit, parse_samples, pool_occupancy};

/// Source ports one SNAT pool can use for clients on unprivileged ports (1024–65535, §4.5).
pub const PORT_RANGE: u32 = 64_512;

/// The kernel's version, which decides UDP timeouts and the SNAT port search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Kernel {
    pub major: u32,
    pub minor: u32,
}

impl Kernel {
    pub fn parse(text: &str) -> Result<Kernel, String> {
        let mut parts = text.split('.');
        let num = |p: Option<&str>| p.and_then(|p| p.parse::<u32>().ok());
        match (num(parts.next()), num(parts.next())) {
            (Some(major), minor) => Ok(Kernel {
                major,
                minor: minor.unwrap_or(0),
            }),
            _ => Err(format!(
                "`{text}` is not a kernel version: give it as MAJOR.MINOR, e.g. 5.15"
            )),
        }
    }

    fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// `nf_conntrack_udp_timeout_stream`: 180 s up to 4.20, 120 s since 5.0 (§4.1).
    pub fn udp_stream_timeout(self) -> u32 {
        if self.at_least(5, 0) { 120 } else { 180 }
    }

    /// Since 5.0 the port search tries at most 248 ports (128+64+32+16+8 from random
    /// offsets); before, it scans the whole range from a shared rover (§4.5).
    pub fn bounded_search(self) -> bool {
        self.at_least(5, 0)
    }
}

impl Default for Kernel {
    fn default() -> Self {
        Kernel { major: 6, minor: 1 }
    }
}

/// New flows per second over time.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Constant(f64),
    /// From `from` to `to` flows/s linearly over `over` seconds, then `to`.
    Ramp {
        from: f64,
        to: f64,
        over: f64,
    },
    /// `(start second, rate)` pairs; the rate before the first step is 0.
    Steps(Vec<(f64, f64)>),
}

impl Profile {
    pub fn rate_at(&self, t: f64) -> f64 {
        match self {
            Profile::Constant(r) => *r,
            Profile::Ramp { from, to, over } => {
                if t >= *over || *over <= 0.0 {
                    *to
                } else {
                    from + (to - from) * t / over
                }
            }
            Profile::Steps(steps) => steps
                .iter()
                .rev()
                .find(|(start, _)| t >= *start)
                .map_or(0.0, |(_, r)| *r),
        }
    }
}

/// How clients pick their source ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientPorts {
    /// A new (address, port) for every flow: every flow is a new conntrack entry.
    Fresh,
    /// Each client picks a random port from a range of this many (Linux's default ephemeral
    /// range 32768–60999 holds 28,232): a port still in the table reuses its entry.
    Reuse(u32),
}

/// What one flow sends, which decides how long its entry lives (§4.1–4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// One request and one answer (DNS): UDP 30 s after the answer on every kernel; TCP is
    /// taken as a short connection ending in TIME_WAIT (120 s).
    QueryAnswer,
    /// More packets after the answer (A and AAAA on one socket, streams): the UDP stream
    /// timeout, 180 s up to 4.20 and 120 s since 5.0.
    Stream,
}

/// Expired entries are not removed at once: the kernel's garbage collector reaps some as it
/// goes and the rest in periodic sweeps, so `nf_conntrack_count` overshoots the live count.
/// The defaults were fitted to the runs in `conntrack-kernel/` (Linux 6.18).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Gc {
    /// Seconds between full sweeps.
    pub interval: f64,
    /// When the first sweep happens, in seconds from the start.
    pub phase: f64,
    /// Share of expiring entries reaped right away (by lookups and the incremental scan).
    pub on_the_fly: f64,
}

impl Default for Gc {
    fn default() -> Self {
        Gc {
            interval: 17.5,
            phase: 7.0,
            on_the_fly: 0.35,
        }
    }
}

impl Gc {
    /// Whether a full sweep happens in the second ending at `t`.
    fn sweeps(&self, t: f64) -> bool {
        let k = ((t - self.phase) / self.interval).floor();
        let at = self.phase + k * self.interval;
        at > t - 1.0 && at <= t && t >= self.phase
    }
}

/// Where new flows of the traffic go: one SNAT pool per (source address after SNAT, endpoint,
/// protocol), each with the share of flows the rules send there.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pool {
    pub endpoint: SocketAddr,
    /// The address SNAT gives the flows; `None` for the node's address when masqueraded and
    /// the node facts do not give it.
    pub snat: Option<IpAddr>,
    pub share: f64,
    /// Ports available: 64,512 for clients on unprivileged ports.
    pub ceiling: u32,
    /// Whether the SNAT picks random ports even when the client's is free (`--random-fully`).
    pub random_fully: bool,
}

impl Pool {
    /// The SNAT address as people read it.
    pub fn snat_text(&self) -> String {
        self.snat
            .map_or_else(|| "node address".to_string(), |a| a.to_string())
    }
}

/// The flows' destinations as the rules decide them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Routing {
    pub pools: Vec<Pool>,
    /// Share of flows that are accepted without SNAT (no pool: the reply tuple holds the
    /// client's own address and port).
    pub unpooled: f64,
    /// Share of flows the rules drop or reject (they never enter the table).
    pub refused: f64,
    /// Share of flows the simulator did not follow (past its limits; said in `assumptions`).
    pub unexplored: f64,
    /// What the walk assumed, as sentences.
    pub assumptions: Vec<String>,
}

/// Walks a client's first packet to `to` through the simulator and groups its outcomes into
/// SNAT pools.
pub fn pools(
    ruleset: &Ruleset,
    facts: &NodeFacts,
    to: SocketAddr,
    protocol: Protocol,
    client: IpAddr,
    entry: Entry,
    limits: Limits,
) -> Routing {
    let simulator = Simulator::new(ruleset).with_limits(limits);
    let mut packet = Packet::new(client, to.ip(), protocol, to.port(), entry);
    packet.sport = 40000;
    let sim = simulator.run(&packet, facts);
    let mut routing = Routing {
        pools: Vec::new(),
        unpooled: 0.0,
        refused: 0.0,
        unexplored: sim.unexplored.iter().map(|u| u.probability).sum(),
        assumptions: Vec::new(),
    };
    let mut said = |text: String| {
        if !routing.assumptions.contains(&text) {
            routing.assumptions.push(text);
        }
    };
    for a in &sim.assumptions {
        said(a.to_string());
    }
    for u in &sim.unexplored {
        said(u.to_string());
    }
    for o in &sim.outcomes {
        for a in &o.assumptions {
            said(a.to_string());
        }
    }
    for o in &sim.outcomes {
        if o.verdict != Verdict::Accept {
            routing.refused += o.probability;
            continue;
        }
        let Some(snat) = &o.snat else {
            routing.unpooled += o.probability;
            continue;
        };
        let address = match snat {
            Snat::Masquerade(to) => *to,
            Snat::To(ip, _) => Some(*ip),
        };
        let random_fully = random_fully(o);
        let endpoint = o.dst;
        match routing
            .pools
            .iter_mut()
            .find(|p| p.endpoint == endpoint && p.snat == address)
        {
            Some(p) => p.share += o.probability,
            None => routing.pools.push(Pool {
                endpoint,
                snat: address,
                share: o.probability,
                ceiling: PORT_RANGE,
                random_fully,
            }),
        }
    }
    routing
}

/// Whether the SNAT rule the outcome passed has `--random-fully` (or `--random`).
fn random_fully(o: &crate::sim::Outcome<'_>) -> bool {
    o.path.iter().any(|step| {
        let Some(rule) = step.rule_in_model() else {
            return false;
        };
        match rule.target.as_ref().map(|t| &t.action) {
            Some(crate::ext::targets::Action::Masquerade(p)) => p.random_fully || p.random,
            Some(crate::ext::targets::Action::Snat(n)) => n.random_fully || n.random,
            _ => false,
        }
    })
}

/// Everything a run needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Traffic {
    pub routing: Routing,
    pub protocol: Protocol,
    pub profile: Profile,
    pub pattern: Pattern,
    /// Client addresses, sharing the rate evenly.
    pub clients: u32,
    pub ports: ClientPorts,
    pub kernel: Kernel,
    /// `nf_conntrack_max`.
    pub conntrack_max: u64,
    pub gc: Gc,
    /// Seconds to model.
    pub duration: u32,
    /// For the per-flow mode's random choices.
    pub seed: u64,
}

impl Traffic {
    pub fn new(routing: Routing, protocol: Protocol, profile: Profile) -> Traffic {
        Traffic {
            routing,
            protocol,
            profile,
            pattern: Pattern::QueryAnswer,
            clients: 8,
            ports: ClientPorts::Fresh,
            kernel: Kernel::default(),
            // kube-proxy's default: max(32768 × cores, 131072); a 4-core node.
            conntrack_max: 131_072,
            gc: Gc::default(),
            duration: 120,
            seed: 1,
        }
    }

    /// How long one flow's entry lives after its last packet.
    pub fn lifetime(&self) -> f64 {
        match (self.protocol.name(), self.pattern) {
            (Some("udp"), Pattern::QueryAnswer) => 30.0,
            (Some("udp"), Pattern::Stream) => f64::from(self.kernel.udp_stream_timeout()),
            (Some("tcp"), _) => 120.0,
            _ => 30.0,
        }
    }

    /// The rate at which the first pool fills: `ceiling / (share × lifetime)`.
    pub fn saturation_rate(&self) -> Option<f64> {
        self.routing
            .pools
            .iter()
            .filter(|p| p.share > 0.0)
            .map(|p| f64::from(p.ceiling) / (p.share * self.lifetime()))
            .min_by(f64::total_cmp)
    }
}

/// One second of the model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// End of the second.
    pub t: f64,
    /// Live entries (not yet timed out).
    pub entries: f64,
    /// What `nf_conntrack_count` shows: live plus timed-out entries not yet reaped.
    pub count: f64,
    /// Live entries per pool, in `Routing::pools` order.
    pub pools: Vec<f64>,
    pub accepted_per_s: f64,
    /// Refused at confirm: no free SNAT port (`insert_failed`, and `drop`).
    pub dropped_per_s: f64,
    /// Refused because the table was full (`nf_conntrack: table full, dropping packet`).
    pub table_full_per_s: f64,
}

/// A run's time series and what it comes to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    pub mode: &'static str,
    pub points: Vec<Point>,
    /// New flows/s at which the first pool fills (`None` without SNAT pools).
    pub saturation_rate: Option<f64>,
    /// When new flows were first refused for want of a port.
    pub first_drop: Option<f64>,
    /// When a pool first reached its ceiling.
    pub exhausted_at: Option<f64>,
    /// Live entries at the end.
    pub steady_entries: f64,
    /// Refused share of new flows over the whole run.
    pub dropped_share: f64,
}

impl Series {
    fn finish(mode: &'static str, traffic: &Traffic, points: Vec<Point>) -> Series {
        let first_drop = points.iter().find(|p| p.dropped_per_s > 0.0).map(|p| p.t);
        let exhausted_at = points
            .iter()
            .find(|p| {
                p.pools
                    .iter()
                    .zip(&traffic.routing.pools)
                    .any(|(n, pool)| *n >= f64::from(pool.ceiling) - 0.5)
            })
            .map(|p| p.t);
        let (acc, drop): (f64, f64) = points.iter().fold((0.0, 0.0), |(a, d), p| {
            (a + p.accepted_per_s, d + p.dropped_per_s)
        });
        Series {
            mode,
            saturation_rate: traffic.saturation_rate(),
            first_drop,
            exhausted_at,
            steady_entries: points.last().map_or(0.0, |p| p.entries),
            dropped_share: if acc + drop > 0.0 {
                drop / (acc + drop)
            } else {
                0.0
            },
            points,
        }
    }
}
