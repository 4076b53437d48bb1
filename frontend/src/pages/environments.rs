//! `/environments`: the cached Python environments (`GET /api/environments`): hash,
//! what was asked for, interpreter and installer, size, when built and last used,
//! what is installed; each can be deleted (`DELETE /api/environments/{hash}`, after
//! the browser's confirm). A deleted environment is built again by the next run that
//! needs it.

use leptos::prelude::*;
use runboard_portal_view::display::{format_bytes, format_time, parse_time};
use runboard_shared::api::EnvironmentSummary;

use crate::api;
use crate::browser;

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        api::environments()
    });
    let message = RwSignal::new(None::<String>);
    let delete = move |hash: String| {
        let confirmed = window()
            .confirm_with_message(&format!(
                "Delete environment {hash}? The next run that needs it builds it again."
            ))
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        let request = api::delete_environment(&hash);
        message.set(Some(format!("Deleting {hash}…")));
        leptos::task::spawn_local(async move {
            message.set(Some(match request.await {
                Ok(()) => format!("Deleted {hash}."),
                Err(e) => format!("Could not delete {hash}: {e}"),
            }));
            reload.update(|r| *r += 1);
        });
    };
    view! {
        <h1>"Environments"</h1>
        <p class="hint">
            "Python environments built for runs, each named by the hash of what it installs, and reused by every run that asks for the same."
        </p>
        <p class="message" role="status" aria-live="polite">{move || message.get()}</p>
        {move || match list.get() {
            None => view! { <p class="loading">"Loading environments…"</p> }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            Some(Ok(l)) if l.environments.is_empty() => view! {
                <p class="empty">"No cached environments. A run with pip_packages or conda_packages builds one."</p>
            }
            .into_any(),
            Some(Ok(l)) => view! {
                <table class="environments">
                    <thead>
                        <tr>
                            <th scope="col">"Hash"</th>
                            <th scope="col">"Requested"</th>
                            <th scope="col">"Python"</th>
                            <th scope="col">"Size"</th>
                            <th scope="col">"Built"</th>
                            <th scope="col">"Last used"</th>
                            <th scope="col">"Installed"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {l.environments.into_iter().map(|env| view! { <EnvironmentRow env=env on_delete=delete /> }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any(),
        }}
    }
}

#[component]
fn EnvironmentRow(
    env: EnvironmentSummary,
    on_delete: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let offset = browser::utc_offset_minutes();
    let time = move |t: &str| {
        parse_time(t)
            .map(|t| format_time(t, offset))
            .unwrap_or_default()
    };
    let hash = env.hash.clone();
    view! {
        <tr class="environment" data-hash=env.hash.clone()>
            <td><code>{env.hash.clone()}</code></td>
            <td>{env.requested.clone()}</td>
            <td>{format!("{} ({})", env.python_version, env.installer)}</td>
            <td>{format_bytes(env.size_bytes)}</td>
            <td>{time(&env.created)}</td>
            <td>{time(&env.last_used)}</td>
            <td><PackageList packages=env.packages /></td>
            <td>
                <button type="button" class="danger" on:click=move |_| on_delete(hash.clone())>
                    "Delete"
                </button>
            </td>
        </tr>
    }
}

/// What is installed in an environment (`pip freeze`), folded.
#[component]
pub fn PackageList(packages: Vec<String>) -> impl IntoView {
    view! {
        <details>
            <summary>{format!("{} packages", packages.len())}</summary>
            <ul class="packages">
                {packages.iter().map(|p| view! { <li><code>{strip_ansi(p)}</code></li> }).collect_view()}
            </ul>
        </details>
    }
}

/// Drops ANSI escape sequences (`ESC [ … letter`): the server's `pip freeze` list can
/// carry the installer's colours (uv prints names in bold even into a pipe).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ansi_colours_are_dropped_from_package_names() {
        assert_eq!(
            super::strip_ansi("\u{1b}[1msix\u{1b}[0m==1.17.0"),
            "six==1.17.0"
        );
        assert_eq!(super::strip_ansi("numpy==2.1.0"), "numpy==2.1.0");
    }
}
