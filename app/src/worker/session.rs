//! The worker's side: the paste and its model, and an answer to each question, built by the
//! core and packed as a view-model.

use std::cell::RefCell;
use std::rc::Rc;

use chainlens_core::conntrack::Request;
use chainlens_core::kube::{self, Cascade, CascadeForm, Policy, ServicePort};
use chainlens_core::model::Origin;
use chainlens_core::render::chart::{cascade_chart, cascade_svg, conntrack_chart, pool_lines};
use chainlens_core::render::{svg, text};
use chainlens_core::share::{self, Plan, ShareState, TraceQuery};
use chainlens_core::sim::{Assumption, Effect, Limits, Outcome, Query, Verdict};
use chainlens_core::{Ruleset, Span};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::{
    Answer, Ask, CHAIN_RULES_SHOWN, DIAGNOSTIC_PLACES_SHOWN, DIAGNOSTICS_SHOWN, Envelope,
    ExportKind, FINDINGS_SHOWN, Message,
};
use crate::analysis::Analysis;
use crate::views;

use chainlens_core::kube::presets::OUTSIDE;

/// Starts answering: every message is one question; the answer goes back tagged with its id.
pub fn serve() {
    let scope: web_sys::DedicatedWorkerGlobalScope = web_sys::js_sys::global().unchecked_into();
    // A bug that panics kills the worker: say why first, so the page can tell the user.
    let died = scope.clone();
    std::panic::set_hook(Box::new(move |info| {
        let message = Message::Died(info.to_string());
        if let Ok(json) = serde_json::to_string(&message) {
            let _ = died.post_message(&JsValue::from_str(&json));
        }
        web_sys::console::error_1(&JsValue::from_str(&info.to_string()));
    }));
    let session = Rc::new(RefCell::new(Session::default()));
    let reply = scope.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let data: web_sys::js_sys::Array = ev.data().unchecked_into();
            let header = data.get(0).as_string().unwrap_or_default();
            let text = data.get(1).as_string();
            let Ok(envelope) = serde_json::from_str::<Envelope>(&header) else {
                return;
            };
            let answer = session.borrow_mut().answer(envelope.ask, text);
            let message = Message::Answer {
                id: envelope.id,
                answer: Box::new(answer),
            };
            if let Ok(json) = serde_json::to_string(&message) {
                let _ = reply.post_message(&JsValue::from_str(&json));
            }
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    if let Ok(json) = serde_json::to_string(&Message::Ready) {
        let _ = scope.post_message(&JsValue::from_str(&json));
    }
}

/// The paste and its model.
#[derive(Default)]
struct Session {
    text: String,
    analysis: Option<Analysis>,
    understood: bool,
}

impl Session {
    fn answer(&mut self, ask: Ask, text: Option<String>) -> Answer {
        match ask {
            Ask::Read => {
                self.text = text.unwrap_or_default();
                let analysis = Analysis::read(&self.text);
                let read = self.read(&analysis);
                self.analysis = Some(analysis);
                self.understood = false;
                Answer::Read(read)
            }
            Ask::Understand => Answer::Understood(self.understand()),
            Ask::Services {
                filter,
                sort,
                reverse,
                limit,
            } => Answer::Services(self.services(&filter, sort, reverse, limit)),
            Ask::ServiceNames { filter, limit } => {
                let needle = filter.to_ascii_lowercase();
                let mut names: Vec<String> = self
                    .all_services()
                    .iter()
                    .filter(|s| s.name.to_ascii_lowercase().contains(&needle))
                    .map(|s| s.name.clone())
                    .collect();
                names.sort_by(|a, b| natural(a, b));
                names.truncate(limit);
                Answer::ServiceNames(names)
            }
            Ask::Service { name } => Answer::Service(self.service(&name)),
            Ask::Graph {
                table,
                fold,
                expanded,
                search,
            } => Answer::Graph(self.graph(table, fold, &expanded, &search)),
            Ask::Cascade { service, width } => Answer::Cascade(self.cascade(&service, width)),
            Ask::Chain { table, chain } => Answer::Chain(self.chain(&table, &chain)),
            Ask::Trace { query } => Answer::Trace(self.trace(&query)),
            Ask::Plan { plan, width } => Answer::Plan(self.plan(&plan, width)),
            Ask::Compare {
                dst,
                port,
                proto,
                in_iface,
            } => Answer::Compare(
                self.compare(&text.unwrap_or_default(), [&dst, &port, &proto, &in_iface]),
            ),
            Ask::Link { state, embed } => Answer::Text(share::fragment(
                &self.with_input(state),
                &share::Display { embed, theme: None },
            )),
            Ask::File { state } => Answer::Text(share::to_file(&self.with_input(state))),
            Ask::Export { what, view } => Answer::Export(self.export(what, &view)),
            Ask::Crash => panic!("the worker was asked to crash (a test hook)"),
        }
    }

