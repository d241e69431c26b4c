//! The list of what was not understood, with line:column; clicking one selects its line in
//! the paste box.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::app::AppState;

/// Selects line `line` (1-based) of the paste box, counting UTF-16 units as the browser does.
pub fn select_line(text: &str, line: usize) {
    let Some(area) = document()
        .get_element_by_id("rules-input")
        .and_then(|e| e.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return;
    };
    let mut start = 0u32;
    for (i, l) in text.split('\n').enumerate() {
        let len = l.encode_utf16().count() as u32;
        if i + 1 == line {
            let _ = area.focus();
            let _ = area.set_selection_range(start, start + len);
            // Scroll the selection into view: about one line height per line.
            let per_line = area.scroll_height() as f64 / text.split('\n').count().max(1) as f64;
            area.set_scroll_top(((line as f64 - 3.0).max(0.0) * per_line) as i32);
            return;
        }
        start += len + 1;
    }
}

#[component]
pub fn Diagnostics() -> impl IntoView {
    let state = expect_context::<AppState>();
    // The worker sends the first few hundred, repeats said once with all their lines; the rest
    // are counted.
    let rows = move || {
        state.read.with(|r| {
            r.as_ref().map_or((Vec::new(), 0), |r| {
                let said: usize = r.diagnostics.iter().map(|d| d.times.max(1)).sum();
                (
                    r.diagnostics.clone(),
                    r.diagnostics_total.saturating_sub(said),
                )
            })
        })
    };
    let goto = move |line: usize| state.input.with_untracked(|t| select_line(t, line));
    view! {
        <Show when=move || state.read.with(|r| r.as_ref().is_some_and(|r| r.diagnostics_total > 0))>
            <ul class="diagnostics" data-testid="diagnostics">
                {move || {
                    let (shown, hidden) = rows();
                    view! {
                        {shown
                            .into_iter()
                            .map(|d| {
                                let line = d.line;
                                let class = format!("diagnostic {}", d.severity);
                                let unlisted = d.times.saturating_sub(1 + d.also.len());
                                view! {
                                    <li class=class data-code=d.code.clone() data-times=d.times>
                                        <button
                                            class="where"
                                            title="select this line in the paste"
                                            on:click=move |_| goto(line)
                                        >
                                            {format!("{}:{}", d.line, d.column)}
                                        </button>
                                        <span class="severity">{d.severity}</span>
                                        <span class="message">
                                            {(d.times > 1).then(|| view! { <span class="times">{format!("{}×", d.times)}</span> " " })}
                                            {d.message}
                                        </span>
                                        {(!d.also.is_empty()).then(|| view! {
                                            <span class="also">
                                                "also at lines "
                                                {d.also
                                                    .iter()
                                                    .map(|&l| view! {
                                                        <button class="line" title="select this line in the paste" on:click=move |_| goto(l)>{l}</button>
                                                    })
                                                    .collect_view()}
                                                {(unlisted > 0).then(|| format!(" and {unlisted} more"))}
                                            </span>
                                        })}
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
