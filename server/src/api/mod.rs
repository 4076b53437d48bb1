//! The HTTP edge: REST routes under `/api`, the run websocket, token login and the
//! web app's files. [`app`] builds the whole router, so tests can call it without a
//! socket.

mod account;
mod auth;
mod datastores;
mod environments;
mod error;
mod events;
mod files;
mod files_area;
pub mod guard;
mod known_run;
mod log_search_page;
mod login;
mod metrics;
mod mlflow;
mod models;
mod models_page;
mod openapi;
mod people;
mod pip_proxy;
mod runs;
mod runview;
mod sdk_index;
mod snapshot;
mod state;
mod sweep_page;
mod sweeps;
mod tensorboard;
mod web;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use runboard_shared::run::RunId;

pub use auth::{authorize, principal};
pub use error::ApiError;
pub use events::session;
pub use known_run::KnownRun;
pub use state::{AppState, Inner};

use crate::people::{Access, Shared};

/// One route of the API. Every route in [`routes`] requires credentials.
#[derive(Debug)]
pub struct ApiRoute {
    /// HTTP method.
    pub method: Method,
    /// Path pattern, as axum writes it.
    pub path: &'static str,
    /// The handler.
    pub handler: MethodRouter<AppState>,
    /// Who may call it: the lowest role, and which share-link sessions (the run or
    /// experiment in the path must be the link's). Checked by `auth::require`
    /// before the handler runs; handlers do not check roles.
    pub access: Access,
    /// The handler checks credentials itself, accepting a run's own token too
    /// (the metrics ingest of a run's script), and `access` for any other.
    pub run_token: bool,
}