    fn with_input(&self, mut state: ShareState) -> ShareState {
        state.input.clone_from(&self.text);
        state
    }

    fn all_services(&mut self) -> &[ServicePort] {
        self.understand_once();
        self.analysis.as_ref().map_or(&[], |a| &a.kube.services)
    }

    fn understand_once(&mut self) {
        if !self.understood
            && let Some(a) = &mut self.analysis
        {
            a.understand();
            self.understood = true;
        }
    }

    fn line(&self, span: Span) -> usize {
        self.analysis.as_ref().map_or(0, |a| {
            a.line_index.line_col_utf16(&self.text, span.start).line
        })
    }

    fn read(&self, a: &Analysis) -> views::Read {
        let s = &a.summary;
        views::Read {
            format: s.format.to_string(),
            tables: s
                .tables
                .iter()
                .map(|t| views::TableCount {
                    name: t.name.clone(),
                    chains: t.chains,
                    rules: t.rules,
                })
                .collect(),
            conntrack: s.conntrack,
            errors: s.errors,
            diagnostics_total: a.parsed.diagnostics.len(),
            diagnostics: chainlens_core::diag::repeated(&a.parsed.diagnostics)
                .iter()
                .take(DIAGNOSTICS_SHOWN)
                .map(|r| {
                    let d = r.first;
                    let at = a.line_index.line_col_utf16(&self.text, d.span.start);
                    views::Diagnostic {
                        severity: d.severity.as_str().to_string(),
                        code: d.code.to_string(),
                        line: at.line,
                        column: at.column,
                        message: d.message.clone(),
                        help: d.help.clone(),
                        times: r.spans.len(),
                        also: r
                            .spans
                            .iter()
                            .filter(|s| **s != d.span)
                            .take(DIAGNOSTIC_PLACES_SHOWN)
                            .map(|s| a.line_index.line_col_utf16(&self.text, s.start).line)
                            .collect(),
                    }
                })
                .collect(),
            default_table: a.default_table(),
            inferred: a.inferred.iter().map(ToString::to_string).collect(),
        }
    }

