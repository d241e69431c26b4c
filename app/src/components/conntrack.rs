//! The conntrack planner: traffic to one Service address at a rate, the table and SNAT pools
//! over time, where they saturate and what is refused, with measured samples laid over it.

use leptos::prelude::*;

use super::cascade::{ServicePicker, chosen_service};
use crate::app::AppState;
use crate::worker::client::asked;
use crate::worker::{Answer, Ask};

use chainlens_core::share::Plan;

#[component]
pub fn ConntrackView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let form = state.conntrack;
    if form.with_untracked(|f| f.rate.is_empty()) {
        form.update_untracked(|f| {
            f.rate = "2500".into();
            f.duration = "120".into();
            f.kernel = "6.1".into();
        });
    }
    // Follow the chosen Service (a link's own target is kept when it opens).
    // Follow the chosen Service (a link's own target is kept when it opens).
    let opened_with = form.with_untracked(|f| f.target.clone());
    let detail = asked(
        move || {
            state.generation.track();
            let name = chosen_service(&state)?;
            Some((Ask::Service { name }, None))
        },
        |a| match a {
            Answer::Service(d) => d,
            _ => None,
        },
    );
    let first_detail = StoredValue::new(true);
    Effect::new(move |_| {
        let Some(first) = detail.get().and_then(|d| d.targets.into_iter().next()) else {
            return;
        };
        if first_detail.get_value() && !opened_with.is_empty() {
            first_detail.set_value(false);
            return;
        }
        first_detail.set_value(false);
        form.update(|f| f.target = first);
    });
    let result = asked(
        move || {
            state.generation.track();
            state.resized.track();
            let plan = form.get();
            let width = crate::app::chart_width();
            (!plan.target.is_empty()).then_some((Ask::Plan { plan, width }, None))
        },
        |a| match a {
            Answer::Plan(p) => Some(p),
            _ => None,
        },
    );
    let chart = move || match result.get() {
        None => view! { <p class="muted">"Working…"</p> }.into_any(),
        Some(Err(message)) => {
            view! { <p class="error" role="alert" data-testid="conntrack-error">{message}</p> }
                .into_any()
        }
        Some(Ok(o)) => {
            let saturated = o.saturated;
            let o2 = o.clone();
            view! {
                {o.notes.into_iter().map(|n| view! { <p class="warning">{n}</p> }).collect_view()}
                <p class="verdict" data-testid="conntrack-summary" data-saturated=saturated.to_string()>{o.summary}</p>
                <ul class="pools">{o.pools.into_iter().map(|p| view! { <li class="mono">{p}</li> }).collect_view()}</ul>
                <ChartWithReadout plan=o2 saturated/>
                {o.samples.map(|s| view! { <p class="muted">{s}</p> })}
            }
            .into_any()
        }
    };
    // One labelled text field of the plan, written back when it changes.
    let field = move |label: &'static str,
                      testid: &'static str,
                      placeholder: &'static str,
                      get: fn(&Plan) -> &String,
                      set: fn(&mut Plan, String)| {
        view! {
            <label>
                {label}
                <input
                    type="text"
                    size="8"
                    data-testid=testid
                    placeholder=placeholder
                    prop:value=move || form.with(|f| get(f).clone())
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))
                />
            </label>
        }
    };
    view! {
        <div class="planner">
            <ServicePicker/>
            <form class="plan-form" on:submit=move |ev| ev.prevent_default()>
                <label>
                    "Traffic to"
                    <input
                        type="text"
                        data-testid="conntrack-target"
                        prop:value=move || form.with(|f| f.target.clone())
                        on:input=move |ev| form.update(|f| f.target = event_target_value(&ev))
                    />
                </label>
                {field("New flows/s", "conntrack-rate", "", |f| &f.rate, |f, v| f.rate = v)}
                {field("Ramp from (flows/s)", "conntrack-ramp-from", "constant", |f| &f.ramp_from, |f, v| f.ramp_from = v)}
                {field("over (s)", "conntrack-ramp-over", "60", |f| &f.ramp_over, |f, v| f.ramp_over = v)}
                {field("Seconds", "conntrack-duration", "", |f| &f.duration, |f, v| f.duration = v)}
                {field("Kernel", "conntrack-kernel", "6.1", |f| &f.kernel, |f, v| f.kernel = v)}
                <label class="toggle">
                    <input
                        type="checkbox"
                        prop:checked=move || form.with(|f| f.flows)
                        on:change=move |ev| form.update(|f| f.flows = event_target_checked(&ev))
                    />
                    " per-flow model too"
                </label>
                <label class="toggle">
                    <input
                        type="checkbox"
                        prop:checked=move || form.with(|f| f.reuse)
                        on:change=move |ev| form.update(|f| f.reuse = event_target_checked(&ev))
                    />
                    " one client reusing 28,232 ports"
                </label>
            </form>
            {chart}
            <label class="measured">
                "Measured conntrack counts (DATE : count / max, plain counts, or CSV) to lay over the curve"
                <textarea
                    data-testid="conntrack-measured"
                    rows="4"
                    spellcheck="false"
                    placeholder="paste here, or drop a file"
                    prop:value=move || form.with(|f| f.measured.clone())
                    on:input=move |ev| form.update(|f| f.measured = event_target_value(&ev))
                    on:dragover=move |ev: web_sys::DragEvent| ev.prevent_default()
                    on:drop=move |ev: web_sys::DragEvent| {
                        ev.prevent_default();
                        let file = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0));
                        if let Some(file) = file {
                            wasm_bindgen_futures::spawn_local(async move {
                                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                                let text = text.ok().and_then(|t| t.as_string()).unwrap_or_default();
                                form.update(|f| f.measured = text);
                            });
                        }
                    }
                ></textarea>
            </label>
        </div>
    }
}

