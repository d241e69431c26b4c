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

#[component]
pub fn ServicePicker() -> impl IntoView {
    let state = expect_context::<AppState>();
    let names = asked(
        move || {
            state.generation.track();
            Some((
                Ask::ServiceNames {
                    filter: String::new(),
                    limit: 2000,
                },
                None,
            ))
        },
        |a| match a {
            Answer::ServiceNames(n) => Some(n),
            _ => None,
        },
    );
    view! {
        <label class="picker">
            "Service "
            <select
                data-testid="service-picker"
                on:change=move |ev| state.service.set(Some(event_target_value(&ev)))
            >
                {move || {
                    let current = chosen_service(&state);
                    names
                        .get()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|n| {
                            let selected = current.as_ref() == Some(&n);
                            let value = n.clone();
                            view! { <option value=value selected=selected>{n}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

#[component]
pub fn CascadeView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let cascades = asked(
        move || {
            state.generation.track();
            let service = chosen_service(&state)?;
            Some((Ask::Cascade { service }, None))
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
                            let n = c.steps.len();
                            view! {
                                <section class="cascade-one">
                                    <h3>{c.title}</h3>
                                    <div class="chart" data-testid="cascade-chart" data-endpoints=n inner_html=c.svg></div>
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
