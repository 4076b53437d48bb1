//! The start page (`/`): every experiment, with its number of runs.

use leptos::prelude::*;
use runboard_shared::api::ExperimentSummary;

use crate::api;

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
    view! {
        <table class="experiments">
            <thead>
                <tr>
                    <th>"Experiment"</th>
                    <th>"Runs"</th>
                    <th>"Last run"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || experiments.clone() key=|e| e.name.clone() let:e>
                    <tr>
                        <td>{e.name}</td>
                        <td>{e.run_count}</td>
                        <td>{e.last_run_time.unwrap_or_default()}</td>
                    </tr>
                </For>
            </tbody>
        </table>
    }
    .into_any()
}
