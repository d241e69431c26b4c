//! The chain graph of one table, drawn from the core's layout as SVG elements (so every label
//! is text, never markup). Large rulesets open with each Service folded into one node (click
//! it to unfold), and each component beside kube-proxy (Calico, Cilium, Docker…) with many
//! chains too; beyond a few hundred Services the rest are one node a search opens;
//! the traced path is highlighted; hovering a node says what its chain is for, hovering a
//! jump shows its rules and what they do.

use chainlens_core::render::graph::NodeKind;
use leptos::prelude::*;

use super::diagnostics::select_line;
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
    let selected: RwSignal<Option<String>> = RwSignal::new(None);
    let scroller = NodeRef::<leptos::html::Div>::new();
    // Fit the graph to its panel when it arrives (never above 1:1), and bring the traced
    // path into view.
    Effect::new(move |_| {
        let Some(g) = current.get() else { return };
        if let Some(el) = scroller.get_untracked() {
            fit(&el, &g.graph, zoom);
            let path = state.path.get_untracked();
            show_path(&el, &g.graph, &path, zoom.get_untracked());
        }
    });
    // A search lights its matches on any graph and brings them into view.
    Effect::new(move |_| {
        let search = state.search.get();
        let Some(g) = current.get() else { return };
        if let Some(el) = scroller.get_untracked()
            && g.graph.nodes.iter().any(|n| found(n, &search))
        {
            centre_on(&el, &g.graph, zoom.get_untracked(), &|n| found(n, &search));
        }
    });
    // Fit again on demand (the button, key F).
    let refit = move || {
        if let (Some(el), Some(g)) = (scroller.get_untracked(), current.get_untracked()) {
            fit(&el, &g.graph, zoom);
        }
    };
    // Dragging the background pans; Ctrl + wheel (and a trackpad's pinch) zooms. While a zoom
    // gesture goes on the drawn graph is only scaled (the compositor's work, however many
    // nodes); when it stops the zoom is set and the graph drawn at it.
    let drag: StoredValue<Option<(i32, i32, i32, i32)>> = StoredValue::new(None);
    let scale = RwSignal::new(1.0f64);
    let gesture: StoredValue<(f64, u64)> = StoredValue::new((1.0, 0));
    Effect::new(move |_| {
        let z = zoom.get();
        gesture.update_value(|(g, _)| *g = z);
    });
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
                    " fold each Service and component into one node"
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
                <button
                    class="tool"
                    data-testid="graph-fit"
                    title="fit the graph to the panel (key F)"
                    on:click=move |_| refit()
                >
                    "Fit"
                </button>
                <input
                    type="search"
                    class="filter"
                    placeholder="search Services, chains"
                    aria-label="search Services in the graph"
                    data-testid="graph-search"
                    prop:value=move || state.search.get()
                    on:input=move |ev| state.search.set(event_target_value(&ev))
                />
            </div>
            {move || {
                current
                    .with(|g| g.as_ref().and_then(|g| g.note.clone()))
                    .map(|note| view! { <p class="note" data-testid="graph-note">{note}</p> })
            }}
            <div class="graph-body">
                <div
                    class="graph-scroll"
                    node_ref=scroller
                    on:pointerdown=move |ev| {
                        if let Some(el) = scroller.get_untracked() {
                            drag.set_value(Some((ev.client_x(), ev.client_y(), el.scroll_left(), el.scroll_top())));
                        }
                    }
                    on:pointermove=move |ev| {
                        if let (Some((x, y, left, top)), Some(el)) = (drag.get_value(), scroller.get_untracked())
                            && ev.buttons() & 1 == 1
                        {
                            el.set_scroll_left(left - (ev.client_x() - x));
                            el.set_scroll_top(top - (ev.client_y() - y));
                        }
                    }
                    on:pointerup=move |_| drag.set_value(None)
                    on:pointerleave=move |_| drag.set_value(None)
                    on:wheel=move |ev| {
                        if ev.ctrl_key() {
                            ev.prevent_default();
                            let factor = (-ev.delta_y() * 0.002).exp();
                            gesture.update_value(|(z, n)| {
                                *z = (*z * factor).clamp(ZOOM_MIN, ZOOM_MAX);
                                *n += 1;
                            });
                            let (z, mine) = gesture.get_value();
                            scale.set(z / zoom.get_untracked());
                            set_timeout(
                                move || {
                                    if gesture.get_value().1 == mine {
                                        zoom.set(z);
                                        scale.set(1.0);
                                    }
                                },
                                std::time::Duration::from_millis(150),
                            );
                        }
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "f" || ev.key() == "F" {
                            refit();
                        } else if ev.key() == "Escape" {
                            selected.set(None);
                        }
                    }
                >
                    {move || match current.get() {
                        Some(graph) => view! { <GraphSvg graph zoom scale selected/> }.into_any(),
                        None => view! { <p class="empty">"No chains to draw yet."</p> }.into_any(),
                    }}
                </div>
                {move || {
                    let chain = selected.get()?;
                    let table = current.with(|g| g.as_ref().map(|g| g.graph.table.clone()))?;
                    Some(view! { <ChainPanel table chain selected/> })
                }}
            </div>
        </div>
    }
}

