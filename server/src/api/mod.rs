//! The HTTP edge: REST routes under `/api`, the run websocket, token login and the
//! web app's files. [`app`] builds the whole router, so tests can call it without a
//! socket.

mod datastores;
mod environments;
mod error;
mod events;
mod files;
mod files_area;
pub mod guard;
mod metrics;
mod models;
mod runs;
mod sdk_index;
mod snapshot;
mod tensorboard;
mod web;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use runboard_shared::run::RunId;

pub use error::ApiError;
pub use events::session;

use crate::AppState;

/// Name of the session cookie set by `?token=` login.
pub const COOKIE: &str = "runboard_token";

/// One route of the API. Every route in [`routes`] requires credentials.
#[derive(Debug)]
pub struct ApiRoute {
    /// HTTP method.
    pub method: Method,
    /// Path pattern, as axum writes it.
    pub path: &'static str,
    /// The handler.
    pub handler: MethodRouter<AppState>,
    /// The handler checks credentials itself, accepting a run's own token too
    /// (the metrics ingest of a run's script); every other route is behind the
    /// server's token.
    pub run_token: bool,
}

/// Every API route. [`app`] mounts exactly these, behind authentication.
pub fn routes(state: &AppState) -> Vec<ApiRoute> {
    let route = |method: Method, path, handler| ApiRoute {
        method,
        path,
        handler,
        run_token: false,
    };
    let upload_limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    vec![
        route(Method::GET, "/api/experiments", get(runs::experiments)),
        route(
            Method::POST,
            "/api/experiments/{name}/runs",
            post(runs::submit).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::GET,
            "/api/experiments/{name}/metrics",
            get(metrics::compare),
        ),
        route(Method::GET, "/api/runs", get(runs::list)),
        route(Method::GET, "/api/runs/{id}", get(runs::details)),
        route(Method::POST, "/api/runs/{id}/cancel", post(runs::cancel)),
        route(
            Method::PATCH,
            "/api/runs/{id}/tags",
            patch(runs::patch_tags),
        ),
        route(Method::GET, "/api/runs/{id}/files", get(files::list)),
        route(
            Method::GET,
            "/api/runs/{id}/files/{*path}",
            get(files::download),
        ),
        route(Method::GET, "/api/runs/{id}/events", get(events::websocket)),
        route(Method::GET, "/api/runs/{id}/snapshot", get(snapshot::list)),
        route(
            Method::GET,
            "/api/runs/{id}/snapshot/{*path}",
            get(snapshot::download),
        ),
        ApiRoute {
            method: Method::POST,
            path: "/api/runs/{id}/metrics",
            handler: post(metrics::ingest)
                .layer(DefaultBodyLimit::max(crate::limits::MAX_METRICS_BODY_BYTES)),
            run_token: true,
        },
        route(
            Method::GET,
            "/api/runs/{id}/metrics",
            get(metrics::get_metrics),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/metrics/{name}",
            get(metrics::metric_series),
        ),
        route(Method::GET, "/api/runs/{id}/scalars", get(metrics::scalars)),
        route(
            Method::GET,
            "/api/runs/{id}/scalars/series",
            get(metrics::scalar_series),
        ),
        route(Method::GET, "/api/environments", get(environments::list)),
        route(
            Method::GET,
            "/api/frameworks/{framework}/versions",
            get(environments::framework_versions),
        ),
        route(
            Method::GET,
            "/api/environments/{hash}",
            get(environments::one),
        ),
        route(
            Method::DELETE,
            "/api/environments/{hash}",
            delete(environments::delete),
        ),
        route(
            Method::GET,
            "/api/compute-targets",
            get(runs::compute_targets),
        ),
        route(Method::GET, "/api/files", get(files_area::list_all)),
        route(Method::GET, "/api/files/{*path}", get(files_area::read)),
        route(
            Method::PUT,
            "/api/files/{*path}",
            put(files_area::write).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(Method::POST, "/api/files/{*path}", post(files_area::act)),
        route(
            Method::DELETE,
            "/api/files/{*path}",
            delete(files_area::remove),
        ),
        route(
            Method::POST,
            "/api/models",
            post(models::register).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(Method::GET, "/api/models", get(models::list)),
        route(
            Method::GET,
            "/api/models/{name}/versions/{version}",
            get(models::one),
        ),
        route(
            Method::GET,
            "/api/models/{name}/versions/{version}/download",
            get(models::download),
        ),
        route(
            Method::GET,
            "/api/models/{name}/versions/{version}/files/{*path}",
            get(models::file),
        ),
        route(Method::GET, "/api/runs/{id}/models", get(models::of_run)),
        route(
            Method::POST,
            "/api/datastores/{name}/upload",
            post(datastores::upload).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::PUT,
            "/api/datastores/{name}/files/{*path}",
            put(datastores::put_file).layer(DefaultBodyLimit::max(upload_limit)),
        ),
    ]
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let mut api = Router::new();
    for r in routes(&state) {
        let path = r.path.strip_prefix("/api").unwrap_or(r.path);
        let handler = if r.run_token {
            r.handler
        } else {
            r.handler
                .route_layer(middleware::from_fn_with_state(state.clone(), require_auth))
        };
        api = api.route(path, handler);
    }
    let api = api
        // Every body not given a limit of its own above (uploads, metrics).
        .layer(DefaultBodyLimit::max(crate::limits::MAX_JSON_BODY_BYTES))
        .fallback(|| async { ApiError::not_found("no such API route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this API route does not accept that method",
            )
        });
    web::router(&state)
        .route(
            "/runs/{id}/tensorboard",
            axum::routing::any(tensorboard::proxy),
        )
        .route(
            "/runs/{id}/tensorboard/",
            axum::routing::any(tensorboard::proxy),
        )
        .route(
            "/runs/{id}/tensorboard/{*rest}",
            axum::routing::any(tensorboard::proxy),
        )
        .route("/simple/", get(sdk_index::root))
        .route("/simple/{project}/", get(sdk_index::project))
        .route("/simple/{project}/{file}", get(sdk_index::file))
        .nest("/api", api)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::same_origin_only,
        ))
        .with_state(state)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// True when the request carries the server's token, as a bearer token or cookie.
pub fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .next();
    [bearer, cookie]
        .into_iter()
        .flatten()
        .any(|t| constant_time_eq(t.as_bytes(), state.config.token.as_bytes()))
}

async fn require_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if authorized(&state, request.headers()) {
        next.run(request).await
    } else {
        ApiError::unauthorized().into_response()
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses a run id from a path, answering 404 for one that cannot exist.
fn run_id(text: &str) -> Result<RunId, ApiError> {
    RunId::parse(text).map_err(|_| ApiError::not_found(format!("no run with id {text:?}")))
}
