//! The sweep page, `/runs/{id}/sweep`: a sweep's children best first by its primary
//! metric, a scatter of the metric against each parameter, and the stopped children
//! with why. Rendered on the server like `account`'s pages (the portal's wasm has no
//! room left), with no script: while the sweep has not ended the page reloads itself
//! every 2 seconds (`<meta http-equiv="refresh">`), so it fills live. The data is
//! `GET /api/runs/{id}/children`'s (`sweeps::children`); the HTML is
//! `crate::sweep_view`'s.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::KnownRun;
use super::account::{error_page, require_page};
use super::{ApiError, sweeps};
use crate::people::Access;
use crate::sweep_view;

/// The route, for viewers (as `GET /api/runs/{id}/children`).
pub fn router(state: &AppState) -> axum::Router<AppState> {
    use axum::middleware::from_fn_with_state;
    let viewer = from_fn_with_state((state.clone(), Access::VIEWER), require_page);
    axum::Router::new().route(
        "/runs/{id}/sweep",
        axum::routing::get(sweep_page).route_layer(viewer),
    )
}

/// No script at all; styles inline; the SVG charts are inline too.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}\
td.num{text-align:right;font-variant-numeric:tabular-nums}td code{white-space:nowrap}.scroll{overflow-x:auto}\
.charts{display:flex;flex-wrap:wrap;gap:1rem}.scatter{border:1px solid #ddd;background:#fff}\
.empty,.note{color:#555}";

async fn sweep_page(State(state): State<AppState>, run: Result<KnownRun, ApiError>) -> Response {
    match async { render(state, run?).await }.await {
        Ok(response) => response,
        Err(e) => error_page(&e),
    }
}

async fn render(state: AppState, KnownRun(record): KnownRun) -> Result<Response, ApiError> {
    let run = record.summary.run_id.clone();
    if record.summary.target != crate::sweep::TARGET {
        return Err(ApiError::not_found(format!(
            "run {run} is not a sweep (it has no sweep page)"
        )));
    }
    let Json(list) = sweeps::children(State(state), KnownRun(record.clone())).await?;
    let status = record.summary.status;
    let refresh = if status.is_terminal() {
        ""
    } else {
        "<meta http-equiv=\"refresh\" content=\"2\">"
    };
    let title = format!("Sweep {}", sweep_view::escape(run.as_str()));
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Runboard: {title}</title>\
         <style>{STYLE}</style></head><body><main><h1>{title}</h1>{}</main></body></html>",
        sweep_view::body(run.as_str(), status, &list)
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response())
}
