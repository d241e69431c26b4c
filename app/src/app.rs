//! The page: input on the left; on the right the summary, diagnostics, the view switcher and
//! the chosen view, all reading one [`Analysis`]. A new paste is analysed after the page has
//! shown that it is working, so a large paste never leaves a frozen page without a word.

use std::time::Duration;

use leptos::prelude::*;

use crate::analysis::{Analysis, DEFAULT_EXAMPLE};
use crate::components::{
    CascadeView, ChainGraphView, CompareView, ConntrackView, Diagnostics, Overview, RulesInput,
    ServicesTable, SummaryLine, TraceView,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Overview,
    Services,
    Graph,
    Cascade,
    Trace,
    Conntrack,
    Compare,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Overview,
        View::Services,
        View::Graph,
        View::Cascade,
        View::Trace,
        View::Conntrack,
        View::Compare,
    ];

    pub fn id(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Services => "services",
            View::Graph => "graph",
            View::Cascade => "cascade",
            View::Trace => "trace",
            View::Conntrack => "conntrack",
            View::Compare => "compare",
        }
    }

    fn label(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Services => "Services",
            View::Graph => "Chain graph",
            View::Cascade => "Cascade",
            View::Trace => "Packet tracer",
            View::Conntrack => "Conntrack planner",
            View::Compare => "Compare",
        }
    }
}

/// State shared through context.
#[derive(Clone, Copy, Debug)]
pub struct AppState {
    pub input: RwSignal<String>,
    /// What the paste box shows when the app puts text into it (an example, a file).
    pub shown: RwSignal<String>,
    /// The size of a paste too large to show whole (the box then shows its beginning).
    pub preview: RwSignal<Option<usize>>,
    pub analysis: RwSignal<Analysis>,
    /// A new input is being analysed.
    pub busy: RwSignal<bool>,
    pub view: RwSignal<View>,
    /// The table whose graph is shown; `None` follows the analysis' default.
    pub table: RwSignal<Option<String>>,
    /// The Service port chosen in the Services table (its `ns/name:port`).
    pub service: RwSignal<Option<String>>,
    /// Folded graph: `None` decides by the number of Services.
    pub fold: RwSignal<Option<bool>>,
    /// Services shown unfolded in the graph.
    pub expanded: RwSignal<Vec<String>>,
    pub search: RwSignal<String>,
    /// The traced path, as (table, chain) pairs, highlighted in the graph.
    pub path: RwSignal<Vec<(String, String)>>,
}

#[component]
pub fn App() -> impl IntoView {
    let input = RwSignal::new(DEFAULT_EXAMPLE.to_string());
    let state = AppState {
        input,
        shown: RwSignal::new(DEFAULT_EXAMPLE.to_string()),
        preview: RwSignal::new(None),
        analysis: RwSignal::new(Analysis::of(DEFAULT_EXAMPLE)),
        busy: RwSignal::new(false),
        view: RwSignal::new(View::Overview),
        table: RwSignal::new(None),
        service: RwSignal::new(None),
        fold: RwSignal::new(None),
        expanded: RwSignal::new(Vec::new()),
        search: RwSignal::new(String::new()),
        path: RwSignal::new(Vec::new()),
    };
    provide_context(state);
    // Each new input: say so, let the page paint, then analyse (only the latest input).
    let generation = StoredValue::new(0u64);
    Effect::new(move |previous: Option<()>| {
        let text = input.get();
        if previous.is_none() {
            return;
        }
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        state.busy.set(true);
        set_timeout(
            move || {
                if generation.get_value() != mine {
                    return;
                }
                state.analysis.set(Analysis::of(&text));
                state.table.set(None);
                state.service.set(None);
                state.expanded.set(Vec::new());
                state.path.set(Vec::new());
                state.busy.set(false);
            },
            Duration::from_millis(30),
        );
    });
    view! {
        <header class="topbar">
            <h1>"chainlens"</h1>
            <p class="tagline">"what kube-proxy's iptables rules do, read in your browser; nothing leaves it"</p>
        </header>
        <main class="layout">
            <section class="pane input-pane" aria-label="rules">
                <RulesInput/>
            </section>
            <section class="pane result-pane" aria-label="analysis">
                <Show when=move || state.busy.get()>
                    <p class="busy" role="status" data-testid="busy">"Analysing the paste…"</p>
                </Show>
                <SummaryLine/>
                <Diagnostics/>
                <nav class="views" aria-label="views">
                    {View::ALL
                        .into_iter()
                        .map(|v| {
                            view! {
                                <button
                                    class="view-tab"
                                    data-testid=format!("nav-{}", v.id())
                                    aria-pressed=move || (state.view.get() == v).to_string()
                                    on:click=move |_| state.view.set(v)
                                >
                                    {v.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </nav>
                {move || match state.view.get() {
                    View::Overview => view! { <Overview/> }.into_any(),
                    View::Services => view! { <ServicesTable/> }.into_any(),
                    View::Graph => view! { <ChainGraphView/> }.into_any(),
                    View::Cascade => view! { <CascadeView/> }.into_any(),
                    View::Trace => view! { <TraceView/> }.into_any(),
                    View::Conntrack => view! { <ConntrackView/> }.into_any(),
                    View::Compare => view! { <CompareView/> }.into_any(),
                }}
            </section>
        </main>
    }
}
