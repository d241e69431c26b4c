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
                    <span>{count(s.tables.len(), "table")}</span>
                    <span>{count(chains, "chain")}</span>
                    <span>{count(rules, "rule")}</span>
                    <span class=count_class>
                        {count(s.diagnostics_total, "diagnostic")}
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

/// `1 table`, `2 tables`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
