//! Status badges: a run's status, and the state of a page's live connection.

use leptos::prelude::*;
use runboard_portal_view::display::status_label;
use runboard_shared::run::RunStatus;

use crate::api::Connection;

/// The colour family of a status, as a CSS class.
pub fn status_tone(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued | RunStatus::Preparing | RunStatus::Starting => "pending",
        RunStatus::Running | RunStatus::Finalizing => "running",
        RunStatus::Completed => "completed",
        RunStatus::Failed => "failed",
        RunStatus::CancelRequested | RunStatus::Canceled => "canceled",
    }
}

/// The CSS classes of a status badge.
pub fn status_class(status: RunStatus) -> String {
    format!("status {}", status_tone(status))
}

/// A run's status as a coloured badge. The colour is never the only cue: the badge
/// always carries the status's name, and a queued run's place in line
/// (`Queued (2nd in line)`).
#[component]
pub fn StatusBadge(
    #[prop(into)] status: Signal<RunStatus>,
    /// A queued run's place in line; none elsewhere (the notebook's run cards). Not a
    /// signal: the run page draws the badge again when it changes, which costs less
    /// bundle than one more signal type.
    #[prop(default = None)]
    position: Option<u32>,
) -> impl IntoView {
    view! {
        <span class=move || status_class(status.get()) data-status=move || status.get().as_str()>
            {move || status_label(status.get(), position)}
        </span>
    }
}

/// Whether the page's live connection is up, as a badge that screen readers announce
/// when it changes.
#[component]
pub fn ConnectionBadge(#[prop(into)] connection: Signal<Connection>) -> impl IntoView {
    let text = move || match connection.get() {
        Connection::Connecting => "Connecting…".to_owned(),
        Connection::Live => "Live".to_owned(),
        Connection::Reconnecting { attempt } if attempt <= 1 => "Reconnecting…".to_owned(),
        Connection::Reconnecting { attempt } => format!("Reconnecting (attempt {attempt})…"),
        Connection::Offline => "Offline: waiting for the network".to_owned(),
        Connection::Deleted => "This run was deleted".to_owned(),
    };
    let class = move || match connection.get() {
        Connection::Live => "connection live",
        Connection::Connecting => "connection connecting",
        Connection::Reconnecting { .. } | Connection::Offline | Connection::Deleted => {
            "connection down"
        }
    };
    view! {
        <span class=class role="status" aria-live="polite" data-connection=move || match connection.get() {
            Connection::Live => "live",
            Connection::Connecting => "connecting",
            Connection::Reconnecting { .. } => "reconnecting",
            Connection::Offline => "offline",
            Connection::Deleted => "deleted",
        }>
            <span class="dot" aria-hidden="true"></span>
            {text}
        </span>
    }
}
