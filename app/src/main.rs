//! The chainlens browser app: mounts [`app::App`] and nothing else.

mod analysis;
mod app;
mod components;

/// Parses `text` and returns how many rules were read: the entry point `cargo xtask bench`
/// times in the browser, so the figure is the real bundle's parser.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = chainlensParse)]
pub fn chainlens_parse(text: &str) -> usize {
    chainlens_core::parse(text)
        .ruleset
        .tables
        .iter()
        .map(|t| t.rule_count())
        .sum()
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
