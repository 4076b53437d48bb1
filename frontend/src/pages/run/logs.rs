//! The Logs tab: one pane per log file (the main output, each process rank, the
//! environment build), live, from its tail, with earlier lines on request, follow-tail,
//! search (on the server) and download.

use leptos::prelude::*;

use super::{LogsState, RunData};
use crate::api::{self, FileArea};
use crate::components::log_view::{LogView, pane_label};

#[component]
pub(super) fn LogsTab(data: RunData, state: LogsState) -> impl IntoView {
    let panes = data.logs.panes;
    // The pane chosen, else the first one there is.
    let pane = Signal::derive(move || {
        state
            .pane
            .get()
            .filter(|p| panes.with(|all| all.contains(p)))
            .or_else(|| panes.with(|all| all.first().cloned()))
            .unwrap_or_default()
    });
    let download = move || api::file_url(&data.id.get_value(), FileArea::Run, &pane.get());
    // The page starts at each log's tail; earlier lines are read when asked for (the
    // button, or scrolling to the top), one range at a time.
    let loading = RwSignal::new(false);
    let earlier = move || {
        data.logs.track();
        data.logs.earlier(&pane.get()).is_some()
    };
    let load_earlier = move |()| {
        let path = pane.get_untracked();
        let Some(end) = data
            .logs
            .earlier(&path)
            .filter(|_| !loading.get_untracked())
        else {
            return;
        };
        loading.set(true);
        let request = api::log_before(&data.id.get_value(), &path, end);
        leptos::task::spawn_local(async move {
            if let Ok(r) = request.await {
                let at = |k: &str| r[k].as_u64().unwrap_or(0);
                let text = r["text"].as_str().unwrap_or_default();
                data.logs.prepend(&path, at("start"), at("end"), text);
            }
            loading.set(false);
        });
    };
    // Search reads the whole log on the server (a page of its own): the page holds
    // only part of a long log.
    let search_action = move || format!("/runs/{}/log-search", data.id.get_value());
    view! {
        <Show
            when=move || panes.with(|p| !p.is_empty())
            fallback=move || view! {
                <p class="empty">
                    {move || if data.status.get().is_some_and(|s| s.is_terminal()) {
                        "This run wrote no logs."
                    } else {
                        "Waiting for the job's first output…"
                    }}
                </p>
            }
        >
            <div class="log-toolbar">
                <div class="panes" role="group" aria-label="Log file">
                    <For each=move || panes.get() key=|p| p.clone() let:path>
                        <button
                            type="button"
                            class="pane"
                            aria-pressed={
                                let path = path.clone();
                                move || (pane.get() == path).to_string()
                            }
                            title=path.clone()
                            on:click={
                                let path = path.clone();
                                move |_| state.pane.set(Some(path.clone()))
                            }
                        >
                            {pane_label(&path)}
                        </button>
                    </For>
                </div>
                <div class="log-tools">
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || state.follow.get()
                            on:change=move |ev| state.follow.set(event_target_checked(&ev))
                        />
                        "Follow"
                    </label>
                    <form class="search" role="search" method="get" action=search_action>
                        <input type="hidden" name="path" prop:value=move || pane.get() />
                        <input
                            type="search"
                            name="q"
                            required=true
                            placeholder="Search the whole log"
                            aria-label="Search this log"
                            prop:value=move || state.query.get()
                            on:input=move |ev| state.query.set(event_target_value(&ev))
                        />
                        <button type="submit">"Search"</button>
                    </form>
                    <a class="button" href=download download="">"Download"</a>
                </div>
            </div>
            <button type="button" class="earlier" class:hidden=move || !earlier()
                disabled=loading on:click=move |_| load_earlier(())>"Load earlier lines"</button>
            <LogView
                on_top=Callback::new(load_earlier)
                logs=data.logs
                path=pane
                follow=state.follow
            />
        </Show>
    }
}
