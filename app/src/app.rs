//! The page: input on the left; on the right the summary, diagnostics, the view switcher and
//! the chosen view. A new paste goes to the analysis worker; the page says it is working,
//! keeps answering the user meanwhile, and draws what comes back. If the worker dies, the
//! page says so, keeps the text, drops the results it showed and works on with a new worker.

use leptos::prelude::*;

use chainlens_core::share::{Plan, ShareState, TraceQuery, parse_fragment};

use crate::components::{
    CascadeView, ChainGraphView, CompareView, ConntrackView, Diagnostics, Overview, RulesInput,
    ServicesTable, SummaryLine, TraceView,
};
use crate::examples::DEFAULT_EXAMPLE;
use crate::views;
use crate::worker::{Answer, Ask, client};

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
    /// What the worker read of the paste, and what it means; `None` until it answers.
    pub read: RwSignal<Option<views::Read>>,
    pub understood: RwSignal<Option<views::Understood>>,
    /// Bumped whenever a new analysis has arrived: views ask again for what they draw.
    pub generation: RwSignal<u64>,
    /// A new input is being analysed.
    pub busy: RwSignal<bool>,
    /// Why the analysis worker died, until the next analysis arrives.
    pub died: RwSignal<Option<String>>,
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
    /// The Compare view's second ruleset, and the packet it traces through both.
    pub compare: RwSignal<String>,
    pub compare_packet: RwSignal<ComparePacket>,
    /// Why the link the app was opened with could not be read.
    pub link_error: RwSignal<Option<String>>,
    /// Choices to put back once the text being read has been read (a link, a saved file).
    pub restoring: StoredValue<Option<ShareState>>,
    /// Bumped when the window has been resized (and has stopped for a moment): charts are
    /// drawn again at their panel's new width ([`chart_width`]).
    pub resized: RwSignal<u64>,
}

/// The width charts are drawn at: the analysis pane's (an embed's: the window's) less its
/// padding, in steps of 40 px so small changes do not draw again.
pub fn chart_width() -> u32 {
    let pane = document()
        .query_selector(".result-pane")
        .ok()
        .flatten()
        .map(|e| f64::from(e.client_width()))
        .filter(|w| *w > 0.0);
    let width = pane.unwrap_or_else(|| {
        window()
            .inner_width()
            .ok()
            .and_then(|w| w.as_f64())
            .unwrap_or(800.0)
    }) - 40.0;
    ((width.max(0.0) as u32) / 40) * 40
}

/// The packet Compare traces through both rulesets, as its fields hold it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComparePacket {
    pub dst: String,
    pub port: String,
    pub proto: String,
}

impl AppState {
    /// Puts a saved state's choices back (its text is loaded by the caller) once its text has
    /// been read; otherwise a new text resets the choices made for the previous one.
    pub fn restore(self, saved: ShareState) {
        self.restoring.set_value(Some(saved));
    }

    /// After a new text is read: the saved choices, or a fresh start.
    fn choices_for_new_text(self) {
        match self.restoring.try_update_value(Option::take).flatten() {
            Some(saved) => {
                self.view
                    .set(View::from_id(&saved.view).unwrap_or(View::Overview));
                self.table.set(saved.table.clone());
                self.service.set(saved.service.clone());
                self.trace.set(saved.trace.clone().unwrap_or_default());
                self.conntrack
                    .set(saved.conntrack.clone().unwrap_or_default());
                self.compare.set(saved.compare.clone());
                self.link_error.set(None);
            }
            None => {
                self.table.set(None);
                self.service.set(None);
            }
        }
        self.expanded.set(Vec::new());
        self.path.set(Vec::new());
    }

    /// Everything a link carries.
    ///
    /// The text travels separately: the worker fills in the paste it holds.
    pub fn share_state(&self) -> ShareState {
        ShareState {
            input: String::new(),
            compare: self.compare.get_untracked(),
            view: self.view.get_untracked().id().to_string(),
            table: self.table.get_untracked(),
            service: self.service.get_untracked(),
            trace: Some(self.trace.get_untracked()).filter(|t| !t.dst.is_empty()),
            conntrack: Some(self.conntrack.get_untracked()).filter(|c| !c.target.is_empty()),
        }
    }
}

