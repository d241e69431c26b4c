//! The fluid model (NETFILTER.md §5): one step a second; each pool keeps the flows it accepted
//! in the last `lifetime` seconds and accepts new ones while it has free ports, so an
//! overloaded pool stays at its ceiling and refuses `1 − C/(R·T)` of new flows. Clients reusing
//! a port range follow the occupancy of that range, `M·(1 − e^(−W/M))` live tuples for `W`
//! queries in the window. Expired entries linger in `nf_conntrack_count` until the garbage
//! collector reaps them (`Gc`); a saturated pool's port search reaps what it meets.

use std::collections::VecDeque;

use super::{ClientPorts, Pattern, Point, Series, Traffic};

/// Flows accepted in each of the last `lifetime` seconds.
struct Window {
    seconds: VecDeque<f64>,
    live: f64,
}

impl Window {
    fn new(lifetime: usize) -> Self {
        Window {
            seconds: std::iter::repeat_n(0.0, lifetime).collect(),
            live: 0.0,
        }
    }

    /// What expires at the start of this second.
    fn oldest(&self) -> f64 {
        self.seconds.front().copied().unwrap_or(0.0)
    }

    fn push(&mut self, accepted: f64) -> f64 {
        let expired = self.seconds.pop_front().unwrap_or(0.0);
        self.seconds.push_back(accepted);
        self.live += accepted - expired;
        expired
    }
}

pub fn analytic(traffic: &Traffic) -> Series {
    let lifetime = traffic.lifetime().round().max(1.0) as usize;
    let pools = &traffic.routing.pools;
    let mut windows: Vec<Window> = pools.iter().map(|_| Window::new(lifetime)).collect();
    let mut unpooled = Window::new(lifetime);
    let mut lingering = vec![0.0f64; pools.len() + 1];
    // Live entries per pool at the last step, for clients reusing ports.
    let mut reused_live = vec![0.0f64; pools.len() + 1];
    // Queries per client in the last `lifetime` seconds, for clients reusing a port range.
    let mut recent: VecDeque<f64> = std::iter::repeat_n(0.0, lifetime).collect();
    let clients = f64::from(traffic.clients.max(1));
    let assured = traffic.pattern == Pattern::Stream || traffic.protocol.name() == Some("tcp");
    let mut points = Vec::with_capacity(traffic.duration as usize);
    for second in 0..traffic.duration {
        let t = f64::from(second) + 1.0;
        let arrivals = traffic.profile.rate_at(f64::from(second) + 0.5).max(0.0);
        // The share of arrivals that needs a new entry, and how many tuples the clients hold.
        let (fresh_share, tuples) = match traffic.ports {
            ClientPorts::Fresh => (1.0, f64::INFINITY),
            ClientPorts::Reuse(range) => {
                let m = f64::from(range.max(1));
                recent.pop_front();
                recent.push_back(arrivals / clients);
                let window: f64 = recent.iter().sum();
                let live = m * (1.0 - (-window / m).exp());
                (1.0 - live / m, live * clients)
            }
        };
        let total_live: f64 = windows.iter().map(|w| w.live).sum::<f64>() + unpooled.live;
        let total_lingering: f64 = lingering.iter().sum();
        let room = traffic.conntrack_max as f64 - (total_live + total_lingering);
        let mut table_full = 0.0;
        let mut accepted = 0.0;
        let mut dropped = 0.0;
        let mut budget = if assured {
            room.max(0.0)
        } else {
            f64::INFINITY
        };
        let mut live_pools = Vec::with_capacity(pools.len());
        for (i, (pool, w)) in pools.iter().zip(&mut windows).enumerate() {
            let demand = arrivals * pool.share * fresh_share;
            let ceiling = f64::from(pool.ceiling).min(tuples * pool.share);
            let free = (ceiling - w.live + w.oldest()).max(0.0);
            let mut take = demand.min(free);
            if take > budget {
                table_full += take - budget;
                take = budget;
            }
            budget -= take;
            let refused = (demand - take).max(0.0);
            // Refusals for want of a port, not for a client tuple already live.
            let no_port = if tuples.is_finite() && f64::from(pool.ceiling) >= tuples * pool.share {
                0.0
            } else {
                refused
            };
            let mut expired = w.push(take);
            if tuples.is_finite() {
                // Reused ports refresh entries: what times out is what was created and is no
                // longer live.
                let live = (tuples * pool.share).min(f64::from(pool.ceiling));
                expired = (take - (live - reused_live[i])).max(0.0);
                reused_live[i] = live;
            }
            // Timed-out entries still hold their ports, so a pool never counts more than its
            // ceiling: a full pool's port search reaps every expired entry it runs into.
            lingering[i] = if no_port > 0.0 {
                0.0
            } else {
                (lingering[i] + expired * (1.0 - traffic.gc.on_the_fly))
                    .min(f64::from(pool.ceiling) - w.live)
                    .max(0.0)
            };
            accepted += take;
            dropped += no_port;
            live_pools.push(w.live);
        }
        let demand = arrivals * traffic.routing.unpooled * fresh_share;
        let mut take = demand;
        if take > budget {
            table_full += take - budget;
            take = budget;
        }
        let last = lingering.len() - 1;
        let mut expired = unpooled.push(take);
        if tuples.is_finite() {
            let live = tuples * traffic.routing.unpooled;
            expired = (take - (live - reused_live[last])).max(0.0);
            reused_live[last] = live;
        }
        lingering[last] += expired * (1.0 - traffic.gc.on_the_fly);
        accepted += take;
        if traffic.gc.sweeps(t) {
            lingering.iter_mut().for_each(|l| *l = 0.0);
        }
        let mut entries = windows.iter().map(|w| w.live).sum::<f64>() + unpooled.live;
        if tuples.is_finite() {
            // Reused ports refresh their entries, so the window undercounts: the live tuples
            // are the range's occupancy, capped by each pool's ceiling.
            for (live, pool) in live_pools.iter_mut().zip(pools) {
                *live = (tuples * pool.share).min(f64::from(pool.ceiling));
            }
            entries = live_pools.iter().sum::<f64>() + tuples * traffic.routing.unpooled;
        }
        points.push(Point {
            t,
            entries,
            count: entries + lingering.iter().sum::<f64>(),
            pools: live_pools,
            accepted_per_s: accepted,
            dropped_per_s: dropped,
            table_full_per_s: table_full,
        });
    }
    Series::finish("analytic", traffic, points)
}
