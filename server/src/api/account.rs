//! Server-rendered pages for managing access and retention, kept out of the portal's
//! wasm (whose download has no room left): `/runs/{id}/share` and
//! `/experiments/{name}/share` (a run's or experiment's read-only links: create,
//! list, revoke), `/runs/{id}/delete` and `/experiments/{name}/delete` (confirm, then
//! delete) and `/account` (who you are, log out, your sessions and API tokens,
//! revoke). Plain HTML forms
//! posting to the same origin, so `guard::same_origin_only` checks them like any other
//! state-changing request; the handlers are the API's own (`people`), so the rules
//! are the same as `…/share-links`, `/api/sessions` and `/api/tokens`.

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use serde::Deserialize;

use super::ApiError;
use super::AppState;
use super::KnownRun;
use super::people;
use crate::people::{Access, Principal};

/// The routes, each behind [`require_page`] with its role.
pub fn router(state: &AppState) -> axum::Router<AppState> {
    use axum::middleware::from_fn_with_state;
    use axum::routing::{get, post};
    let editor = from_fn_with_state((state.clone(), Access::EDITOR), require_page);
    let viewer = from_fn_with_state((state.clone(), Access::VIEWER), require_page);
    axum::Router::new()
        .route(
            "/runs/{id}/share",
            get(run_share_page)
                .post(create_run_link)
                .route_layer(editor.clone()),
        )
        .route(
            "/runs/{id}/share/{link}/revoke",
            post(revoke_run_link).route_layer(editor.clone()),
        )
        .route(
            "/experiments/{name}/share",
            get(experiment_share_page)
                .post(create_experiment_link)
                .route_layer(editor.clone()),
        )
        .route(
            "/experiments/{name}/share/{link}/revoke",
            post(revoke_experiment_link).route_layer(editor.clone()),
        )
        .route(
            "/runs/{id}/delete",
            get(run_delete_page)
                .post(delete_run)
                .route_layer(editor.clone()),
        )
        .route(
            "/experiments/{name}/delete",
            get(experiment_delete_page)
                .post(delete_experiment)
                .route_layer(editor.clone()),
        )
        .route("/account", get(account_page).route_layer(viewer.clone()))
        .route("/account/logout", post(logout).route_layer(viewer.clone()))
        .route(
            "/account/sessions/{id}/revoke",
            post(revoke_session).route_layer(viewer.clone()),
        )
        .route(
            "/account/tokens/{id}/revoke",
            post(revoke_token).route_layer(viewer),
        )
}

