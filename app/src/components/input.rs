//! The paste box, with the examples, a file picker and drag-and-drop; the detected format is
//! shown in the summary.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::app::AppState;
use crate::examples::EXAMPLES;

/// Above this size a paste is analysed whole but the box shows only its beginning: a browser
/// spends about 0.2 s per megabyte laying out a text field (3.2 s for 16 MB, measured by
/// `cargo xtask bench`); 100,000 characters still cost a 59 ms task, 30,000 cost 32 ms.
const PREVIEW_ABOVE: usize = 1 << 20;
const PREVIEW: usize = 30_000;

/// Puts a text into the paste box and analyses it. Typing does not come through here: the
/// box already shows what was typed, and writing megabytes back into it costs seconds.
fn load(state: &AppState, text: String) {
    if text.len() > PREVIEW_ABOVE {
        let mut end = PREVIEW;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        state.shown.set(text[..end].to_string());
        state.preview.set(Some(text.len()));
    } else {
        state.shown.set(text.clone());
        state.preview.set(None);
    }
    state.input.set(text);
}

/// Reads a dropped or picked file as text (invalid UTF-8 becomes U+FFFD and is reported).
fn load_file(file: web_sys::File, state: AppState) {
    wasm_bindgen_futures::spawn_local(async move {
        let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
        let text = text.ok().and_then(|t| t.as_string()).unwrap_or_default();
        // An analysis saved from the share panel reopens with its view, Service, trace, plan.
        match chainlens_core::share::from_file(&text) {
            None => load(&state, text),
            Some(Ok(saved)) => {
                load(&state, saved.input.clone());
                state.restore(saved);
            }
            Some(Err(e)) => state.link_error.set(Some(e.to_string())),
        }
    });
}

#[component]
pub fn RulesInput() -> impl IntoView {
    let state = expect_context::<AppState>();
    let input = state.input;
    let dragging = RwSignal::new(false);
    // Line numbers beside the text, and a mark at each line a diagnostic names (its
    // severity's colour; hover says what).
    let gutter = NodeRef::<leptos::html::Div>::new();
    let numbers = move || {
        let lines = match state.preview.get() {
            Some(_) => state.shown.with(|t| t.split('\n').count()),
            None => input.with(|t| t.split('\n').count()),
        };
        let mut out = String::with_capacity(lines * 6);
        for n in 1..=lines {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        out
    };
    let marks = move || {
        state.read.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.diagnostics
                        .iter()
                        .flat_map(|d| {
                            std::iter::once(d.line)
                                .chain(d.also.iter().copied())
                                .map(move |line| (line, d.severity.clone(), d.message.clone()))
                        })
                        .map(|(line, severity, message)| {
                            view! {
                                <span
                                    class=format!("mark {severity}")
                                    data-line=line
                                    title=format!("line {line}: {message}")
                                    style=format!("top: calc(.5rem + {} * 1.4 * 12px)", line.saturating_sub(1))
                                ></span>
                            }
                        })
                        .collect_view()
                })
        })
    };
    // Which example is in the box, if one is (it stays named until the text is edited).
    let example = move || {
        input.with(|t| {
            EXAMPLES
                .iter()
                .find(|(_, text)| *text == t.as_str())
                .map(|(name, _)| *name)
        })
    };
    let founding = EXAMPLES
        .iter()
        .find(|(n, _)| n.starts_with("bind-kube-proxy"))
        .map(|(_, t)| *t);
    view! {
        <p class="example-note" data-testid="example-note">
            {move || match example() {
                Some(name) => format!("Example loaded: {name}. "),
                None => String::new(),
            }}
            {move || {
                let story = founding?;
                (example() != Some("bind-kube-proxy-v1.4.21.iptables-save")).then(|| view! {
                    <button class="link" data-testid="founding-story" on:click=move |_| load(&state, story.to_string())>
                        "Open the founding story: a BIND DNS Service that failed at 2,500 queries/s"
                    </button>
                })
            }}
        </p>
        <div class="input-bar">
            <label class="pane-title" for="rules-input">"Paste iptables-save output"</label>
            <select
                data-testid="example-picker"
                aria-label="load an example"
                on:change=move |ev| {
                    let name = event_target_value(&ev);
                    if let Some((_, text)) = EXAMPLES.iter().find(|(n, _)| *n == name) {
                        load(&state, text.to_string());
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
                            load_file(file, state);
                        }
                    }
                />
            </label>
        </div>
        {move || {
            state
                .preview
                .get()
                .map(|bytes| {
                    view! {
                        <p class="preview-note" data-testid="large-paste">
                            {format!(
                                "A large paste ({:.1} MB): all of it is analysed; the field shows its first {} characters. ",
                                bytes as f64 / 1e6,
                                PREVIEW
                            )}
                            <button class="link" on:click=move |_| load(&state, String::new())>
                                "Clear"
                            </button>
                        </p>
                    }
                })
        }}
        <div class="editor">
        <div class="gutter" node_ref=gutter aria-hidden="true" data-testid="gutter">
            <pre class="numbers">{numbers}</pre>
            {marks}
        </div>
        <textarea
            id="rules-input"
            data-testid="rules-input"
            class="rules-input"
            class:dragging=move || dragging.get()
            spellcheck="false"
            autocomplete="off"
            placeholder="Paste what you have from a node: iptables-save output, grep'd fragments, iptables -L listings, a shell transcript, conntrack -L lines. Or drop a file here."
            prop:value=move || state.shown.get()
            prop:readOnly=move || state.preview.get().is_some()
            on:input=move |ev| input.set(event_target_value(&ev))
            on:scroll=move |ev| {
                // The gutter follows the text.
                if let (Some(g), Some(area)) = (
                    gutter.get_untracked(),
                    ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok()),
                ) {
                    g.set_scroll_top(area.scroll_top());
                }
            }
            on:paste=move |ev: web_sys::ClipboardEvent| {
                let text = ev.clipboard_data().and_then(|d| d.get_data("text/plain").ok());
                if let Some(text) = text.filter(|t| t.len() > PREVIEW_ABOVE) {
                    ev.prevent_default();
                    load(&state, text);
                }
            }
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
                    load_file(file, state);
                }
            }
        >
            {input.get_untracked()}
        </textarea>
        </div>
    }
}
