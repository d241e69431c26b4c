//! The probability cascade of one Service: the chart (effective share per endpoint against
//! 1/n) and the table of per-rule and effective probabilities.

use leptos::prelude::*;

use crate::app::AppState;
use crate::worker::client::asked;
use crate::worker::{Answer, Ask};

/// The Service on show: the chosen one, else the analysis' default (the first with more than
/// one endpoint).
pub fn chosen_service(state: &AppState) -> Option<String> {
    state.service.get().or_else(|| {
        state
            .understood
            .with(|u| u.as_ref().and_then(|u| u.default_service.clone()))
    })
}

/// How many matches the Service picker lists at once (it searches all Services).
const PICKER_SHOWN: usize = 50;

/// The Service on show, and a search over every Service (10,000 are no more than 10): typing
/// lists the first matches; a click or Enter picks one.
#[component]
pub fn ServicePicker() -> impl IntoView {
    let state = expect_context::<AppState>();
    let typed: RwSignal<Option<String>> = RwSignal::new(None);
    let names = asked(
        move || {
            state.generation.track();
            let filter = typed.get()?;
            Some((
                Ask::ServiceNames {
                    filter,
                    limit: PICKER_SHOWN,
                },
                None,
            ))
        },
        |a| match a {
            Answer::ServiceNames(n) => Some(n),
            _ => None,
        },
    );
    let pick = move |name: String| {
        state.service.set(Some(name));
        typed.set(None);
    };
    view! {
        <div class="picker">
            <label>
                "Service "
                <input
                    type="search"
                    data-testid="service-picker"
                    placeholder="search Services"
                    autocomplete="off"
                    spellcheck="false"
                    role="combobox"
                    aria-expanded=move || typed.with(Option::is_some).to_string()
                    prop:value=move || typed.get().unwrap_or_else(|| chosen_service(&state).unwrap_or_default())
                    on:focus=move |_| if typed.with_untracked(Option::is_none) { typed.set(Some(String::new())) }
                    on:input=move |ev| typed.set(Some(event_target_value(&ev)))
                    on:blur=move |_| typed.set(None)
                    on:keydown=move |ev| match ev.key().as_str() {
                        "Enter" => {
                            if let Some(first) = names.get_untracked().and_then(|n| n.into_iter().next()) {
                                pick(first);
                            }
                        }
                        "Escape" => typed.set(None),
                        _ => {}
                    }
                />
            </label>
            {move || {
                typed.get()?;
                let list = names.get().unwrap_or_default();
                Some(view! {
                    <ul class="picker-list" role="listbox" data-testid="service-picker-list">
                        {list
                            .into_iter()
                            .map(|n| {
                                let name = n.clone();
                                view! {
                                    <li role="option">
                                        <button on:mousedown=move |ev| {
                                            // Before the input's blur hides the list.
                                            ev.prevent_default();
                                            pick(name.clone());
                                        }>{n}</button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                })
            }}
        </div>
    }
}

#[component]
pub fn CascadeView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cascades = asked(
        move || {
            state.generation.track();
            state.resized.track();
            let service = chosen_service(&state)?;
            let width = crate::app::chart_width();
            Some((Ask::Cascade { service, width }, None))
        },
        |a| match a {
            Answer::Cascade(c) => Some(c),
            _ => None,
        },
    );
    view! {
        <div class="cascade">
            <ServicePicker/>
            {move || match cascades.get() {
                None if chosen_service(&state).is_none() => {
                    view! { <p class="empty">"No Services in this paste."</p> }.into_any()
                }
                None => view! { <p class="muted">"Working…"</p> }.into_any(),
                Some(list) if list.is_empty() => {
                    view! { <p class="empty">"This Service has no endpoint rules in the paste."</p> }.into_any()
                }
                Some(list) => {
                    list.into_iter()
                        .map(|c| {
                            let chart = view! { <CascadeChart svg=c.svg.clone() plot=c.plot steps=c.steps.clone()/> };
                            view! {
                                <section class="cascade-one">
                                    <h3>{c.title}</h3>
                                    {chart}
                                    <table class="cascade-table">
                                        <thead>
                                            <tr>
                                                <th>"Endpoint"</th>
                                                <th>"Rule's probability"</th>
                                                <th>"Share of connections"</th>
                                                <th>"Against 1/n"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {c
                                                .steps
                                                .into_iter()
                                                .map(|s| {
                                                    view! {
                                                        <tr data-testid="cascade-step" data-probability=s.probability.to_string()>
                                                            <td class="mono">{s.endpoint}</td>
                                                            <td class="mono">{s.rule}</td>
                                                            <td class="num">{format!("{:.6}%", s.probability * 100.0)}</td>
                                                            <td class="num">{format!("{:+.2e}", s.deviation)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                    <p class="muted">{c.note}</p>
                                </section>
                            }
                        })
                        .collect_view()
                        .into_any()
                }
            }}
        </div>
    }
}

/// A cascade's bars with a read-out of the bar under the pointer: its endpoint, its rule's
/// own probability and its share of new connections.
#[component]
fn CascadeChart(
    svg: String,
    plot: chainlens_core::render::chart::PlotArea,
    steps: Vec<crate::views::CascadeStep>,
) -> impl IntoView {
    let n = steps.len();
    let at: RwSignal<Option<(f64, usize)>> = RwSignal::new(None);
    let flip = RwSignal::new(false);
    let steps = StoredValue::new(steps);
    let on_move = move |ev: web_sys::MouseEvent| {
        let bar = super::pointer_on_chart(&ev, &plot).map(|(x, px)| {
            flip.set(x > plot.width * 0.6);
            let share = (x - plot.left) / (plot.right - plot.left);
            (px, ((share * plot.x_to) as usize).min(n.saturating_sub(1)))
        });
        at.set(bar.filter(|_| n > 0));
    };
    view! {
        <div
            class="chart readout-host"
            data-testid="cascade-chart"
            data-endpoints=n
            on:mousemove=on_move
            on:mouseleave=move |_| at.set(None)
        >
            <div inner_html=svg></div>
            {move || {
                let (px, i) = at.get()?;
                let s = steps.with_value(|s| s.get(i).cloned())?;
                let place = if flip.get() {
                    format!("left: {:.0}px; transform: translateX(-100%)", px - 12.0)
                } else {
                    format!("left: {:.0}px", px + 12.0)
                };
                Some(view! {
                    <div class="readout" data-testid="cascade-readout" style=place>
                        <strong class="mono">{s.endpoint}</strong>
                        <ul>
                            <li>{format!("share of new connections: {:.6}%", s.probability * 100.0)}</li>
                            <li>{format!("the rule's own probability: {}", s.rule)}</li>
                            <li>{format!("against 1/n: {:+.2e}", s.deviation)}</li>
                        </ul>
                    </div>
                })
            }}
        </div>
    }
}
