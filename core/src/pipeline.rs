//! Everything chainlens does with one paste, in the order the app does it: read, count, print,
//! understand, trace every preset of the first Services (for the first one also its later
//! packet and its reply), plan conntrack for the first target, draw every table, chart, export,
//! and share. The fuzz targets and the regression tests run it to hold the whole pipeline to its
//! properties ([`Run::problems`]): no panic, bounded work, spans in bounds, probabilities that
//! add up, and exports that carry the user's text only as text.

use std::collections::HashMap;

use crate::conntrack::{Mode, Profile, Request, parse_target};
use crate::kube::{self, Cascade};
use crate::render::chart::{cascade_svg, conntrack_svg};
use crate::render::graph::ChainGraph;
use crate::render::{svg, text};
use crate::share::{self, Display, ShareState};
use crate::sim::{Limits, NodeFacts, Query, Which};
use crate::text::LineIndex;
use crate::{Summary, read};

/// How many Services have their presets traced.
const TRACED_SERVICES: usize = 3;

/// What one run produced, to check.
#[derive(Debug, Default)]
pub struct Run {
    pub services: usize,
    pub traces: usize,
    pub outcomes: usize,
    /// Every export and chart, by name.
    pub exports: Vec<(String, String)>,
    /// Properties that did not hold, each said.
    pub problems: Vec<String>,
}

/// Runs the whole pipeline over `text`.
pub fn run(text: &str) -> Run {
    run_with(text, Limits::default())
}

/// [`run`] with traces bounded by `limits` (the fuzzers use small ones: every code path, cut
/// off sooner, so that an input costs milliseconds rather than seconds under the sanitiser).
pub fn run_with(text: &str, limits: Limits) -> Run {
    let mut out = Run::default();
    let parsed = read(text);
    let index = LineIndex::new(text);
    for d in &parsed.diagnostics {
        let (s, e) = (d.span.start, d.span.end);
        if !(s <= e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e)) {
            out.problems.push(format!(
                "diagnostic {} has span {s}..{e} out of bounds",
                d.code
            ));
            continue;
        }
        let _ = index.line_col_utf16(text, s);
        let _ = d.render(text, &index);
    }
    let _ = Summary::of(&parsed);
    let printed = crate::print::ruleset(&parsed.ruleset);
    let (facts, _) = NodeFacts::infer(&parsed.ruleset);
    let analysis = kube::Analysis::of(&parsed.ruleset, &facts);
    out.services = analysis.services.len();
    for (k, s) in analysis.services.iter().take(TRACED_SERVICES).enumerate() {
        // Every packet of a connection for the first Service, the first packet for the rest.
        let whiches: &[Which] = if k == 0 {
            &[Which::First, Which::Next, Which::Reply]
        } else {
            &[Which::First]
        };
        for (label, form) in kube::presets(s, &facts) {
            let Ok(query) = Query::from_form(&form) else {
                out.problems
                    .push(format!("preset `{label}` does not read back as a query"));
                continue;
            };
            for &which in whiches {
                let traced = Query {
                    which,
                    ..query.clone()
                }
                .trace_with(
                    &parsed.ruleset,
                    NodeFacts::infer(&parsed.ruleset),
                    limits,
                );
                out.traces += 1;
                out.outcomes += traced.simulation.outcomes.len();
                let sum: f64 = traced.simulation.explored()
                    + traced
                        .simulation
                        .unexplored
                        .iter()
                        .map(|u| u.probability)
                        .sum::<f64>();
                if (sum - 1.0).abs() > 1e-6 {
                    out.problems
                        .push(format!("{label} ({which:?}): probabilities sum to {sum}"));
                }
            }
        }
        for c in Cascade::all(s) {
            out.exports.push(("cascade.svg".into(), cascade_svg(&c)));
        }
    }
    // The planner on the first target, both models over half a minute.
    if let Some(target) = analysis.services.iter().flat_map(kube::targets).next()
        && let Ok((to, protocol)) = parse_target(&target)
    {
        let mut request = Request::new(to, protocol, Profile::Constant(2500.0));
        request.duration = 30;
        request.limits = limits;
        request.mode = Mode::Both;
        match request.run(&parsed.ruleset, &facts) {
            Ok(planned) => {
                let runs: Vec<_> = planned.runs.iter().collect();
                out.exports.push((
                    "conntrack.svg".into(),
                    conntrack_svg(
                        &target,
                        &runs,
                        &[crate::render::chart::PoolLine {
                            label: "node → endpoint".into(),
                            ceiling: 64_512.0,
                        }],
                        None,
                    ),
                ));
            }
            Err(e) => out.problems.push(format!("plan for {target}: {e}")),
        }
    }
    let owner: HashMap<&str, &str> = analysis
        .services
        .iter()
        .flat_map(|s| s.chains.iter().map(|c| (c.as_str(), s.name.as_str())))
        .collect();
    let words = crate::kube::owners::service_words(&analysis.services);
    for table in &parsed.ruleset.tables {
        let graph =
            ChainGraph::of(table).with_words(&|c| crate::kube::owners::chain_words(&words, c));
        let grouped = ChainGraph::grouped(table, &|chain| owner.get(chain).map(|s| s.to_string()));
        out.exports
            .push(("graph.svg".into(), svg::chain_graph(&graph)));
        out.exports
            .push(("grouped.svg".into(), svg::chain_graph(&grouped)));
        out.exports
            .push(("graph.mmd".into(), text::mermaid(&graph)));
        out.exports.push(("graph.dot".into(), text::dot(&graph)));
    }
    out.exports
        .push(("analysis.md".into(), text::markdown("chainlens", &analysis)));
    out.exports.push(("printed.txt".into(), printed));
    // A link holds the paste and reads back to it.
    let state = ShareState {
        input: text.to_string(),
        view: "graph".into(),
        ..ShareState::default()
    };
    let fragment = share::fragment(&state, &Display::default());
    match share::parse_fragment(&fragment) {
        Ok((back, _)) if back == state => {}
        Ok(_) => out
            .problems
            .push("a link does not read back to its state".into()),
        // Too long for a link is said, not a fault.
        Err(share::ShareError::TooLong(_)) if fragment.len() > share::MAX_LINK => {}
        Err(e) => out.problems.push(format!("a link does not read back: {e}")),
    }
    out
}
