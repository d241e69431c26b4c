//! A conntrack plan as the front ends hold it — the planner's form, a link's state, the CLI's
//! options — checked and turned into [`Traffic`] in one place, with one budget for the
//! per-flow model, and run.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::{
    ClientPorts, Fit, Kernel, Pattern, Profile, Samples, Series, Traffic, analytic, fit, flows,
    parse_samples, pool_occupancy, pools,
};
use crate::model::Ruleset;
use crate::model::values::Protocol;
use crate::share;
use crate::sim::{Entry, Limits, NodeFacts};

/// The per-flow model handles about 1.5 million flows a second natively (less in a browser):
/// plans with more flows than this run the analytic model only.
pub const FLOW_BUDGET: f64 = 20_000_000.0;
/// The longest plan: one day, a point a second.
pub const MAX_DURATION: u32 = 86_400;
/// The highest rate a plan takes (a node's conntrack table holds a few million entries).
pub const MAX_RATE: f64 = 10_000_000.0;

/// Which model to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Analytic,
    Flows,
    Both,
}

/// A plan, typed and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub to: SocketAddr,
    pub protocol: Protocol,
    pub profile: Profile,
    pub duration: u32,
    /// Where the clients are: outside the node or in a pod.
    pub from: Entry,
    /// The interface their packets arrive on.
    pub in_iface: Option<String>,
    pub local_ips: Vec<IpAddr>,
    pub kernel: Kernel,
    pub clients: u32,
    pub ports: ClientPorts,
    pub pattern: Pattern,
    pub conntrack_max: Option<u64>,
    pub mode: Mode,
    pub seed: u64,
    /// A measured log (`DATE : count / max`, counts, CSV) or a `conntrack -L` paste.
    pub measured: Option<String>,
    /// How far the simulator follows the clients' first packet to find the pools.
    pub limits: Limits,
}

/// What is wrong with a plan, said for the field that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for PlanError {}

fn bad(field: &'static str, message: String) -> PlanError {
    PlanError { field, message }
}

/// `IP:PORT/PROTO` (the protocol defaults to TCP).
pub fn parse_target(text: &str) -> Result<(SocketAddr, Protocol), PlanError> {
    let text = text.trim();
    let (addr, proto) = text.rsplit_once('/').unwrap_or((text, "tcp"));
    let to: SocketAddr = addr.parse().map_err(|_| {
        bad(
            "traffic to",
            format!("`{addr}` is not IP:PORT (e.g. 10.5.6.29:53/udp)"),
        )
    })?;
    let protocol = Protocol::parse(proto).map_err(|e| bad("protocol", e))?;
    Ok((to, protocol))
}

fn rate(field: &'static str, r: f64) -> Result<f64, PlanError> {
    if r.is_finite() && (0.0..=MAX_RATE).contains(&r) {
        Ok(r)
    } else {
        Err(bad(
            field,
            format!("{r} must be a number of new flows per second from 0 to {MAX_RATE:.0}"),
        ))
    }
}

fn number(field: &'static str, text: &str) -> Result<f64, PlanError> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| bad(field, format!("`{text}` is not a number")))
}

impl Request {
    /// A plan with the planner's defaults: a constant rate from outside for 120 s on 6.1.
    pub fn new(to: SocketAddr, protocol: Protocol, profile: Profile) -> Request {
        Request {
            to,
            protocol,
            profile,
            duration: 120,
            from: Entry::Outside,
            in_iface: None,
            local_ips: Vec::new(),
            kernel: Kernel::default(),
            clients: 8,
            ports: ClientPorts::Fresh,
            pattern: Pattern::QueryAnswer,
            conntrack_max: None,
            mode: Mode::Analytic,
            seed: 1,
            measured: None,
            limits: Limits::default(),
        }
    }

    /// Reads the planner's form (as a link carries it).
    pub fn from_form(p: &share::Plan) -> Result<Request, PlanError> {
        let (to, protocol) = parse_target(&p.target)?;
        let end = rate("new flows/s", number("new flows/s", &p.rate)?)?;
        let profile = match p.ramp_from.trim() {
            "" => Profile::Constant(end),
            from => Profile::Ramp {
                from: rate("ramp from", number("ramp from", from)?)?,
                to: end,
                over: match p.ramp_over.trim() {
                    "" => 60.0,
                    over => number("ramp over", over)?,
                },
            },
        };
        let duration = match p.duration.trim() {
            "" => 120,
            d => d.parse::<u32>().map_err(|_| {
                bad(
                    "seconds",
                    format!("`{d}` must be a whole number of seconds, 1 to {MAX_DURATION}"),
                )
            })?,
        };
        let kernel = match p.kernel.trim() {
            "" => Kernel::default(),
            k => Kernel::parse(k).map_err(|e| bad("kernel", e))?,
        };
        let mut r = Request::new(to, protocol, profile);
        r.duration = duration;
        r.kernel = kernel;
        r.mode = if p.flows { Mode::Both } else { Mode::Analytic };
        if p.reuse {
            r.clients = 1;
            r.ports = ClientPorts::Reuse(28_232);
        }
        r.measured = Some(p.measured.clone()).filter(|m| !m.trim().is_empty());
        r.check()?;
        Ok(r)
    }

