//! The count line: format, tables, chains, rules and diagnostics.

use leptos::prelude::*;

use crate::app::AppState;

#[component]
pub fn SummaryLine() -> impl IntoView {
    let state = expect_context::<AppState>();
    let summary = move || state.analysis.with(|a| a.summary.clone());
    view! {
        <div class="summary" data-testid="summary" aria-live="polite">
            {move || {
                let s = summary();
                let count_class = if s.errors > 0 { "count bad" } else { "count" };
                view! {
                    <span class="format">{s.format}</span>
                    <span>{format!("{} tables", s.tables.len())}</span>
                    <span>{format!("{} chains", s.chains())}</span>
                    <span>{format!("{} rules", s.rules())}</span>
                    <span class=count_class>
                        {format!("{} diagnostics", s.diagnostics)}
                    </span>
                    <span class="per-table">
                        {s
                            .tables
                            .into_iter()
                            .map(|t| {
                                view! {
                                    <span
                                        class="table-count"
                                        data-table=t.name.clone()
                                        data-chains=t.chains
                                        data-rules=t.rules
                                    >
                                        {format!("{} {} chains / {} rules", t.name, t.chains, t.rules)}
                                    </span>
                                }
                            })
                            .collect_view()}
                    </span>
                }
            }}
        </div>
    }
}