/// Where the page keeps the link of the work on show, so that a reload finds it (the page's
/// own storage: it never leaves the browser).
const SAVED: &str = "chainlens.work";
/// The longest link the address bar is given; longer work is kept in storage only.
const ADDRESS_BAR_AT_MOST: usize = 32 * 1024;

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// What the page was opened with: a share link's state, else the work saved by an earlier
/// visit, else the default example.
fn opening() -> (
    Option<ShareState>,
    chainlens_core::share::Display,
    Option<String>,
) {
    let hash = window().location().hash().unwrap_or_default();
    if hash.len() <= 1 {
        let saved = storage().and_then(|s| s.get_item(SAVED).ok().flatten());
        return match saved.as_deref().map(parse_fragment) {
            Some(Ok((state, display))) => (Some(state), display, None),
            // Saved by a version that wrote it differently: start afresh.
            Some(Err(_)) => {
                if let Some(s) = storage() {
                    let _ = s.remove_item(SAVED);
                }
                (None, Default::default(), None)
            }
            None => (None, Default::default(), None),
        };
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
        read: RwSignal::new(None),
        understood: RwSignal::new(None),
        generation: RwSignal::new(0),
        busy: RwSignal::new(true),
        died: RwSignal::new(None),
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
        compare_packet: RwSignal::new(ComparePacket {
            proto: "udp".to_string(),
            ..ComparePacket::default()
        }),
        link_error: RwSignal::new(link_error),
        restoring: StoredValue::new(opened.clone()),
        resized: RwSignal::new(0),
    };
    provide_context(state);
    // Charts follow their panel's width once a resize has settled.
    let settling = StoredValue::new(0u64);
    let _ = window_event_listener(leptos::ev::resize, move |_| {
        settling.update_value(|n| *n += 1);
        let mine = settling.get_value();
        set_timeout(
            move || {
                if settling.get_value() == mine {
                    state.resized.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_millis(200),
        );
    });
    client::start(move |reason| {
        // What was shown belongs to a paste the worker no longer holds: drop it, keep the text.
        let _ = state.died.try_set(Some(reason));
        let _ = state.read.try_set(None);
        let _ = state.understood.try_set(None);
        let _ = state.busy.try_set(false);
        let _ = state.path.try_set(Vec::new());
    });
    // A link pasted into the address bar of an open app changes only the fragment: reopen.
    let _ = window_event_listener(leptos::ev::hashchange, |_| {
        // The link the user put there wins over any write of the work still pending.
        LEAVING.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = window().location().reload();
    });
    if let Some(theme) = &display.theme
        && let Some(root) = document().document_element()
    {
        let _ = root.class_list().add_1(&format!("theme-{theme}"));
    }
    // Each new input goes to the worker, the latest only: while one is read, newer ones wait
    // and only the last of them is sent.
    let wanted = StoredValue::new(0u64);
    let in_flight = StoredValue::new(false);
    Effect::new(move |_| {
        input.track();
        wanted.update_value(|g| *g += 1);
        state.busy.set(true);
        if !in_flight.get_value() {
            in_flight.set_value(true);
            // In a task of its own: handing 16 MB to the worker is one more long step after
            // the paste event's own (reading the clipboard into the page).
            set_timeout(
                move || analyse(state, wanted, in_flight),
                std::time::Duration::ZERO,
            );
        }
    });
    if let Some(view) = display.embed.as_deref().and_then(View::from_id) {
        state.view.set(view);
        return view! { <crate::components::Embed view/> }.into_any();
    }
    keep_the_work(state);
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
                    <p class="busy" role="status" data-testid="busy">
                        "Analysing the paste… "
                        <button
                            class="link"
                            data-testid="busy-stop"
                            on:click=move |_| client::restart("you stopped the analysis")
                        >
                            "Stop"
                        </button>
                    </p>
                </Show>
                {move || {
                    state
                        .died
                        .get()
                        .map(|why| {
                            view! {
                                <p class="error worker-died" role="alert" data-testid="worker-died">
                                    "The analysis stopped and its results are cleared; your text is kept. "
                                    "Edit the paste (or pick an example) to analyse again. "
                                    <span class="muted">{format!("({why})")}</span>
                                </p>
                            }
                        })
                }}
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

/// Sends the newest input to the worker: first read (counts and diagnostics shown at once),
/// then understood (Services, findings). If newer input came meanwhile, it is sent next.
/// Set once a link in the address bar is reopening the app: the work of the page that is
/// leaving is no longer written (it would replace the link).
static LEAVING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The work survives a reload: a moment after the paste or a choice changes, its link is
/// kept in the page's storage and, while it is short enough to share, put in the address bar
/// (replaced, so Back still leaves the app and no `hashchange` reloads it).
fn keep_the_work(state: AppState) {
    let changes = StoredValue::new(0u64);
    Effect::new(move |_| {
        state.generation.track();
        state.view.track();
        state.table.track();
        state.service.track();
        state.trace.track();
        state.conntrack.track();
        state.compare.track();
        changes.update_value(|c| *c += 1);
        let this = changes.get_value();
        set_timeout(
            move || {
                if changes.try_get_value() != Some(this) || state.busy.get_untracked() {
                    return;
                }
                // A paste of megabytes fits neither storage's quota nor an address bar, and
                // compressing it again at every choice would cost the page long tasks.
                if state.preview.get_untracked().is_some() {
                    if let Some(s) = storage() {
                        let _ = s.remove_item(SAVED);
                    }
                    return;
                }
                crate::components::with_fragment(&state, None, |fragment| {
                    if LEAVING.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    if let Some(s) = storage() {
                        // Too large for the storage quota: the work is only in the page.
                        let _ = s.set_item(SAVED, &fragment);
                    }
                    let url = if fragment.len() <= ADDRESS_BAR_AT_MOST {
                        format!("#{fragment}")
                    } else {
                        window().location().pathname().unwrap_or_default()
                    };
                    if let Ok(history) = window().history() {
                        let _ = history.replace_state_with_url(
                            &wasm_bindgen::JsValue::NULL,
                            "",
                            Some(&url),
                        );
                    }
                });
            },
            std::time::Duration::from_millis(400),
        );
    });
}

fn analyse(state: AppState, wanted: StoredValue<u64>, in_flight: StoredValue<bool>) {
    let mine = wanted.get_value();
    in_flight.set_value(true);
    let text = state.input.get_untracked();
    let done = move || {
        in_flight.set_value(false);
        if wanted.get_value() != mine {
            analyse(state, wanted, in_flight);
        } else {
            state.busy.set(false);
        }
    };
    client::ask(Ask::Read, Some(&text), move |answer| match answer {
        Ok(Answer::Read(read)) => {
            if wanted.get_value() != mine {
                return done();
            }
            state.died.set(None);
            state.read.set(Some(read));
            state.understood.set(None);
            state.choices_for_new_text();
            state.generation.update(|g| *g += 1);
            client::ask(Ask::Understand, None, move |answer| {
                if let Ok(Answer::Understood(u)) = answer
                    && wanted.get_value() == mine
                {
                    state.understood.set(Some(u));
                    state.generation.update(|g| *g += 1);
                }
                done();
            });
        }
        _ => {
            in_flight.set_value(false);
            state.busy.set(false);
        }
    });
}
