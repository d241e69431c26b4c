//! The packet tracer: a form with presets from the chosen Service, node facts with what was
//! assumed, and the outcomes with their paths; the paths light up in the chain graph.

use std::net::IpAddr;

use chainlens_core::model::values::Protocol;
use chainlens_core::sim::{Entry, Packet, Simulation, Simulator, Snat, Verdict, Which};
use leptos::prelude::*;

use super::cascade::{ServicePicker, chosen_service};
use crate::app::{AppState, View};

use chainlens_core::share::TraceQuery as Form;

/// A client outside the cluster, in documentation space.
const OUTSIDE: &str = "203.0.113.77";
/// The node's address when the facts do not give one (documentation space).
const NODE: &str = "192.0.2.1";

fn split(addr: &str) -> Option<(String, String)> {
    let (ip, port) = addr.rsplit_once(':')?;
    Some((ip.trim_matches(['[', ']']).to_string(), port.to_string()))
}

/// A walk's outcomes and everything assumed to get them, or what is wrong with the form.
type Traced = Result<(Simulation, Vec<String>), String>;

fn run(state: &AppState, f: &Form) -> Traced {
    let src: IpAddr = f
        .src
        .trim()
        .parse()
        .map_err(|_| format!("source `{}` is not an IP address", f.src))?;
    let dst: IpAddr = f
        .dst
        .trim()
        .parse()
        .map_err(|_| format!("destination `{}` is not an IP address", f.dst))?;
    let dport: u16 = f
        .dport
        .trim()
        .parse()
        .map_err(|_| format!("port `{}` is not a number from 0 to 65535", f.dport))?;
    let protocol = Protocol::parse(f.proto.trim()).map_err(|e| format!("protocol: {e}"))?;
    let entry = match f.from.as_str() {
        "pod" => Entry::Pod,
        "local" => Entry::Local,
        _ => Entry::Outside,
    };
    let mut local = Vec::new();
    for ip in f.local_ips.split([',', ' ']).filter(|s| !s.is_empty()) {
        local.push(
            ip.parse::<IpAddr>()
                .map_err(|_| format!("node address `{ip}` is not an IP address"))?,
        );
    }
    let which = match f.which.as_str() {
        "next" => Which::Next,
        "reply" => Which::Reply,
        _ => Which::First,
    };
    state.analysis.with(|a| {
        let mut facts = a.facts.clone();
        facts.local_ips.extend(local.iter().copied());
        let mut packet = Packet::new(src, dst, protocol, dport, entry);
        packet.sport = 40000;
        let sim = Simulator::new(&a.parsed.ruleset).trace(&packet, &facts, which);
        let mut assumed = a.assumptions.clone();
        if !local.is_empty() {
            assumed.retain(|s| !s.contains("own addresses are unknown"));
        }
        assumed.extend(sim.assumptions.iter().cloned());
        Ok((sim, assumed))
    })
}

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
    let result: RwSignal<Option<Traced>> = RwSignal::new(None);
    let presets = move || {
        let name = chosen_service(&state)?;
        state.analysis.with(|a| {
            let s = a.kube.services.iter().find(|s| s.name == name)?;
            let proto = s.protocol.map_or("tcp".to_string(), |p| p.to_string());
            let pod = a.facts.pod_cidr.map_or("10.244.0.99".to_string(), |c| {
                let ip = c.addr;
                match ip {
                    IpAddr::V4(v4) => {
                        let o = v4.octets();
                        format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3].wrapping_add(99))
                    }
                    IpAddr::V6(_) => ip.to_string(),
                }
            });
            let mut out: Vec<(String, Form)> = Vec::new();
            let base = |from: &str, src: &str, addr: &str| {
                split(addr).map(|(ip, port)| Form {
                    from: from.into(),
                    src: src.into(),
                    dst: ip,
                    proto: proto.clone(),
                    dport: port,
                    local_ips: String::new(),
                    which: "first".into(),
                })
            };
            if let Some(c) = &s.cluster_ip {
                out.extend(
                    base("pod", &pod, c).map(|f| (format!("from a pod → cluster IP {c}"), f)),
                );
                out.extend(
                    base("outside", OUTSIDE, c)
                        .map(|f| (format!("from outside → cluster IP {c}"), f)),
                );
                // From a process on the node itself: its own address as source.
                let node = a
                    .facts
                    .local_ips
                    .first()
                    .map_or(NODE.to_string(), IpAddr::to_string);
                out.extend(base("local", &node, c).map(|mut f| {
                    f.local_ips = node.clone();
                    (format!("from the node → cluster IP {c}"), f)
                }));
            }
            for e in &s.external_ips {
                out.extend(
                    base("outside", OUTSIDE, e)
                        .map(|f| (format!("from outside → external IP {e}"), f)),
                );
            }
            for e in &s.load_balancer_ips {
                out.extend(
                    base("outside", OUTSIDE, e)
                        .map(|f| (format!("from outside → load balancer {e}"), f)),
                );
            }
            if let Some(p) = s.node_port {
                let node = NODE;
                out.push((
                    format!("from outside → node port {p} (node {node})"),
                    Form {
                        from: "outside".into(),
                        src: OUTSIDE.into(),
                        dst: node.into(),
                        proto: proto.clone(),
                        dport: p.to_string(),
                        local_ips: node.into(),
                        which: "first".into(),
                    },
                ));
            }
            Some(out)
        })
    };
    let submit = move || {
        let r = run(&state, &form.get_untracked());
        if let Ok((sim, _)) = &r {
            state.path.set(
                sim.outcomes
                    .iter()
                    .flat_map(|o| o.path.iter().map(|s| (s.table.clone(), s.chain.clone())))
                    .collect(),
            );
        }
        result.set(Some(r));
    };
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
                None => view! { <p class="muted">"Pick a preset or fill in the packet, then Trace."</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert" data-testid="trace-error">{message}</p> }.into_any(),
                Some(Ok((sim, assumed))) => view! { <TraceResult sim assumed/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn TraceResult(sim: Simulation, assumed: Vec<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <div class="trace-result" data-testid="trace-result">
            <details class="assumed">
                <summary>{format!("{} assumptions about the node", assumed.len())}</summary>
                <ul>{assumed.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ul>
            </details>
            {sim
                .outcomes
                .into_iter()
                .map(|o| {
                    let verdict = match o.verdict {
                        Verdict::Accept => "accepted",
                        Verdict::Drop => "dropped",
                        Verdict::Reject => "rejected",
                    };
                    let snat = match &o.snat {
                        Some(Snat::Masquerade) => Some("masqueraded".to_string()),
                        Some(Snat::To(to)) => Some(format!("SNAT to {to}")),
                        None => None,
                    };
                    let snat_attr = snat.clone().unwrap_or_default();
                    let path: Vec<(String, String)> = o
                        .path
                        .iter()
                        .map(|s| (s.table.clone(), s.chain.clone()))
                        .collect();
                    view! {
                        <article
                            class=format!("trace-outcome {verdict}")
                            data-testid="trace-outcome"
                            data-probability=o.probability.to_string()
                            data-verdict=verdict
                            data-dnat=o.dnat.clone().unwrap_or_default()
                            data-snat=snat_attr
                        >
                            <h3>
                                <span class="p">{format!("{:.4}%", o.probability * 100.0)}</span>
                                " "
                                {verdict}
                                {o.dnat.as_ref().map(|d| format!(", DNAT to {d}"))}
                                {snat.as_ref().map(|s| format!(", {s}"))}
                                {format!(" — ends as {} → {}", o.src, o.dst)}
                            </h3>
                            <ol class="path">
                                {o
                                    .path
                                    .iter()
                                    .map(|s| {
                                        view! {
                                            <li>
                                                <span class="mono">
                                                    {format!(
                                                        "{} {} {}",
                                                        s.table,
                                                        s.chain,
                                                        s.rule.map_or("policy".to_string(), |r| format!("#{r}"))
                                                    )}
                                                </span>
                                                " "
                                                {s.action.clone()}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ol>
                            {(!o.assumptions.is_empty())
                                .then(|| {
                                    view! {
                                        <ul class="assumed">
                                            {o.assumptions.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}
                                        </ul>
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
