//! A code cell's outputs as the page draws them: streams, errors, and displays — an
//! estimator's parameters as a table, a run as a live card (status, duration, link,
//! log tail) that follows the run's websocket, anything else as its text.

use std::collections::VecDeque;
use std::time::Duration;

use leptos::prelude::*;
use runboard_frontend::api::{self, Connection};
use runboard_frontend::browser;
use runboard_frontend::components::status::StatusBadge;
use runboard_portal_view::display::{format_duration, parse_time};
use runboard_shared::cell::{DISPLAY_MIME, Display};
use runboard_shared::event::EventBody;
use runboard_shared::notebook::Output;
use runboard_shared::run::{RunId, RunStatus};
use serde_json::{Map, Value};

/// How many log lines a run card shows.
const CARD_TAIL: usize = 5;

/// All outputs of a cell.
#[component]
pub fn Outputs(#[prop(into)] outputs: Signal<Vec<Output>>) -> impl IntoView {
    view! {
        <div class="nb-outputs" aria-live="polite">
            {move || {
                outputs
                    .get()
                    .into_iter()
                    .map(|output| view! { <OutputView output=output /> })
                    .collect_view()
            }}
        </div>
    }
}

#[component]
fn OutputView(output: Output) -> impl IntoView {
    match output {
        Output::Stream { name, text } => {
            let class = format!("nb-stream {name}");
            view! { <pre class=class>{text.0}</pre> }.into_any()
        }
        Output::Error {
            ename,
            evalue,
            traceback,
        } => {
            let text = if traceback.is_empty() {
                format!("{ename}: {evalue}")
            } else {
                traceback.join("\n")
            };
            view! { <pre class="nb-error" role="alert" data-ename=ename>{text}</pre> }.into_any()
        }
        Output::ExecuteResult {
            execution_count,
            data,
            ..
        } => {
            let prompt = format!(
                "Out[{}]:",
                execution_count.map_or(" ".into(), |n| n.to_string())
            );
            view! {
                <div class="nb-result">
                    <span class="nb-out-prompt">{prompt}</span>
                    <MimeBundle data=data />
                </div>
            }
            .into_any()
        }
        Output::DisplayData { data, .. } => view! { <MimeBundle data=data /> }.into_any(),
    }
}

/// The richest part of a MIME bundle the page draws.
#[component]
fn MimeBundle(data: Map<String, Value>) -> impl IntoView {
    if let Some(display) = data
        .get(DISPLAY_MIME)
        .and_then(|v| serde_json::from_value::<Display>(v.clone()).ok())
    {
        return match display {
            Display::Estimator { class, parameters } => view! {
                <table class="nb-estimator">
                    <caption>{class}</caption>
                    <tbody>
                        {parameters
                            .into_iter()
                            .map(|(name, value)| view! { <tr><th scope="row">{name}</th><td><code>{value}</code></td></tr> })
                            .collect_view()}
                    </tbody>
                </table>
            }
            .into_any(),
            Display::Run {
                run_id,
                experiment,
                portal_url,
                ..
            } => match RunId::parse(&run_id) {
                Ok(id) => view! { <RunCard id=id experiment=experiment portal_url=portal_url /> }.into_any(),
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
            },
            Display::Text { text } => view! { <pre class="nb-text">{text}</pre> }.into_any(),
        };
    }
    let text = match data.get("text/plain") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    };
    view! { <pre class="nb-text">{text}</pre> }.into_any()
}

/// A run as a live card: `RunDetails(run).show()`, or a `Run` as a cell's value.
#[component]
fn RunCard(id: RunId, experiment: String, portal_url: String) -> impl IntoView {
    let status = RwSignal::new(None::<RunStatus>);
    let started = RwSignal::new(None::<i64>);
    let ended = RwSignal::new(None::<i64>);
    let tail = RwSignal::new(VecDeque::<String>::new());
    let partial = StoredValue::new(String::new());
    let connection = RwSignal::new(Connection::Connecting);
    let now = browser::clock(Duration::from_secs(1));
    api::follow_run(id.clone(), connection, move |event| {
        let time = parse_time(&event.time);
        match event.body {
            EventBody::Status { status: s, .. } => {
                if s == RunStatus::Running {
                    started.set(time);
                }
                if s.is_terminal() {
                    ended.set(time);
                }
                status.set(Some(s));
            }
            EventBody::Log { path, text, .. } if path == "user_logs/std_log.txt" => {
                let mut buffer = partial.get_value();
                buffer.push_str(&text);
                let mut lines: Vec<String> = buffer.split('\n').map(str::to_owned).collect();
                let rest = lines.pop().unwrap_or_default();
                partial.set_value(rest);
                if !lines.is_empty() {
                    tail.update(|t| {
                        t.extend(lines);
                        while t.len() > CARD_TAIL {
                            t.pop_front();
                        }
                    });
                }
            }
            _ => {}
        }
    });
    let duration = move || {
        let start = started.get()?;
        let end = ended.get().unwrap_or_else(|| now.get());
        Some(format_duration(end.saturating_sub(start)))
    };
    let status_signal = Signal::derive(move || status.get().unwrap_or(RunStatus::Queued));
    let label = format!("Run {id}");
    view! {
        <section class="nb-run-card" aria-label=label data-run=id.to_string() data-status=move || status.get().map(|s| s.as_str())>
            <header>
                <StatusBadge status=status_signal />
                <a href=portal_url.clone() target="_blank" rel="external">{id.to_string()}</a>
                <span class="muted">{experiment}</span>
                <span class="nb-duration">{duration}</span>
            </header>
            <pre class="nb-card-tail">{move || tail.with(|t| t.iter().cloned().collect::<Vec<_>>().join("\n"))}</pre>
        </section>
    }
}
