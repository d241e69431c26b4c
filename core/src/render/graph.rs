//! The chain graph of one table, laid out left to right: built-in chains in the first column,
//! every chain one column right of the furthest chain that jumps to it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{BUILTIN_CHAINS, Table, TargetKind};

/// Node height and the gaps between nodes and columns, in SVG user units.
const NODE_HEIGHT: f64 = 28.0;
/// The height of a node with a second line (its Kubernetes words), and that line's character
/// width at 11px.
const LABELLED_HEIGHT: f64 = 42.0;
const SMALL_CHAR_WIDTH: f64 = 6.7;
const ROW_GAP: f64 = 12.0;
const COLUMN_GAP: f64 = 72.0;
const MARGIN: f64 = 16.0;
/// Width of one character of the 12px monospace label font, plus padding.
const CHAR_WIDTH: f64 = 7.3;
const NODE_PADDING: f64 = 24.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainGraph {
    pub table: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub width: f64,
    pub height: f64,
    /// Each layer's column: its left and right x.
    pub columns: Vec<(f64, f64)>,
    /// The distance from one row's top to the next's (the same in every column, so the gaps
    /// between rows line up across the graph and a jump over several columns runs in one).
    pub pitch: f64,
}

/// One piece of an edge's route ([`ChainGraph::edge_route`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Segment {
    /// A straight line to the point.
    Line(f64, f64),
    /// An S-curve to the point, leaving and arriving horizontally (a cubic Bézier with both
    /// control points half way across).
    Curve(f64, f64),
    /// A curve to the point bowing out to the right of both ends (a jump backwards).
    Bow(f64, f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Builtin,
    User,
    /// Jumped to, but not in the paste.
    Missing,
    /// Several chains shown as one (a Service's chains, folded).
    Group,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Builtin => "builtin",
            NodeKind::User => "user",
            NodeKind::Missing => "missing",
            NodeKind::Group => "group",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The chain's name, or the group's label.
    pub chain: String,
    /// What it stands for in Kubernetes words (a Service, an endpoint, a component), shown
    /// under the name.
    pub words: Option<String>,
    pub kind: NodeKind,
    pub rules: usize,
    /// How many chains the node stands for (1 unless it is a group).
    pub members: usize,
    pub layer: usize,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// All jumps (or gotos) from one chain to another, merged into one edge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// 1-based positions of the jumping rules in the `from` chain.
    pub rules: Vec<usize>,
    pub goto: bool,
}

impl ChainGraph {
    /// Lays out the chains of `table` and the jumps between them.
    pub fn of(table: &Table) -> Self {
        ChainGraph::grouped(table, &|_| None)
    }

    /// The same, with chains folded into one node per group: `group(chain)` names the node a
    /// chain belongs to (a Service, say), `None` keeps it on its own. Jumps inside a group
    /// disappear; jumps into or out of it join the group's node.
    pub fn grouped(table: &Table, group: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut nodes: Vec<Node> = Vec::new();
        let mut groups: HashMap<String, usize> = HashMap::new();
        let mut place =
            |nodes: &mut Vec<Node>, name: &str, kind: NodeKind, rules: usize| match group(name) {
                Some(label) => {
                    let i = *groups.entry(label.clone()).or_insert_with(|| {
                        nodes.push(node(&label, NodeKind::Group, 0));
                        nodes.len() - 1
                    });
                    nodes[i].rules += rules;
                    nodes[i].members += 1;
                    i
                }
                None => {
                    nodes.push(node(name, kind, rules));
                    nodes.len() - 1
                }
            };
        let node_of: Vec<usize> = table
            .chains
            .iter()
            .map(|c| {
                let kind = if c.is_builtin() {
                    NodeKind::Builtin
                } else {
                    NodeKind::User
                };
                place(&mut nodes, &c.name, kind, c.rules.len())
            })
            .collect();
        let mut edges: Vec<Edge> = Vec::new();
        let index = table.index();
        let mut missing: HashMap<&str, usize> = HashMap::new();
        // Merging repeated jumps: (from, to, goto) → edge position.
        let mut merged: HashMap<(usize, usize, bool), usize> = HashMap::new();
        for (c, chain) in table.chains.iter().enumerate() {
            let from = node_of[c];
            for (i, rule) in chain.rules.iter().enumerate() {
                let Some(target) = &rule.target else { continue };
                let to = match index.resolve(target) {
                    TargetKind::Chain => index.get(&target.name).map(|t| node_of[t]),
                    TargetKind::MissingChain => {
                        Some(*missing.entry(target.name.as_str()).or_insert_with(|| {
                            place(&mut nodes, &target.name, NodeKind::Missing, 0)
                        }))
                    }
                    TargetKind::Verdict | TargetKind::Extension => None,
                };
                let Some(to) = to else { continue };
                if to == from && nodes[from].kind == NodeKind::Group {
                    continue;
                }
                match merged.get(&(from, to, target.goto)) {
                    Some(&e) => edges[e].rules.push(i + 1),
                    None => {
                        merged.insert((from, to, target.goto), edges.len());
                        edges.push(Edge {
                            from,
                            to,
                            rules: vec![i + 1],
                            goto: target.goto,
                        });
                    }
                }
            }
        }
        let mut graph = ChainGraph {
            table: table.name.clone(),
            nodes,
            edges,
            width: 0.0,
            height: 0.0,
            columns: Vec::new(),
            pitch: NODE_HEIGHT,
        };
        graph.layout();
        graph
    }

