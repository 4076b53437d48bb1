//! The start page (`/`): every experiment, with its number of runs, its last run and
//! how many runs are in each status.

use leptos::prelude::*;
use runboard_portal_view::display::{format_ago, format_time, parse_time};
use runboard_shared::api::ExperimentSummary;

use crate::api;
use crate::browser;
use crate::components::status::status_class;

/// Lists the experiments from `GET /api/experiments`.
#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let experiments = LocalResource::new(api::experiments);
    view! {
        <h1>"Experiments"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading experiments…"</p> }>
            <ErrorBoundary fallback=|errors| {
                view! {
                    <div class="error" role="alert">
                        <p>"Could not load the experiments:"</p>
                        <ul>
                            {move || {
                                errors
                                    .get()
                                    .into_iter()
                                    .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                    .collect_view()
                            }}
                        </ul>
                    </div>
                }
            }>
                {move || Suspend::new(async move {
                    experiments.await.map(|list| view! { <ExperimentTable experiments=list.experiments /> })
                })}
            </ErrorBoundary>
        </Transition>
    }
}

/// The experiments as a table, one row each, keyed by name.
#[component]
fn ExperimentTable(experiments: Vec<ExperimentSummary>) -> impl IntoView {
    if experiments.is_empty() {
        return view! {
            <p class="empty">"No experiments yet. Submit a run from a notebook or with " <code>"runboard submit"</code> "."</p>
        }
        .into_any();
    }
    let now = browser::now();
    let offset = browser::utc_offset_minutes();
    view! {
        <div class="table-scroll">
            <table class="experiments">
                <thead>
                    <tr>
                        <th scope="col">"Experiment"</th>
                        <th scope="col" class="num">"Runs"</th>
                        <th scope="col">"Last run"</th>
                        <th scope="col">"Statuses"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || experiments.clone() key=|e| e.name.clone() let:e>
                        <tr>
                            <th scope="row">
                                <a href=format!("/experiments/{}", api::encode(&e.name))>{e.name.clone()}</a>
                            </th>
                            <td class="num">{e.run_count}</td>
                            <td>
                                {e.last_run_time.as_deref().and_then(parse_time).map(|t| view! {
                                    <time title=format_time(t, offset)>{format_ago(now - t)}</time>
                                })}
                            </td>
                            <td>
                                <ul class="status-counts" aria-label="Runs by status">
                                    {e.status_counts
                                        .iter()
                                        .map(|(status, count)| view! {
                                            <li class=status_class(*status)>
                                                {status.as_str()} " " <strong>{*count}</strong>
                                            </li>
                                        })
                                        .collect_view()}
                                </ul>
                            </td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