    fn understand(&mut self) -> views::Understood {
        self.understand_once();
        let Some(a) = &self.analysis else {
            return views::Understood::default();
        };
        let services = &a.kube.services;
        let findings = a
            .kube
            .findings
            .iter()
            .take(FINDINGS_SHOWN)
            .map(|f| views::Finding {
                code: f.code.to_string(),
                severity: f.severity.as_str().to_string(),
                message: f.message.clone(),
                explanation: f.explanation.clone(),
                action: f.action.clone(),
                service: f.service.clone(),
                // In the paste's order, as the gutter and the line links read.
                rules: {
                    let mut rules: Vec<views::RuleRef> = f
                        .rules
                        .iter()
                        .map(|r| views::RuleRef {
                            table: r.table.clone(),
                            chain: r.chain.clone(),
                            rule: r.rule,
                            line: self.line(r.span),
                        })
                        .collect();
                    rules.sort_by_key(|r| r.line);
                    rules.truncate(8);
                    rules
                },
                rules_total: f.rules.len(),
                trace: f.probe.as_ref().map(kube::probe_query),
                plan_target: f.probe.as_ref().map(kube::probe_target),
            })
            .collect();
        views::Understood {
            services: services.len(),
            endpoints: services.iter().map(|s| s.endpoints.len()).sum(),
            external: services
                .iter()
                .filter(|s| s.external_traffic_policy.is_some())
                .count(),
            findings,
            findings_total: a.kube.findings.len(),
            // The story starts where the most severe finding about a Service points (the first
            // of those).
            default_service: a.default_service(),
            conntrack_entries: a.parsed.conntrack.len(),
            conntrack_pools: chainlens_core::conntrack::pool_occupancy(&a.parsed.conntrack),
            // The toggle shows as ticked when the default table's graph opens folded.
            fold: a.default_table().is_some_and(|t| {
                let fold = a.fold(&t, None);
                fold.services || fold.components
            }),
        }
    }

    fn services(
        &mut self,
        filter: &str,
        sort: views::Column,
        reverse: bool,
        limit: usize,
    ) -> views::ServicesPage {
        let needle = filter.to_ascii_lowercase();
        let all = self.all_services();
        let mut list: Vec<&ServicePort> = all
            .iter()
            .filter(|s| {
                needle.is_empty()
                    || s.name.to_ascii_lowercase().contains(&needle)
                    || addresses(s).contains(&needle)
            })
            .collect();
        match sort {
            views::Column::Name => list.sort_by(|x, y| natural(&x.name, &y.name)),
            views::Column::Kind => list.sort_by_key(|s| kind(s)),
            views::Column::Endpoints => list.sort_by_key(|s| s.endpoints.len()),
            views::Column::Cost => list.sort_by_key(|s| s.cost.unwrap_or(0)),
        }
        if reverse {
            list.reverse();
        }
        views::ServicesPage {
            total: list.len(),
            rows: list
                .into_iter()
                .take(limit)
                .map(|s| views::ServiceRow {
                    name: s.name.clone(),
                    kind: kind(s).to_string(),
                    addresses: addresses(s),
                    endpoints: if s.endpoints_known || s.no_endpoints.is_some() {
                        s.endpoints.len().to_string()
                    } else {
                        "?".to_string()
                    },
                    policy: match s.external_traffic_policy {
                        Some(Policy::Local) => "external Local",
                        Some(Policy::Cluster) => "external Cluster",
                        None => "-",
                    }
                    .to_string(),
                    cost: s.cost.map_or("-".to_string(), |c| c.to_string()),
                })
                .collect(),
        }
    }

    fn service(&mut self, name: &str) -> Option<views::ServiceDetail> {
        self.understand_once();
        let a = self.analysis.as_ref()?;
        let s = a.kube.services.iter().find(|s| s.name == name)?;
        Some(views::ServiceDetail {
            name: s.name.clone(),
            presets: kube::presets(s, &a.facts),
            targets: kube::targets(s),
        })
    }

    /// A chain as the graph's side panel shows it: what it is for, then each rule as written,
    /// in words, with its line.
    fn chain(&mut self, table: &str, name: &str) -> Option<views::ChainDetail> {
        self.understand_once();
        let a = self.analysis.as_ref()?;
        let t = a.parsed.ruleset.table(table)?;
        let chain = t.chains.get(t.index().get(name)?)?;
        let services = &a.kube.services;
        Some(views::ChainDetail {
            table: table.to_string(),
            chain: name.to_string(),
            words: kube::owners::chain_words(&a.words, name),
            explanation: kube::explain_chain(t, chain, services),
            line: chain.declared.map_or(0, |s| self.line(s)),
            rules: chain
                .rules
                .iter()
                .enumerate()
                .take(CHAIN_RULES_SHOWN)
                .map(|(i, r)| views::ChainRule {
                    line: (r.origin != Origin::Assumed).then(|| self.line(r.span)),
                    text: format!(
                        "-A {name} {}",
                        chainlens_core::print::rule(r, a.parsed.ruleset.ipv6)
                    ),
                    explanation: kube::explain_rule(t, chain, i, services),
                })
                .collect(),
            rules_total: chain.rules.len(),
        })
    }

