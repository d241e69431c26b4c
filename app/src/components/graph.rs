//! The chain graph of one table, drawn from the core's layout as SVG elements (so every label
//! is text, never markup).

use chainlens_core::render::graph::ChainGraph;
use leptos::prelude::*;

use crate::app::AppState;

#[component]
pub fn ChainGraphView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let current = move || {
        state.analysis.with(|a| {
            let name = state.table.get().or_else(|| a.default_table());
            a.graphs
                .iter()
                .find(|g| Some(&g.table) == name.as_ref())
                .cloned()
        })
    };
    let tables = move || {
        state
            .analysis
            .with(|a| a.graphs.iter().map(|g| g.table.clone()).collect::<Vec<_>>())
    };
    view! {
        <div class="graph-panel">
            <div class="tabs" role="tablist" aria-label="table">
                {move || {
                    let shown = current().map(|g| g.table);
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
            <div class="graph-scroll">
                {move || match current() {
                    Some(graph) => view! { <GraphSvg graph/> }.into_any(),
                    None => view! { <p class="empty">"No chains to draw yet."</p> }.into_any(),
                }}
            </div>
        </div>
    }
}

#[component]
fn GraphSvg(graph: ChainGraph) -> impl IntoView {
    let edges = graph
        .edges
        .iter()
        .map(|e| {
            let d = graph.edge_path(e);
            let title = graph.edge_title(e);
            view! {
                <path class=if e.goto { "edge goto" } else { "edge" } d=d marker-end="url(#arrow)">
                    <title>{title}</title>
                </path>
            }
        })
        .collect_view();
    let nodes = graph
        .nodes
        .iter()
        .map(|n| {
            view! {
                <g class=format!("chain-node {}", n.kind.as_str()) data-testid="chain-node" data-chain=n.chain.clone()>
                    <title>{format!("{} ({} rules)", n.chain, n.rules)}</title>
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
            width=format!("{:.0}", graph.width)
            height=format!("{:.0}", graph.height)
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
