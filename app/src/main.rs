//! The chainlens browser app: mounts [`app::App`] and nothing else.

mod analysis;
mod app;
mod components;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
