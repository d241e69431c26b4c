//! Compare: a second ruleset, the Services, endpoints and rules that differ, and the same
//! packet traced through both.

use leptos::prelude::*;

use crate::app::AppState;
use crate::worker::client::asked;
use crate::worker::{Answer, Ask};

#[component]
pub fn CompareView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let other = state.compare;
    let packet = state.compare_packet;
    let in_iface = RwSignal::new(String::new());
    let compared = asked(
        move || {
            state.generation.track();
            let text = other.get();
            let crate::app::ComparePacket { dst, port, proto } = packet.get();
            let in_iface = in_iface.get();
            (!text.trim().is_empty() || !dst.trim().is_empty()).then_some((
                Ask::Compare {
                    dst,
                    port,
                    proto,
                    in_iface,
                },
                Some(text),
            ))
        },
        |a| match a {
            Answer::Compare(c) => c,
            _ => None,
        },
    );
    view! {
        <div class="compare">
            <label>
                "The ruleset to compare with (your paste is A, this one B)"
                <textarea
                    data-testid="compare-input"
                    rows="8"
                    spellcheck="false"
                    prop:value=move || other.get()
                    on:input=move |ev| other.set(event_target_value(&ev))
                ></textarea>
            </label>
            <label class="toggle">
                "or compare with an example: "
                <select
                    data-testid="compare-example"
                    on:change=move |ev| {
                        let name = event_target_value(&ev);
                        if let Some((_, text)) = crate::examples::EXAMPLES.iter().find(|(n, _)| *n == name) {
                            other.set(text.to_string());
                        }
                    }
                >
                    <option value="">"Examples…"</option>
                    {crate::examples::EXAMPLES
                        .iter()
                        .map(|(name, _)| view! { <option value=*name>{*name}</option> })
                        .collect_view()}
                </select>
            </label>
            {move || compared.get().filter(|_| other.with(|t| !t.trim().is_empty())).map(|d| view! {
                <div class="compare-diff" data-testid="compare-result">
                    <ul>
                        {d.removed.into_iter().map(|s| view! { <li class="removed">{s}</li> }).collect_view()}
                        {d.added.into_iter().map(|s| view! { <li class="added">{s}</li> }).collect_view()}
                        {d.changed.into_iter().map(|s| view! { <li class="changed">{s}</li> }).collect_view()}
                    </ul>
                    <p>{format!("{} rules only in A, {} only in B", d.rules_only_in_a, d.rules_only_in_b)}</p>
                    <details>
                        <summary>"the rules"</summary>
                        <pre class="mono diff" data-testid="compare-rules">
                            {d
                                .rules
                                .lines()
                                .map(|l| {
                                    let class = match l.chars().next() {
                                        Some('-') => "removed",
                                        Some('+') => "added",
                                        _ => "",
                                    };
                                    view! { <span class=class>{format!("{l}\n")}</span> }
                                })
                                .collect_view()}
                        </pre>
                    </details>
                </div>
            })}
            <form class="plan-form" on:submit=move |ev| ev.prevent_default()>
                <label>"Trace from outside to"
                    <input type="text" placeholder="address" prop:value=move || packet.with(|p| p.dst.clone()) on:input=move |ev| packet.update(|p| p.dst = event_target_value(&ev))/>
                </label>
                <label>"port"
                    <input type="text" size="6" prop:value=move || packet.with(|p| p.port.clone()) on:input=move |ev| packet.update(|p| p.port = event_target_value(&ev))/>
                </label>
                <label>"protocol"
                    <input type="text" size="5" prop:value=move || packet.with(|p| p.proto.clone()) on:input=move |ev| packet.update(|p| p.proto = event_target_value(&ev))/>
                </label>
                <label>"arriving on"
                    <input type="text" size="10" placeholder="as each says" data-testid="compare-in" prop:value=move || in_iface.get() on:input=move |ev| in_iface.set(event_target_value(&ev))/>
                </label>
            </form>
            {move || {
                compared.get().and_then(|d| d.trace).map(|(left, right)| {
                    view! {
                        <div class="side-by-side" data-testid="compare-trace">
                            <div data-testid="compare-a"><h3>"A"</h3><ul>{left.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}</ul></div>
                            <div data-testid="compare-b"><h3>"B"</h3><ul>{right.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}</ul></div>
                        </div>
                    }
                })
            }}
        </div>
    }
}