/// Every API route with who may call it. [`app`] mounts exactly these, behind
/// authentication and this authorization.
pub fn routes(state: &AppState) -> Vec<ApiRoute> {
    use Access as A;
    let run_page = A::shared(Shared::Run);
    let route = |method: Method, path, access, handler| ApiRoute {
        method,
        path,
        handler,
        access,
        run_token: false,
    };
    let upload_limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    vec![
        route(
            Method::GET,
            "/api/openapi.json",
            A::VIEWER,
            get(openapi::document),
        ),
        route(
            Method::GET,
            "/api/experiments",
            A::VIEWER,
            get(runs::experiments),
        ),
        route(
            Method::POST,
            "/api/experiments/{name}/runs",
            A::EDITOR,
            post(runs::submit).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::GET,
            "/api/experiments/{name}/metrics",
            A::shared(Shared::Experiment),
            get(metrics::compare),
        ),
        route(
            Method::GET,
            "/api/runs",
            A::shared(Shared::RunList),
            get(runs::list),
        ),
        route(Method::GET, "/api/runs/{id}", run_page, get(runs::details)),
        route(
            Method::DELETE,
            "/api/runs/{id}",
            A::EDITOR,
            delete(runs::delete_run),
        ),
        route(
            Method::DELETE,
            "/api/experiments/{name}",
            A::EDITOR,
            delete(runs::delete_experiment),
        ),
        route(
            Method::POST,
            "/api/runs/{id}/cancel",
            A::EDITOR,
            post(runs::cancel),
        ),
        route(
            Method::PATCH,
            "/api/runs/{id}/tags",
            A::EDITOR,
            patch(runs::patch_tags),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/files",
            run_page,
            get(files::list),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/files/{*path}",
            run_page,
            get(files::download),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/events",
            run_page,
            get(events::websocket),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/snapshot",
            A::VIEWER,
            get(snapshot::list),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/snapshot/{*path}",
            A::VIEWER,
            get(snapshot::download),
        ),
        ApiRoute {
            method: Method::POST,
            path: "/api/runs/{id}/metrics",
            handler: post(metrics::ingest)
                .layer(DefaultBodyLimit::max(crate::limits::MAX_METRICS_BODY_BYTES)),
            access: A::EDITOR,
            run_token: true,
        },
        route(
            Method::GET,
            "/api/runs/{id}/metrics",
            run_page,
            get(metrics::get_metrics),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/metrics/{name}",
            run_page,
            get(metrics::metric_series),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/scalars",
            run_page,
            get(metrics::scalars),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/scalars/series",
            run_page,
            get(metrics::scalar_series),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/view",
            run_page,
            get(runview::view),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/log",
            run_page,
            get(runview::range),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/log/search",
            run_page,
            get(runview::search),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/series",
            run_page,
            get(runview::series),
        ),
        route(
            Method::GET,
            "/api/environments",
            A::VIEWER,
            get(environments::list),
        ),
        route(
            Method::GET,
            "/api/frameworks/{framework}/versions",
            A::VIEWER,
            get(environments::framework_versions),
        ),
        route(
            Method::GET,
            "/api/environments/{hash}",
            A::VIEWER,
            get(environments::one),
        ),
        route(
            Method::DELETE,
            "/api/environments/{hash}",
            A::ADMIN,
            delete(environments::delete),
        ),
        route(
            Method::GET,
            "/api/compute-targets",
            A::VIEWER,
            get(runs::compute_targets),
        ),
        route(
            Method::GET,
            "/api/files",
            A::VIEWER,
            get(files_area::list_all),
        ),
        route(
            Method::GET,
            "/api/files/{*path}",
            A::VIEWER,
            get(files_area::read),
        ),
        route(
            Method::PUT,
            "/api/files/{*path}",
            A::EDITOR,
            put(files_area::write).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::POST,
            "/api/files/{*path}",
            A::EDITOR,
            post(files_area::act),
        ),
        route(
            Method::DELETE,
            "/api/files/{*path}",
            A::EDITOR,
            delete(files_area::remove),
        ),
        route(
            Method::POST,
            "/api/models",
            A::EDITOR,
            post(models::register).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(Method::GET, "/api/models", A::VIEWER, get(models::list)),
        route(
            Method::GET,
            "/api/models/{name}/versions/{version}",
            A::VIEWER,
            get(models::one),
        ),
        route(
            Method::GET,
            "/api/models/{name}/versions/{version}/download",
            A::VIEWER,
            get(models::download),
        ),
        route(
            Method::GET,
            "/api/models/{name}/versions/{version}/files/{*path}",
            A::VIEWER,
            get(models::file),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/models",
            A::VIEWER,
            get(models::of_run),
        ),
        route(
            Method::POST,
            "/api/experiments/{name}/sweeps",
            A::EDITOR,
            post(sweeps::submit).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/children",
            A::VIEWER,
            get(sweeps::children),
        ),
        route(
            Method::POST,
            "/api/datastores/{name}/upload",
            A::EDITOR,
            post(datastores::upload).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::PUT,
            "/api/datastores/{name}/files/{*path}",
            A::EDITOR,
            put(datastores::put_file).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::GET,
            "/api/session",
            A::shared(Shared::Any),
            get(people::me),
        ),
        route(
            Method::POST,
            "/api/session/logout",
            A::shared(Shared::Any),
            post(people::logout),
        ),
        route(
            Method::GET,
            "/api/sessions",
            A::VIEWER,
            get(people::sessions),
        ),
        route(
            Method::DELETE,
            "/api/sessions/{id}",
            A::VIEWER,
            delete(people::delete_session),
        ),
        route(Method::GET, "/api/tokens", A::VIEWER, get(people::tokens)),
        route(
            Method::POST,
            "/api/tokens",
            A::VIEWER,
            post(people::create_token),
        ),
        route(
            Method::DELETE,
            "/api/tokens/{id}",
            A::VIEWER,
            delete(people::delete_token),
        ),
        route(
            Method::GET,
            "/api/runs/{id}/share-links",
            A::EDITOR,
            get(people::run_links),
        ),
        route(
            Method::POST,
            "/api/runs/{id}/share-links",
            A::EDITOR,
            post(people::create_run_link),
        ),
        route(
            Method::DELETE,
            "/api/runs/{id}/share-links/{link}",
            A::EDITOR,
            delete(people::delete_run_link),
        ),
        route(
            Method::GET,
            "/api/experiments/{name}/share-links",
            A::EDITOR,
            get(people::experiment_links),
        ),
        route(
            Method::POST,
            "/api/experiments/{name}/share-links",
            A::EDITOR,
            post(people::create_experiment_link),
        ),
        route(
            Method::DELETE,
            "/api/experiments/{name}/share-links/{link}",
            A::EDITOR,
            delete(people::delete_experiment_link),
        ),
    ]
    .into_iter()
    // MLflow's tracking API (issue 12): its own credential checks and error shape.
    .chain(mlflow::routes())
    .collect()
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let mut api = Router::new();
    for r in routes(&state) {
        let path = r.path.strip_prefix("/api").unwrap_or(r.path);
        let handler = if r.run_token {
            r.handler
        } else {
            r.handler.route_layer(middleware::from_fn_with_state(
                (state.clone(), r.access),
                auth::require,
            ))
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
        .merge(login::router())
        .merge(account::router(&state))
        .merge(sweep_page::router(&state))
        .merge(log_search_page::router(&state))
        .merge(models_page::router(&state))
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

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses a run id from a path, answering 404 for one that cannot exist.
fn run_id(text: &str) -> Result<RunId, ApiError> {
    RunId::parse(text)
        .map_err(|_| ApiError::not_found(crate::no_such_run(&format_args!("{text:?}"))))
}