const ZOOM_MIN: f64 = 0.25;
/// Fitting never zooms out further than this: below it the labels cannot be read, and a
/// graph that large is better scrolled.
const FIT_MIN: f64 = 0.6;
const ZOOM_MAX: f64 = 2.0;

/// Zooms so the whole graph fits the panel, never above 1:1 nor below [`FIT_MIN`].
fn fit(
    el: &web_sys::HtmlDivElement,
    graph: &chainlens_core::render::graph::ChainGraph,
    zoom: RwSignal<f64>,
) {
    let (w, h) = (f64::from(el.client_width()), f64::from(el.client_height()));
    if w <= 0.0 || graph.width <= 0.0 {
        return;
    }
    let by_height = if h > 0.0 { h / graph.height } else { f64::MAX };
    zoom.set((w / graph.width).min(by_height).clamp(FIT_MIN, 1.0));
    // A graph too large to fit readably starts at its top left (the built-in chains).
    el.set_scroll_left(0);
    el.set_scroll_top(0);
}

/// Scrolls so the traced path's nodes are in view (their bounding box centred).
fn show_path(
    el: &web_sys::HtmlDivElement,
    graph: &chainlens_core::render::graph::ChainGraph,
    path: &[(String, String)],
    zoom: f64,
) {
    centre_on(el, graph, zoom, &|n| {
        path.iter().any(|(t, c)| *t == graph.table && *c == n.chain)
    });
}

/// Whether a node's name or its Kubernetes words contain the search (any case).
fn found(n: &chainlens_core::render::graph::Node, search: &str) -> bool {
    let search = search.trim().to_lowercase();
    !search.is_empty()
        && (n.chain.to_lowercase().contains(&search)
            || n.words
                .as_deref()
                .is_some_and(|l| l.to_lowercase().contains(&search)))
}

/// Scrolls so the nodes `pick` chooses are in view (their bounding box centred).
fn centre_on(
    el: &web_sys::HtmlDivElement,
    graph: &chainlens_core::render::graph::ChainGraph,
    zoom: f64,
    pick: &dyn Fn(&chainlens_core::render::graph::Node) -> bool,
) {
    let on: Vec<_> = graph.nodes.iter().filter(|n| pick(n)).collect();
    if on.is_empty() {
        return;
    }
    let x0 = on.iter().map(|n| n.x).fold(f64::MAX, f64::min);
    let x1 = on.iter().map(|n| n.x + n.width).fold(0.0, f64::max);
    let y0 = on.iter().map(|n| n.y).fold(f64::MAX, f64::min);
    let y1 = on.iter().map(|n| n.y + n.height).fold(0.0, f64::max);
    let (w, h) = (f64::from(el.client_width()), f64::from(el.client_height()));
    el.set_scroll_left((((x0 + x1) / 2.0) * zoom - w / 2.0).max(0.0) as i32);
    el.set_scroll_top((((y0 + y1) / 2.0) * zoom - h / 2.0).max(0.0) as i32);
}

