//! A run's portal page (`/runs/<run id>`), the URL that `Run.get_portal_url()` gives:
//! a header with the status, its timeline, Cancel and Copy link, and four tabs
//! (`?tab=overview|logs|metrics|tensorboard|outputs|snapshot`).
//!
//! The page reads the run once (`GET /api/runs/{id}`) and follows its websocket from
//! the first event: status changes, log text, new files and tag changes all arrive
//! there, replayed and then live. What the page shows merges the two, so it does
//! not matter which comes first.

mod logs;
mod overview;

use std::collections::BTreeMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use runboard_portal_view::display::{
    format_duration, format_time, git_source, merge_history, parse_time, run_duration, timeline,
};
use runboard_shared::api::{RunDetails, RunFile, StatusChange};
use runboard_shared::event::{EventBody, RunEvent};
use runboard_shared::run::{RunId, RunStatus};

use crate::api::{self, ApiError, Connection, FileArea};
use crate::browser;
use crate::components::chart::{ChartsTab, MetricValue, Scalars, SeriesKey};
use crate::components::file_browser::FileBrowser;
use crate::components::log_view::RunLogs;
use crate::components::status::{ConnectionBadge, StatusBadge, status_tone};

/// The page of one run.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    move || match RunId::parse(&id.get()) {
        Ok(id) => view! { <RunView id=id /> }.into_any(),
        Err(e) => view! {
            <h1>"No such run"</h1>
            <p class="error" role="alert">{e.to_string()}</p>
        }
        .into_any(),
    }
}

/// What the run's events said, on top of the details read once.
#[derive(Debug, Clone, Default, PartialEq)]
struct Live {
    statuses: Vec<StatusChange>,
    error: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    files: BTreeMap<String, u64>,
    /// The last place in line the events gave, while the run is queued.
    queue_position: Option<u32>,
}

/// Everything the tabs read about the run. `Copy`: signal handles.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunData {
    pub id: StoredValue<RunId>,
    pub details: RwSignal<Option<Result<RunDetails, ApiError>>>,
    live: RwSignal<Live>,
    pub logs: RunLogs,
    /// Scalar series (`Run.log` numbers and TensorBoard scalars), from the events.
    pub scalars: Scalars,
    /// Metric values that are not number series, by name, from the events.
    pub values: RwSignal<BTreeMap<String, MetricValue>>,
    pub history: Memo<Vec<StatusChange>>,
    pub status: Memo<Option<RunStatus>>,
    pub tags: Memo<BTreeMap<String, String>>,
    pub files: Memo<Vec<RunFile>>,
    pub now: ReadSignal<i64>,
}

impl RunData {
    /// Sets the tags from an answer of `PATCH /tags`.
    pub fn set_tags(&self, tags: BTreeMap<String, String>) {
        self.live.update(|l| l.tags = Some(tags));
    }
}

/// The tabs, by their `?tab=` name.
const TABS: [(&str, &str); 6] = [
    ("overview", "Overview"),
    ("logs", "Logs"),
    ("metrics", "Metrics"),
    ("tensorboard", "TensorBoard"),
    ("outputs", "Outputs + logs"),
    ("snapshot", "Snapshot"),
];

/// State of the Logs tab that outlives switching tabs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogsState {
    pub pane: RwSignal<Option<String>>,
    pub follow: RwSignal<bool>,
    pub query: RwSignal<String>,
}