    /// Gives each node the words `words(chain)` says it stands for, under its name, and lays
    /// the graph out again for the taller nodes.
    pub fn with_words(mut self, words: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut any = false;
        for n in &mut self.nodes {
            if n.kind == NodeKind::Group {
                continue;
            }
            n.words = words(&n.chain);
            if let Some(l) = &n.words {
                any = true;
                n.width = n
                    .width
                    .max(l.chars().count() as f64 * SMALL_CHAR_WIDTH + NODE_PADDING);
            }
        }
        if any {
            for n in &mut self.nodes {
                n.height = LABELLED_HEIGHT;
            }
            self.layout();
        }
        self
    }

    /// What an edge stands for, as its tooltip says it: `A → B (rule 1, 2)`.
    pub fn edge_title(&self, edge: &Edge) -> String {
        let rules: Vec<String> = edge.rules.iter().map(usize::to_string).collect();
        format!(
            "{} → {} (rule {})",
            self.nodes[edge.from].chain,
            self.nodes[edge.to].chain,
            rules.join(", ")
        )
    }

    /// The SVG path of an edge ([`ChainGraph::edge_route`]).
    pub fn edge_path(&self, edge: &Edge) -> String {
        let (start, route) = self.edge_route(edge);
        let mut d = format!("M{:.1},{:.1}", start.0, start.1);
        let mut at = start;
        for seg in route {
            match seg {
                Segment::Line(x, y) => d.push_str(&format!(" L{x:.1},{y:.1}")),
                Segment::Curve(x, y) => {
                    let mid = (at.0 + x) / 2.0;
                    d.push_str(&format!(
                        " C{mid:.1},{:.1} {mid:.1},{y:.1} {x:.1},{y:.1}",
                        at.1
                    ));
                }
                Segment::Bow(x, y) => {
                    let reach = COLUMN_GAP / 2.0;
                    d.push_str(&format!(
                        " C{:.1},{:.1} {:.1},{y:.1} {x:.1},{y:.1}",
                        at.0 + reach,
                        at.1,
                        x + reach
                    ));
                }
            }
            at = match seg {
                Segment::Line(x, y) | Segment::Curve(x, y) | Segment::Bow(x, y) => (x, y),
            };
        }
        d
    }

