//! The page: input on the left; on the right the summary, diagnostics, the view switcher and
//! the chosen view, all reading one [`Analysis`]. A new paste is analysed after the page has
//! shown that it is working, so a large paste never leaves a frozen page without a word.

use std::time::Duration;

use leptos::prelude::*;

use chainlens_core::share::{Plan, ShareState, TraceQuery, parse_fragment};

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
    pub fn from_id(id: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.id() == id)
    }

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
    /// The tracer's and the planner's forms (kept here so links carry them).
    pub trace: RwSignal<TraceQuery>,
    pub conntrack: RwSignal<Plan>,
    /// The Compare view's second ruleset.
    pub compare: RwSignal<String>,
    /// Why the link the app was opened with could not be read.
    pub link_error: RwSignal<Option<String>>,
}

impl AppState {
    /// Puts a saved state's choices back (its text is loaded by the caller). They are applied
    /// after the new text's analysis, which resets the choices of the previous text.
    pub fn restore(self, saved: ShareState) {
        set_timeout(
            move || {
                self.view
                    .set(View::from_id(&saved.view).unwrap_or(View::Overview));
                self.table.set(saved.table.clone());
                self.service.set(saved.service.clone());
                self.trace.set(saved.trace.clone().unwrap_or_default());
                self.conntrack
                    .set(saved.conntrack.clone().unwrap_or_default());
                self.compare.set(saved.compare.clone());
                self.link_error.set(None);
            },
            Duration::from_millis(60),
        );
    }

    /// Everything a link carries.
    pub fn share_state(&self) -> ShareState {
        ShareState {
            input: self.input.get_untracked(),
            compare: self.compare.get_untracked(),
            view: self.view.get_untracked().id().to_string(),
            table: self.table.get_untracked(),
            service: self.service.get_untracked(),
            trace: Some(self.trace.get_untracked()).filter(|t| !t.dst.is_empty()),
            conntrack: Some(self.conntrack.get_untracked()).filter(|c| !c.target.is_empty()),
        }
    }
}

/// What the page was opened with: a share link's state, or the default example.
fn opening() -> (
    Option<ShareState>,
    chainlens_core::share::Display,
    Option<String>,
) {
    let hash = window().location().hash().unwrap_or_default();
    if hash.len() <= 1 {
        return (None, Default::default(), None);
    }
    match parse_fragment(&hash) {
        Ok((state, display)) => (Some(state), display, None),
        Err(e) => (
            Some(ShareState::default()),
            Default::default(),
            Some(e.to_string()),
        ),
    }
}

#[component]
pub fn App() -> impl IntoView {
    let (opened, display, link_error) = opening();
    let shared = opened.clone().unwrap_or_default();
    let text = match &opened {
        Some(s) => s.input.clone(),
        None => DEFAULT_EXAMPLE.to_string(),
    };
    let input = RwSignal::new(text.clone());
    let state = AppState {
        input,
        shown: RwSignal::new(text.clone()),
        preview: RwSignal::new(None),
        analysis: RwSignal::new(Analysis::of(&text)),
        busy: RwSignal::new(false),
        view: RwSignal::new(View::from_id(&shared.view).unwrap_or(View::Overview)),
        table: RwSignal::new(shared.table.clone()),
        service: RwSignal::new(shared.service.clone()),
        fold: RwSignal::new(None),
        expanded: RwSignal::new(Vec::new()),
        search: RwSignal::new(String::new()),
        path: RwSignal::new(Vec::new()),
        trace: RwSignal::new(shared.trace.clone().unwrap_or_default()),
        conntrack: RwSignal::new(shared.conntrack.clone().unwrap_or_default()),
        compare: RwSignal::new(shared.compare.clone()),
        link_error: RwSignal::new(link_error),
    };
    provide_context(state);
    // A link pasted into the address bar of an open app changes only the fragment: reopen.
    let _ = window_event_listener(leptos::ev::hashchange, |_| {
        let _ = window().location().reload();
    });
    if let Some(theme) = &display.theme
        && let Some(root) = document().document_element()
    {
        let _ = root.class_list().add_1(&format!("theme-{theme}"));
    }
    if let Some(view) = display.embed.as_deref().and_then(View::from_id) {
        state.view.set(view);
        return view! { <crate::components::Embed view/> }.into_any();
    }
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
                // Read first and show the counts; then, in a task of its own, the Services.
                state.analysis.set(Analysis::read(&text));
                state.table.set(None);
                state.service.set(None);
                state.expanded.set(Vec::new());
                state.path.set(Vec::new());
                set_timeout(
                    move || {
                        if generation.get_value() != mine {
                            return;
                        }
                        state.analysis.update(Analysis::understand);
                        state.busy.set(false);
                    },
                    Duration::from_millis(0),
                );
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
                {move || {
                    state
                        .link_error
                        .get()
                        .map(|e| {
                            view! {
                                <p class="error link-error" role="alert" data-testid="link-error">
                                    {e}
                                    " The app is empty and ready: paste rules or pick an example."
                                </p>
                            }
                        })
                }}
                <crate::components::SharePanel/>
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
    .into_any()
}
