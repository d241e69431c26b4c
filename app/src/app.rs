//! The page: input on the left, summary, diagnostics and the chain graph on the right, all
//! reading one [`Analysis`] memo.

use leptos::prelude::*;

use crate::analysis::{Analysis, DEFAULT_EXAMPLE};
use crate::components::{ChainGraphView, Diagnostics, RulesInput, SummaryLine};

/// State shared through context: the input text, its analysis, and the table on show.
#[derive(Clone, Copy, Debug)]
pub struct AppState {
    pub input: RwSignal<String>,
    pub analysis: Memo<Analysis>,
    /// The table whose graph is shown; `None` follows the analysis' default.
    pub table: RwSignal<Option<String>>,
}

#[component]
pub fn App() -> impl IntoView {
    let input = RwSignal::new(DEFAULT_EXAMPLE.to_string());
    let analysis = Memo::new(move |_| input.with(|text| Analysis::of(text)));
    let state = AppState {
        input,
        analysis,
        table: RwSignal::new(None),
    };
    provide_context(state);
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
                <SummaryLine/>
                <Diagnostics/>
                <ChainGraphView/>
            </section>
        </main>
    }
}
