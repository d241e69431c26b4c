//! The chain graph of one table, drawn from the core's layout as SVG elements (so every label
//! is text, never markup). Large rulesets open with each Service folded into one node (click
//! it to unfold), and beyond a few hundred Services the rest into one node a search opens;
//! the traced path is highlighted; hovering a node says what its chain is for, hovering a
//! jump shows its rules and what they do.

use chainlens_core::kube::{explain_chain, explain_rule};
use chainlens_core::render::graph::{ChainGraph, NodeKind};
use leptos::prelude::*;

use crate::analysis::FOLD_ABOVE;
use crate::app::AppState;

#[component]
pub fn ChainGraphView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let folded = move || {
        state
            .fold
            .get()
            .unwrap_or_else(|| state.analysis.with(|a| a.kube.services.len() > FOLD_ABOVE))
    };
    let table = move || {
        state
            .table
            .get()
            .or_else(|| state.analysis.with(|a| a.default_table()))
    };
    let current = move || {
        let name = table()?;
        let (fold, search) = (folded(), state.search.get());
        state.expanded.with(|expanded| {
            state
                .analysis
                .with(|a| a.graph(&name, fold, expanded, &search))
        })
    };
    let tables = move || state.analysis.with(|a| a.tables());
    let zoom = RwSignal::new(1.0f64);
    view! {
        <div class="graph-panel">
            <div class="graph-tools">
                <div class="tabs" role="tablist" aria-label="table">
                    {move || {
                        let shown = table();
                        tables()
                            .into_iter()
                            .map(|name| {
                                let selected = shown.as_ref() == Some(&name);
                                let pick = name.clone();
                                let testid = format!("table-tab-{name}");
                                view! {
                                    <button
                                        role="tab"
                                        class="tab"
                                        aria-selected=selected.to_string()
                                        data-testid=testid
                                        on:click=move |_| state.table.set(Some(pick.clone()))
                                    >
                                        {name}
                                    </button>
                                }
                            })
                            .collect_view()
                    }}
                </div>
                <label class="toggle">
                    <input
                        type="checkbox"
                        data-testid="fold-services"
                        prop:checked=folded
                        on:change=move |ev| state.fold.set(Some(event_target_checked(&ev)))
                    />
                    " one node per Service"
                </label>
                <label class="toggle">
                    "zoom "
                    <input
                        type="range"
                        min="0.25"
                        max="2"
                        step="0.05"
                        aria-label="zoom"
                        data-testid="graph-zoom"
                        prop:value=move || zoom.get().to_string()
                        on:input=move |ev| {
                            zoom.set(event_target_value(&ev).parse().unwrap_or(1.0))
                        }
                    />
                </label>
                <input
                    type="search"
                    class="filter"
                    placeholder="search Services"
                    aria-label="search Services in the graph"
                    data-testid="graph-search"
                    prop:value=move || state.search.get()
                    on:input=move |ev| state.search.set(event_target_value(&ev))
                />
            </div>
            <div class="graph-scroll">
                {move || match current() {
                    Some(graph) => view! { <GraphSvg graph zoom/> }.into_any(),
                    None => view! { <p class="empty">"No chains to draw yet."</p> }.into_any(),
                }}
            </div>
        </div>
    }
}

#[component]
fn GraphSvg(graph: ChainGraph, zoom: RwSignal<f64>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let table = graph.table.clone();
    let on_path = move |chain: &str| {
        state
            .path
            .with(|p| p.iter().any(|(t, c)| *t == table && c == chain))
    };
    let path_nodes: Vec<bool> = graph.nodes.iter().map(|n| on_path(&n.chain)).collect();
    // Hovering a jump shows the rules that make it, as written and in words.
    let rule_text = |e: &chainlens_core::render::graph::Edge| {
        state.analysis.with_untracked(|a| {
            let table = a.parsed.ruleset.table(&graph.table)?;
            let chain = table.chain(&graph.nodes[e.from].chain)?;
            let lines: Vec<String> = e
                .rules
                .iter()
                .take(3)
                .filter_map(|n| {
                    let rule = chain.rules.get(n - 1)?;
                    Some(format!(
                        "#{n}: -A {} {}\n{}",
                        chain.name,
                        chainlens_core::print::rule(rule, a.parsed.ruleset.ipv6),
                        explain_rule(table, chain, n - 1, &a.kube.services)
                    ))
                })
                .collect();
            Some(lines.join("\n\n"))
        })
    };
    let edges = graph
        .edges
        .iter()
        .map(|e| {
            let d = graph.edge_path(e);
            let title = match rule_text(e) {
                Some(rules) => format!("{}\n\n{rules}", graph.edge_title(e)),
                None => graph.edge_title(e),
            };
            let lit = path_nodes[e.from] && path_nodes[e.to];
            let class = match (e.goto, lit) {
                (true, true) => "edge goto on-path",
                (true, false) => "edge goto",
                (false, true) => "edge on-path",
                (false, false) => "edge",
            };
            view! {
                <path class=class d=d marker-end="url(#arrow)">
                    <title>{title}</title>
                </path>
            }
        })
        .collect_view();
    let tooltip = |chain: &str, rules: usize, members: usize| {
        state.analysis.with_untracked(|a| {
            let table = a.parsed.ruleset.table(&graph.table);
            let explained = table.and_then(|t| {
                t.chain(chain)
                    .map(|c| explain_chain(t, c, &a.kube.services))
            });
            match explained {
                Some(e) => format!("{chain} ({rules} rules): {e}"),
                None if members > 1 => {
                    format!("{chain}: {members} chains, {rules} rules — click to unfold")
                }
                None => format!("{chain} ({rules} rules)"),
            }
        })
    };
    let nodes = graph
        .nodes
        .iter()
        .zip(&path_nodes)
        .map(|(n, lit)| {
            let group = n.kind == NodeKind::Group;
            let name = n.chain.clone();
            let class = format!(
                "chain-node {}{}",
                n.kind.as_str(),
                if *lit { " on-path" } else { "" }
            );
            let title = tooltip(&n.chain, n.rules, n.members);
            let key_name = name.clone();
            view! {
                <g
                    class=class
                    data-testid="chain-node"
                    data-chain=n.chain.clone()
                    tabindex=if group { "0" } else { "-1" }
                    on:click=move |_| {
                        if group && !name.ends_with("(search to show)") {
                            state.expanded.update(|e| e.push(name.clone()));
                        }
                    }
                    on:keydown=move |ev| {
                        let open = matches!(ev.key().as_str(), "Enter" | " ");
                        if open && group && !key_name.ends_with("(search to show)") {
                            state.expanded.update(|e| e.push(key_name.clone()));
                        }
                    }
                >
                    <title>{title}</title>
                    <rect x=n.x y=n.y width=n.width height=n.height rx="4"></rect>
                    <text x=n.x + 12.0 y=n.y + n.height / 2.0 + 4.0>{n.chain.clone()}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="chain-graph"
            data-testid="chain-graph"
            data-table=graph.table.clone()
            role="img"
            aria-label=format!("chain graph of the {} table", graph.table)
            viewBox=format!("0 0 {:.0} {:.0}", graph.width, graph.height)
            width=move || format!("{:.0}", graph.width * zoom.get())
            height=move || format!("{:.0}", graph.height * zoom.get())
        >
            <defs>
                <marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto">
                    <path d="M0,0 L8,4 L0,8 z" class="arrow-head"></path>
                </marker>
            </defs>
            {edges}
            {nodes}
        </svg>
    }
}
