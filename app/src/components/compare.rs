//! Compare: a second ruleset, the Services, endpoints and rules that differ, and the same
//! packet traced through both.

use std::net::IpAddr;

use chainlens_core::kube::{Diff, decode, diff};
use chainlens_core::model::values::Protocol;
use chainlens_core::sim::{Entry, NodeFacts, Packet, Simulator, Snat, Verdict};
use leptos::prelude::*;

use crate::app::AppState;

fn outcomes(
    text: Option<&str>,
    state: &AppState,
    dst: &str,
    port: &str,
    proto: &str,
) -> Vec<String> {
    let (Ok(dst), Ok(port), Ok(protocol)) = (
        dst.trim().parse::<IpAddr>(),
        port.trim().parse::<u16>(),
        Protocol::parse(proto.trim()),
    ) else {
        return vec!["give a destination address, port and protocol".into()];
    };
    let run = |ruleset: &chainlens_core::Ruleset| {
        let (facts, _) = NodeFacts::infer(ruleset);
        let packet = Packet::new(
            IpAddr::from([203, 0, 113, 77]),
            dst,
            protocol,
            port,
            Entry::Outside,
        );
        Simulator::new(ruleset)
            .run(&packet, &facts)
            .outcomes
            .iter()
            .map(|o| {
                format!(
                    "{:.4}% {}{}{}",
                    o.probability * 100.0,
                    match o.verdict {
                        Verdict::Accept => "accepted",
                        Verdict::Drop => "dropped",
                        Verdict::Reject => "rejected",
                    },
                    o.dnat
                        .as_ref()
                        .map_or(String::new(), |d| format!(", DNAT to {d}")),
                    match &o.snat {
                        Some(Snat::Masquerade) => ", masqueraded".to_string(),
                        Some(Snat::To(t)) => format!(", SNAT to {t}"),
                        None => String::new(),
                    }
                )
            })
            .collect()
    };
    match text {
        Some(t) => run(&chainlens_core::parse(t).ruleset),
        None => state.analysis.with(|a| run(&a.parsed.ruleset)),
    }
}

#[component]
pub fn CompareView() -> impl IntoView {
    let state = expect_context::<AppState>();
    let other = state.compare;
    let packet = RwSignal::new((String::new(), String::new(), "udp".to_string()));
    let compared = move || -> Option<Diff> {
        let text = other.get();
        if text.trim().is_empty() {
            return None;
        }
        let b = chainlens_core::parse(&text);
        let b_services = decode(&b.ruleset);
        Some(
            state
                .analysis
                .with(|a| diff(&a.parsed.ruleset, &a.kube.services, &b.ruleset, &b_services)),
        )
    };
    view! {
        <div class="compare">
            <label>
                "The ruleset to compare with (the paste on the left is A)"
                <textarea
                    data-testid="compare-input"
                    rows="8"
                    spellcheck="false"
                    prop:value=move || other.get()
                    on:change=move |ev| other.set(event_target_value(&ev))
                ></textarea>
            </label>
            {move || compared().map(|d| view! {
                <div class="diff" data-testid="compare-result">
                    <ul>
                        {d.services_only_in_a.iter().map(|s| view! { <li class="removed">{format!("Service {s} only in A")}</li> }).collect_view()}
                        {d.services_only_in_b.iter().map(|s| view! { <li class="added">{format!("Service {s} only in B")}</li> }).collect_view()}
                        {d.services_changed.iter().map(|c| view! {
                            <li class="changed">
                                {format!("Service {} changed: {}", c.name, [c.fields.join("; "), c.endpoints_removed.iter().map(|e| format!("- {e}")).collect::<Vec<_>>().join(" "), c.endpoints_added.iter().map(|e| format!("+ {e}")).collect::<Vec<_>>().join(" ")].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; "))}
                            </li>
                        }).collect_view()}
                    </ul>
                    <p>{format!("{} rules only in A, {} only in B", d.rules_only_in_a.len(), d.rules_only_in_b.len())}</p>
                    <details>
                        <summary>"the rules"</summary>
                        <pre class="mono">
                            {d.rules_only_in_a.iter().take(500).map(|r| format!("- [{}] -A {} {}\n", r.table, r.chain, r.text)).collect::<String>()}
                            {d.rules_only_in_b.iter().take(500).map(|r| format!("+ [{}] -A {} {}\n", r.table, r.chain, r.text)).collect::<String>()}
                        </pre>
                    </details>
                </div>
            })}
            <form class="plan-form" on:submit=move |ev| ev.prevent_default()>
                <label>"Trace from outside to"
                    <input type="text" placeholder="address" prop:value=move || packet.with(|p| p.0.clone()) on:change=move |ev| packet.update(|p| p.0 = event_target_value(&ev))/>
                </label>
                <label>"port"
                    <input type="text" size="6" prop:value=move || packet.with(|p| p.1.clone()) on:change=move |ev| packet.update(|p| p.1 = event_target_value(&ev))/>
                </label>
                <label>"protocol"
                    <input type="text" size="5" prop:value=move || packet.with(|p| p.2.clone()) on:change=move |ev| packet.update(|p| p.2 = event_target_value(&ev))/>
                </label>
            </form>
            {move || {
                let (dst, port, proto) = packet.get();
                (!dst.is_empty()).then(|| {
                    let b = other.get();
                    let left = outcomes(None, &state, &dst, &port, &proto);
                    let right = if b.trim().is_empty() { vec!["(no second ruleset)".to_string()] } else { outcomes(Some(&b), &state, &dst, &port, &proto) };
                    view! {
                        <div class="side-by-side" data-testid="compare-trace">
                            <div><h3>"A"</h3><ul>{left.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}</ul></div>
                            <div><h3>"B"</h3><ul>{right.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}</ul></div>
                        </div>
                    }
                })
            }}
        </div>
    }
}
