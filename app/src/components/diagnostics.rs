//! The list of what was not understood, with line:column.

use leptos::prelude::*;

use crate::app::AppState;

/// Rendering thousands of rows would freeze the page; the rest are counted instead.
const SHOWN: usize = 200;

#[component]
pub fn Diagnostics() -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = move || {
        state.analysis.with(|a| {
            let hidden = a.diagnostics.len().saturating_sub(SHOWN);
            (
                a.diagnostics
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>(),
                hidden,
            )
        })
    };
    view! {
        <Show when=move || state.analysis.with(|a| !a.diagnostics.is_empty())>
            <ul class="diagnostics" data-testid="diagnostics">
                {move || {
                    let (shown, hidden) = rows();
                    view! {
                        {shown
                            .into_iter()
                            .map(|d| {
                                view! {
                                    <li class=format!("diagnostic {}", d.severity) data-code=d.code>
                                        <span class="where">{format!("{}:{}", d.line, d.column)}</span>
                                        <span class="severity">{d.severity}</span>
                                        <span class="message">{d.message}</span>
                                        {d.help.map(|h| view! { <span class="help">{h}</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                        {(hidden > 0).then(|| view! { <li class="more">{format!("… and {hidden} more")}</li> })}
                    }
                }}
            </ul>
        </Show>
    }
}