/// The node to move to from `from` with an arrow key: the nearest one whose centre lies in
/// that direction (more weight across than along it).
fn neighbour(
    graph: &chainlens_core::render::graph::ChainGraph,
    from: usize,
    key: &str,
) -> Option<usize> {
    let centre = |i: usize| {
        let n = &graph.nodes[i];
        (n.x + n.width / 2.0, n.y + n.height / 2.0)
    };
    let (fx, fy) = centre(from);
    (0..graph.nodes.len())
        .filter(|&i| i != from)
        .filter_map(|i| {
            let (x, y) = centre(i);
            let (dx, dy) = (x - fx, y - fy);
            let (along, across) = match key {
                "ArrowRight" => (dx, dy),
                "ArrowLeft" => (-dx, dy),
                "ArrowDown" => (dy, dx),
                "ArrowUp" => (-dy, dx),
                _ => return None,
            };
            (along > 1.0).then_some((i, along + 3.0 * across.abs()))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The chain chosen in the graph: what it is for, and its rules as written and in words, each
/// selecting its line in the paste.
#[component]
fn ChainPanel(table: String, chain: String, selected: RwSignal<Option<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let detail = asked(
        move || {
            state.generation.track();
            Some((
                Ask::Chain {
                    table: table.clone(),
                    chain: chain.clone(),
                },
                None,
            ))
        },
        |a| match a {
            Answer::Chain(c) => c,
            _ => None,
        },
    );
    let goto = move |line: usize| state.input.with_untracked(|t| select_line(t, line));
    view! {
        <aside class="chain-panel" data-testid="chain-panel" aria-label="chain">
            {move || detail.get().map(|d| {
                let more = d.rules_total.saturating_sub(d.rules.len());
                let declared = d.line;
                view! {
                    <header>
                        <h3 data-testid="chain-panel-name">{d.chain.clone()}</h3>
                        <button class="close" title="close (Esc)" aria-label="close" on:click=move |_| selected.set(None)>"×"</button>
                    </header>
                    {d.words.clone().map(|w| view! { <p class="words">{w}</p> })}
                    <p class="why">{d.explanation.clone()}</p>
                    <p class="muted">
                        {format!("{} table, {} rule{}", d.table, d.rules_total, if d.rules_total == 1 { "" } else { "s" })}
                        {(declared > 0).then(|| view! {
                            " · " <button class="link" on:click=move |_| goto(declared)>{format!("line {declared}")}</button>
                        })}
                    </p>
                    <ol class="chain-rules">
                        {d.rules.into_iter().map(|r| {
                            let where_ = match r.line {
                                Some(line) => view! {
                                    <button class="link mono" title="select this rule in the paste" on:click=move |_| goto(line)>{format!("line {line}")}</button>
                                }.into_any(),
                                None => view! { <span class="muted">"assumed"</span> }.into_any(),
                            };
                            view! {
                                <li data-testid="chain-panel-rule">
                                    {where_}
                                    <code>{r.text}</code>
                                    <span class="why">{r.explanation}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                    {(more > 0).then(|| view! { <p class="more">{format!("… and {more} more rules")}</p> })}
                }
            })}
        </aside>
    }
}

#[component]
fn GraphSvg(
    graph: views::Graph,
    zoom: RwSignal<f64>,
    /// A zoom gesture's scale of the graph as drawn at `zoom`.
    scale: RwSignal<f64>,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let views::Graph {
        graph,
        node_titles,
        edge_titles,
        note: _,
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
    // Arrow keys move between nodes by where they are drawn.
    let shape = StoredValue::new(graph.clone());
    let focus = move |i: usize| {
        let node = document()
            .query_selector(&format!("[data-testid=\"chain-node\"][data-index=\"{i}\"]"))
            .ok()
            .flatten()
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::SvgElement>(e).ok());
        if let Some(node) = node {
            let _ = node.focus();
        }
    };
    let nodes = graph
        .nodes
        .iter()
        .enumerate()
        .zip(&path_nodes)
        .zip(node_titles)
        .map(|(((index, n), lit), title)| {
            let group = n.kind == NodeKind::Group;
            let name = n.chain.clone();
            let base = format!(
                "chain-node {}{}",
                n.kind.as_str(),
                if *lit { " on-path" } else { "" }
            );
            let node = n.clone();
            let class = move || {
                if state.search.with(|s| found(&node, s)) {
                    format!("{base} match")
                } else {
                    base.clone()
                }
            };
            let key_name = name.clone();
            view! {
                <g
                    class=class
                    data-testid="chain-node"
                    data-chain=n.chain.clone()
                    data-words=n.words.clone().unwrap_or_default()
                    data-index=index
                    tabindex="0"
                    role="button"
                    aria-label=format!("chain {}", n.chain)
                    on:click=move |_| {
                        if group {
                            if !name.ends_with("(search to show)") {
                                state.expanded.update(|e| e.push(name.clone()));
                            }
                        } else {
                            selected.set(Some(name.clone()));
                        }
                    }
                    on:keydown=move |ev| {
                        let key = ev.key();
                        if matches!(key.as_str(), "Enter" | " ") {
                            ev.prevent_default();
                            if group {
                                if !key_name.ends_with("(search to show)") {
                                    state.expanded.update(|e| e.push(key_name.clone()));
                                }
                            } else {
                                selected.set(Some(key_name.clone()));
                            }
                        } else if key.starts_with("Arrow") {
                            ev.prevent_default();
                            if let Some(next) = shape.with_value(|g| neighbour(g, index, &key)) {
                                focus(next);
                            }
                        }
                    }
                >
                    <title>{title}</title>
                    <rect x=n.x y=n.y width=n.width height=n.height rx="4"></rect>
                    {match n.words.clone() {
                        Some(words) => view! {
                            <text x=n.x + 12.0 y=n.y + 17.0>{n.chain.clone()}</text>
                            <text class="words" x=n.x + 12.0 y=n.y + 33.0>{words}</text>
                        }.into_any(),
                        None => view! {
                            <text x=n.x + 12.0 y=n.y + n.height / 2.0 + 4.0>{n.chain.clone()}</text>
                        }.into_any(),
                    }}
                </g>
            }
        })
        .collect_view();
    // The wrapper is a layer of its own, so a gesture's scale is the compositor's alone.
    let transform = move || {
        let s = scale.get();
        if (s - 1.0).abs() < 1e-9 {
            String::new()
        } else {
            format!("transform: scale({s:.4})")
        }
    };
    view! {
            <div class="graph-layer" data-testid="graph-layer" style=transform>
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
            </div>
        }
}
