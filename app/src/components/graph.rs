//! The chain graph of one table, drawn from the core's layout as SVG elements (so every label
//! is text, never markup). Large rulesets open with each Service folded into one node (click
//! it to unfold), and each component beside kube-proxy (Calico, Cilium, Docker…) with many
//! chains too; beyond a few hundred Services the rest are one node a search opens;
//! the traced path is highlighted; hovering a node says what its chain is for, hovering a
//! jump shows its rules and what they do.

use chainlens_core::render::graph::NodeKind;
use leptos::prelude::*;

use crate::app::AppState;
use crate::views;
use crate::worker::client::asked;
use crate::worker::{Answer, Ask};

#[component]
pub fn ChainGraphView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let folded = move || {
        state.fold.get().unwrap_or_else(|| {
            state
                .understood
                .with(|u| u.as_ref().is_some_and(|u| u.fold))
        })
    };
    let table = move || {
        state.table.get().or_else(|| {
            state
                .read
                .with(|r| r.as_ref().and_then(|r| r.default_table.clone()))
        })
    };
    let current = asked(
        move || {
            state.generation.track();
            Some((
                Ask::Graph {
                    table: table(),
                    fold: state.fold.get(),
                    expanded: state.expanded.get(),
                    search: state.search.get(),
                },
                None,
            ))
        },
        |a| match a {
            Answer::Graph(g) => g,
            _ => None,
        },
    );
    let tables = move || {
        state.read.with(|r| {
            r.as_ref()
                .map(|r| r.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
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
                    " one node per Service and per component"
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
                {move || match current.get() {
                    Some(graph) => view! { <GraphSvg graph zoom/> }.into_any(),
                    None => view! { <p class="empty">"No chains to draw yet."</p> }.into_any(),
                }}
            </div>
        </div>
    }
}

#[component]
fn GraphSvg(graph: views::Graph, zoom: RwSignal<f64>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let views::Graph {
        graph,
        node_titles,
        edge_titles,
    } = graph;
    let table = graph.table.clone();
    let on_path = move |chain: &str| {
        state
            .path
            .with(|p| p.iter().any(|(t, c)| *t == table && c == chain))
    };
    let path_nodes: Vec<bool> = graph.nodes.iter().map(|n| on_path(&n.chain)).collect();
    let edges = graph
        .edges
        .iter()
        .zip(edge_titles)
        .map(|(e, title)| {
            let d = graph.edge_path(e);
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
    let nodes = graph
        .nodes
        .iter()
        .zip(&path_nodes)
        .zip(node_titles)
        .map(|((n, lit), title)| {
            let group = n.kind == NodeKind::Group;
            let name = n.chain.clone();
            let class = format!(
                "chain-node {}{}",
                n.kind.as_str(),
                if *lit { " on-path" } else { "" }
            );
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
