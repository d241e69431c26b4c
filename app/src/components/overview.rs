//! Overview: the Services at a glance and the findings by severity, each pointing at its rules.

use leptos::prelude::*;

use super::diagnostics::select_line;
use crate::app::{AppState, View};

#[component]
pub fn Overview() -> impl IntoView {
    let state = expect_context::<AppState>();
    let counts = move || {
        state.analysis.with(|a| {
            let s = &a.kube.services;
            (
                s.len(),
                s.iter().map(|s| s.endpoints.len()).sum::<usize>(),
                s.iter()
                    .filter(|s| s.external_traffic_policy.is_some())
                    .count(),
            )
        })
    };
    view! {
        <div class="overview" data-testid="overview">
            <p class="counts">
                {move || {
                    let (services, endpoints, external) = counts();
                    format!(
                        "{services} Service ports, {endpoints} endpoints, {external} reachable from outside the cluster"
                    )
                }}
            </p>
            <Findings/>
        </div>
    }
}

#[component]
pub fn Findings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let findings = move || state.analysis.with(|a| a.kube.findings.clone());
    view! {
        <section class="findings" data-testid="findings" aria-label="findings">
            <h2>"Findings"</h2>
            {move || {
                let list = findings();
                if list.is_empty() {
                    return view! { <p class="empty">"Nothing to report."</p> }.into_any();
                }
                list.into_iter()
                    .map(|f| {
                        let severity = f.severity.as_str();
                        let service = f.service.clone();
                        let rules = f
                            .rules
                            .iter()
                            .take(8)
                            .map(|r| {
                                let line = state
                                    .analysis
                                    .with_untracked(|a| {
                                        state.input.with_untracked(|t| a.line_index.line_col(t, r.span.start).line)
                                    });
                                view! {
                                    <button
                                        class="rule-ref"
                                        title="select this rule in the paste"
                                        on:click=move |_| state.input.with_untracked(|t| select_line(t, line))
                                    >
                                        {format!("{} {} #{} (line {line})", r.table, r.chain, r.rule)}
                                    </button>
                                }
                            })
                            .collect_view();
                        let more = f.rules.len().saturating_sub(8);
                        view! {
                            <article class=format!("finding {severity}") data-testid="finding" data-code=f.code>
                                <h3>
                                    <span class="severity">{severity}</span>
                                    " "
                                    <span class="message">{f.message.clone()}</span>
                                </h3>
                                <p class="why">{f.explanation.clone()}</p>
                                <p class="todo">
                                    <strong>"What to do: "</strong>
                                    {f.action.clone()}
                                </p>
                                <p class="rules">
                                    {rules}
                                    {(more > 0).then(|| format!(" and {more} more"))}
                                    {service
                                        .map(|s| {
                                            let pick = s.clone();
                                            view! {
                                                <button
                                                    class="link"
                                                    on:click=move |_| {
                                                        state.service.set(Some(pick.clone()));
                                                        state.view.set(View::Cascade);
                                                    }
                                                >
                                                    {format!("show {s}")}
                                                </button>
                                            }
                                        })}
                                </p>
                            </article>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </section>
    }
}
