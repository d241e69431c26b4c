//! The count line: format, tables, chains, rules and diagnostics.

use leptos::prelude::*;

use crate::app::AppState;

#[component]
pub fn SummaryLine() -> impl IntoView {
    let state = expect_context::<AppState>();
    let summary = move || state.read.get();
    view! {
        <div class="summary" data-testid="summary" aria-live="polite">
            {move || {
                let Some(s) = summary() else {
                    let what = if state.died.with(Option::is_some) { "not analysed" } else { "reading…" };
                    return view! { <span class="format">{what}</span> }.into_any();
                };
                let count_class = if s.errors > 0 { "count bad" } else { "count" };
                let (chains, rules) = (s.chains(), s.rules());
                view! {
                    <span class="format">{s.format}</span>
                    <span>{format!("{} tables", s.tables.len())}</span>
                    <span>{format!("{chains} chains")}</span>
                    <span>{format!("{rules} rules")}</span>
                    <span class=count_class>
                        {format!("{} diagnostics", s.diagnostics_total)}
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
                .into_any()
            }}
        </div>
    }
}
