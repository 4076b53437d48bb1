//! `/runs/{id}/log-search?path=&q=`: a search of one whole log, on the server, as a
//! page (the portal's Logs tab's search box is a GET form to it: the portal holds
//! only part of a long log). Rendered here, without script, like the sweep page: the
//! portal's wasm has no room left. The data is `GET /api/runs/{id}/log/search`'s (`runview::search`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use runboard_shared::runview::LogMatches;

use super::AppState;
use super::KnownRun;
use super::account::error_page;
use super::runview::{self, SearchQuery};
use crate::people::Access;
use crate::sweep_view::escape;

/// The route. Who may open it is checked in [`page`]: whoever may read the run's
/// logs, a share link of this run included (as `GET /api/runs/{id}/log/search`).
pub fn router(_state: &AppState) -> axum::Router<AppState> {
    axum::Router::new().route("/runs/{id}/log-search", axum::routing::get(page))
}

const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}\
ol{list-style:none;padding:0;font-family:ui-monospace,monospace;font-size:.85rem}li{white-space:pre-wrap;\
border-bottom:1px solid #eee;padding:.15rem 0}.n{color:#666;display:inline-block;min-width:7rem}.note{color:#555}";

async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Response {
    let access = Access::shared(crate::people::Shared::Run);
    match super::auth::authorize(&state, &headers, access, &[("id", &id)], None).await {
        Ok(_) => {}
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            return axum::response::Redirect::to("/login").into_response();
        }
        Err(e) => return error_page(&e),
    }
    let shown = query
        .as_ref()
        .ok()
        .map(|Query(q)| (q.path().to_owned(), q.text().to_owned()));
    let found = match KnownRun::find(&state, &id).await {
        Ok(run) => runview::search(State(state), run, query).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(axum::Json(found)) => {
            let (path, q) = shown.unwrap_or_default();
            render(&id, &path, &q, &found)
        }
        Err(e) => error_page(&e),
    }
}

/// The page for the matches `found` of `q` in log `path` of run `id`.
fn render(id: &str, path: &str, q: &str, found: &LogMatches) -> Response {
    let lines: String = found
        .matches
        .iter()
        .map(|m| {
            format!(
                "<li><span class=\"n\">line {}</span>{}</li>",
                m.line,
                escape(&m.text)
            )
        })
        .collect();
    let summary = match (found.matches.len(), found.truncated) {
        (0, _) => "No line contains it.".to_owned(),
        (n, false) => format!("{n} line{} contain it.", if n == 1 { "" } else { "s" }),
        (n, true) => format!("The first {n} lines that contain it (there are more)."),
    };
    let title = format!("Search {}", escape(path));
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Runboard: {title}</title>\
         <style>{STYLE}</style></head><body><main><h1>{title}</h1>\
         <p><a href=\"/runs/{id}?tab=logs\">Back to run {id}</a></p>\
         <form method=\"get\" role=\"search\"><input type=\"hidden\" name=\"path\" value=\"{path}\">\
         <input type=\"search\" name=\"q\" value=\"{q}\" aria-label=\"Search this log\" required> \
         <button type=\"submit\">Search</button></form>\
         <p class=\"note\" role=\"status\">{summary} {searched} bytes searched, ASCII case ignored.</p>\
         <ol aria-label=\"Matching lines\">{lines}</ol></main></body></html>",
        id = escape(id),
        path = escape(path),
        q = escape(q),
        searched = found.searched,
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response()
}
