//! The paste box.

use leptos::prelude::*;

use crate::app::AppState;

#[component]
pub fn RulesInput() -> impl IntoView {
    let state = expect_context::<AppState>();
    let input = state.input;
    view! {
        <label class="pane-title" for="rules-input">"Paste iptables-save output"</label>
        <textarea
            id="rules-input"
            data-testid="rules-input"
            class="rules-input"
            spellcheck="false"
            autocomplete="off"
            placeholder="Paste the output of `iptables-save` from a node here"
            prop:value=move || input.get()
            on:input=move |ev| {
                input.set(event_target_value(&ev));
                state.table.set(None);
            }
        >
            {input.get_untracked()}
        </textarea>
    }
}
