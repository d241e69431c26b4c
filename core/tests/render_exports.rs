//! The exports are what they claim to be: the SVGs parse with a real XML parser (roxmltree),
//! even with hostile chain names and comments; Mermaid and DOT name every chain of the graph.

mod common;

use chainlens_core::conntrack::{Pool, Profile, Routing, Traffic, analytic};
use chainlens_core::kube::{Analysis, Cascade};
use chainlens_core::model::values::Protocol;
use chainlens_core::render::chart::{cascade_svg, conntrack_svg, pool_lines};
use chainlens_core::render::graph::ChainGraph;
use chainlens_core::render::{svg, text};
use chainlens_core::sim::NodeFacts;

fn kind() -> String {
    let path = common::shared().join("fixtures/seeds/kind-v1.23-iptables-v1.8.4.iptables-save");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn valid_svg(text: &str) {
    let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("not XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
}

#[test]
fn every_svg_export_is_well_formed_xml() {
    let parsed = chainlens_core::parse(&kind());
    for table in &parsed.ruleset.tables {
        valid_svg(&svg::chain_graph(&ChainGraph::of(table)));
    }
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = Analysis::of(&parsed.ruleset, &facts);
    for s in &analysis.services {
        valid_svg(&cascade_svg(&Cascade::of(s)));
    }
    let routing = Routing {
        pools: vec![Pool {
            endpoint: std::net::SocketAddr::from(([203, 0, 113, 3], 53)),
            snat: Some(std::net::IpAddr::from([192, 0, 2, 1])),
            share: 1.0,
            ceiling: 64_512,
            random_fully: false,
        }],
        unpooled: 0.0,
        refused: 0.0,
        unexplored: 0.0,
        assumptions: Vec::new(),
    };
    let mut t = Traffic::new(routing, Protocol::UDP, Profile::Constant(2500.0));
    t.duration = 60;
    let series = analytic(&t);
    let chart = conntrack_svg(
        "a <label> & more",
        &[&series],
        &pool_lines(&t.routing),
        None,
    );
    valid_svg(&chart);
    // Drawn by plotters, with axis titles and units and a legend naming each series: the
    // pool's own curve against its own ceiling, the total as the total.
    for words in [
        "time (s)",
        "conntrack entries",
        "refused new flows/s",
        "pool 192.0.2.1 → 203.0.113.3:53 (ceiling 64512)",
        "all entries (analytic model)",
        "nf_conntrack_count",
        "first refusal",
    ] {
        assert!(chart.contains(words), "{words} missing from the chart");
    }
    assert!(chart.contains("a &lt;label&gt; &amp; more"));
}

#[test]
fn hostile_text_stays_text_in_every_export() {
    let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n\
        -A PREROUTING -j KUBE-SERVICES\n\
        -A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment \"ns/x:p cluster IP <script>&\" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n\
        -A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment \"</svg><img src=x onerror=alert(1)> -> 10.0.0.1:80\" -m statistic --mode random --probability 0.5 -j KUBE-SEP-A\n\
        -A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-B\nCOMMIT\n";
    let parsed = chainlens_core::parse(dump);
    let nat = parsed.ruleset.table("nat").expect("nat");
    valid_svg(&svg::chain_graph(&ChainGraph::of(nat)));
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = Analysis::of(&parsed.ruleset, &facts);
    let c = cascade_svg(&Cascade::of(&analysis.services[0]));
    valid_svg(&c);
    assert!(!c.contains("<img") && !c.contains("</svg><"));
    let md = text::markdown("x", &analysis);
    assert!(md.contains("| ns/x:p |"), "{md}");
}

#[test]
fn mermaid_and_dot_name_every_chain() {
    let parsed = chainlens_core::parse(&kind());
    let graph = ChainGraph::of(parsed.ruleset.table("nat").expect("nat"));
    let m = text::mermaid(&graph);
    let d = text::dot(&graph);
    assert!(m.starts_with("flowchart LR\n"));
    for n in &graph.nodes {
        assert!(m.contains(&format!("\"{}", n.chain)), "{}", n.chain);
        assert!(d.contains(&format!("\"{}\"", n.chain)), "{}", n.chain);
    }
    assert_eq!(
        m.matches("-->").count() + m.matches("-.->").count(),
        graph.edges.len()
    );
    assert_eq!(d.matches(" -> ").count(), graph.edges.len());
}

#[test]
fn graph_nodes_say_what_they_stand_for_in_kubernetes_words() {
    // A graph of hashes says nothing; each Service chain carries its Service's name, each
    // endpoint chain its address, and the SVG export draws both lines, escaped.
    let parsed = chainlens_core::parse(&kind());
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = Analysis::of(&parsed.ruleset, &facts);
    let words = chainlens_core::kube::owners::service_words(&analysis.services);
    let nat = parsed.ruleset.table("nat").expect("nat");
    let graph =
        ChainGraph::of(nat).with_words(&|c| chainlens_core::kube::owners::chain_words(&words, c));
    let label = |chain: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.chain == chain)
            .and_then(|n| n.words.clone())
    };
    assert_eq!(
        label("KUBE-SVC-TCOU7JCQXEZGVUNU").as_deref(),
        Some("kube-system/kube-dns:dns")
    );
    let sep = graph
        .nodes
        .iter()
        .find(|n| {
            n.chain.starts_with("KUBE-SEP-")
                && n.words
                    .as_deref()
                    .is_some_and(|l| l.starts_with("→ 10.244."))
        })
        .expect("an endpoint chain labelled with its address");
    assert!(sep.width >= 100.0);
    assert_eq!(label("KUBE-SERVICES"), None);
    assert_eq!(label("PREROUTING"), None);
    // Taller nodes do not overlap: rows keep their pitch.
    for a in &graph.nodes {
        for b in &graph.nodes {
            if a.chain != b.chain && a.layer == b.layer {
                assert!(
                    a.y + a.height <= b.y || b.y + b.height <= a.y,
                    "{} overlaps {}",
                    a.chain,
                    b.chain
                );
            }
        }
    }
    let svg = svg::chain_graph(&graph);
    valid_svg(&svg);
    assert!(svg.contains(r#"<text class="words""#) && svg.contains("kube-system/kube-dns:dns"));
}

/// A chart asked for at a panel's width is drawn at that width (clamped to the range a panel
/// may ask for), its plot area (which the read-out maps the pointer through) inside it.
#[test]
fn charts_are_drawn_at_the_width_asked() {
    use chainlens_core::render::chart::{WIDTHS, cascade_chart, conntrack_chart};
    let parsed = chainlens_core::parse(&kind());
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = Analysis::of(&parsed.ruleset, &facts);
    let routing = Routing {
        pools: vec![Pool {
            endpoint: std::net::SocketAddr::from(([203, 0, 113, 3], 53)),
            snat: Some(std::net::IpAddr::from([192, 0, 2, 1])),
            share: 1.0,
            ceiling: 64_512,
            random_fully: false,
        }],
        unpooled: 0.0,
        refused: 0.0,
        unexplored: 0.0,
        assumptions: Vec::new(),
    };
    let mut t = Traffic::new(routing, Protocol::UDP, Profile::Constant(2500.0));
    t.duration = 60;
    let series = analytic(&t);
    for width in [300, 640, 1180, 5000] {
        let drawn = width.clamp(*WIDTHS.start(), *WIDTHS.end());
        let size = format!("width=\"{drawn}\"");
        let (svg, area) = cascade_chart(&Cascade::of(&analysis.services[0]), width);
        valid_svg(&svg);
        assert!(svg.contains(&size), "{width}: {}", &svg[..200]);
        assert!(
            area.left > 0.0 && area.right < area.width && area.x_to >= 1.0,
            "{area:?}"
        );
        let (svg, area) = conntrack_chart("pool", &[&series], &pool_lines(&t.routing), None, width);
        valid_svg(&svg);
        assert!(svg.contains(&size), "{width}: {}", &svg[..200]);
        assert_eq!(area.width, f64::from(drawn));
        assert!(
            area.left > 0.0 && area.right < area.width && area.right > area.left + 200.0,
            "{area:?}"
        );
    }
}
