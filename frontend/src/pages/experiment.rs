//! An experiment's page (`/experiments/<name>`): its runs, newest first, a page at a
//! time.
//!
//! Paging follows the server's cursors (`GET /api/runs?experiment=&status=&limit=&
//! cursor=`), so each page costs the same with 100,000 runs as with 10. The status
//! filter is part of the address (`?status=Running`) and is applied by the server.
//! The server sorts only newest first; the column headers sort the page shown.
//! Statuses stay live by asking for the page again every few seconds (there is no
//! experiment-wide event stream yet). "Compare metrics" opens the chart module's
//! comparison of the page's runs ([`CompareRuns`]): metric columns with last values,
//! and one metric overlaid across the ticked runs.

use std::cmp::Ordering;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use runboard_portal_view::display::{
    format_duration, format_time, git_source, parse_time, run_duration,
};
use runboard_shared::api::{RunList, RunSummary};
use runboard_shared::run::RunStatus;

use crate::api::{self, ApiError, RunQuery};
use crate::browser;
use crate::components::chart::CompareRuns;
use crate::components::status::StatusBadge;

/// Runs per page.
const PAGE_SIZE: u32 = 50;
/// How often the page asks for fresh statuses.
const REFRESH: Duration = Duration::from_secs(3);

/// A column the page can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Status,
    Run,
    Started,
    Duration,
    Source,
}

/// The experiment's runs table with its filter and pager.
#[component]
pub fn ExperimentPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let status = Memo::new(move |_| {
        query
            .read()
            .get("status")
            .and_then(|s| RunStatus::parse(&s))
    });
    // cursors[i] fetches page i; page 0 has none.
    let cursors = RwSignal::new(vec![None::<String>]);
    let page = RwSignal::new(0usize);
    // A new experiment or filter starts again at the first page.
    Effect::new(move |_| {
        name.track();
        status.track();
        cursors.set(vec![None]);
        page.set(0);
    });
    let refresh = RwSignal::new(0u64);
    if let Ok(handle) = set_interval_with_handle(move || refresh.update(|r| *r += 1), REFRESH) {
        on_cleanup(move || handle.clear());
    }
    // The page shown; kept while the next answer is on its way, so the table (and the
    // keyboard focus in it) stays put when statuses refresh.
    let data = RwSignal::new(None::<Result<RunList, ApiError>>);
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        refresh.track();
        let query = RunQuery {
            experiment: Some(name.get()),
            status: status.get(),
            limit: PAGE_SIZE,
            cursor: cursors.with(|c| c.get(page.get()).cloned().flatten()),
        };
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let request = api::runs(&query);
        leptos::task::spawn_local(async move {
            let answer = request.await;
            // An answer to an older query (aborted or slow) is not shown.
            if generation.try_get_value() == Some(mine) {
                data.set(Some(answer));
            }
        });
    });
    let rows = Memo::new(move |_| {
        data.with(|d| match d {
            Some(Ok(list)) => list.runs.clone(),
            _ => Vec::new(),
        })
    });
    let next_cursor = Memo::new(move |_| {
        data.with(|d| {
            d.as_ref()
                .and_then(|d| d.as_ref().ok())
                .and_then(|l| l.next_cursor.clone())
        })
    });
    let run_ids = Memo::new(move |_| {
        rows.with(|r| r.iter().map(|r| r.run_id.to_string()).collect::<Vec<_>>())
    });
    let comparing = RwSignal::new(false);
    let sort = RwSignal::new(None::<(Column, bool)>);
    let now = browser::clock(Duration::from_secs(1));

    let navigate = use_navigate();
    let on_filter = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let path = format!("/experiments/{}", api::encode(&name.get_untracked()));
        let target = if value.is_empty() {
            path
        } else {
            format!("{path}?status={value}")
        };
        navigate(&target, Default::default());
    };

    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href="/">"Experiments"</a>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">{name}</span>
        </nav>
        <h1>"Experiment " <code>{name}</code></h1>
        <div class="toolbar">
            <a class="button" href=move || format!("/experiments/{}/share", api::encode(&name.get())) rel="external">"Share"</a>
            <a class="button danger" href=move || format!("/experiments/{}/delete", api::encode(&name.get())) rel="external">"Delete"</a>
            <label>
                "Status "
                <select on:change=on_filter prop:value=move || status.get().map(|s| s.as_str()).unwrap_or("")>
                    <option value="">"All"</option>
                    {RunStatus::ALL
                        .iter()
                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                        .collect_view()}
                </select>
            </label>
        </div>
        {move || match data.with(|d| d.as_ref().map(|d| d.as_ref().err().cloned())) {
            None => Some(view! { <p class="loading">"Loading runs…"</p> }.into_any()),
            Some(Some(e)) => Some(view! { <p class="error" role="alert">"Could not load the runs: " {e.to_string()}</p> }.into_any()),
            Some(None) if rows.with(Vec::is_empty) => Some(view! { <p class="empty">"No runs match."</p> }.into_any()),
            Some(None) => None,
        }}
        <RunsTable rows=rows sort=sort now=now />
        <nav class="pager" aria-label="Pages">
            <button
                type="button"
                disabled=move || page.get() == 0
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1))
            >
                "← Newer"
            </button>
            <span>"Page " {move || page.get() + 1}</span>
            <button
                type="button"
                disabled=move || next_cursor.with(Option::is_none)
                on:click=move |_| {
                    let next = page.get_untracked() + 1;
                    let cursor = next_cursor.get_untracked();
                    cursors.update(|c| {
                        c.truncate(next);
                        c.push(cursor);
                    });
                    page.set(next);
                }
            >
                "Older →"
            </button>
        </nav>
        <section class="compare" aria-label="Compare runs">
            <button
                type="button"
                aria-expanded=move || comparing.get().to_string()
                on:click=move |_| comparing.update(|c| *c = !*c)
            >
                "Compare metrics"
            </button>
            <Show when=move || comparing.get()>
                {move || view! { <CompareRuns experiment=name.get() runs=run_ids.into() /> }}
            </Show>
        </section>
    }
}

