//! The per-flow model: every new flow as the kernel handles it (NETFILTER.md §4.5–4.7). Flows
//! arrive evenly spaced within each second; each picks its endpoint by the rules' shares; a
//! client reusing a port whose entry is still live refreshes it instead of creating one; a
//! SNATed flow keeps its client's port when free (unless `--random-fully`), else searches the
//! pool: since 5.0 at most 248 ports in runs of 128, 64, 32, 16 and 8 from random offsets,
//! before 5.0 the whole range from a shared rover. No free port: refused at confirm
//! (`insert_failed`). Timed-out entries count in `nf_conntrack_count` until reaped: some at
//! once, the rest by periodic sweeps or by a port search that runs into them.

use std::collections::HashMap;

use super::{ClientPorts, Pattern, Point, Series, Traffic};
use crate::rng::SplitMix64;

const NONE: u32 = u32::MAX;
/// The first port of the unprivileged range: pool port `i` is `1024 + i`.
const LOW_PORT: u32 = 1024;
const RUNS: [u32; 5] = [128, 64, 32, 16, 8];

#[derive(Clone, Copy)]
struct Slot {
    expire: f64,
    /// Pool index, or `NONE` for a flow without SNAT.
    pool: u32,
    /// Pool port index.
    port: u32,
    generation: u32,
    /// Timed out, not yet reaped: still in `nf_conntrack_count`.
    lingering: bool,
    /// Reaped or never used.
    dead: bool,
}

struct PoolState {
    /// The entry holding each port, or `NONE`.
    holder: Vec<u32>,
    rover: u32,
    live: u32,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// `(slot, generation, expire)` by the second the entry times out in.
    expiries: Vec<Vec<(u32, u32, f64)>>,
    lingering: u64,
    live: u64,
}

