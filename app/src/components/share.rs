//! Sharing: a link holding the whole state (in the fragment, so it never reaches a server),
//! the analysis as a file when the link is too long, an <iframe> snippet for docs, and
//! exports of the graph and charts (SVG, PNG, Mermaid, DOT) and of the analysis (Markdown).
//! Also the embed mode: one view, no chrome, and a link to open it whole.

use chainlens_core::share::LONG_LINK;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::cascade::chosen_service;
use super::{CascadeView, ChainGraphView, ConntrackView, Overview, ServicesTable, TraceView};
use crate::app::{AppState, View};
use crate::worker::client::{ask, asked};
use crate::worker::{Answer, Ask, ExportKind, ViewState};

/// The page's address without its fragment.
fn base() -> String {
    let href = window().location().href().unwrap_or_default();
    href.split('#').next().unwrap_or_default().to_string()
}

/// Offers `contents` as a file download.
fn download(name: &str, mime: &str, contents: &str) {
    let parts = js_sys_array(contents);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    save_blob(name, &blob);
}

fn js_sys_array(text: &str) -> wasm_bindgen::JsValue {
    let array = web_sys::js_sys::Array::new();
    array.push(&wasm_bindgen::JsValue::from_str(text));
    array.into()
}

fn save_blob(name: &str, blob: &web_sys::Blob) {
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else {
        return;
    };
    if let Ok(a) = document().create_element("a")
        && let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Draws an SVG on a canvas (twice its size, for sharp text) and downloads it as PNG.
fn download_png(name: String, svg_text: String) {
    let Ok(image) = web_sys::HtmlImageElement::new() else {
        return;
    };
    let loaded = image.clone();
    let onload = Closure::once_into_js(move || {
        let (w, h) = (
            loaded.natural_width().max(1),
            loaded.natural_height().max(1),
        );
        let Ok(canvas) = document()
            .create_element("canvas")
            .map(|c| c.unchecked_into::<web_sys::HtmlCanvasElement>())
        else {
            return;
        };
        canvas.set_width(w * 2);
        canvas.set_height(h * 2);
        let Some(ctx) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .map(|c| c.unchecked_into::<web_sys::CanvasRenderingContext2d>())
        else {
            return;
        };
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(0.0, 0.0, f64::from(w * 2), f64::from(h * 2));
        let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(
            &loaded,
            0.0,
            0.0,
            f64::from(w * 2),
            f64::from(h * 2),
        );
        let save = Closure::once_into_js(move |blob: Option<web_sys::Blob>| {
            if let Some(blob) = blob {
                save_blob(&name, &blob);
            }
        });
        let _ = canvas.to_blob(save.unchecked_ref());
    });
    image.set_onload(Some(onload.unchecked_ref()));
    let encoded: String = web_sys::js_sys::encode_uri_component(&svg_text).into();
    image.set_src(&format!("data:image/svg+xml;charset=utf-8,{encoded}"));
}

/// What is on show, for an export of it.
fn view_state(state: &AppState) -> ViewState {
    ViewState {
        cascade: (state.view.get_untracked() == View::Cascade)
            .then(|| chosen_service(state))
            .flatten(),
        table: state.table.get_untracked(),
        fold: state.fold.get_untracked(),
        expanded: state.expanded.get_untracked(),
        search: state.search.get_untracked(),
    }
}

/// Asks the worker for an export and hands it to `then`.
fn export(state: &AppState, what: ExportKind, then: impl FnOnce(crate::views::Export) + 'static) {
    let view = view_state(state);
    ask(Ask::Export { what, view }, None, move |a| {
        if let Ok(Answer::Export(Some(e))) = a {
            then(e);
        }
    });
}

/// Asks the worker for the link fragment of what is on show.
pub fn with_fragment(state: &AppState, embed: Option<String>, then: impl FnOnce(String) + 'static) {
    let shared = state.share_state();
    ask(
        Ask::Link {
            state: shared,
            embed,
        },
        None,
        move |a| {
            if let Ok(Answer::Text(f)) = a {
                then(f);
            }
        },
    );
}

#[component]
pub fn SharePanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let open = RwSignal::new(false);
    let link = RwSignal::new(String::new());
    let embed_view = RwSignal::new("graph".to_string());
    let snippet = RwSignal::new(String::new());
    let make_link = move || {
        with_fragment(&state, None, move |f| {
            let _ = link.try_set(format!("{}#{f}", base()));
        });
        let embed = embed_view.get_untracked();
        with_fragment(&state, Some(embed.clone()), move |f| {
            let _ = snippet.try_set(format!(
                "<iframe src=\"{}#{f}\" width=\"600\" height=\"400\" style=\"border:0\" title=\"chainlens: {embed}\"></iframe>",
                base()
            ));
        });
    };
    let download_export = move |what: ExportKind| {
        export(&state, what, |e| download(&e.name, &e.mime, &e.contents));
    };
    // Esc closes the panel, wherever the focus is.
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && open.get_untracked() {
            let _ = open.try_set(false);
        }
    });
    view! {
        <div class="share">
            <button
                class="share-toggle"
                data-testid="share-open"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| {
                    make_link();
                    open.update(|o| *o = !*o);
                }
            >
                "Share & export"
            </button>
            <Show when=move || open.get()>
                <div class="share-panel" data-testid="share-panel">
                    <label>
                        {move || format!("Link ({} characters; the rules stay in the part after #, which is never sent to a server)", link.with(String::len))}
                        <input type="text" readonly data-testid="share-link" prop:value=move || link.get()/>
                    </label>
                    <span data-testid="share-length" hidden>{move || link.with(String::len)}</span>
                    <button
                        on:click=move |_| {
                            make_link();
                            let clipboard = window().navigator().clipboard();
                            let _ = clipboard.write_text(&link.get_untracked());
                        }
                    >
                        "Copy link"
                    </button>
                    {move || {
                        (link.with(String::len) > LONG_LINK)
                            .then(|| {
                                view! {
                                    <p class="warning" data-testid="share-too-long">
                                        {format!(
                                            "This link is {} characters: chat tools often cut links over {LONG_LINK}. Download the analysis as a file instead; chainlens opens it again by drop or Open file.",
                                            link.with(String::len)
                                        )}
                                    </p>
                                }
                            })
                    }}
                    <button
                        data-testid="share-download"
                        on:click=move |_| {
                            ask(Ask::File { state: state.share_state() }, None, |a| {
                                if let Ok(Answer::Text(file)) = a {
                                    download("analysis.chainlens.json", "application/json", &file);
                                }
                            });
                        }
                    >
                        "Download the analysis"
                    </button>
                    <label>
                        "Embed in docs: "
                        <select data-testid="embed-view" on:change=move |ev| {
                            embed_view.set(event_target_value(&ev));
                            make_link();
                        }>
                            {["graph", "cascade", "trace", "conntrack", "services", "overview"]
                                .into_iter()
                                .map(|v| view! { <option value=v>{v}</option> })
                                .collect_view()}
                        </select>
                        <textarea readonly rows="3" data-testid="embed-snippet" prop:value=snippet></textarea>
                    </label>
                    <button on:click=move |_| {
                        let text = snippet.get_untracked();
                        let _ = window().navigator().clipboard().write_text(&text);
                    }>"Copy snippet"</button>
                    <div class="exports">
                        "Export: "
                        <button data-testid="export-svg" on:click=move |_| download_export(ExportKind::Svg)>"SVG"</button>
                        <button data-testid="export-png" on:click=move |_| {
                            export(&state, ExportKind::Svg, |e| download_png(e.name.replace(".svg", ".png"), e.contents));
                        }>"PNG"</button>
                        <button data-testid="export-mermaid" on:click=move |_| download_export(ExportKind::Mermaid)>"Mermaid"</button>
                        <button data-testid="export-dot" on:click=move |_| download_export(ExportKind::Dot)>"DOT"</button>
                        <button data-testid="export-markdown" on:click=move |_| download_export(ExportKind::Markdown)>"Markdown"</button>
                    </div>
                </div>
            </Show>
        </div>
    }
}