    /// An edge's route around the nodes: from the right side of its source, straight to the
    /// edge of its column, and in the gap between columns curving to the left side of its
    /// target. A jump over several columns curves into the gap between two rows instead
    /// (rows line up across columns), runs along it, and curves into its target from the last
    /// gap. A jump backwards (a loop; iptables forbids them, a paste may not) bows round the
    /// right of its target.
    pub fn edge_route(&self, edge: &Edge) -> ((f64, f64), Vec<Segment>) {
        let (a, b) = (&self.nodes[edge.from], &self.nodes[edge.to]);
        let (x1, y1) = (a.x + a.width, a.y + a.height / 2.0);
        let (x2, y2) = (b.x, b.y + b.height / 2.0);
        let column = |layer: usize| self.columns.get(layer).copied();
        let (Some((_, right)), true) = (column(a.layer), b.layer > a.layer) else {
            return ((x1, y1), vec![Segment::Bow(b.x + b.width, y2)]);
        };
        let mut route = Vec::new();
        if right > x1 {
            route.push(Segment::Line(right, y1));
        }
        if b.layer == a.layer + 1 {
            route.push(Segment::Curve(x2, y2));
            return ((x1, y1), route);
        }
        // The gap between rows next to the target, on the source's side.
        let row = ((b.y - MARGIN) / (self.pitch + ROW_GAP)).round();
        let gap_above = MARGIN + row * (self.pitch + ROW_GAP) - ROW_GAP / 2.0;
        let lane = if y1 <= y2 {
            gap_above
        } else {
            gap_above + self.pitch + ROW_GAP
        };
        let before = column(b.layer - 1).map_or(x2 - COLUMN_GAP, |(_, r)| r);
        let first = column(a.layer + 1).map_or(right + COLUMN_GAP, |(l, _)| l);
        route.push(Segment::Curve(first, lane));
        if before > first {
            route.push(Segment::Line(before, lane));
        }
        route.push(Segment::Curve(x2, y2));
        ((x1, y1), route)
    }

    fn layout(&mut self) {
        let n = self.nodes.len();
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
        for e in self.edges.iter().filter(|e| e.from != e.to) {
            preds[e.to].push(e.from);
            succs[e.from].push(e.to);
        }
        // Longest-path layering by Kahn's algorithm; iptables forbids loops, but a paste may
        // still hold one, so a node stuck in a cycle is released in declaration order.
        let mut indegree: Vec<usize> = preds.iter().map(Vec::len).collect();
        let mut layer = vec![0usize; n];
        let mut done = vec![false; n];
        let mut queue: std::collections::VecDeque<usize> =
            (0..n).filter(|&v| indegree[v] == 0).collect();
        let mut finished = 0;
        while finished < n {
            let v = match queue.pop_front() {
                Some(v) => v,
                None => match (0..n).find(|&v| !done[v]) {
                    Some(v) => v,
                    None => break,
                },
            };
            if done[v] {
                continue;
            }
            done[v] = true;
            finished += 1;
            for &s in &succs[v] {
                if !done[s] {
                    layer[s] = layer[s].max(layer[v] + 1);
                    indegree[s] -= 1;
                    if indegree[s] == 0 {
                        queue.push_back(s);
                    }
                }
            }
        }
        let layers = layer.iter().max().map_or(0, |m| m + 1);
        let mut columns: Vec<Vec<usize>> = vec![Vec::new(); layers];
        for v in 0..n {
            self.nodes[v].layer = layer[v];
            columns[layer[v]].push(v);
        }
        // Column 0: hooks in packet order; later columns: by the mean row of their callers.
        let mut row = vec![0.0f64; n];
        for (c, column) in columns.iter_mut().enumerate() {
            if c == 0 {
                column.sort_by_key(|&v| {
                    let hook = BUILTIN_CHAINS
                        .iter()
                        .position(|h| *h == self.nodes[v].chain);
                    (hook.unwrap_or(BUILTIN_CHAINS.len()), v)
                });
            } else {
                let key = |v: usize| {
                    let p = &preds[v];
                    if p.is_empty() {
                        f64::MAX
                    } else {
                        p.iter().map(|&u| row[u]).sum::<f64>() / p.len() as f64
                    }
                };
                column.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
            }
            for (r, &v) in column.iter().enumerate() {
                row[v] = r as f64;
            }
        }
        let pitch = self
            .nodes
            .iter()
            .map(|n| n.height)
            .fold(NODE_HEIGHT, f64::max);
        let mut x = MARGIN;
        let mut height: f64 = 0.0;
        self.pitch = pitch;
        self.columns.clear();
        for column in &columns {
            let width = column
                .iter()
                .map(|&v| self.nodes[v].width)
                .fold(0.0, f64::max);
            for (r, &v) in column.iter().enumerate() {
                let node = &mut self.nodes[v];
                node.x = x;
                node.y = MARGIN + r as f64 * (pitch + ROW_GAP);
                height = height.max(node.y + pitch);
            }
            self.columns.push((x, x + width));
            x += width + COLUMN_GAP;
        }
        self.width = (x - COLUMN_GAP + MARGIN).max(2.0 * MARGIN);
        self.height = height + MARGIN;
    }
}