    fn graph(
        &mut self,
        table: Option<String>,
        fold: Option<bool>,
        expanded: &[String],
        search: &str,
    ) -> Option<views::Graph> {
        self.understand_once();
        let a = self.analysis.as_ref()?;
        let table = table.or_else(|| a.default_table())?;
        let fold = a.fold(&table, fold);
        let graph = a.graph(&table, fold, expanded, search)?;
        let note = a.graph_note(fold, search);
        let t = a.parsed.ruleset.table(&table)?;
        let index = t.index();
        let services = &a.kube.services;
        let node_titles = graph
            .nodes
            .iter()
            .map(|n| match index.get(&n.chain).map(|c| &t.chains[c]) {
                Some(c) => format!(
                    "{} ({} rules): {}",
                    n.chain,
                    n.rules,
                    kube::explain_chain(t, c, services)
                ),
                None if n.members > 1 => format!(
                    "{}: {} chains, {} rules — click to unfold",
                    n.chain, n.members, n.rules
                ),
                None => format!("{} ({} rules)", n.chain, n.rules),
            })
            .collect();
        // Hovering a jump shows the rules that make it, as written and in words.
        let edge_titles = graph
            .edges
            .iter()
            .map(|e| {
                let from = &graph.nodes[e.from].chain;
                let rules: Vec<String> = index
                    .get(from)
                    .map(|c| &t.chains[c])
                    .into_iter()
                    .flat_map(|chain| {
                        e.rules.iter().take(3).filter_map(move |n| {
                            let rule = chain.rules.get(n.checked_sub(1)?)?;
                            Some(format!(
                                "#{n}: -A {} {}\n{}",
                                chain.name,
                                chainlens_core::print::rule(rule, a.parsed.ruleset.ipv6),
                                kube::explain_rule(t, chain, n - 1, services)
                            ))
                        })
                    })
                    .collect();
                if rules.is_empty() {
                    graph.edge_title(e)
                } else {
                    format!("{}\n\n{}", graph.edge_title(e), rules.join("\n\n"))
                }
            })
            .collect();
        Some(views::Graph {
            graph,
            node_titles,
            edge_titles,
            note,
        })
    }

    fn cascade(&mut self, service: &str, width: u32) -> Vec<views::Cascade> {
        let Some(s) = self.all_services().iter().find(|s| s.name == service) else {
            return Vec::new();
        };
        Cascade::all(s)
            .into_iter()
            .map(|c| {
                let form = match c.form {
                    CascadeForm::Single => "one endpoint",
                    CascadeForm::Legacy => "written by kube-proxy ≤ 1.16 (5 decimals)",
                    CascadeForm::Modern => "written by kube-proxy ≥ 1.17 (10 decimals)",
                    CascadeForm::Other => "not as kube-proxy writes them",
                };
                let (svg, plot) = cascade_chart(&c, width);
                views::Cascade {
                    title: format!("{} — {form}", c.chain),
                    svg,
                    plot,
                    steps: c
                        .steps
                        .iter()
                        .map(|s| views::CascadeStep {
                            endpoint: s
                                .endpoint
                                .clone()
                                .unwrap_or_else(|| format!("{} (not in the paste)", s.chain)),
                            rule: s.shown.clone().unwrap_or_else(|| "rest".into()),
                            probability: s.probability,
                            deviation: s.deviation,
                        })
                        .collect(),
                    note: format!(
                        "Shares sum to {:.12}; spread {:.2e}; {}",
                        c.sum,
                        c.spread,
                        if c.unmatched > 0.0 {
                            format!("{:.4}% match no endpoint rule", c.unmatched * 100.0)
                        } else {
                            "every connection finds an endpoint".into()
                        }
                    ),
                }
            })
            .collect()
    }