#[component]
fn RunView(id: RunId) -> impl IntoView {
    let details = RwSignal::new(None::<Result<RunDetails, ApiError>>);
    let live = RwSignal::new(Live::default());
    let fetched_files = RwSignal::new(Vec::<RunFile>::new());
    let logs = RunLogs::new();
    let scalars = Scalars::new();
    let values = RwSignal::new(BTreeMap::new());
    let connection = RwSignal::new(Connection::Connecting);
    let stored_id = StoredValue::new(id.clone());

    // The events first: the first log line should not wait for the details.
    let on_event = move |event: RunEvent| apply(event, live, logs, scalars, values);
    // Where to start: each log's tail, each series' length, each value, as of one
    // event; the socket carries only what follows it.
    let on_view = move |view: serde_json::Value| {
        for log in view["logs"].as_array().into_iter().flatten() {
            let text = |k: &str| log[k].as_str().unwrap_or_default();
            logs.start(
                text("path"),
                log["start"].as_u64().unwrap_or(0),
                text("text"),
            );
        }
        scalars.start(view);
    };
    let following = StoredValue::new(api::follow_run_view(
        id.clone(),
        connection,
        on_view,
        on_event,
    ));
    let load = move || {
        let id = stored_id.get_value();
        let details_request = api::run(&id);
        let files_request = api::files(&id);
        leptos::task::spawn_local(async move {
            let answer = details_request.await;
            match &answer {
                Ok(d) => {
                    for path in d.log_files.keys() {
                        logs.add_pane(path);
                    }
                }
                // No such run: nothing will ever come on its websocket.
                Err(e) if e.status() == Some(404) => following.with_value(|f| f.abort()),
                Err(_) => {}
            }
            details.set(Some(answer));
            if let Ok(list) = files_request.await {
                fetched_files.set(list.files);
            }
        });
    };
    load();

    let history = Memo::new(move |_| {
        let fetched = details.with(|d| match d {
            Some(Ok(d)) => d.status_history.clone(),
            _ => Vec::new(),
        });
        live.with(|l| merge_history(&fetched, &l.statuses))
    });
    let status = Memo::new(move |_| {
        history.with(|h| h.last().map(|c| c.status)).or_else(|| {
            details.with(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|d| d.status))
        })
    });
    let tags = Memo::new(move |_| {
        live.with(|l| l.tags.clone()).unwrap_or_else(|| {
            details.with(|d| match d {
                Some(Ok(d)) => d.tags.clone(),
                _ => BTreeMap::new(),
            })
        })
    });
    let files = Memo::new(move |_| {
        let mut all: BTreeMap<String, u64> =
            fetched_files.with(|f| f.iter().map(|f| (f.path.clone(), f.size)).collect());
        live.with(|l| all.extend(l.files.iter().map(|(p, s)| (p.clone(), *s))));
        all.into_iter()
            .map(|(path, size)| RunFile { path, size })
            .collect::<Vec<_>>()
    });
    // When the run ends, read it again: end time, error, the final file list.
    Effect::new(move |was_terminal: Option<bool>| {
        let terminal = status.get().is_some_and(RunStatus::is_terminal);
        let fetched_terminal =
            details.with_untracked(|d| matches!(d, Some(Ok(d)) if d.status.is_terminal()));
        if terminal && was_terminal == Some(false) && !fetched_terminal {
            load();
        }
        terminal
    });
    let now = browser::clock(Duration::from_secs(1));
    let data = RunData {
        id: stored_id,
        details,
        live,
        logs,
        scalars,
        values,
        history,
        status,
        tags,
        files,
        now,
    };
    let query = use_query_map();
    // `?tab=logs&pane=<log path>` opens one pane (the Overview links the build log).
    let logs_state = LogsState {
        pane: RwSignal::new(None),
        follow: RwSignal::new(true),
        query: RwSignal::new(String::new()),
    };

    Effect::new(move |_| {
        if let Some(pane) = query.read().get("pane") {
            logs_state.pane.set(Some(pane));
        }
    });
    let tab = Memo::new(move |_| {
        let asked = query.read().get("tab").unwrap_or_default();
        TABS.iter()
            .find(|(name, _)| *name == asked)
            .map_or("overview", |(name, _)| name)
    });
    let experiment = id.experiment().to_owned();
    let id_text = id.to_string();

    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/">"Experiments"</a>
            <span aria-hidden="true">" / "</span>
            <a href=format!("/experiments/{}", api::encode(&experiment))>{experiment.clone()}</a>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">"Run"</span>
        </nav>
        {move || match details.get() {
            Some(Err(e)) if e.status() == Some(404) => Some(view! {
                <h1>"No such run"</h1>
                <p class="error" role="alert">{e.to_string()}</p>
            }.into_any()),
            _ => None,
        }}
        <Show when=move || !details.with(|d| matches!(d, Some(Err(e)) if e.status() == Some(404)))>
        <RunHeader data=data connection=connection />
        <nav class="tabs" aria-label="Run sections">
            {TABS
                .iter()
                .map(|(name, label)| {
                    let href = format!("/runs/{id_text}?tab={name}");
                    view! {
                        <a href=href aria-current=move || (tab.get() == *name).then_some("page")>
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <section class="tab-panel" aria-label=move || TABS.iter().find(|(n, _)| *n == tab.get()).map_or("", |(_, l)| *l)>
            {move || match tab.get() {
                "logs" => view! { <logs::LogsTab data=data state=logs_state /> }.into_any(),
                "metrics" | "tensorboard" => view! {
                    <ChartsTab kind=tab.get() run=data.id.get_value().to_string() scalars=data.scalars values=data.values />
                }
                .into_any(),
                "outputs" => view! {
                    <FileBrowser
                        run_id=data.id.get_value()
                        area=FileArea::Run
                        files=data.files
                        empty="No files yet: the run's outputs/ and logs/ folders and its log files appear here."
                    />
                }
                .into_any(),
                "snapshot" => view! { <SnapshotTab id=data.id.get_value() /> }.into_any(),
                _ => view! { <overview::OverviewTab data=data /> }.into_any(),
            }}
        </section>
        </Show>
    }
}

/// Applies one event to what the page knows.
fn apply(
    event: RunEvent,
    live: RwSignal<Live>,
    logs: RunLogs,
    scalars: Scalars,
    values: RwSignal<BTreeMap<String, MetricValue>>,
) {
    match event.body {
        EventBody::Log { path, text, .. } => logs.push(&path, &text),
        EventBody::Status { status, error } => live.update(|l| {
            l.statuses.push(StatusChange {
                status,
                time: event.time,
            });
            if error.is_some() {
                l.error = error;
            }
        }),
        EventBody::File { path, size } => live.update(|l| {
            l.files.insert(path, size);
        }),
        EventBody::Tags { tags } => live.update(|l| l.tags = Some(tags)),
        EventBody::QueuePosition { position } => {
            live.update(|l| l.queue_position = Some(position));
        }
        EventBody::Scalars {
            source,
            run,
            name,
            points,
        } => scalars.push(SeriesKey { source, run, name }, &points),
        EventBody::MetricValue { name, kind, value } => values.update(|v| {
            let entry = v.entry(name).or_insert(MetricValue {
                kind: kind.clone(),
                last: serde_json::Value::Null,
                count: 0,
            });
            entry.kind = kind;
            entry.last = value;
            entry.count += 1;
        }),
        // Keeps the page building when new kinds of events are added.
        #[allow(unreachable_patterns)]
        _ => {}
    }
}

/// The run's id, status, facts, timeline and actions.
#[component]
fn RunHeader(data: RunData, connection: RwSignal<Connection>) -> impl IntoView {
    let id = data.id.get_value();
    let offset = browser::utc_offset_minutes();
    let details = move || data.details.get().and_then(Result::ok);
    let start = move || {
        details().and_then(|d| d.start_time_utc).or_else(|| {
            data.history.with(|h| {
                h.iter()
                    .find(|c| c.status == RunStatus::Running)
                    .map(|c| c.time.clone())
            })
        })
    };
    let end = move || {
        details().and_then(|d| d.end_time_utc).or_else(|| {
            data.history.with(|h| {
                h.last()
                    .filter(|c| c.status.is_terminal())
                    .map(|c| c.time.clone())
            })
        })
    };
    let duration = move || {
        let end = end();
        let now = if end.is_none() { data.now.get() } else { 0 };
        run_duration(start().as_deref(), end.as_deref(), now).map(format_duration)
    };
    let error = move || {
        data.live
            .with(|l| l.error.clone())
            .or_else(|| details().and_then(|d| d.error))
            .filter(|_| data.status.get() == Some(RunStatus::Failed))
    };
    let terminal = move || data.status.get().is_none_or(RunStatus::is_terminal);
    // The events' place in line is the newest (they replay from the first); the
    // details' serves until they arrive.
    let position = move || {
        data.live
            .with(|l| l.queue_position)
            .or_else(|| details().and_then(|d| d.queue_position))
    };

    let message = RwSignal::new(None::<String>);
    let cancel_id = id.clone();
    let cancel = move |_| {
        let request = api::cancel(&cancel_id);
        message.set(Some("Asking the server to cancel the run…".into()));
        leptos::task::spawn_local(async move {
            message.set(Some(match request.await {
                Ok(()) => "Cancel requested: the job is being stopped.".into(),
                Err(e) => format!("Could not cancel: {e}"),
            }));
        });
    };
    let link = format!(
        "{}/runs/{id}",
        window().location().origin().unwrap_or_default()
    );
    // The link field, when there is a link to show: the run's own (when the clipboard
    // refused it) or a new share link; with its accessible name.
    let shown_link = RwSignal::new(None::<(String, &'static str)>);
    let copy_link = {
        let link = link.clone();
        move |_| {
            let link = details()
                .map(|d| d.portal_url)
                .unwrap_or_else(|| link.clone());
            leptos::task::spawn_local(async move {
                if browser::copy_to_clipboard(&link).await {
                    message.set(Some("Link copied.".into()));
                } else {
                    shown_link.set(Some((link, "Link to this run")));
                    message.set(Some("Copy the link below.".into()));
                }
            });
        }
    };

    // Read-only links are made, listed and revoked on a server-rendered page
    // (`api::account` on the server), which keeps the portal's download small.
    let share_href = format!("/runs/{id}/share");
    let delete_href = format!("/runs/{id}/delete");
    // A sweep's page (children by primary metric, charts) is server-rendered too; its
    // link is hidden, not left out, on other runs (which costs the download less).
    let sweep_href = format!("/runs/{id}/sweep");
    // The models registered from this run: a server-rendered page as well.
    let models_href = format!("/runs/{id}/models");

    view! {
        <header class="run-head">
            <div class="title-row">
                <h1><span class="visually-hidden">"Run "</span><code class="run-id">{id.to_string()}</code></h1>
                {move || data.status.get().map(|s| view! { <StatusBadge status=s position=position() /> })}
                <ConnectionBadge connection=connection />
            </div>
            <div class="actions">
                <button type="button" class="danger" on:click=cancel disabled=terminal>
                    "Cancel run"
                </button>
                <button type="button" on:click=copy_link>"Copy link"</button>
                <a class="button" href=share_href rel="external">"Share"</a>
                <a class="button" class:hidden=move || details().is_none_or(|d| d.target != "hyperdrive") href=sweep_href rel="external">"Sweep"</a>
                <a class="button" href=models_href rel="external">"Models"</a>
                <a class="button danger" href=delete_href rel="external">"Delete"</a>
                <span class="message" role="status" aria-live="polite">{move || message.get()}</span>
            </div>
            {move || shown_link.get().map(|(value, label)| view! {
                <input class="link-field" type="text" readonly=true value=value aria-label=label
                    on:focus=|ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    } />
            })}
            <dl class="facts">
                <div><dt>"Started"</dt><dd>{move || start().as_deref().and_then(parse_time).map(|t| format_time(t, offset)).unwrap_or_else(|| "not yet".into())}</dd></div>
                <div><dt>"Duration"</dt><dd data-testid="duration">{move || duration().unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Compute target"</dt><dd>{move || details().map(|d| d.target).unwrap_or_default()}</dd></div>
                <div><dt>"Submitted from"</dt><dd>{move || details().and_then(|d| git_source(&d.properties)).unwrap_or_else(|| "unknown (not a git work tree)".into())}</dd></div>
            </dl>
            <Timeline data=data />
            {move || error().map(|e| view! {
                <div class="error run-error" role="alert">
                    <p><strong>"The run failed"</strong></p>
                    <pre>{e}</pre>
                </div>
            })}
        </header>
    }
}

/// The statuses the run went through, each with how long it stayed.
#[component]
fn Timeline(data: RunData) -> impl IntoView {
    let offset = browser::utc_offset_minutes();
    let steps = move || timeline(&data.history.get(), data.now.get());
    view! {
        <ol class="timeline" aria-label="Status timeline">
            {move || {
                steps()
                    .into_iter()
                    .map(|step| {
                        // Bars grow with the time spent, with a floor so short steps
                        // stay readable.
                        // (Whole numbers: float formatting would cost bundle size.)
                        let grow = step.duration.map_or(0, |d| ((d as f64 / 1000.0).sqrt() * 100.0) as u64) + 100;
                        let title = format_time(step.start, offset);
                        view! {
                            <li
                                class=status_tone(step.status)
                                class:current=step.current
                                style=format!("flex-grow: {grow}")
                                title=title
                            >
                                <span class="step-name">{step.status.as_str()}</span>
                                <span class="step-time">
                                    {step.duration.map(format_duration).unwrap_or_default()}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ol>
    }
}

/// The source files the run was submitted with.
#[component]
fn SnapshotTab(id: RunId) -> impl IntoView {
    let request_id = id.clone();
    let list = LocalResource::new(move || api::snapshot(&request_id));
    let files = Signal::derive(move || {
        list.get()
            .and_then(Result::ok)
            .map(|l| l.files)
            .unwrap_or_default()
    });
    view! {
        {move || match list.get() {
            None => Some(view! { <p class="loading">"Loading the snapshot…"</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()),
            Some(Ok(_)) => None,
        }}
        <Show when=move || matches!(list.get(), Some(Ok(_)))>
            <FileBrowser
                run_id=id.clone()
                area=FileArea::Snapshot
                files=files
                empty="The snapshot is empty."
            />
        </Show>
    }
}
