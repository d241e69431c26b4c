//! The paste box, with the examples, a file picker and drag-and-drop; the detected format is
//! shown in the summary.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::analysis::EXAMPLES;
use crate::app::AppState;

/// Reads a dropped or picked file as text (invalid UTF-8 becomes U+FFFD and is reported).
fn load(file: web_sys::File, input: RwSignal<String>) {
    wasm_bindgen_futures::spawn_local(async move {
        let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
        match text.ok().and_then(|t| t.as_string()) {
            Some(text) => input.set(text),
            None => input.set(String::new()),
        }
    });
}

#[component]
pub fn RulesInput() -> impl IntoView {
    let state = expect_context::<AppState>();
    let input = state.input;
    let dragging = RwSignal::new(false);
    view! {
        <div class="input-bar">
            <label class="pane-title" for="rules-input">"Paste iptables-save output"</label>
            <select
                data-testid="example-picker"
                aria-label="load an example"
                on:change=move |ev| {
                    let name = event_target_value(&ev);
                    if let Some((_, text)) = EXAMPLES.iter().find(|(n, _)| *n == name) {
                        input.set(text.to_string());
                    }
                }
            >
                <option value="">"Examples…"</option>
                {EXAMPLES
                    .iter()
                    .map(|(name, _)| view! { <option value=*name>{*name}</option> })
                    .collect_view()}
            </select>
            <label class="file-button">
                "Open file…"
                <input
                    type="file"
                    data-testid="file-input"
                    class="visually-hidden"
                    on:change=move |ev| {
                        let files = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                            .and_then(|i| i.files());
                        if let Some(file) = files.and_then(|f| f.get(0)) {
                            load(file, input);
                        }
                    }
                />
            </label>
        </div>
        <textarea
            id="rules-input"
            data-testid="rules-input"
            class="rules-input"
            class:dragging=move || dragging.get()
            spellcheck="false"
            autocomplete="off"
            placeholder="Paste what you have from a node: iptables-save output, grep'd fragments, iptables -L listings, a shell transcript, conntrack -L lines. Or drop a file here."
            prop:value=move || input.get()
            on:input=move |ev| input.set(event_target_value(&ev))
            on:dragover=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev: web_sys::DragEvent| {
                ev.prevent_default();
                dragging.set(false);
                let file = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0));
                if let Some(file) = file {
                    load(file, input);
                }
            }
        >
            {input.get_untracked()}
        </textarea>
    }
}