    fn trace(&self, form: &TraceQuery) -> Result<views::Trace, String> {
        let a = self
            .analysis
            .as_ref()
            .ok_or("nothing is pasted yet".to_string())?;
        let query = Query::from_form(form).map_err(|e| e.to_string())?;
        let traced = query.trace_with(
            &a.parsed.ruleset,
            (a.facts.clone(), a.inferred.clone()),
            Limits::default(),
        );
        let sim = &traced.simulation;
        let mut assumed: Vec<String> = traced.inferred.iter().map(ToString::to_string).collect();
        assumed.extend(sim.assumptions.iter().map(ToString::to_string));
        let outcomes: Vec<views::Outcome> = sim
            .outcomes
            .iter()
            .map(|o| views::Outcome {
                probability: o.probability,
                paths: o.paths,
                verdict: verdict(o.verdict).to_string(),
                headline: o.headline(),
                ends_as: o.ends_as(),
                dnat: o.dnat.map(|d| d.to_string()).unwrap_or_default(),
                snat: o.snat.map(|s| s.to_string()).unwrap_or_default(),
                src: o.src.to_string(),
                dst: o.dst.to_string(),
                steps: o
                    .path
                    .iter()
                    .map(|s| views::Step {
                        table: s.table.to_string(),
                        chain: s.chain.to_string(),
                        // A policy step says "policy ACCEPT" itself.
                        rule: s.rule.map_or(String::new(), |r| {
                            let assumed = s.source.is_some_and(|r| r.origin == Origin::Assumed);
                            format!("#{r}{}", if assumed { " (assumed)" } else { "" })
                        }),
                        action: s.effect.to_string(),
                        line: s.span.map(|span| self.line(span)),
                    })
                    .collect(),
                looped_at: o.looped_at,
                assumptions: o
                    .assumptions
                    .iter()
                    .filter(|a| !matches!(a, Assumption::Either { .. }))
                    .map(ToString::to_string)
                    .collect(),
                either: o
                    .assumptions
                    .iter()
                    .filter_map(|a| match a {
                        Assumption::Either { test } => Some(test.to_string()),
                        _ => None,
                    })
                    .collect(),
                path: o
                    .path
                    .iter()
                    .map(|s| (s.table.to_string(), s.chain.to_string()))
                    .collect(),
                hops: hops(o, &|chain| kube::owners::chain_words(&a.words, chain)),
            })
            .collect();
        let mut path: Vec<(String, String)> = outcomes
            .iter()
            .flat_map(|o| o.path.iter().cloned())
            .collect();
        path.sort();
        path.dedup();
        Ok(views::Trace {
            assumed,
            outcomes,
            unexplored: sim.unexplored.iter().map(ToString::to_string).collect(),
            path,
        })
    }