/// [`super::auth::authorize`] for a page: without credentials, the login page;
/// without the role, a page saying which is needed.
pub(super) async fn require_page(
    State((state, access)): State<(AppState, Access)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    match super::auth::authorize(&state, &parts.headers, access, &[], None).await {
        Ok(principal) => {
            parts.extensions.insert(principal);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Redirect::to("/login").into_response(),
        Err(e) => error_page(&e),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The pages' policy: no script at all, styles inline, forms only to the server.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
frame-ancestors 'none'; base-uri 'none'";

pub(super) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Runboard: {title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}}\
         form.inline{{display:inline}}input[readonly]{{width:100%;padding:.4rem;box-sizing:border-box}}\
         label{{display:block;margin:.8rem 0}}.error{{color:#b00020}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (
        status,
        [
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response()
}

pub(super) fn error_page(e: &ApiError) -> Response {
    page(
        e.status,
        "Not possible",
        &format!(
            "<p class=\"error\" role=\"alert\">{}</p><p><a href=\"/\">Back to Runboard</a></p>",
            escape(&e.message)
        ),
    )
}

fn back_to(path: &str) -> Response {
    // 303: the browser follows with a GET, so a reload does not post again.
    Redirect::to(path).into_response()
}

/// What a share page is about.
#[derive(Clone, Copy)]
enum Kind {
    Run,
    Experiment,
}

impl Kind {
    /// The page's path; `key` has been found to name a run or experiment (whose
    /// names need no escaping in a path) before a link is built from it.
    fn page_path(self, key: &str) -> String {
        let key = escape(key);
        match self {
            Kind::Run => format!("/runs/{key}"),
            Kind::Experiment => format!("/experiments/{key}"),
        }
    }
}

async fn share_page(
    state: AppState,
    kind: Kind,
    key: String,
    created: Option<String>,
    error: Option<String>,
) -> Response {
    let list = match kind {
        Kind::Run => people::run_links(State(state), Path(key.clone())).await,
        Kind::Experiment => people::experiment_links(State(state), Path(key.clone())).await,
    };
    let list = match list {
        Ok(Json(list)) => list,
        Err(e) => return error_page(&e),
    };
    let base = kind.page_path(&key);
    let what = match kind {
        Kind::Run => format!("run <code>{}</code>", escape(&key)),
        Kind::Experiment => format!("experiment <code>{}</code>", escape(&key)),
    };
    let mut body = format!(
        "<p>A share link opens the {what} read-only for anyone who has it, without \
         logging in: {}. Nothing else on this server.</p>",
        match kind {
            Kind::Run => "its page, logs, metrics, TensorBoard scalars and outputs, live",
            Kind::Experiment => "its runs, with their logs, metrics and outputs, live",
        }
    );
    if let Some(url) = created {
        body.push_str(&format!(
            "<label>New share link (shown once: copy it now)<input readonly value=\"{}\"></label>",
            escape(&url)
        ));
    }
    if let Some(error) = error {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(&error)
        ));
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"{base}/share\">\
         <label>Expires after this many hours (empty: when revoked)\
         <input name=\"expires_in_hours\" inputmode=\"decimal\"></label>\
         <button type=\"submit\">Create link</button></form><h2>Links</h2>"
    ));
    if list.links.is_empty() {
        body.push_str("<p>No share links.</p>");
    } else {
        body.push_str(
            "<table><thead><tr><th>Created by</th><th>Created</th><th>Expires</th><th></th></tr></thead><tbody>",
        );
        for link in &list.links {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><form class=\"inline\" method=\"post\" \
                 action=\"{base}/share/{}/revoke\"><button type=\"submit\" aria-label=\"Revoke link {}\">Revoke</button></form></td></tr>",
                escape(&link.created_by),
                escape(&link.created_utc),
                escape(link.expires_utc.as_deref().unwrap_or("never")),
                link.id,
                link.id,
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str(&format!("<p><a href=\"{base}\">Back</a></p>"));
    let title = match kind {
        Kind::Run => "Share this run",
        Kind::Experiment => "Share this experiment",
    };
    page(StatusCode::OK, title, &body)
}

async fn run_share_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    share_page(state, Kind::Run, id, None, None).await
}

async fn experiment_share_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Response {
    share_page(state, Kind::Experiment, name, None, None).await
}

/// The create form: hours until it expires, or empty.
#[derive(Debug, Deserialize)]
struct NewLinkForm {
    #[serde(default)]
    expires_in_hours: String,
}

async fn create(
    state: AppState,
    principal: Principal,
    kind: Kind,
    key: String,
    form: NewLinkForm,
) -> Response {
    let hours = form.expires_in_hours.trim();
    let body = if hours.is_empty() {
        bytes::Bytes::new()
    } else {
        match hours.parse::<f64>() {
            Ok(h) if h.is_finite() => bytes::Bytes::from(
                serde_json::to_vec(&runboard_shared::api::NewShareLink {
                    expires_in_hours: Some(h),
                })
                .unwrap_or_default(),
            ),
            _ => {
                let error = format!("\"{hours}\" is not a number of hours");
                return share_page(state, kind, key, None, Some(error)).await;
            }
        }
    };
    let created = match kind {
        Kind::Run => {
            people::create_run_link(
                State(state.clone()),
                Extension(principal),
                Path(key.clone()),
                body,
            )
            .await
        }
        Kind::Experiment => {
            people::create_experiment_link(
                State(state.clone()),
                Extension(principal),
                Path(key.clone()),
                body,
            )
            .await
        }
    };
    match created {
        Ok((_, Json(info))) => share_page(state, kind, key, info.url, None).await,
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            share_page(state, kind, key, None, Some(e.message)).await
        }
        Err(e) => error_page(&e),
    }
}

async fn create_run_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    Form(form): Form<NewLinkForm>,
) -> Response {
    create(state, principal, Kind::Run, id, form).await
}

async fn create_experiment_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
    Form(form): Form<NewLinkForm>,
) -> Response {
    create(state, principal, Kind::Experiment, name, form).await
}

async fn revoke_run_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((id, link)): Path<(String, String)>,
) -> Response {
    let back = format!("{}/share", Kind::Run.page_path(&id));
    match people::delete_run_link(State(state), Extension(principal), Path((id, link))).await {
        Ok(_) => back_to(&back),
        Err(e) => error_page(&e),
    }
}

async fn revoke_experiment_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((name, link)): Path<(String, String)>,
) -> Response {
    let back = format!("{}/share", Kind::Experiment.page_path(&name));
    match people::delete_experiment_link(State(state), Extension(principal), Path((name, link)))
        .await
    {
        Ok(_) => back_to(&back),
        Err(e) => error_page(&e),
    }
}

