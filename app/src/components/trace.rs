//! The packet tracer: a form with presets from the chosen Service, node facts with what was
//! assumed, and the outcomes with their paths; the paths light up in the chain graph.

use leptos::prelude::*;

use super::cascade::{ServicePicker, chosen_service};
use super::diagnostics::select_line;
use crate::app::{AppState, View};
use crate::views;
use crate::worker::client::asked;
use crate::worker::{Answer, Ask};

use chainlens_core::share::TraceQuery as Form;

/// A client outside the cluster, in documentation space.
const OUTSIDE: &str = "203.0.113.77";

#[component]
pub fn TraceView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let form = state.trace;
    if form.with_untracked(|f| f.src.is_empty()) {
        form.update_untracked(|f| {
            f.from = "outside".into();
            f.src = OUTSIDE.into();
            f.proto = "tcp".into();
            f.which = "first".into();
        });
    }
    // The packet traced: set by Trace and the presets, traced again for each new paste.
    let submitted: RwSignal<Option<Form>> = RwSignal::new(None);
    let result = asked(
        move || {
            state.generation.track();
            let query = submitted.get()?;
            Some((Ask::Trace { query }, None))
        },
        |a| match a {
            Answer::Trace(t) => Some(t),
            _ => None,
        },
    );
    Effect::new(move |_| {
        if let Some(Ok(t)) = result.get() {
            state.path.set(t.path.clone());
        }
    });
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
    let presets = move || detail.get().map(|d| d.presets);
    // An empty form takes the chosen Service's first preset (not traced until asked), so its
    // protocol and port are the Service's, not a default's.
    Effect::new(move |_| {
        if let Some((_, first)) = detail.get().and_then(|d| d.presets.into_iter().next())
            && form.with_untracked(|f| f.dst.is_empty())
        {
            form.set(first);
        }
    });
    let submit = move || submitted.set(Some(form.get_untracked()));
    if form.with_untracked(|f| !f.dst.is_empty() && !f.dport.is_empty()) {
        submit();
    }
    let field = move |label: &'static str, get: fn(&Form) -> String, set: fn(&mut Form, String)| {
        view! {
            <label>
                {label}
                <input
                    type="text"
                    spellcheck="false"
                    data-testid=format!("trace-{}", label.to_ascii_lowercase().replace(' ', "-"))
                    prop:value=move || form.with(get)
                    on:input=move |ev| form.update(|f| set(f, event_target_value(&ev)))
                />
            </label>
        }
    };
    view! {
        <div class="tracer">
            <ServicePicker/>
            <div class="presets">
                {move || {
                    presets()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(label, f)| {
                            view! {
                                <button
                                    class="preset"
                                    on:click=move |_| {
                                        form.set(f.clone());
                                        submit();
                                    }
                                >
                                    {label}
                                </button>
                            }
                        })
                        .collect_view()
                }}
            </div>
            <form
                class="trace-form"
                data-testid="trace-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    submit();
                }
            >
                <label>
                    "From"
                    <select
                        data-testid="trace-from"
                        on:change=move |ev| form.update(|f| f.from = event_target_value(&ev))
                    >
                        {["outside", "pod", "local"]
                            .into_iter()
                            .map(|v| view! { <option value=v selected=move || form.with(|f| f.from == v)>{v}</option> })
                            .collect_view()}
                    </select>
                </label>
                {field("Source", |f| f.src.clone(), |f, v| f.src = v)}
                {field("Destination", |f| f.dst.clone(), |f, v| f.dst = v)}
                {field("Protocol", |f| f.proto.clone(), |f, v| f.proto = v)}
                {field("Port", |f| f.dport.clone(), |f, v| f.dport = v)}
                {field("Node addresses", |f| f.local_ips.clone(), |f, v| f.local_ips = v)}
                {field("Arrives on", |f| f.in_iface.clone(), |f, v| f.in_iface = v)}
                <label>
                    "Packet"
                    <select
                        data-testid="trace-which"
                        on:change=move |ev| form.update(|f| f.which = event_target_value(&ev))
                    >
                        <option value="first">"first (decides NAT)"</option>
                        <option value="next">"a later one"</option>
                        <option value="reply">"the reply"</option>
                    </select>
                </label>
                <button type="submit" data-testid="trace-submit">"Trace"</button>
            </form>
            {move || match result.get() {
                None if submitted.with(Option::is_some) => view! { <p class="muted">"Tracing…"</p> }.into_any(),
                None => view! { <p class="muted">"Pick a preset or fill in the packet, then Trace."</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert" data-testid="trace-error">{message}</p> }.into_any(),
                Some(Ok(trace)) => view! { <TraceResult trace/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn TraceResult(trace: views::Trace) -> impl IntoView {
    let state = expect_context::<AppState>();
    let assumed = trace.assumed;
    view! {
        <div class="trace-result" data-testid="trace-result">
            <details class="assumed">
                <summary>{format!("{} assumptions about the node", assumed.len())}</summary>
                <ul>{assumed.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul>
            </details>
            {trace
                .unexplored
                .into_iter()
                .map(|u| view! { <p class="warning" data-testid="trace-unexplored">{u}</p> })
                .collect_view()}
            {trace
                .outcomes
                .into_iter()
                .map(|o| {
                    let verdict = o.verdict.clone();
                    let path = o.path.clone();
                    let snat = (!o.snat.is_empty()).then(|| {
                        if o.snat == "masquerade" {
                            "masqueraded".to_string()
                        } else {
                            format!("SNAT to {}", o.snat)
                        }
                    });
                    let looped = o.looped_at;
                    let snat_attr = snat.clone().unwrap_or_default();
                    view! {
                        <article
                            class=format!("trace-outcome {verdict}")
                            data-testid="trace-outcome"
                            data-probability=o.probability.to_string()
                            data-verdict=verdict.clone()
                            data-dnat=o.dnat.clone()
                            data-snat=snat_attr
                        >
                            <h3>
                                <span class="p">{format!("{:.4}%", o.probability * 100.0)}</span>
                                " "
                                <span class="headline">{o.headline.clone()}</span>
                                <span class="muted">{format!(" — leaves as {}", o.ends_as)}</span>
                                {(o.paths > 1).then(|| {
                                    let n = if o.paths == u64::MAX { "very many".to_string() } else { o.paths.to_string() };
                                    view! { <span class="muted">{format!(" ({n} paths alike; the likeliest shown)")}</span> }
                                })}
                            </h3>
                            <PacketPath hops=o.hops.clone() steps=o.steps.clone()/>
                            <ol class="path">
                                {o
                                    .steps
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, s)| {
                                        let line = s.line;
                                        let place = format!("{} {} {}", s.table, s.chain, s.rule).trim_end().to_string();
                                        // A rule assumed for a fragment is on no line of the paste.
                                        let place = match line {
                                            Some(line) => view! {
                                                <button
                                                    class="link mono"
                                                    title="select this rule in the paste"
                                                    on:click=move |_| state.input.with_untracked(|t| select_line(t, line))
                                                >
                                                    {place}
                                                </button>
                                            }
                                            .into_any(),
                                            None => view! {
                                                <span class="mono" title="not in the paste">{place}</span>
                                            }
                                            .into_any(),
                                        };
                                        view! {
                                            {(looped == Some(i)).then(|| view! { <li class="loop">"out through lo and in again"</li> })}
                                            <li>
                                                {place}
                                                " "
                                                {s.action}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                            {(!o.assumptions.is_empty())
                                .then(|| {
                                    view! {
                                        <ul class="assumed">
                                            {o.assumptions.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
                                        </ul>
                                    }
                                })}
                            {(!o.either.is_empty())
                                .then(|| {
                                    let n = o.either.len();
                                    view! {
                                        <details class="either" data-testid="trace-either" data-count=n>
                                            <summary>{format!("{n} tests the rules cannot decide make no difference to this outcome")}</summary>
                                            <ul>{o.either.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul>
                                        </details>
                                    }
                                })}
                            <button
                                class="link"
                                on:click=move |_| {
                                    state.path.set(path.clone());
                                    state.view.set(View::Graph);
                                }
                            >
                                "show this path in the graph"
                            </button>
                        </article>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The path as the kernel runs it: the hooks in order, and at each every table's base chain the
/// packet passed, with the chains it went through, the random draws that chose its way, NAT as
/// it happened, and how each table's walk ended. A chain opens its first rule in the paste.
#[component]
fn PacketPath(hops: Vec<views::Hop>, steps: Vec<views::Step>) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <ol class="hops" data-testid="packet-path" aria-label="the packet's way, hook by hook">
            {hops
                .into_iter()
                .map(|hop| {
                    let title = if hop.again {
                        format!("{} (in again through lo)", hop.hook)
                    } else {
                        hop.hook.clone()
                    };
                    view! {
                        <li class="hop" data-testid="hop" data-hook=hop.hook.clone()>
                            <h4>{title}</h4>
                            {hop
                                .passes
                                .into_iter()
                                .map(|pass| {
                                    let chips = pass
                                        .chains
                                        .into_iter()
                                        .map(|(chain, words)| {
                                            // Its first rule the packet met, else the rule that
                                            // jumped to it (it returned without matching any).
                                            let later = &steps[pass.first_step..];
                                            let line = later
                                                .iter()
                                                .find(|s| s.chain == chain)
                                                .or_else(|| {
                                                    later.iter().find(|s| {
                                                        s.action == format!("jump {chain}")
                                                            || s.action == format!("goto {chain}")
                                                    })
                                                })
                                                .and_then(|s| s.line);
                                            let title = match line {
                                                Some(l) => format!("{chain}: line {l} of the paste"),
                                                None => chain.clone(),
                                            };
                                            view! {
                                                <button
                                                    class="chip"
                                                    title=title
                                                    disabled=line.is_none()
                                                    on:click=move |_| {
                                                        if let Some(line) = line {
                                                            state.input.with_untracked(|t| select_line(t, line));
                                                        }
                                                    }
                                                >
                                                    <span class="mono">{chain}</span>
                                                    {words.map(|w| view! { <span class="words">{w}</span> })}
                                                </button>
                                            }
                                        })
                                        .collect_view();
                                    let events = pass
                                        .events
                                        .into_iter()
                                        .map(|e| match e {
                                            views::Event::Draw { share, took } => view! {
                                                <li class="event draw" data-testid="hop-draw" data-share=share.to_string()>
                                                    <span class="p">{format!("{:.4}%", share * 100.0)}</span>
                                                    " by a random draw: "
                                                    <span class="mono">{took}</span>
                                                </li>
                                            }
                                            .into_any(),
                                            views::Event::Nat(what) => view! {
                                                <li class="event nat" data-testid="hop-nat">{what}</li>
                                            }
                                            .into_any(),
                                            views::Event::Mark(what) => view! {
                                                <li class="event mark">{what}</li>
                                            }
                                            .into_any(),
                                        })
                                        .collect_view();
                                    let (table, attr) = (pass.table.clone(), pass.table);
                                    view! {
                                        <div class="pass" data-table=attr>
                                            <span class="table">{table}</span>
                                            <div class="chips">{chips}</div>
                                            <ul class="events">{events}</ul>
                                            <span class="ends mono">{pass.ends}</span>
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
