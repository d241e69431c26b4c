//! The conntrack/SNAT growth model against the seed story and the real-kernel runs in
//! `shared/conformance/conntrack-kernel/` (Linux 6.18). The seed curves are a committed snapshot
//! (`tests/snapshots/conntrack-seed.tsv`; `UPDATE_SNAPSHOTS=1` rewrites it).

mod common;

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use chainlens_core::conntrack::{
    ClientPorts, Kernel, Profile, Routing, Series, Traffic, analytic, fit, flows, parse_samples,
    pools,
};
use chainlens_core::model::values::Protocol;
use chainlens_core::parse;
use chainlens_core::sim::{Entry, NodeFacts};

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn seed(name: &str) -> String {
    read(common::shared().join("fixtures/seeds").join(name))
}

fn kernel_file(name: &str) -> String {
    read(
        common::shared()
            .join("conformance/conntrack-kernel")
            .join(name),
    )
}

/// Clients outside the node → `to`/udp, as the rules route them.
fn routing(rules: &str, to: &str, node: Option<&str>) -> Routing {
    let parsed = parse(rules);
    let (mut facts, _) = NodeFacts::infer(&parsed.ruleset);
    facts
        .local_ips
        .extend(node.and_then(|n| n.parse::<IpAddr>().ok()));
    let to: SocketAddr = to.parse().expect("an ip:port");
    pools(
        &parsed.ruleset,
        &facts,
        to,
        Protocol::UDP,
        IpAddr::from([198, 51, 100, 10]),
        Entry::Outside,
        chainlens_core::sim::Limits::default(),
    )
}

fn traffic(routing: Routing, rate: f64, duration: u32) -> Traffic {
    let mut t = Traffic::new(routing, Protocol::UDP, Profile::Constant(rate));
    t.duration = duration;
    t
}

/// Refused share of new flows over the seconds in `(from, to]`.
fn refused(s: &Series, from: f64, to: f64) -> f64 {
    let (a, d) = s
        .points
        .iter()
        .filter(|p| p.t > from && p.t <= to)
        .fold((0.0, 0.0), |(a, d), p| {
            (a + p.accepted_per_s, d + p.dropped_per_s)
        });
    d / (a + d)
}

fn at(s: &Series, t: f64) -> &chainlens_core::conntrack::Point {
    let t = t.round();
    s.points.iter().find(|p| p.t == t).expect("a point at t")
}

#[test]
fn the_seed_story() {
    let bind = seed("bind-kube-proxy-v1.4.21.iptables-save");
    let r = routing(&bind, "10.5.6.29:53", None);
    assert_eq!(r.pools.len(), 1);
    assert_eq!(r.pools[0].endpoint.to_string(), "10.100.13.3:53");
    assert!((r.pools[0].share - 1.0).abs() < 1e-12);
    let mut snapshot = String::from("# scenario\tmode\tt\tentries\tcount\taccepted/s\tdropped/s\n");
    let mut record = |name: &str, s: &Series| {
        for p in s.points.iter().filter(|p| p.t % 5.0 == 0.0) {
            let _ = writeln!(
                snapshot,
                "{name}\t{}\t{}\t{:.0}\t{:.0}\t{:.0}\t{:.0}",
                s.mode, p.t, p.entries, p.count, p.accepted_per_s, p.dropped_per_s
            );
        }
    };
    // 1,200/s: no drops, about 36k live entries.
    let t = traffic(r.clone(), 1200.0, 120);
    for s in [analytic(&t), flows(&t)] {
        assert_eq!(s.first_drop, None, "{}", s.mode);
        assert!(
            (s.steady_entries - 36_000.0).abs() < 360.0,
            "{} {}",
            s.mode,
            s.steady_entries
        );
        record("bind kube-proxy 1200/s", &s);
    }
    // 2,500/s: the pool reaches the port range's ceiling; about 14% of new queries refused.
    let t = traffic(r, 2500.0, 120);
    assert!((t.saturation_rate().unwrap_or(0.0) - 2150.4).abs() < 0.1);
    for s in [analytic(&t), flows(&t)] {
        assert!(
            s.exhausted_at.is_some_and(|e| e <= 30.0),
            "{} {:?}",
            s.mode,
            s.exhausted_at
        );
        let share = refused(&s, 30.0, 120.0);
        assert!((share - 0.1398).abs() < 0.01, "{} {share}", s.mode);
        assert!(s.points.iter().all(|p| p.pools[0] <= 64_512.0));
        record("bind kube-proxy 2500/s", &s);
    }
    // Hand-written DNAT at 10,000/s: no pool, no drops (the seed node's conntrack_max).
    let manual = seed("bind-manual-dnat-v1.4.21.iptables-save");
    let parsed = parse(&manual);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let mut packet_facts = facts.clone();
    packet_facts.external_iface = "eth3".into();
    let r = pools(
        &parsed.ruleset,
        &packet_facts,
        "10.5.6.29:53".parse().expect("address"),
        Protocol::UDP,
        IpAddr::from([198, 51, 100, 10]),
        Entry::Outside,
        chainlens_core::sim::Limits::default(),
    );
    assert!(r.pools.is_empty());
    assert!((r.unpooled - 1.0).abs() < 1e-12);
    let mut t = traffic(r, 10_000.0, 120);
    t.conntrack_max = 4_194_304;
    assert_eq!(t.saturation_rate(), None);
    for s in [analytic(&t), flows(&t)] {
        assert_eq!(s.first_drop, None);
        assert!(s.points.iter().all(|p| p.table_full_per_s == 0.0));
        assert!(
            (s.steady_entries - 300_000.0).abs() < 1.0,
            "{}",
            s.steady_entries
        );
        record("manual DNAT 10000/s", &s);
    }
    common::snapshot("conntrack-seed.tsv", &snapshot, "the seed curves");
}