    fn plan(&self, form: &Plan, width: u32) -> Result<views::Plan, String> {
        let a = self
            .analysis
            .as_ref()
            .ok_or("nothing is pasted yet".to_string())?;
        let request = Request::from_form(form).map_err(|e| e.to_string())?;
        let planned = request
            .run(&a.parsed.ruleset, &a.facts)
            .map_err(|e| e.to_string())?;
        let traffic = &planned.traffic;
        let label = format!(
            "{} to {}/{}",
            rate_label(form),
            request.to,
            request.protocol
        );
        let pools = pool_lines(&traffic.routing);
        let offset = planned.fit.map_or(0.0, |f| f.start);
        let runs: Vec<&chainlens_core::conntrack::Series> = planned.runs.iter().collect();
        let measured = planned
            .samples
            .as_ref()
            .map(|s| (s.samples.as_slice(), offset));
        let (svg, plot) = conntrack_chart(&label, &runs, &pools, measured, width);
        let first = planned.runs.first();
        let saturation = traffic.saturation_rate();
        let summary = match (first.and_then(|s| s.first_drop), saturation, first) {
            (Some(t), Some(r), Some(s)) => format!(
                "Saturates: the first pool fills at {r:.0} new flows/s; refusals from {t:.0} s; {:.1}% of new flows refused over the run.",
                s.dropped_share * 100.0
            ),
            (None, Some(r), Some(s)) => format!(
                "No refusals: the first pool would fill at {r:.0} new flows/s; {:.0} live entries at the end.",
                s.steady_entries
            ),
            (_, None, Some(s)) => format!(
                "No SNAT pool: nothing limits the new flows but nf_conntrack_max; {:.0} live entries at the end.",
                s.steady_entries
            ),
            _ => "Nothing was modelled.".to_string(),
        };
        let mut notes = planned.notes.clone();
        if traffic.routing.unexplored > 0.0 {
            notes.push(format!(
                "{:.2}% of the flows' ways through the rules were not followed (the simulator's limits); they are left out of the pools.",
                traffic.routing.unexplored * 100.0
            ));
        }
        Ok(views::Plan {
            svg,
            plot,
            readout: first
                .map(|run| {
                    run.points
                        .iter()
                        .map(|p| views::Readout {
                            t: p.t,
                            entries: p.entries,
                            count: p.count,
                            refused: p.dropped_per_s,
                            pools: p.pools.iter().take(4).copied().collect(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            pool_labels: pools.iter().take(4).map(|p| p.label.clone()).collect(),
            summary,
            saturated: first.is_some_and(|s| s.first_drop.is_some()),
            notes,
            pools: traffic
                .routing
                .pools
                .iter()
                .map(|p| {
                    format!(
                        "{} → {} ({:.1}% of flows, {} ports)",
                        p.snat_text(),
                        p.endpoint,
                        p.share * 100.0,
                        p.ceiling
                    )
                })
                .collect(),
            samples: planned.samples.as_ref().map(|s| {
                let mut note = format!("{} measured samples laid over the curve", s.samples.len());
                if let Some((line, _)) = s.skipped.first() {
                    note.push_str(&format!(
                        "; {} lines not understood (first: line {line})",
                        s.skipped.len()
                    ));
                }
                note
            }),
        })
    }

    /// The second ruleset against the paste; the packet (destination, port, protocol,
    /// interface) is traced through both, each with the node facts its own rules give.
    fn compare(&mut self, other: &str, packet: [&str; 4]) -> Option<views::Compare> {
        let [dst, port, proto, in_iface] = packet;
        if other.trim().is_empty() && dst.trim().is_empty() {
            return None;
        }
        self.understand_once();
        let a = self.analysis.as_ref()?;
        let b = chainlens_core::read(other);
        let b_services = kube::decode(&b.ruleset);
        let d = kube::diff(&a.parsed.ruleset, &a.kube.services, &b.ruleset, &b_services);
        let mut rules = String::new();
        for r in d.rules_only_in_a.iter().take(500) {
            rules.push_str(&format!("- [{}] -A {} {}\n", r.table, r.chain, r.text));
        }
        for r in d.rules_only_in_b.iter().take(500) {
            rules.push_str(&format!("+ [{}] -A {} {}\n", r.table, r.chain, r.text));
        }
        let trace = (!dst.trim().is_empty()).then(|| {
            let form = TraceQuery {
                from: "outside".into(),
                src: OUTSIDE.into(),
                dst: dst.into(),
                proto: proto.into(),
                dport: port.into(),
                in_iface: in_iface.into(),
                ..TraceQuery::default()
            };
            let through = |ruleset: &Ruleset| -> Vec<String> {
                match Query::from_form(&form) {
                    Err(e) => vec![e.to_string()],
                    Ok(q) => q
                        .trace(ruleset)
                        .simulation
                        .outcomes
                        .iter()
                        .map(|o| format!("{:.4}% {}", o.probability * 100.0, o.headline()))
                        .collect(),
                }
            };
            let right = if other.trim().is_empty() {
                vec!["(no second ruleset)".to_string()]
            } else {
                through(&b.ruleset)
            };
            (through(&a.parsed.ruleset), right)
        });
        Some(views::Compare {
            removed: d
                .services_only_in_a
                .iter()
                .map(|s| format!("Service {s} only in A"))
                .collect(),
            added: d
                .services_only_in_b
                .iter()
                .map(|s| format!("Service {s} only in B"))
                .collect(),
            changed: d
                .services_changed
                .iter()
                .map(|c| {
                    let parts: Vec<String> = [
                        c.fields.join("; "),
                        c.endpoints_removed
                            .iter()
                            .map(|e| format!("- {e}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                        c.endpoints_added
                            .iter()
                            .map(|e| format!("+ {e}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
                    format!("Service {} changed: {}", c.name, parts.join("; "))
                })
                .collect(),
            rules_only_in_a: d.rules_only_in_a.len(),
            rules_only_in_b: d.rules_only_in_b.len(),
            rules,
            trace,
        })
    }

    fn export(&mut self, what: ExportKind, view: &super::ViewState) -> Option<views::Export> {
        self.understand_once();
        let a = self.analysis.as_ref()?;
        let file = |name: String, mime: &str, contents: String| views::Export {
            name,
            mime: mime.to_string(),
            contents,
        };
        match what {
            ExportKind::Markdown => Some(file(
                "analysis.md".into(),
                "text/markdown",
                text::markdown("chainlens analysis", &a.kube),
            )),
            ExportKind::Svg if view.cascade.is_some() => {
                let name = view.cascade.as_deref()?;
                let s = a.kube.services.iter().find(|s| s.name == name)?;
                Some(file(
                    "cascade.svg".into(),
                    "image/svg+xml",
                    cascade_svg(&Cascade::of(s)),
                ))
            }
            ExportKind::Svg | ExportKind::Mermaid | ExportKind::Dot => {
                let table = view.table.clone().or_else(|| a.default_table())?;
                let graph = a.graph(
                    &table,
                    a.fold(&table, view.fold),
                    &view.expanded,
                    &view.search,
                )?;
                Some(match what {
                    ExportKind::Mermaid => file(
                        format!("{table}-graph.mmd"),
                        "text/plain",
                        text::mermaid(&graph),
                    ),
                    ExportKind::Dot => file(
                        format!("{table}-graph.dot"),
                        "text/vnd.graphviz",
                        text::dot(&graph),
                    ),
                    _ => file(
                        format!("{table}-graph.svg"),
                        "image/svg+xml",
                        svg::chain_graph(&graph),
                    ),
                })
            }
        }
    }
}

/// An outcome's path hook by hook (`Outcome::hops`), in the words the packet-path view shows.
fn hops(o: &Outcome, words: &dyn Fn(&str) -> Option<String>) -> Vec<views::Hop> {
    o.hops()
        .into_iter()
        .map(|hop| views::Hop {
            hook: hop.hook.chain().to_string(),
            again: hop.again,
            passes: hop
                .passes
                .into_iter()
                .map(|pass| {
                    let steps = &o.path[pass.steps.clone()];
                    let mut chains: Vec<(String, Option<String>)> = Vec::new();
                    let mut events = Vec::new();
                    for (i, s) in pass.steps.clone().zip(steps) {
                        // A chain jumped into that returned without a step of its own is
                        // still a chain the packet went through.
                        let entered = match s.effect {
                            Effect::Jump(c) | Effect::Goto(c) => Some(c),
                            _ => None,
                        };
                        for chain in std::iter::once(s.chain).chain(entered) {
                            if !chains.iter().any(|(c, _)| c == chain) {
                                chains.push((chain.to_string(), words(chain)));
                            }
                        }
                        if let Some(share) = o.chance(i) {
                            events.push(views::Event::Draw {
                                share,
                                took: format!("{} {}: {}", s.chain, s.position(), s.effect),
                            });
                        }
                        match &s.effect {
                            Effect::Dnat(_)
                            | Effect::Snat(_)
                            | Effect::Masquerade(_)
                            | Effect::Redirect(_)
                            | Effect::Ipvs { .. } => {
                                events.push(views::Event::Nat(nat_words(&s.effect)))
                            }
                            Effect::Mark { result, .. } => {
                                events.push(views::Event::Mark(format!("mark {result:#x}")))
                            }
                            _ => {}
                        }
                    }
                    views::Pass {
                        table: steps.first().map_or(String::new(), |s| s.table.to_string()),
                        chains,
                        events,
                        // A walk that ended in NAT or a mark says so among its events already.
                        ends: match steps.last().map(|s| &s.effect) {
                            Some(
                                Effect::Dnat(_)
                                | Effect::Snat(_)
                                | Effect::Masquerade(_)
                                | Effect::Redirect(_)
                                | Effect::Ipvs { .. }
                                | Effect::Mark { .. },
                            )
                            | None => String::new(),
                            Some(e) => e.to_string(),
                        },
                        first_step: pass.steps.start,
                    }
                })
                .collect(),
        })
        .collect()
}

/// A NAT step as the packet-path view says it.
fn nat_words(effect: &Effect) -> String {
    match effect {
        Effect::Masquerade(Some(ip)) => format!("MASQUERADE: source becomes {ip}"),
        Effect::Masquerade(None) => "MASQUERADE: source becomes the node's address".to_string(),
        Effect::Dnat(to) => format!("DNAT: destination becomes {to}"),
        Effect::Snat(to) => format!("SNAT: source becomes {to}"),
        Effect::Redirect(to) => format!("REDIRECT: to the node, {to}"),
        other => other.to_string(),
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "accepted",
        Verdict::Drop => "dropped",
        Verdict::Reject => "rejected",
        Verdict::Unknown => "unknown",
    }
}

fn rate_label(p: &Plan) -> String {
    match p.ramp_from.trim() {
        "" => format!("{} new flows/s", p.rate.trim()),
        from => format!("{from} → {} new flows/s", p.rate.trim()),
    }
}

/// How a Service port is reached: the broadest of its addresses.
fn kind(s: &ServicePort) -> &'static str {
    if !s.load_balancer_ips.is_empty() {
        "LoadBalancer"
    } else if s.node_port.is_some() {
        "NodePort"
    } else if !s.external_ips.is_empty() {
        "ClusterIP + externalIPs"
    } else if s.cluster_ip.is_some() {
        "ClusterIP"
    } else {
        "?"
    }
}

fn addresses(s: &ServicePort) -> String {
    let mut out: Vec<String> = Vec::new();
    out.extend(s.cluster_ip.clone());
    out.extend(s.node_port.map(|p| format!("node port {p}")));
    out.extend(s.external_ips.iter().cloned());
    out.extend(s.load_balancer_ips.iter().map(|a| format!("LB {a}")));
    out.join(", ")
}

/// Names in the order people expect: runs of digits compare as numbers (svc2 before svc10).
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (p, q) = (&x[..n], &y[..m]);
                let strip = |s: &[u8]| -> usize { s.iter().take_while(|c| **c == b'0').count() };
                let (p, q) = (&p[strip(p)..], &q[strip(q)..]);
                let order = p.len().cmp(&q.len()).then_with(|| p.cmp(q));
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
                x = &x[n..];
                y = &y[m..];
            }
            (Some(c), Some(d)) if c != d => return c.cmp(d),
            _ => {
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}