    /// The bounds every plan must keep, whoever made it.
    pub fn check(&self) -> Result<(), PlanError> {
        if !(1..=MAX_DURATION).contains(&self.duration) {
            return Err(bad(
                "seconds",
                format!("{} must be 1 to {MAX_DURATION}", self.duration),
            ));
        }
        match &self.profile {
            Profile::Constant(r) => {
                rate("new flows/s", *r)?;
            }
            Profile::Ramp { from, to, over } => {
                rate("ramp from", *from)?;
                rate("new flows/s", *to)?;
                if !over.is_finite() || *over < 0.0 || *over > f64::from(MAX_DURATION) {
                    return Err(bad(
                        "ramp over",
                        format!("{over} must be 0 to {MAX_DURATION} seconds"),
                    ));
                }
            }
            Profile::Steps(steps) => {
                for (t, r) in steps {
                    rate("step rate", *r)?;
                    if !t.is_finite() {
                        return Err(bad("step start", format!("{t} is not a time")));
                    }
                }
            }
        }
        if self.clients == 0 || self.clients > 1_000_000 {
            return Err(bad(
                "clients",
                format!("{} must be 1 to 1000000", self.clients),
            ));
        }
        if let ClientPorts::Reuse(n) = self.ports
            && !(1..=65_535).contains(&n)
        {
            return Err(bad("reused ports", format!("{n} must be 1 to 65535")));
        }
        if self.conntrack_max == Some(0) {
            return Err(bad("nf_conntrack_max", "must be at least 1".into()));
        }
        Ok(())
    }

    /// How many new flows the plan sends over its duration.
    pub fn flow_count(&self) -> f64 {
        (0..self.duration)
            .map(|t| self.profile.rate_at(f64::from(t) + 0.5))
            .sum()
    }

    /// Walks a client's packet through the rules for its pools and runs the models.
    pub fn run(&self, ruleset: &Ruleset, facts: &NodeFacts) -> Result<Planned, PlanError> {
        self.check()?;
        let mut facts = facts.clone();
        facts.local_ips.extend(self.local_ips.iter().copied());
        if let Some(iface) = &self.in_iface {
            facts.external_iface.clone_from(iface);
        }
        let client = match self.from {
            Entry::Pod => facts
                .pod_cidr
                .map_or(IpAddr::from([10, 244, 0, 99]), |c| c.addr),
            _ => IpAddr::from([198, 51, 100, 10]),
        };
        let entry = if self.from == Entry::Pod {
            Entry::Pod
        } else {
            Entry::Outside
        };
        let routing = pools(
            ruleset,
            &facts,
            self.to,
            self.protocol,
            client,
            entry,
            self.limits,
        );
        // A `conntrack -L` paste is read as entries grouped by pool, not as a series.
        let listed = self
            .measured
            .as_deref()
            .map(|t| crate::parse(t).conntrack)
            .filter(|entries| !entries.is_empty());
        let measured_pools = listed.as_deref().map(pool_occupancy);
        let samples = self
            .measured
            .as_deref()
            .filter(|_| listed.is_none())
            .map(parse_samples);
        let mut traffic = Traffic::new(routing, self.protocol, self.profile.clone());
        traffic.duration = self.duration;
        traffic.kernel = self.kernel;
        traffic.clients = self.clients;
        traffic.ports = self.ports;
        traffic.pattern = self.pattern;
        traffic.seed = self.seed;
        if let Some(max) = self.conntrack_max.or_else(|| {
            samples
                .as_ref()
                .and_then(|m| m.max)
                .filter(|m| m.is_finite() && *m >= 1.0)
                .map(|m| m.min(u64::MAX as f64) as u64)
        }) {
            traffic.conntrack_max = max;
        }
        let mut notes = Vec::new();
        let total = self.flow_count();
        let per_flow = self.mode != Mode::Analytic;
        if per_flow && total > FLOW_BUDGET {
            if self.mode == Mode::Flows {
                return Err(bad(
                    "mode",
                    format!(
                        "the per-flow model would follow {total:.0} flows; it follows at most {FLOW_BUDGET:.0}: shorten the duration, lower the rate or use the analytic model"
                    ),
                ));
            }
            notes.push(format!(
                "The per-flow model was not run: {total:.0} flows is more than it follows at once ({FLOW_BUDGET:.0}); shorten the duration."
            ));
        }
        let mut runs = Vec::new();
        if self.mode != Mode::Flows {
            runs.push(analytic(&traffic));
        }
        if per_flow && total <= FLOW_BUDGET {
            runs.push(flows(&traffic));
        }
        let fitted = samples
            .as_ref()
            .and_then(|m| fit(&m.samples, traffic.lifetime()));
        Ok(Planned {
            traffic,
            runs,
            notes,
            samples,
            fit: fitted,
            measured_pools,
        })
    }
}

/// A plan run: the traffic as modelled, each model's series, what was not run and why, and the
/// measured samples with their fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub traffic: Traffic,
    pub runs: Vec<Series>,
    pub notes: Vec<String>,
    pub samples: Option<Samples>,
    pub fit: Option<Fit>,
    /// A pasted `conntrack -L`: entries per pool.
    pub measured_pools: Option<Vec<(String, usize)>>,
}