impl Table {
    fn alloc(&mut self, pool: u32, port: u32, expire: f64) -> u32 {
        let slot = Slot {
            expire,
            pool,
            port,
            generation: 0,
            lingering: false,
            dead: false,
        };
        let id = match self.free.pop() {
            Some(id) => {
                let generation = self.slots[id as usize].generation.wrapping_add(1);
                self.slots[id as usize] = Slot { generation, ..slot };
                id
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        self.live += 1;
        self.schedule(id);
        id
    }

    fn schedule(&mut self, id: u32) {
        let s = self.slots[id as usize];
        let bucket = s.expire.ceil().max(0.0) as usize;
        if bucket >= self.expiries.len() {
            self.expiries.resize_with(bucket + 1, Vec::new);
        }
        self.expiries[bucket].push((id, s.generation, s.expire));
    }

    /// Removes a timed-out entry for good.
    fn reap(&mut self, id: u32) {
        let s = &mut self.slots[id as usize];
        if s.dead {
            return;
        }
        if s.lingering {
            self.lingering -= 1;
        }
        s.dead = true;
        s.lingering = false;
        self.free.push(id);
    }
}

/// Frees the pool port an entry holds.
fn release(pools: &mut [PoolState], s: &Slot, id: u32) {
    if s.pool != NONE {
        let holder = &mut pools[s.pool as usize].holder[s.port as usize];
        if *holder == id {
            *holder = NONE;
        }
    }
}

/// Removes an entry that has timed out, whether or not its second has been processed yet.
fn retire(table: &mut Table, pools: &mut [PoolState], id: u32) {
    let s = table.slots[id as usize];
    if s.dead {
        return;
    }
    if !s.lingering {
        // Its expiry was not processed yet: it still counts as live.
        table.live -= 1;
        if s.pool != NONE {
            pools[s.pool as usize].live -= 1;
        }
    }
    release(pools, &s, id);
    table.reap(id);
}

pub fn flows(traffic: &Traffic) -> Series {
    let lifetime = traffic.lifetime();
    let routing = &traffic.routing;
    let mut rng = SplitMix64::new(traffic.seed);
    let mut pools: Vec<PoolState> = routing
        .pools
        .iter()
        .map(|p| PoolState {
            holder: vec![NONE; p.ceiling as usize],
            rover: 0,
            live: 0,
        })
        .collect();
    let mut table = Table {
        slots: Vec::new(),
        free: Vec::new(),
        expiries: Vec::new(),
        lingering: 0,
        live: 0,
    };
    // Entries by client tuple, for clients reusing ports.
    let mut tuples: HashMap<(u32, u32), (u32, u32)> = HashMap::new();
    let clients = traffic.clients.max(1);
    let mut next_port = vec![0u32; clients as usize];
    let assured = traffic.pattern == Pattern::Stream || traffic.protocol.name() == Some("tcp");
    let mut carry = 0.0;
    let mut flow_no: u64 = 0;
    let mut points = Vec::with_capacity(traffic.duration as usize);
    for second in 0..traffic.duration {
        let start = f64::from(second);
        let wanted = traffic.profile.rate_at(start + 0.5).max(0.0) + carry;
        let n = wanted.floor() as u64;
        carry = wanted - n as f64;
        let (mut accepted, mut dropped, mut table_full) = (0u64, 0u64, 0u64);
        for k in 0..n {
            let now = start + (k as f64 + 0.5) / n as f64;
            let client = (flow_no % u64::from(clients)) as u32;
            flow_no += 1;
            let client_port = match traffic.ports {
                ClientPorts::Fresh => {
                    let p = next_port[client as usize];
                    next_port[client as usize] = (p + 1) % super::PORT_RANGE;
                    LOW_PORT + p
                }
                ClientPorts::Reuse(range) => 32768 + rng.below(range.max(1)),
            };
            if let ClientPorts::Reuse(_) = traffic.ports
                && let Some(&(id, generation)) = tuples.get(&(client, client_port))
                && table.slots[id as usize].generation == generation
            {
                let s = table.slots[id as usize];
                if !s.dead && s.expire > now {
                    // The packet finds its entry: refreshed, no new conntrack.
                    table.slots[id as usize].expire = now + lifetime;
                    table.schedule(id);
                    accepted += 1;
                    continue;
                }
                // Timed out: the lookup reaps it and the packet makes a new entry.
                retire(&mut table, &mut pools, id);
            }
            // Which way the rules send it.
            let mut u = rng.next_f64();
            let mut pool = None;
            for (i, p) in routing.pools.iter().enumerate() {
                if u < p.share {
                    pool = Some(i);
                    break;
                }
                u -= p.share;
            }
            if pool.is_none() && u >= routing.unpooled {
                continue; // dropped or rejected by the rules: never in the table
            }
            // A full table refuses flows whose entries are all ASSURED; otherwise early_drop
            // evicts a non-assured entry to make room (the eviction itself is not modelled:
            // such flows are accepted).
            if assured && table.live + table.lingering >= traffic.conntrack_max {
                table_full += 1;
                continue;
            }
            let id = match pool {
                None => table.alloc(NONE, 0, now + lifetime),
                Some(i) => {
                    let spec = &routing.pools[i];
                    let state = &mut pools[i];
                    let range = spec.ceiling;
                    let free = |state: &PoolState, table: &Table, p: u32| {
                        let h = state.holder[p as usize];
                        h == NONE || {
                            let s = table.slots[h as usize];
                            s.dead || s.expire <= now
                        }
                    };
                    let original = client_port.wrapping_sub(LOW_PORT);
                    let mut chosen = None;
                    if !spec.random_fully && original < range && free(state, &table, original) {
                        chosen = Some(original);
                    } else if traffic.kernel.bounded_search() {
                        'search: for run in RUNS {
                            let offset = rng.below(range);
                            for j in 0..run.min(range) {
                                let p = (offset + j) % range;
                                if free(state, &table, p) {
                                    chosen = Some(p);
                                    break 'search;
                                }
                            }
                        }
                    } else {
                        for j in 1..=range {
                            let p = (state.rover + j) % range;
                            if free(state, &table, p) {
                                chosen = Some(p);
                                state.rover = p;
                                break;
                            }
                        }
                    }
                    let Some(p) = chosen else {
                        dropped += 1;
                        continue;
                    };
                    let previous = state.holder[p as usize];
                    if previous != NONE {
                        // The search reaps the timed-out entry it found on this port.
                        retire(&mut table, &mut pools, previous);
                    }
                    let id = table.alloc(i as u32, p, now + lifetime);
                    pools[i].holder[p as usize] = id;
                    pools[i].live += 1;
                    id
                }
            };
            if let ClientPorts::Reuse(_) = traffic.ports {
                tuples.insert(
                    (client, client_port),
                    (id, table.slots[id as usize].generation),
                );
            }
            accepted += 1;
        }
        let t = start + 1.0;
        // Entries that timed out during this second stop being live.
        let due = table
            .expiries
            .get_mut(second as usize + 1)
            .map(std::mem::take)
            .unwrap_or_default();
        for (id, generation, expire) in due {
            let s = table.slots[id as usize];
            if s.dead || s.generation != generation || s.expire != expire || s.lingering {
                continue; // reaped, reused or refreshed since
            }
            table.live -= 1;
            if s.pool != NONE {
                pools[s.pool as usize].live -= 1;
            }
            if rng.next_f64() < traffic.gc.on_the_fly {
                release(&mut pools, &s, id);
                table.reap(id);
            } else {
                table.slots[id as usize].lingering = true;
                table.lingering += 1;
            }
        }
        if traffic.gc.sweeps(t) {
            let ids: Vec<u32> = (0..table.slots.len() as u32)
                .filter(|&id| table.slots[id as usize].lingering)
                .collect();
            for id in ids {
                let s = table.slots[id as usize];
                release(&mut pools, &s, id);
                table.reap(id);
            }
        }
        points.push(Point {
            t,
            entries: table.live as f64,
            count: (table.live + table.lingering) as f64,
            pools: pools.iter().map(|p| f64::from(p.live)).collect(),
            accepted_per_s: accepted as f64,
            dropped_per_s: dropped as f64,
            table_full_per_s: table_full as f64,
        });
    }
    Series::finish("flows", traffic, points)
}