async fn account_page(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    let sessions = people::sessions(State(state.clone()), Extension(principal.clone())).await;
    let tokens = people::tokens(State(state), Extension(principal.clone())).await;
    let (sessions, tokens) = match (sessions, tokens) {
        (Ok(Json(s)), Ok(Json(t))) => (s.sessions, t.tokens),
        (Err(e), _) | (_, Err(e)) => return error_page(&e),
    };
    let role = principal.role().map_or("share link", |r| r.as_str());
    let mut body = format!(
        "<p>Logged in as <strong>{}</strong> ({role}).</p>\
         <form method=\"post\" action=\"/account/logout\"><button type=\"submit\">Log out</button></form>\
         <h2>Sessions</h2>",
        escape(principal.name())
    );
    if principal.is_admin() {
        body.push_str("<p>As an admin you see everyone's.</p>");
    }
    body.push_str(
        "<table><thead><tr><th>Person</th><th>Started</th><th>Last seen</th><th></th></tr></thead><tbody>",
    );
    for s in &sessions {
        let action = if s.current {
            "this browser".to_owned()
        } else {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/account/sessions/{}/revoke\">\
                 <button type=\"submit\" aria-label=\"Revoke session {}\">Revoke</button></form>",
                s.id, s.id
            )
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            escape(&s.person),
            escape(&s.created_utc),
            escape(&s.last_seen_utc)
        ));
    }
    body.push_str("</tbody></table><h2>API tokens</h2>");
    if tokens.is_empty() {
        body.push_str(
            "<p>No personal API tokens. Make one with <code>POST /api/tokens</code>.</p>",
        );
    } else {
        body.push_str(
            "<table><thead><tr><th>Label</th><th>Person</th><th>Created</th><th></th></tr></thead><tbody>",
        );
        for t in &tokens {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><form class=\"inline\" method=\"post\" \
                 action=\"/account/tokens/{}/revoke\"><button type=\"submit\" aria-label=\"Revoke token {}\">Revoke</button></form></td></tr>",
                escape(&t.label),
                escape(&t.person),
                escape(&t.created_utc),
                t.id,
                t.id
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<p><a href=\"/\">Back to Runboard</a></p>");
    page(StatusCode::OK, "Account", &body)
}

async fn logout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    match people::logout(State(state), Extension(principal)).await {
        Ok(response) => {
            let mut redirect = Redirect::to("/login").into_response();
            if let Some(cookie) = response.headers().get(header::SET_COOKIE) {
                redirect
                    .headers_mut()
                    .insert(header::SET_COOKIE, cookie.clone());
            }
            redirect
        }
        Err(e) => error_page(&e),
    }
}

async fn revoke_session(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    match people::delete_session(State(state), Extension(principal), Path(id)).await {
        Ok(_) => back_to("/account"),
        Err(e) => error_page(&e),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    match people::delete_token(State(state), Extension(principal), Path(id)).await {
        Ok(_) => back_to("/account"),
        Err(e) => error_page(&e),
    }
}

async fn run_delete_page(Path(id): Path<String>, run: Result<KnownRun, ApiError>) -> Response {
    let summary = match run {
        Ok(KnownRun(record)) => record.summary,
        Err(e) => return error_page(&e),
    };
    let base = Kind::Run.page_path(&id);
    let running = if summary.status.is_terminal() {
        String::new()
    } else {
        format!(
            "<p><strong>It has not ended ({}): it is cancelled first.</strong></p>",
            summary.status
        )
    };
    let body = format!(
        "<p>Delete run <code>{}</code> of experiment <code>{}</code>? Its logs, metrics, \
         outputs and files are removed from the server and the disk; this cannot be undone. \
         Models registered from it stay.</p>{running}\
         <form method=\"post\" action=\"{base}/delete\"><button type=\"submit\">Delete run</button></form>\
         <p><a href=\"{base}\">Keep it</a></p>",
        escape(&id),
        escape(&summary.experiment)
    );
    page(StatusCode::OK, "Delete run", &body)
}

async fn delete_run(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let run_id = match super::run_id(&id) {
        Ok(run_id) => run_id,
        Err(e) => return error_page(&e),
    };
    let experiment = run_id.experiment().to_owned();
    match crate::runs::delete::delete_run(&state.runner, &run_id).await {
        Ok(_) => back_to(&Kind::Experiment.page_path(&experiment)),
        Err(e) => error_page(&ApiError::from(e)),
    }
}

async fn experiment_delete_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Response {
    let runs = match state.store.experiment_exists(&name).await {
        Ok(true) => state.store.experiment_run_ids(&name).await,
        Ok(false) => {
            return error_page(&ApiError::not_found(format!(
                "no experiment called {name:?}"
            )));
        }
        Err(e) => Err(e),
    };
    let runs = match runs {
        Ok(runs) => runs.len(),
        Err(e) => return error_page(&ApiError::from(e)),
    };
    let base = Kind::Experiment.page_path(&name);
    let body = format!(
        "<p>Delete experiment <code>{}</code> and its {runs} run{}? Their logs, metrics, \
         outputs and files are removed; runs that have not ended are cancelled first. This \
         cannot be undone. Registered models stay.</p>\
         <form method=\"post\" action=\"{base}/delete\"><button type=\"submit\">Delete experiment</button></form>\
         <p><a href=\"{base}\">Keep it</a></p>",
        escape(&name),
        if runs == 1 { "" } else { "s" }
    );
    page(StatusCode::OK, "Delete experiment", &body)
}

async fn delete_experiment(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match crate::runs::delete::delete_experiment(&state.runner, &name).await {
        Ok(_) => back_to("/"),
        Err(e) => error_page(&ApiError::from(e)),
    }
}