/// The conntrack chart with a read-out of every series at the pointer: a line at the second
/// under it and the values there, mapped through the plot area the chart was drawn with.
#[component]
fn ChartWithReadout(plan: crate::views::Plan, saturated: bool) -> impl IntoView {
    let at: RwSignal<Option<(f64, usize)>> = RwSignal::new(None);
    // On the right of the chart the read-out opens to the left of the pointer.
    let flip = RwSignal::new(false);
    let area = plan.plot;
    let readout = StoredValue::new(plan.readout.clone());
    let labels = plan.pool_labels.clone();
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some((x, px)) = super::pointer_on_chart(&ev, &area) else {
            at.set(None);
            return;
        };
        // From the SVG's own units to seconds.
        let t =
            area.x_from + (x - area.left) / (area.right - area.left) * (area.x_to - area.x_from);
        let nearest = readout.with_value(|r| {
            r.iter()
                .enumerate()
                .min_by(|a, b| (a.1.t - t).abs().total_cmp(&(b.1.t - t).abs()))
                .map(|(i, _)| i)
        });
        at.set(nearest.map(|i| (px, i)));
        flip.set(x > area.width * 0.6);
    };
    view! {
        <div
            class="chart readout-host"
            data-testid="conntrack-chart"
            data-saturated=saturated.to_string()
            on:mousemove=on_move
            on:mouseleave=move |_| at.set(None)
        >
            <div inner_html=plan.svg.clone()></div>
            {move || {
                let (px, i) = at.get()?;
                let p = readout.with_value(|r| r.get(i).cloned())?;
                let pools = p
                    .pools
                    .iter()
                    .zip(&labels)
                    .map(|(n, l)| view! { <li>{format!("pool {l}: {n:.0}")}</li> })
                    .collect_view();
                Some(view! {
                    <div class="readout-line" style=format!("left: {px:.0}px; top: {:.2}%; height: {:.2}%", area.top / area.height * 100.0, (area.bottom - area.top) / area.height * 100.0)></div>
                    <div class="readout" data-testid="chart-readout" style=move || if flip.get() { format!("left: {:.0}px; transform: translateX(-100%)", px - 12.0) } else { format!("left: {:.0}px", px + 12.0) }>
                        <strong>{format!("{:.0} s", p.t)}</strong>
                        <ul>
                            <li>{format!("all entries: {:.0}", p.entries)}</li>
                            <li>{format!("nf_conntrack_count: {:.0}", p.count)}</li>
                            {pools}
                            <li>{format!("refused: {:.0} new flows/s", p.refused)}</li>
                        </ul>
                    </div>
                })
            }}
        </div>
    }
}