/// One view, no chrome: what an <iframe> in documentation shows.
#[component]
pub fn Embed(view: View) -> impl IntoView {
    let state = expect_context::<AppState>();
    let open = asked(
        move || {
            state.generation.track();
            Some((
                Ask::Link {
                    state: state.share_state(),
                    embed: None,
                },
                None,
            ))
        },
        |a| match a {
            Answer::Text(f) => Some(format!("{}#{f}", base())),
            _ => None,
        },
    );
    // The caption names what the figure is of.
    let caption = move || {
        let service = super::cascade::chosen_service(&state).unwrap_or_default();
        match view {
            View::Graph => format!(
                "chainlens · chain graph of the {} table",
                state
                    .table
                    .get()
                    .or_else(|| state
                        .read
                        .with(|r| r.as_ref().and_then(|r| r.default_table.clone())))
                    .unwrap_or_default()
            ),
            View::Cascade => format!("chainlens · probability cascade of {service}"),
            View::Trace => {
                let t = state.trace.get();
                format!(
                    "chainlens · a packet from {} to {}:{}/{}",
                    t.src, t.dst, t.dport, t.proto
                )
            }
            View::Conntrack => format!(
                "chainlens · conntrack and SNAT pools: {}",
                state.conntrack.with(|p| p.target.clone())
            ),
            _ => format!("chainlens · {}", view.id()),
        }
    };
    view! {
        <div class="embed" data-testid="embed" data-view=view.id()>
            <p class="caption" data-testid="embed-caption">{caption}</p>
            {match view {
                View::Graph => view! { <ChainGraphView/> }.into_any(),
                View::Cascade => view! { <CascadeView/> }.into_any(),
                View::Trace => view! { <TraceView/> }.into_any(),
                View::Conntrack => view! { <ConntrackView/> }.into_any(),
                View::Services => view! { <ServicesTable/> }.into_any(),
                _ => view! { <Overview/> }.into_any(),
            }}
            <a class="open-in" href=move || open.get().unwrap_or_default() target="_blank" rel="noopener" data-testid="open-in-chainlens">
                "open in chainlens"
            </a>
        </div>
    }
}
