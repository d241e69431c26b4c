//! The Services table: sortable and filterable; choosing a row selects that Service for the
//! cascade, the tracer and the planner.

use leptos::prelude::*;

use chainlens_core::kube::{Policy, ServicePort};

use crate::app::{AppState, View};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    Name,
    Kind,
    Endpoints,
    Cost,
}

/// How a Service port is reached: the broadest of its addresses.
pub fn kind(s: &ServicePort) -> &'static str {
    if !s.load_balancer_ips.is_empty() {
        "LoadBalancer"
    } else if s.node_port.is_some() {
        "NodePort"
    } else if !s.external_ips.is_empty() {
        "ClusterIP + externalIPs"
    } else if s.cluster_ip.is_some() {
        "ClusterIP"
    } else {
        "?"
    }
}

fn ports(s: &ServicePort) -> String {
    let mut out: Vec<String> = Vec::new();
    out.extend(s.cluster_ip.clone());
    out.extend(s.node_port.map(|p| format!("node port {p}")));
    out.extend(s.external_ips.iter().cloned());
    out.extend(s.load_balancer_ips.iter().map(|a| format!("LB {a}")));
    out.join(", ")
}

/// Shown rows are capped; the filter finds the rest.
const ROWS: usize = 500;

#[component]
pub fn ServicesTable() -> impl IntoView {
    let state = expect_context::<AppState>();
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new((Column::Name, false));
    let rows = move || {
        let needle = filter.get().to_ascii_lowercase();
        let (column, reverse) = sort.get();
        state.analysis.with(|a| {
            let mut list: Vec<&ServicePort> = a
                .kube
                .services
                .iter()
                .filter(|s| {
                    needle.is_empty()
                        || s.name.to_ascii_lowercase().contains(&needle)
                        || ports(s).contains(&needle)
                })
                .collect();
            match column {
                Column::Name => list.sort_by(|x, y| x.name.cmp(&y.name)),
                Column::Kind => list.sort_by_key(|s| kind(s)),
                Column::Endpoints => list.sort_by_key(|s| s.endpoints.len()),
                Column::Cost => list.sort_by_key(|s| s.cost.unwrap_or(0)),
            }
            if reverse {
                list.reverse();
            }
            let total = list.len();
            let shown: Vec<ServicePort> = list.into_iter().take(ROWS).cloned().collect();
            (shown, total)
        })
    };
    let header = move |label: &'static str, column: Column| {
        view! {
            <th scope="col">
                <button
                    class="sort"
                    aria-sort=move || match sort.get() {
                        (c, false) if c == column => "ascending",
                        (c, true) if c == column => "descending",
                        _ => "none",
                    }
                    on:click=move |_| sort.update(|s| *s = (column, s.0 == column && !s.1))
                >
                    {label}
                </button>
            </th>
        }
    };
    view! {
        <div class="services">
            <input
                class="filter"
                type="search"
                placeholder="filter by name or address"
                aria-label="filter Services"
                data-testid="services-filter"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
            <table data-testid="services-table">
                <thead>
                    <tr>
                        {header("Service", Column::Name)}
                        {header("Type", Column::Kind)}
                        <th scope="col">"Addresses"</th>
                        {header("Endpoints", Column::Endpoints)}
                        <th scope="col">"Policy"</th>
                        {header("Rules to reach", Column::Cost)}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let (shown, total) = rows();
                        let more = total.saturating_sub(shown.len());
                        view! {
                            {shown
                                .into_iter()
                                .map(|s| {
                                    let name = s.name.clone();
                                    let row_name = name.clone();
                                    let pick = name.clone();
                                    let chosen = name.clone();
                                    let policy = match s.external_traffic_policy {
                                        Some(Policy::Local) => "external Local",
                                        Some(Policy::Cluster) => "external Cluster",
                                        None => "-",
                                    };
                                    let endpoints = if s.endpoints_known || s.no_endpoints.is_some() {
                                        s.endpoints.len().to_string()
                                    } else {
                                        "?".to_string()
                                    };
                                    view! {
                                        <tr
                                            data-testid="service-row"
                                            data-service=row_name
                                            class:selected=move || state.service.get().as_ref() == Some(&chosen)
                                        >
                                            <td>
                                                <button
                                                    class="link"
                                                    on:click=move |_| {
                                                        state.service.set(Some(pick.clone()));
                                                        state.view.set(View::Cascade);
                                                    }
                                                >
                                                    {name}
                                                </button>
                                            </td>
                                            <td>{kind(&s)}</td>
                                            <td class="mono">{ports(&s)}</td>
                                            <td class="num">{endpoints}</td>
                                            <td>{policy}</td>
                                            <td class="num">{s.cost.map_or("-".to_string(), |c| c.to_string())}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                            {(more > 0)
                                .then(|| {
                                    view! {
                                        <tr>
                                            <td colspan="6" class="more">
                                                {format!("… and {more} more: filter to find them")}
                                            </td>
                                        </tr>
                                    }
                                })}
                        }
                    }}
                </tbody>
            </table>
        </div>
    }
}
