//! The page's components; each reads [`crate::app::AppState`] from context.

mod cascade;
mod compare;
mod conntrack;
mod diagnostics;
mod graph;
mod input;
mod overview;
mod services;
mod share;
mod summary;
mod trace;

pub use cascade::CascadeView;
pub use compare::CompareView;
pub use conntrack::ConntrackView;
pub use diagnostics::Diagnostics;
pub use graph::ChainGraphView;
pub use input::RulesInput;
pub use overview::Overview;
pub use services::ServicesTable;
pub use share::{Embed, SharePanel, with_fragment};
pub use summary::SummaryLine;
pub use trace::TraceView;

/// Where the pointer of `ev` is over the chart drawn inside the event's element, mapped
/// through the plot area it was drawn with: `(x in the chart's own units, the pointer's
/// offset in page pixels from the chart's left)`, or `None` outside the plot area.
fn pointer_on_chart(
    ev: &web_sys::MouseEvent,
    area: &chainlens_core::render::chart::PlotArea,
) -> Option<(f64, f64)> {
    let el = ev
        .current_target()
        .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        .and_then(|e| e.query_selector("svg").ok().flatten())?;
    let rect = el.get_bounding_client_rect();
    if rect.width() <= 0.0 || area.right <= area.left {
        return None;
    }
    let x = (f64::from(ev.client_x()) - rect.left()) * area.width / rect.width();
    (area.left..=area.right)
        .contains(&x)
        .then(|| (x, x / area.width * rect.width()))
}