/// The runs of the page, sortable by column.
#[component]
fn RunsTable(
    rows: Memo<Vec<RunSummary>>,
    sort: RwSignal<Option<(Column, bool)>>,
    now: ReadSignal<i64>,
) -> impl IntoView {
    let sorted = move || {
        let mut rows = rows.get();
        if let Some((column, descending)) = sort.get() {
            let now = now.get_untracked();
            rows.sort_by(|a, b| {
                let order = compare(column, a, b, now);
                if descending { order.reverse() } else { order }
            });
        }
        grouped(rows)
    };
    let header = move |column: Column, label: &'static str| {
        let state = move || match sort.get() {
            Some((c, true)) if c == column => "descending",
            Some((c, false)) if c == column => "ascending",
            _ => "none",
        };
        view! {
            <th scope="col" aria-sort=state>
                <button
                    type="button"
                    class="sort"
                    on:click=move |_| {
                        sort.update(|s| {
                            *s = match *s {
                                Some((c, false)) if c == column => Some((column, true)),
                                Some((c, true)) if c == column => None,
                                _ => Some((column, false)),
                            }
                        })
                    }
                >
                    {label}
                    <span class="sort-mark" aria-hidden="true">
                        {move || match state() {
                            "ascending" => " ▲",
                            "descending" => " ▼",
                            _ => "",
                        }}
                    </span>
                </button>
            </th>
        }
    };
    let offset = browser::utc_offset_minutes();
    view! {
        <div class="table-scroll" class:hidden=move || rows.with(Vec::is_empty)>
            <table class="runs">
                <thead>
                    <tr>
                        {header(Column::Status, "Status")}
                        {header(Column::Run, "Run")}
                        {header(Column::Started, "Started")}
                        {header(Column::Duration, "Duration")}
                        {header(Column::Source, "Submitted from")}
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=sorted
                        key=|(r, n)| (r.run_id.clone(), r.status, r.end_time_utc.clone(), *n)
                        children=move |(run, children)| view! { <RunRow run=run children=children now=now offset=offset /> }
                    />
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn RunRow(run: RunSummary, children: usize, now: ReadSignal<i64>, offset: i64) -> impl IntoView {
    let status = run.status;
    let position = run.queue_position;
    let started = run
        .start_time_utc
        .clone()
        .or_else(|| Some(run.created_utc.clone()));
    let start = run.start_time_utc.clone();
    let end = run.end_time_utc.clone();
    let duration = move || {
        let now = if end.is_none() { now.get() } else { 0 };
        run_duration(start.as_deref(), end.as_deref(), now).map(format_duration)
    };
    let source = git_source(&run.properties);
    let id = run.run_id.to_string();
    // Plain text and a static class: cheaper in the download than an optional view.
    let class = if run.parent_run_id.is_some() {
        "child"
    } else {
        ""
    };
    let count = if children > 0 {
        format!(" {children} children")
    } else {
        String::new()
    };
    view! {
        <tr class=class>
            <td><StatusBadge status=status position=position /></td>
            <td><a href=format!("/runs/{id}")><code>{id.clone()}</code></a>{count}</td>
            <td>
                {started.as_deref().and_then(parse_time).map(|t| view! { <time>{format_time(t, offset)}</time> })}
            </td>
            <td class="num">{duration}</td>
            <td>{source.unwrap_or_default()}</td>
        </tr>
    }
}

/// The rows with each child moved right after its parent, when the parent is among
/// them (a sweep's children, newer than their parent, would otherwise come before it
/// as unrelated rows); each row with the number of children listed under it. The
/// order is otherwise kept: parents where they were, children in their order. One
/// level: a run whose parent is itself a child stays where it is, as does a child
/// whose parent is on another page.
fn grouped(rows: Vec<RunSummary>) -> Vec<(RunSummary, usize)> {
    let under_parent = |r: &RunSummary| {
        r.parent_run_id.as_ref().is_some_and(|p| {
            rows.iter()
                .any(|x| &x.run_id == p && x.parent_run_id.is_none())
        })
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter().filter(|r| !under_parent(r)) {
        let at = out.len();
        out.push((r.clone(), 0));
        if r.parent_run_id.is_none() {
            for c in &rows {
                if c.parent_run_id.as_ref() == Some(&r.run_id) {
                    out.push((c.clone(), 0));
                }
            }
        }
        out[at].1 = out.len() - at - 1;
    }
    out
}

fn compare(column: Column, a: &RunSummary, b: &RunSummary, now: i64) -> Ordering {
    match column {
        Column::Status => a.status.cmp(&b.status),
        Column::Run => a.run_id.cmp(&b.run_id),
        Column::Started => a.start_time_utc.cmp(&b.start_time_utc),
        Column::Duration => {
            let d = |r: &RunSummary| {
                run_duration(r.start_time_utc.as_deref(), r.end_time_utc.as_deref(), now)
            };
            d(a).cmp(&d(b))
        }
        Column::Source => git_source(&a.properties).cmp(&git_source(&b.properties)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use runboard_shared::run::RunId;

    use super::*;

    fn run(id: &str, parent: Option<&str>) -> RunSummary {
        RunSummary {
            run_id: RunId::parse(id).unwrap(),
            experiment: "e".into(),
            status: RunStatus::Completed,
            target: "local".into(),
            created_utc: String::new(),
            start_time_utc: None,
            end_time_utc: None,
            tags: BTreeMap::new(),
            properties: BTreeMap::new(),
            queue_position: None,
            submitted_by: None,
            parent_run_id: parent.map(|p| RunId::parse(p).unwrap()),
        }
    }

    fn check(rows: &[(&str, Option<&str>)], expect: &[(&str, usize)]) {
        let rows = rows.iter().map(|(id, p)| run(id, *p)).collect();
        let got: Vec<(String, usize)> = grouped(rows)
            .into_iter()
            .map(|(r, n)| (r.run_id.to_string(), n))
            .collect();
        let expect: Vec<(String, usize)> =
            expect.iter().map(|(id, n)| (id.to_string(), *n)).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn children_follow_their_parent_which_counts_them() {
        const P: &str = "e_1_00000001";
        // Newest first, as the server lists: the children come before their parent.
        check(
            &[
                ("e_4_00000004", None),
                ("e_3_00000003", Some(P)),
                ("e_2_00000002", Some(P)),
                (P, None),
                ("e_0_00000000", None),
            ],
            &[
                ("e_4_00000004", 0),
                (P, 2),
                ("e_3_00000003", 0),
                ("e_2_00000002", 0),
                ("e_0_00000000", 0),
            ],
        );
        // A child whose parent is on another page stays where it is; so does a run
        // whose parent is itself a child.
        const C: &str = "e_3_00000003";
        check(
            &[("e_5_00000005", Some(C)), (C, Some(P)), (P, None)],
            &[("e_5_00000005", 0), (P, 1), (C, 0)],
        );
        check(
            &[("e_3_00000003", Some(P)), ("e_0_00000000", None)],
            &[("e_3_00000003", 0), ("e_0_00000000", 0)],
        );
        check(&[], &[]);
    }
}
