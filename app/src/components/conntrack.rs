//! The conntrack planner: traffic to one Service address at a rate, the table and SNAT pools
//! over time, where they saturate and what is refused, with measured samples laid over it.

use std::net::{IpAddr, SocketAddr};

use chainlens_core::conntrack::{
    ClientPorts, Kernel, Profile, Samples, Series, Traffic, analytic, fit, flows, parse_samples,
    pools,
};
use chainlens_core::model::values::Protocol;
use chainlens_core::render::chart::conntrack_svg;
use chainlens_core::sim::Entry;
use leptos::prelude::*;

use super::cascade::{ServicePicker, chosen_service};
use crate::app::AppState;

use chainlens_core::share::Plan;

struct Outcome {
    label: String,
    notes: Vec<String>,
    runs: Vec<Series>,
    ceiling: Option<f64>,
    pools: Vec<String>,
    samples: Option<(Samples, f64)>,
    saturation: Option<f64>,
}

/// The chosen Service's addresses that traffic from outside reaches, as `ip:port/proto`.
fn targets(state: &AppState) -> Vec<String> {
    let Some(name) = chosen_service(state) else {
        return Vec::new();
    };
    state.analysis.with(|a| {
        let Some(s) = a.kube.services.iter().find(|s| s.name == name) else {
            return Vec::new();
        };
        let proto = s.protocol.map_or("tcp".to_string(), |p| p.to_string());
        s.external_ips
            .iter()
            .chain(&s.load_balancer_ips)
            .chain(&s.cluster_ip)
            .filter(|a| a.parse::<SocketAddr>().is_ok())
            .map(|a| format!("{a}/{proto}"))
            .collect()
    })
}

