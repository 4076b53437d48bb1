//! The Overview tab: the run's facts, its command line, the estimator it was
//! submitted with, its properties (git among them), its tags (editable) and the
//! latest lines of its output.

use std::collections::BTreeMap;

use leptos::prelude::*;
use runboard_portal_view::display::{format_time, json_rows, parse_time, shell_join};
use runboard_shared::api::{RunDetails, TagsPatch};

use super::RunData;
use crate::api;
use crate::browser;
use crate::pages::environments::PackageList;

/// Lines of output shown on the Overview.
const TAIL_LINES: usize = 8;

#[component]
pub(super) fn OverviewTab(data: RunData) -> impl IntoView {
    view! {
        {move || match data.details.get() {
            None => view! { <p class="loading">"Loading the run…"</p> }.into_any(),
            Some(Err(e)) => view! {
                <p class="error" role="alert">"Could not load the run: " {e.to_string()}</p>
            }
            .into_any(),
            Some(Ok(details)) => view! { <Details details=details data=data /> }.into_any(),
        }}
    }
}

#[component]
fn Details(details: RunDetails, data: RunData) -> impl IntoView {
    let offset = browser::utc_offset_minutes();
    let time = |t: &Option<String>| {
        t.as_deref()
            .and_then(parse_time)
            .map(|t| format_time(t, offset))
            .unwrap_or_else(|| "—".into())
    };
    let command: Vec<String> = details
        .run_definition
        .get("command")
        .and_then(|c| c.as_array())
        .map(|c| {
            c.iter()
                .map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let estimator = details
        .run_definition
        .get("estimator")
        .map(json_rows)
        .unwrap_or_default();
    let properties: Vec<(String, String)> = details.properties.clone().into_iter().collect();
    let created = time(&Some(details.created_utc.clone()));
    view! {
        <div class="overview">
            <section aria-labelledby="facts-title">
                <h2 id="facts-title">"Details"</h2>
                <dl class="props">
                    <dt>"Run id"</dt><dd><code>{details.run_id.to_string()}</code></dd>
                    <dt>"Experiment"</dt>
                    <dd><a href=format!("/experiments/{}", api::encode(&details.experiment))>{details.experiment.clone()}</a></dd>
                    <dt>"Compute target"</dt><dd>{details.target.clone()}</dd>
                    <dt>"Submitted"</dt><dd>{created}</dd>
                    <dt>"Submitted by"</dt><dd>{details.submitted_by.clone().unwrap_or_else(|| "unknown".into())}</dd>
                    <dt>"Started"</dt><dd>{time(&details.start_time_utc)}</dd>
                    <dt>"Ended"</dt><dd>{time(&details.end_time_utc)}</dd>
                </dl>
            </section>

            <section aria-labelledby="command-title">
                <h2 id="command-title">"Command"</h2>
                {if command.is_empty() {
                    view! { <p class="empty">"Not recorded."</p> }.into_any()
                } else {
                    view! { <pre class="command" tabindex="0"><code>{shell_join(&command)}</code></pre> }.into_any()
                }}
            </section>

            <section aria-labelledby="output-title" class="wide">
                <h2 id="output-title">"Latest output"</h2>
                <OutputTail data=data />
            </section>

            <section aria-labelledby="environment-title">
                <h2 id="environment-title">"Environment"</h2>
                <EnvironmentSection details=details.clone() data=data />
            </section>

            <section aria-labelledby="estimator-title">
                <h2 id="estimator-title">"Estimator"</h2>
                <KeyValueTable rows=estimator empty="Not recorded." label="Estimator parameters" />
            </section>

            <section aria-labelledby="properties-title">
                <h2 id="properties-title">"Properties"</h2>
                <KeyValueTable rows=properties empty="No properties." label="Properties" />
            </section>

            <section aria-labelledby="tags-title">
                <h2 id="tags-title">"Tags"</h2>
                <TagsEditor data=data />
            </section>
        </div>
    }
}

/// The resolved environment: its hash, the packages installed in it (`pip freeze`,
/// from `GET /api/environments`) and a link to its build log (the Logs tab's
/// pane, and the file).
#[component]
fn EnvironmentSection(details: RunDetails, data: RunData) -> impl IntoView {
    let environment = details.run_definition.get("environment").cloned();
    let Some(hash) = environment
        .as_ref()
        .and_then(|e| e.get("hash"))
        .and_then(|h| h.as_str())
        .map(str::to_owned)
    else {
        return view! {
            <p class="empty" data-testid="environment">
                "User-managed: the run used the configured Python interpreter as it is."
            </p>
        }
        .into_any();
    };
    let request_hash = hash.clone();
    // Read again as the status changes: a run in Preparing is still building it.
    let list = LocalResource::new(move || {
        data.status.track();
        api::environments()
    });
    let log = api::file_url(
        &details.run_id,
        api::FileArea::Run,
        "system_logs/environment.txt",
    );
    let logs_tab = format!(
        "/runs/{}?tab=logs&pane=system_logs%2Fenvironment.txt",
        details.run_id
    );
    let found = move || {
        list.get().map(|answer| {
            answer.map(|l| l.environments.into_iter().find(|e| e.hash == request_hash))
        })
    };
    view! {
        <dl class="props" data-testid="environment">
            <dt>"Hash"</dt><dd><code>{hash}</code></dd>
            <dt>"Build log"</dt>
            <dd>
                <a href=logs_tab>"system_logs/environment.txt"</a>
                " ("<a href=log download="environment.txt">"download"</a>")"
            </dd>
            <dt>"Installed"</dt>
            <dd>
                {move || match found() {
                    None => ().into_any(),
                    Some(Ok(Some(env))) => view! {
                        <p>{format!("{} · Python {} ({})", env.requested, env.python_version, env.installer)}</p>
                        <PackageList packages=env.packages />
                    }
                    .into_any(),
                    Some(Ok(None)) => "Not built yet, or deleted from the cache.".into_any(),
                    Some(Err(e)) => e.to_string().into_any(),
                }}
            </dd>
        </dl>
    }
    .into_any()
}

/// The last lines of the main log, live.
#[component]
fn OutputTail(data: RunData) -> impl IntoView {
    let lines = move || {
        data.logs.track();
        let main = data
            .logs
            .panes
            .with(|p| p.first().cloned())
            .unwrap_or_default();
        data.logs.tail(&main, TAIL_LINES)
    };
    view! {
        <Show
            when=move || !lines().is_empty()
            fallback=|| view! { <p class="empty">"No output yet."</p> }
        >
            <pre class="tail" tabindex="0"><For each=lines key=|(n, text)| (*n, text.clone()) let:line>
                <div class="ln">{line.1}</div>
            </For></pre>
            <a href=move || format!("/runs/{}?tab=logs", data.id.get_value())>"All logs →"</a>
        </Show>
    }
}

#[component]
fn KeyValueTable(
    rows: Vec<(String, String)>,
    empty: &'static str,
    label: &'static str,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="kv" aria-label=label>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|(k, v)| view! {
                            <tr>
                                <th scope="row"><code>{k}</code></th>
                                <td>{v}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The run's tags, each removable, and a form to add or change one
/// (`PATCH /api/runs/{id}/tags`).
#[component]
fn TagsEditor(data: RunData) -> impl IntoView {
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let send = move |patch: TagsPatch| {
        let request = api::patch_tags(&data.id.get_value(), &patch);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(tags) => {
                    data.set_tags(tags);
                    message.set(None);
                }
                Err(e) => message.set(Some(format!("Could not change the tags: {e}"))),
            }
        });
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = key.get_untracked().trim().to_owned();
        if k.is_empty() {
            message.set(Some("A tag needs a name.".into()));
            return;
        }
        send(TagsPatch {
            set: BTreeMap::from([(k, value.get_untracked())]),
            remove: Vec::new(),
        });
        key.set(String::new());
        value.set(String::new());
    };
    view! {
        <Show
            when=move || data.tags.with(|t| !t.is_empty())
            fallback=|| view! { <p class="empty">"No tags."</p> }
        >
            <div class="table-scroll">
                <table class="kv tags" aria-label="Tags">
                    <tbody>
                        <For each=move || data.tags.get() key=|(k, v)| (k.clone(), v.clone()) let:tag>
                            <tr>
                                <th scope="row"><code>{tag.0.clone()}</code></th>
                                <td>{tag.1.clone()}</td>
                                <td class="row-action">
                                    <button
                                        type="button"
                                        aria-label=format!("Remove tag {}", tag.0)
                                        on:click={
                                            let name = tag.0.clone();
                                            move |_| send(TagsPatch { set: BTreeMap::new(), remove: vec![name.clone()] })
                                        }
                                    >
                                        "Remove"
                                    </button>
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
        </Show>
        <form class="tag-form" on:submit=add>
            <label>
                "Tag"
                <input type="text" required=true prop:value=key on:input=move |ev| key.set(event_target_value(&ev)) />
            </label>
            <label>
                "Value"
                <input type="text" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
            <button type="submit">"Set tag"</button>
        </form>
        <p class="message" role="status" aria-live="polite">{move || message.get()}</p>
    }
}
