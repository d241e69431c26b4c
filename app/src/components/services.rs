//! The Services table: sortable and filterable; choosing a row selects that Service for the
//! cascade, the tracer and the planner.

use leptos::prelude::*;

use crate::app::{AppState, View};
use crate::views::Column;
use crate::worker::client::asked;
use crate::worker::{Answer, Ask};

/// Shown rows are capped; the filter finds the rest.
const ROWS: usize = 500;

#[component]
pub fn ServicesTable() -> impl IntoView {
    let state = expect_context::<AppState>();
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new((Column::Name, false));
    let page = asked(
        move || {
            state.generation.track();
            let (sort, reverse) = sort.get();
            Some((
                Ask::Services {
                    filter: filter.get(),
                    sort,
                    reverse,
                    limit: ROWS,
                },
                None,
            ))
        },
        |a| match a {
            Answer::Services(p) => Some(p),
            _ => None,
        },
    );
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
                placeholder="filter: name, address"
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
                        let p = page.get().unwrap_or_default();
                        let (shown, total) = (p.rows, p.total);
                        let more = total.saturating_sub(shown.len());
                        view! {
                            {shown
                                .into_iter()
                                .map(|s| {
                                    let name = s.name.clone();
                                    let row_name = name.clone();
                                    let pick = name.clone();
                                    let chosen = name.clone();
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
                                            <td>{s.kind}</td>
                                            <td class="mono">{s.addresses}</td>
                                            <td class="num">{s.endpoints}</td>
                                            <td>{s.policy}</td>
                                            <td class="num">{s.cost}</td>
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