fn plan(state: &AppState, p: &Plan) -> Result<Outcome, String> {
    let (addr, proto) = p
        .target
        .trim()
        .rsplit_once('/')
        .unwrap_or((p.target.trim(), "tcp"));
    let to: SocketAddr = addr
        .parse()
        .map_err(|_| format!("`{addr}` is not IP:PORT; choose a Service address or type one"))?;
    let protocol = Protocol::parse(proto).map_err(|e| format!("protocol: {e}"))?;
    let rate: f64 = p
        .rate
        .trim()
        .parse()
        .map_err(|_| format!("rate `{}` is not a number", p.rate))?;
    let duration: u32 = p
        .duration
        .trim()
        .parse()
        .ok()
        .filter(|d| (1..=86_400).contains(d))
        .ok_or_else(|| format!("duration `{}` must be 1 to 86400 seconds", p.duration))?;
    let kernel = Kernel::parse(p.kernel.trim())?;
    let routing = state.analysis.with(|a| {
        pools(
            &a.parsed.ruleset,
            &a.facts,
            to,
            protocol,
            IpAddr::from([198, 51, 100, 10]),
            Entry::Outside,
        )
    });
    let profile = match p.ramp_from.trim() {
        "" => Profile::Constant(rate),
        from => Profile::Ramp {
            from: from
                .parse()
                .map_err(|_| format!("ramp start `{from}` is not a number"))?,
            to: rate,
            over: p.ramp_over.trim().parse().unwrap_or(60.0),
        },
    };
    let mut traffic = Traffic::new(routing, protocol, profile);
    traffic.duration = duration;
    traffic.kernel = kernel;
    if p.reuse {
        traffic.clients = 1;
        traffic.ports = ClientPorts::Reuse(28_232);
    }
    let samples = (!p.measured.trim().is_empty()).then(|| parse_samples(&p.measured));
    if let Some(max) = samples.as_ref().and_then(|s| s.max) {
        traffic.conntrack_max = max as u64;
    }
    if !(rate.is_finite() && rate >= 0.0) {
        return Err(format!(
            "rate `{}` must be a number of new flows per second",
            p.rate
        ));
    }
    let mut runs = vec![analytic(&traffic)];
    let mut notes = Vec::new();
    if p.flows && f64::from(duration) * rate <= 20_000_000.0 {
        runs.push(flows(&traffic));
    } else if p.flows {
        notes.push(format!(
            "The per-flow model was not run: {:.0} flows is more than the page models at once (20 million); shorten the duration.",
            f64::from(duration) * rate
        ));
    }
    let offset = samples
        .as_ref()
        .and_then(|s| fit(&s.samples, traffic.lifetime()))
        .map_or(0.0, |f| f.start);
    let pools = traffic
        .routing
        .pools
        .iter()
        .map(|p| {
            format!(
                "{} → {} ({:.1}% of flows, {} ports)",
                p.snat,
                p.endpoint,
                p.share * 100.0,
                p.ceiling
            )
        })
        .collect();
    Ok(Outcome {
        notes,
        label: format!("{rate} new flows/s to {to}/{protocol}"),
        ceiling: traffic
            .routing
            .pools
            .iter()
            .map(|p| f64::from(p.ceiling))
            .reduce(f64::max),
        saturation: traffic.saturation_rate(),
        runs,
        pools,
        samples: samples.map(|s| (s, offset)),
    })
}

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
    let opened_with = form.with_untracked(|f| f.target.clone());
    Effect::new(move |previous: Option<()>| {
        let first = targets(&state).into_iter().next();
        if previous.is_none() && !opened_with.is_empty() {
            return;
        }
        if let Some(t) = first {
            form.update(|f| f.target = t);
        }
    });
    let result = Memo::new(move |_| form.with(|p| plan(&state, p).map(|o| o.label)).err());
    let chart = move || {
        form.with(|p| match plan(&state, p) {
            Err(message) => view! { <p class="error" role="alert" data-testid="conntrack-error">{message}</p> }.into_any(),
            Ok(o) => {
                let runs: Vec<&Series> = o.runs.iter().collect();
                let measured = o.samples.as_ref().map(|(s, off)| (s.samples.as_slice(), *off));
                let svg = conntrack_svg(&o.label, &runs, o.ceiling, measured);
                let first = &o.runs[0];
                let summary = match (first.first_drop, o.saturation) {
                    (Some(t), Some(r)) => format!(
                        "Saturates: the first pool fills at {r:.0} new flows/s; refusals from {t:.0} s; {:.1}% of new flows refused over the run.",
                        first.dropped_share * 100.0
                    ),
                    (None, Some(r)) => format!(
                        "No refusals: the first pool would fill at {r:.0} new flows/s; {:.0} live entries at the end.",
                        first.steady_entries
                    ),
                    (_, None) => format!(
                        "No SNAT pool: nothing limits the new flows but nf_conntrack_max; {:.0} live entries at the end.",
                        first.steady_entries
                    ),
                };
                let saturated = first.first_drop.is_some();
                let notes = o.notes.clone();
                view! {
                    {notes.into_iter().map(|n| view! { <p class="warning">{n}</p> }).collect_view()}
                    <p class="verdict" data-testid="conntrack-summary" data-saturated=saturated.to_string()>{summary}</p>
                    <ul class="pools">{o.pools.into_iter().map(|p| view! { <li class="mono">{p}</li> }).collect_view()}</ul>
                    <div class="chart" data-testid="conntrack-chart" data-saturated=saturated.to_string() inner_html=svg></div>
                    {o.samples.map(|(s, _)| view! {
                        <p class="muted">
                            {format!("{} measured samples laid over the curve", s.samples.len())}
                            {(!s.skipped.is_empty()).then(|| format!("; {} lines not understood (first: line {})", s.skipped.len(), s.skipped[0].0))}
                        </p>
                    })}
                }
                .into_any()
            }
        })
    };
    let _ = result;
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
                    on:change=move |ev| form.update(|f| set(f, event_target_value(&ev)))
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
                        on:change=move |ev| form.update(|f| f.target = event_target_value(&ev))
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
                    on:change=move |ev| form.update(|f| f.measured = event_target_value(&ev))
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
