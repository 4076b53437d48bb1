//! The Logs tab: one pane per log file (the main output, each process rank, the
//! environment build), live, with follow-tail, search and download.

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
    let matches = RwSignal::new(Vec::<u64>::new());
    let position = RwSignal::new(None::<usize>);
    // A new query or pane starts the match count again.
    Effect::new(move |_| {
        state.query.track();
        pane.track();
        position.set(None);
    });
    let current = Signal::derive(move || {
        let i = position.get()?;
        matches.with(|m| m.get(i).copied())
    });
    let step = move |forward: bool| {
        let count = matches.with_untracked(Vec::len);
        if count == 0 {
            return;
        }
        position.update(|p| {
            *p = Some(match (*p, forward) {
                (None, true) => 0,
                (None, false) => count - 1,
                (Some(i), true) => (i + 1) % count,
                (Some(i), false) => (i + count - 1) % count,
            })
        });
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            step(!ev.shift_key());
        }
    };
    let count_text = move || {
        let n = matches.with(Vec::len);
        if state.query.with(String::is_empty) {
            String::new()
        } else if n == 0 {
            "No matches".to_owned()
        } else {
            match position.get() {
                Some(i) => format!("{} of {n}", i + 1),
                None => format!("{n} match{}", if n == 1 { "" } else { "es" }),
            }
        }
    };
    let download = move || api::file_url(&data.id.get_value(), FileArea::Run, &pane.get());

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
                    <div class="search" role="search">
                        <input
                            type="search"
                            placeholder="Search this log"
                            aria-label="Search this log"
                            prop:value=move || state.query.get()
                            on:input=move |ev| state.query.set(event_target_value(&ev))
                            on:keydown=on_key
                        />
                        <button type="button" on:click=move |_| step(false) aria-label="Previous match"
                            disabled=move || matches.with(Vec::is_empty)>"↑"</button>
                        <button type="button" on:click=move |_| step(true) aria-label="Next match"
                            disabled=move || matches.with(Vec::is_empty)>"↓"</button>
                        <span class="match-count" aria-live="polite">{count_text}</span>
                    </div>
                    <a class="button" href=download download="">"Download"</a>
                </div>
            </div>
            <LogView
                logs=data.logs
                path=pane
                query=state.query
                follow=state.follow
                matches=matches
                current=current
            />
        </Show>
    }
}