fn label_width(label: &str) -> f64 {
    label.chars().count() as f64 * CHAR_WIDTH + NODE_PADDING
}

fn node(chain: &str, kind: NodeKind, rules: usize) -> Node {
    Node {
        chain: chain.to_string(),
        words: None,
        kind,
        rules,
        members: usize::from(kind != NodeKind::Group),
        layer: 0,
        x: 0.0,
        y: 0.0,
        width: label_width(chain),
        height: NODE_HEIGHT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn graph(text: &str) -> ChainGraph {
        ChainGraph::of(&parse(text).ruleset.tables[0])
    }

    #[test]
    fn chains_are_layered_by_longest_jump_path() {
        let g = graph(
            "*nat\n:PREROUTING ACCEPT\n:A -\n:B -\n-A PREROUTING -j A\n-A PREROUTING -j B\n-A A -j B\n-A B -j MASQUERADE\nCOMMIT\n",
        );
        let layer = |name: &str| g.nodes.iter().find(|n| n.chain == name).map(|n| n.layer);
        assert_eq!(
            (layer("PREROUTING"), layer("A"), layer("B")),
            (Some(0), Some(1), Some(2))
        );
        assert_eq!(g.edges.len(), 3);
        assert!(
            g.nodes
                .iter()
                .all(|n| n.x + n.width <= g.width && n.y + n.height <= g.height)
        );
    }

    #[test]
    fn repeated_jumps_merge_and_missing_chains_appear() {
        let g = graph(
            "*nat\n:OUTPUT ACCEPT\n-A OUTPUT -p tcp -j KUBE-SEP-X\n-A OUTPUT -p udp -j KUBE-SEP-X\nCOMMIT\n",
        );
        assert_eq!(g.edges.len(), 1);
        assert_eq!(g.edges[0].rules, [1, 2]);
        assert_eq!(g.nodes[1].kind, NodeKind::Missing);
    }

    /// Points along a route, every 1/20 of each piece.
    fn sample(start: (f64, f64), route: &[Segment]) -> Vec<(f64, f64)> {
        let mut at = start;
        let mut out = vec![start];
        for seg in route {
            let (x, y) = match *seg {
                Segment::Line(x, y) | Segment::Curve(x, y) | Segment::Bow(x, y) => (x, y),
            };
            for k in 1..=20 {
                let t = f64::from(k) / 20.0;
                let p = match seg {
                    Segment::Line(..) => (at.0 + (x - at.0) * t, at.1 + (y - at.1) * t),
                    // A cubic with both control points at mid x: y by the Bézier weights.
                    _ => {
                        let mid = (at.0 + x) / 2.0;
                        let (u, w) = (1.0 - t, t);
                        (
                            u * u * u * at.0
                                + 3.0 * u * u * w * mid
                                + 3.0 * u * w * w * mid
                                + w * w * w * x,
                            (u * u * u + 3.0 * u * u * w) * at.1
                                + (3.0 * u * w * w + w * w * w) * y,
                        )
                    }
                };
                out.push(p);
            }
            at = (x, y);
        }
        out
    }

    #[test]
    fn edges_go_round_the_nodes_they_do_not_join() {
        // kube-proxy's shape: KUBE-SERVICES, the SVC and SEP chains and KUBE-MARK-MASQ jumped
        // to from every layer, chains of different widths.
        let mut text = String::from(
            "*nat\n:PREROUTING ACCEPT\n:OUTPUT ACCEPT\n:POSTROUTING ACCEPT\n:KUBE-SERVICES -\n:KUBE-MARK-MASQ -\n:KUBE-POSTROUTING -\n:KUBE-NODEPORTS -\n\
             -A PREROUTING -j KUBE-SERVICES\n-A OUTPUT -j KUBE-SERVICES\n-A POSTROUTING -j KUBE-POSTROUTING\n\
             -A KUBE-SERVICES -j KUBE-NODEPORTS\n-A KUBE-NODEPORTS -j KUBE-MARK-MASQ\n",
        );
        for s in 0..6 {
            text.push_str(&format!(
                "-A KUBE-SERVICES -j KUBE-MARK-MASQ\n-A KUBE-SERVICES -j KUBE-SVC-{s}\n"
            ));
            if s % 2 == 0 {
                text.push_str(&format!("-A KUBE-NODEPORTS -j KUBE-EXT-LONGER-NAME-{s}\n-A KUBE-EXT-LONGER-NAME-{s} -j KUBE-SVC-{s}\n-A KUBE-EXT-LONGER-NAME-{s} -j KUBE-MARK-MASQ\n"));
            }
            for e in 0..2 {
                text.push_str(&format!(
                    "-A KUBE-SVC-{s} -j KUBE-SEP-{s}{e}\n-A KUBE-SEP-{s}{e} -j KUBE-MARK-MASQ\n"
                ));
            }
        }
        text.push_str("COMMIT\n");
        let parsed = crate::parse(&text);
        let mut long = 0;
        for table in &parsed.ruleset.tables {
            let g = ChainGraph::of(table)
                .with_words(&|c: &str| c.starts_with("KUBE-SVC").then(|| "a Service".into()));
            for e in &g.edges {
                let (start, route) = g.edge_route(e);
                long += usize::from(g.nodes[e.to].layer > g.nodes[e.from].layer + 1);
                for (x, y) in sample(start, &route) {
                    for (i, n) in g.nodes.iter().enumerate() {
                        let inside = x > n.x + 0.5
                            && x < n.x + n.width - 0.5
                            && y > n.y + 0.5
                            && y < n.y + n.height - 0.5;
                        assert!(
                            !inside || i == e.from || i == e.to,
                            "{} crosses {} at ({x:.1}, {y:.1})",
                            g.edge_title(e),
                            n.chain
                        );
                    }
                }
            }
        }
        assert!(
            long > 3,
            "the fixture has jumps over several columns ({long})"
        );
    }

    #[test]
    fn a_loop_still_lays_out() {
        let g = graph("*filter\n:A -\n:B -\n-A A -j B\n-A B -j A\nCOMMIT\n");
        assert_eq!(g.nodes.len(), 2);
        assert!(g.edge_path(&g.edges[1]).starts_with('M'));
    }

    #[test]
    fn grouped_chains_become_one_node_with_outside_jumps_kept() {
        let dump = "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-A - [0:0]\n:KUBE-SEP-A - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n\
            -A PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -j KUBE-SVC-A\n-A KUBE-SVC-A -j KUBE-SEP-A\n\
            -A KUBE-SEP-A -j KUBE-MARK-MASQ\n-A KUBE-SEP-A -j RETURN\nCOMMIT\n";
        let parsed = crate::parse(dump);
        let table = parsed.ruleset.table("nat").expect("nat");
        let graph = ChainGraph::grouped(table, &|c: &str| {
            (c == "KUBE-SVC-A" || c == "KUBE-SEP-A").then(|| "ns/a:http".to_string())
        });
        let names: Vec<&str> = graph.nodes.iter().map(|n| n.chain.as_str()).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        let group = graph
            .nodes
            .iter()
            .find(|n| n.chain == "ns/a:http")
            .expect("the group");
        assert_eq!(
            (group.kind, group.members, group.rules),
            (NodeKind::Group, 2, 3)
        );
        let edge = |from: &str, to: &str| {
            graph
                .edges
                .iter()
                .any(|e| graph.nodes[e.from].chain == from && graph.nodes[e.to].chain == to)
        };
        assert!(edge("KUBE-SERVICES", "ns/a:http"));
        assert!(edge("ns/a:http", "KUBE-MARK-MASQ"));
        assert!(!edge("ns/a:http", "ns/a:http"));
    }
}