/// The seed's measured `nf_conntrack_count` rises as fresh-port flows at about 2,000/s (the
/// load the DNS server actually got), peaks near 60k — 93% of the pool, where the real kernel
/// starts refusing — and the model at that rate sits on every sample up to the peak.
#[test]
fn the_seed_measurement_fits_the_model() {
    let measured = parse_samples(&seed("bind-conntrack-count-2500rps.csv"));
    assert_eq!(measured.samples.len(), 37);
    assert!(measured.skipped.is_empty());
    assert_eq!(measured.max, Some(4_194_304.0));
    let f = fit(&measured.samples, 30.0).expect("a fit");
    assert!((1800.0..=2200.0).contains(&f.rate), "{f:?}");
    let peak = measured.samples.iter().map(|s| s.count).fold(0.0, f64::max);
    assert!(peak > 0.9 * 64_512.0 && peak < 64_512.0);
    // The log's timestamps have 1 s resolution and are taken with some latency: the noise is
    // about a second and a half of arrivals.
    let noise = 1.5 * f.rate;
    for s in measured.samples.iter().filter(|s| s.t <= f.peak) {
        let model = f.at(s.t);
        assert!(
            (model - s.count).abs() < noise,
            "t={} measured {} model {model}",
            s.t,
            s.count
        );
    }
}

fn kernel_run(rules: &str, rate: f64, duration: u32) -> (Traffic, Series, Series) {
    let r = routing(&kernel_file(rules), "192.0.2.29:53", Some("192.0.2.1"));
    let mut t = traffic(r, rate, duration);
    t.kernel = Kernel::parse("6.18").expect("version");
    t.conntrack_max = 262_144;
    let (a, f) = (analytic(&t), flows(&t));
    (t, a, f)
}

/// (t, conntrack_count, insert_failed_total) per second of a measured run.
fn measured(name: &str) -> Vec<(f64, f64, f64)> {
    kernel_file(name)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<f64> = l.split(',').filter_map(|x| x.parse().ok()).collect();
            Some((*c.first()?, *c.get(1)?, *c.get(2)?))
        })
        .collect()
}

#[test]
fn kernel_run_masquerade_at_2500_per_second() {
    let (t, a, f) = kernel_run("masq.rules", 2500.0, 70);
    assert!(t.routing.pools[0].random_fully);
    let run = measured("run2_masq_2500.csv");
    let kernel_first = run.iter().find(|r| r.2 > 0.0).map(|r| r.0).unwrap_or(0.0);
    // Failures start below the ceiling in the port search, a few seconds before it is full.
    let model_first = f.first_drop.unwrap_or(0.0);
    assert!(
        (model_first - kernel_first).abs() <= 3.0,
        "{model_first} vs {kernel_first}"
    );
    assert!(
        f.exhausted_at.is_some_and(|e| (26.0..=30.0).contains(&e)),
        "{:?}",
        f.exhausted_at
    );
    // The refused share per 30 s period, as measured.
    let kernel_refused = |from: f64, to: f64| {
        let get = |t: f64| run.iter().find(|r| r.0 == t).map_or(0.0, |r| r.2);
        (get(to) - get(from)) / (2500.0 * (to - from))
    };
    for (from, to) in [(30.0, 60.0), (40.0, 70.0)] {
        let k = kernel_refused(from, to);
        for s in [&a, &f] {
            let m = refused(s, from, to);
            assert!(
                (m - k).abs() < 0.02,
                "{} ({from},{to}]: model {m} kernel {k}",
                s.mode
            );
        }
    }
    // The bursts: almost every new flow refused when the pool first fills and again 30 s
    // later, only a trickle in between.
    let burst = |s: &Series, from: f64, to: f64| {
        s.points
            .iter()
            .filter(|p| p.t >= from && p.t <= to)
            .map(|p| p.dropped_per_s / 2500.0)
            .fold(0.0, f64::max)
    };
    assert!(burst(&f, 27.0, 31.0) > 0.95);
    assert!(burst(&f, 57.0, 61.0) > 0.95);
    assert!(burst(&f, 36.0, 52.0) < 0.05);
    // On a full pool nf_conntrack_count stays pinned near the ceiling.
    assert!(
        f.points
            .iter()
            .filter(|p| p.t > 30.0)
            .all(|p| p.count <= 64_512.0)
    );
}

