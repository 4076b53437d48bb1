//! `/runs/{id}/tensorboard/…`: the run's real TensorBoard, started on first use and
//! reverse-proxied behind the server's auth.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use futures_util::TryStreamExt;

use super::AppState;
use super::KnownRun;
use super::{ApiError, authorize};
use crate::people::{Access, Shared};

/// Largest request body forwarded to TensorBoard.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Headers that belong to one hop and are not forwarded.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "te"
            | "trailer"
            | "proxy-authorization"
    )
}

/// Any method on `/runs/{id}/tensorboard[/{*rest}]`.
pub async fn proxy(
    State(state): State<AppState>,
    Path(params): Path<Vec<(String, String)>>,
    request: Request,
) -> Response {
    match forward(&state, params, request).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn forward(
    state: &AppState,
    params: Vec<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let id_text = params
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    // The run page's readers: viewers, and share sessions of this run.
    authorize(
        state,
        request.headers(),
        Access::shared(Shared::Run),
        &[("id", &id_text)],
        None,
    )
    .await?;
    let id = KnownRun::find(state, &id_text).await?.into_id();
    let logs = state.run_dir(&id).join("wd/logs");
    let port = match state
        .runner
        .tensorboards
        .ensure(&state.config.python, &id, &logs)
        .await
    {
        Ok(port) => port,
        Err(e @ crate::runner::tensorboard::TensorBoardError::NotInstalled { .. }) => {
            let page = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>TensorBoard is not installed</title></head>\
                 <body><main><h1>TensorBoard is not installed</h1><p>{}</p><p>The run's scalars are on its TensorBoard tab in the portal meanwhile.</p></main></body></html>",
                html_escape(&e.to_string())
            );
            return Ok((StatusCode::FAILED_DEPENDENCY, Html(page)).into_response());
        }
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "tensorboard_unavailable",
                e.to_string(),
            ));
        }
    };
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("http://127.0.0.1:{port}{path_and_query}");
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "request body too large for TensorBoard",
        )
    })?;
    let mut upstream = reqwest::Client::new()
        .request(parts.method.clone(), url)
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) && name != header::COOKIE && name != header::AUTHORIZATION {
            upstream = upstream.header(name, value);
        }
    }
    let answer = upstream.send().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "tensorboard_unavailable",
            format!("TensorBoard did not answer: {e}"),
        )
    })?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            response = response.header(name, value);
        }
    }
    let stream = answer.bytes_stream().map_err(std::io::Error::other);
    response
        .body(Body::from_stream(stream))
        .map_err(ApiError::internal)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
