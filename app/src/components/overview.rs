//! Overview: the Services at a glance and the findings by severity, each pointing at its rules.

use chainlens_core::kube::SNAT_POOL;
use leptos::prelude::*;

use super::diagnostics::select_line;
use crate::app::{AppState, View};

#[component]
pub fn Overview() -> impl IntoView {
    let state = expect_context::<AppState>();
    let counts = move || {
        state
            .understood
            .with(|u| u.as_ref().map(|u| (u.services, u.endpoints, u.external)))
    };
    view! {
        <div class="overview" data-testid="overview">
            <p class="counts">
                {move || match counts() {
                    Some((services, endpoints, external)) => format!(
                        "{services} Service ports, {endpoints} endpoints, {external} reachable from outside the cluster"
                    ),
                    None => "Reading the Services…".to_string(),
                }}
            </p>
            <Findings/>
        </div>
    }
}

#[component]
pub fn Findings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let findings = move || {
        state
            .understood
            .with(|u| u.as_ref().map(|u| (u.findings.clone(), u.findings_total)))
    };
    view! {
        {move || {
            let (n, pools) = state.understood.with(|u| {
                u.as_ref().map_or((0, Vec::new()), |u| (u.conntrack_entries, u.conntrack_pools.clone()))
            });
            (n > 0).then(|| view! {
                <section class="occupancy" data-testid="conntrack-occupancy" aria-label="pasted conntrack entries">
                    <h2>"Pasted conntrack entries"</h2>
                    <p>{
                        let held: usize = pools.iter().map(|(_, k)| k).sum();
                        format!(
                            "{n} entr{}; {held} hold{} a port of a SNAT pool{}",
                            if n == 1 { "y" } else { "ies" },
                            if held == 1 { "s" } else { "" },
                            if pools.is_empty() { " (none is source-NATed)" } else { ":" }
                        )
                    }</p>
                    <ul>
                        {pools.into_iter().map(|(pool, k)| {
                            let share = k as f64 / f64::from(SNAT_POOL) * 100.0;
                            view! {
                                <li class="mono" data-testid="occupancy-pool">
                                    {format!("{pool}: {k} of {SNAT_POOL} ports ({share:.2} %)")}
                                    <span class="bar" style=format!("width: {:.1}%", share.clamp(0.5, 100.0))></span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            })
        }}
        <section class="findings" data-testid="findings" aria-label="findings">
            <h2>"Findings"</h2>
            {move || {
                let Some((list, total)) = findings() else {
                    return view! { <p class="muted">"Working…"</p> }.into_any();
                };
                let more = total.saturating_sub(list.len());
                if list.is_empty() {
                    return view! { <p class="empty">"Nothing to report."</p> }.into_any();
                }
                let shown = list.into_iter()
                    .map(|f| {
                        let severity = f.severity.clone();
                        let class = format!("finding {severity}");
                        let rules = f
                            .rules
                            .iter()
                            .map(|r| {
                                let line = r.line;
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
                        let more = f.rules_total.saturating_sub(f.rules.len());
                        // Straight into the views that show it, already run for its packet.
                        let service = f.service.clone();
                        let trace = f.trace.clone().map(|q| {
                            let service = service.clone();
                            act("finding-trace", "Trace this packet", move || {
                                state.service.set(service.clone());
                                state.trace.set(q.clone());
                                state.view.set(View::Trace);
                            })
                        });
                        let plan = f.plan_target.clone().map(|target| {
                            let service = service.clone();
                            act("finding-plan", "Plan its capacity", move || {
                                state.service.set(service.clone());
                                state.conntrack.update(|p| p.target = target.clone());
                                state.view.set(View::Conntrack);
                            })
                        });
                        // Compare: paste the rules of a fix and see the same packet through both.
                        let compare = f.trace.clone().map(|q| {
                            act("finding-compare", "Compare with a fix", move || {
                                state.compare_packet.set(crate::app::ComparePacket {
                                    dst: q.dst.clone(),
                                    port: q.dport.clone(),
                                    proto: q.proto.clone(),
                                });
                                state.view.set(View::Compare);
                            })
                        });
                        view! {
                            <article class=class data-testid="finding" data-code=f.code.clone()>
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
                                {(trace.is_some() || plan.is_some()).then(|| view! {
                                    <p class="actions">{trace}{plan}{compare}</p>
                                })}
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
                    .collect_view();
                view! {
                    {shown}
                    {(more > 0).then(|| view! { <p class="more">{format!("… and {more} more findings")}</p> })}
                }
                .into_any()
            }}
        </section>
    }
}

/// One of a finding's buttons into another view.
fn act(testid: &'static str, label: &'static str, go: impl Fn() + 'static) -> impl IntoView {
    view! {
        <button class="act" data-testid=testid on:click=move |_| go()>
            {label}
        </button>
    }
}