#[test]
fn kernel_run_count_is_not_the_live_count() {
    let (_, a, f) = kernel_run("masq.rules", 1200.0, 60);
    assert_eq!(a.first_drop, None);
    assert_eq!(f.first_drop, None);
    let run = measured("run1_masq_1200.csv");
    for &(t, count, _) in run.iter().filter(|r| r.0 >= 1.0 && r.0 <= 60.0) {
        let model = at(&a, t).count;
        assert!(
            (model - count).abs() / count < 0.08,
            "t={t}: model {model} kernel {count}"
        );
    }
    // Live entries level at R × 30 s; the count overshoots them until a sweep.
    assert!((at(&a, 59.0).entries - 36_000.0).abs() < 1.0);
    assert!(at(&a, 59.0).count > 45_000.0);
    assert!(at(&f, 59.0).count > at(&f, 59.0).entries + 5_000.0);
}

#[test]
fn kernel_runs_dnat_and_two_backends() {
    let (t, a, f) = kernel_run("dnat.rules", 2500.0, 60);
    assert!(t.routing.pools.is_empty());
    assert_eq!(f.first_drop, None);
    assert!((at(&a, 55.0).entries - 75_000.0).abs() < 1.0);
    // The sweeps' timing differs from run to run, so compare what does not depend on it:
    // the count never falls below the live entries and overshoots them by as much.
    let run = measured("run3_dnat_2500.csv");
    for &(t, count, _) in run.iter().filter(|r| r.0 >= 5.0 && r.0 <= 55.0) {
        assert!(
            count >= 0.98 * at(&a, t).entries,
            "t={t}: kernel {count} below live"
        );
    }
    let peak = |counts: &mut dyn Iterator<Item = f64>| counts.fold(0.0, f64::max);
    let kernel_peak = peak(&mut run.iter().filter(|r| r.0 <= 55.0).map(|r| r.1));
    let model_peak = peak(&mut a.points.iter().map(|p| p.count));
    assert!(
        (model_peak - kernel_peak).abs() / kernel_peak < 0.1,
        "{model_peak} vs {kernel_peak}"
    );
    let (t, a, f) = kernel_run("masq2.rules", 2500.0, 70);
    assert_eq!(t.routing.pools.len(), 2);
    assert!((t.saturation_rate().unwrap_or(0.0) - 4300.8).abs() < 0.1);
    for s in [&a, &f] {
        assert_eq!(s.first_drop, None, "{}", s.mode);
        for pool in &at(s, 60.0).pools {
            let full = pool / 64_512.0;
            assert!((full - 0.58).abs() < 0.02, "{} {full}", s.mode);
        }
    }
}

#[test]
fn four_endpoints_saturate_at_four_times_the_rate() {
    let rules = "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
        -A PREROUTING -d 192.0.2.29/32 -p udp --dport 53 -j MARK --set-xmark 0x4000/0x4000\n\
        -A PREROUTING -d 192.0.2.29/32 -p udp --dport 53 -m statistic --mode random --probability 0.2500000000 -j DNAT --to-destination 203.0.113.3:53\n\
        -A PREROUTING -d 192.0.2.29/32 -p udp --dport 53 -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 203.0.113.4:53\n\
        -A PREROUTING -d 192.0.2.29/32 -p udp --dport 53 -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 203.0.113.5:53\n\
        -A PREROUTING -d 192.0.2.29/32 -p udp --dport 53 -j DNAT --to-destination 203.0.113.6:53\n\
        -A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully\nCOMMIT\n";
    let one = traffic(
        routing(
            &kernel_file("masq.rules"),
            "192.0.2.29:53",
            Some("192.0.2.1"),
        ),
        1.0,
        1,
    );
    let four = traffic(routing(rules, "192.0.2.29:53", Some("192.0.2.1")), 1.0, 1);
    assert_eq!(four.routing.pools.len(), 4);
    let ratio = four.saturation_rate().unwrap_or(0.0) / one.saturation_rate().unwrap_or(1.0);
    assert!((ratio - 4.0).abs() < 1e-6, "{ratio}");
    // At 6,000/s (70% of 4 × 2,150) the four pools hold without refusals.
    let mut t = four;
    t.profile = Profile::Constant(6000.0);
    t.duration = 60;
    assert_eq!(flows(&t).first_drop, None);
}

