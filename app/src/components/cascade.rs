//! The probability cascade of one Service: the chart (effective share per endpoint against
//! 1/n) and the table of per-rule and effective probabilities.

use chainlens_core::kube::{Cascade, CascadeForm};
use chainlens_core::render::chart::cascade_svg;
use leptos::prelude::*;

use crate::app::AppState;

/// The Service on show: the chosen one, else the first with more than one endpoint.
pub fn chosen_service(state: &AppState) -> Option<String> {
    state.service.get().or_else(|| {
        state.analysis.with(|a| {
            a.kube
                .services
                .iter()
                .find(|s| s.endpoints.len() > 1)
                .or(a.kube.services.first())
                .map(|s| s.name.clone())
        })
    })
}

#[component]
pub fn ServicePicker() -> impl IntoView {
    let state = expect_context::<AppState>();
    let names = move || {
        state.analysis.with(|a| {
            a.kube
                .services
                .iter()
                .take(2000)
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <label class="picker">
            "Service "
            <select
                data-testid="service-picker"
                on:change=move |ev| state.service.set(Some(event_target_value(&ev)))
            >
                {move || {
                    let current = chosen_service(&state);
                    names()
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
    let cascades = move || {
        let name = chosen_service(&state)?;
        state.analysis.with(|a| {
            a.kube
                .services
                .iter()
                .find(|s| s.name == name)
                .map(Cascade::all)
        })
    };
    view! {
        <div class="cascade">
            <ServicePicker/>
            {move || match cascades() {
                None => view! { <p class="empty">"No Services in this paste."</p> }.into_any(),
                Some(list) if list.is_empty() => {
                    view! { <p class="empty">"This Service has no endpoint rules in the paste."</p> }.into_any()
                }
                Some(list) => {
                    list.into_iter()
                        .map(|c| {
                            let form = match c.form {
                                CascadeForm::Single => "one endpoint",
                                CascadeForm::Legacy => "written by kube-proxy ≤ 1.16 (5 decimals)",
                                CascadeForm::Modern => "written by kube-proxy ≥ 1.17 (10 decimals)",
                                CascadeForm::Other => "not as kube-proxy writes them",
                            };
                            let svg = cascade_svg(&c);
                            view! {
                                <section class="cascade-one">
                                    <h3>{format!("{} — {form}", c.chain)}</h3>
                                    <div class="chart" data-testid="cascade-chart" data-endpoints=c.steps.len() inner_html=svg></div>
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
                                                .iter()
                                                .map(|s| {
                                                    view! {
                                                        <tr data-testid="cascade-step" data-probability=s.probability.to_string()>
                                                            <td class="mono">
                                                                {s.endpoint.clone().unwrap_or_else(|| format!("{} (not in the paste)", s.chain))}
                                                            </td>
                                                            <td class="mono">{s.shown.clone().unwrap_or_else(|| "rest".into())}</td>
                                                            <td class="num">{format!("{:.6}%", s.probability * 100.0)}</td>
                                                            <td class="num">{format!("{:+.2e}", s.deviation)}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                    <p class="muted">
                                        {format!(
                                            "Shares sum to {:.12}; spread {:.2e}; {}",
                                            c.sum,
                                            c.spread,
                                            if c.unmatched > 0.0 {
                                                format!("{:.4}% match no endpoint rule", c.unmatched * 100.0)
                                            } else {
                                                "every connection finds an endpoint".into()
                                            }
                                        )}
                                    </p>
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