/// One client reusing Linux's default ephemeral range (32768–60999, 28,232 ports): 25,000
/// queries at 2,500/s leave 16,574 entries on a real kernel; the table levels off well below
/// the pool's ceiling.
#[test]
fn a_client_reusing_its_port_range_levels_off() {
    let mut t = traffic(
        routing(
            &kernel_file("masq.rules"),
            "192.0.2.29:53",
            Some("192.0.2.1"),
        ),
        2500.0,
        90,
    );
    t.clients = 1;
    t.ports = ClientPorts::Reuse(28_232);
    for s in [analytic(&t), flows(&t)] {
        let after = at(&s, 10.0).entries;
        assert!(
            (after - 16_574.0).abs() / 16_574.0 < 0.01,
            "{} {after}",
            s.mode
        );
        assert_eq!(s.first_drop, None);
        assert!(
            s.steady_entries < 0.45 * 64_512.0,
            "{} {}",
            s.mode,
            s.steady_entries
        );
    }
}

/// `conntrack -L` lines grouped into SNAT pools: the NodePort flow was masqueraded to the
/// node's pod-side address toward its endpoint; the ClusterIP one too (the client was the node).
#[test]
fn conntrack_listings_group_into_pools() {
    let nodeport = parse(&seed("tutorial-nodeport-conntrack.txt"));
    let pools = chainlens_core::conntrack::pool_occupancy(&nodeport.conntrack);
    assert_eq!(pools, [("10.64.1.1 → 10.64.1.13:80/tcp".to_string(), 1)]);
    let clusterip = parse(&seed("tutorial-clusterip-conntrack.txt"));
    let pools = chainlens_core::conntrack::pool_occupancy(&clusterip.conntrack);
    assert_eq!(pools, [("10.64.1.1 → 10.64.1.7:53/udp".to_string(), 1)]);
}

#[test]
fn plans_are_bounded_whoever_makes_them() {
    use chainlens_core::conntrack::{FLOW_BUDGET, MAX_DURATION, Mode, Request};
    use chainlens_core::share::Plan;
    let dump = seed("bind-kube-proxy-v1.4.21.iptables-save");
    let parsed = parse(&dump);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let form = |rate: &str, ramp_from: &str, duration: &str| Plan {
        target: "10.5.6.29:53/udp".into(),
        rate: rate.into(),
        ramp_from: ramp_from.into(),
        ramp_over: "60".into(),
        duration: duration.into(),
        kernel: "6.1".into(),
        flows: true,
        ..Plan::default()
    };
    // `--duration 4294967295` and absurd or non-finite rates are refused with the field named.
    for (rate, from, duration, field) in [
        ("2500", "", "4294967295", "seconds"),
        ("1e300", "", "60", "new flows/s"),
        ("NaN", "", "60", "new flows/s"),
        ("2500", "-5", "60", "ramp from"),
    ] {
        let e = Request::from_form(&form(rate, from, duration)).expect_err(rate);
        assert_eq!(e.field, field, "{e}");
    }
    assert!(Request::from_form(&form("2500", "", &(MAX_DURATION + 1).to_string())).is_err());
    // A ramp counts its flows: 1,000 → 1,000,000/s over a day is past the per-flow budget, so
    // only the analytic model runs, and the plan says why.
    let ramp = Request::from_form(&form("1000000", "1000", "86400")).expect("a valid plan");
    assert!(ramp.flow_count() > FLOW_BUDGET);
    let planned = ramp.run(&parsed.ruleset, &facts).expect("runs");
    assert_eq!(planned.runs.len(), 1);
    assert!(
        planned
            .notes
            .iter()
            .any(|n| n.contains("per-flow model was not run"))
    );
    // Asked for the per-flow model alone, the same plan is refused.
    let mut alone = ramp.clone();
    alone.mode = Mode::Flows;
    assert!(alone.run(&parsed.ruleset, &facts).is_err());
}

#[test]
fn the_fit_ends_on_any_samples() {
    use chainlens_core::conntrack::{Sample, fit};
    // One sample at 1e17 s, and two samples 1e9 s apart, used to loop forever.
    let far = [Sample {
        t: 1e17,
        count: 100.0,
    }];
    let _ = fit(&far, 30.0);
    let apart = [
        Sample { t: 0.0, count: 0.0 },
        Sample {
            t: 1e9,
            count: 60_000.0,
        },
    ];
    let f = fit(&apart, 30.0).expect("a fit");
    assert!(f.rate.is_finite() && f.start.is_finite());
    let nan = [Sample {
        t: f64::NAN,
        count: 1.0,
    }];
    assert!(fit(&nan, 30.0).is_none());
}
