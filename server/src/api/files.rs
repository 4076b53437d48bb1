//! A run's files: the index, and downloads with HTTP Range.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use runboard_shared::api::RunFileList;
use tower::ServiceExt;

use super::{ApiError, run_id};
use crate::AppState;
use crate::runner::snapshot::{PathProblem, resolve_inside};
use crate::watch::area_root;

/// `GET /api/runs/{id}/files`.
pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunFileList>, ApiError> {
    let id = run_id(&id)?;
    if state.store.run(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no run with id {id}")));
    }
    Ok(Json(RunFileList {
        files: state.store.files(&id).await?,
    }))
}

/// `GET /api/runs/{id}/files/{*path}`: the file's bytes (Range requests honoured).
pub async fn download(
    State(state): State<AppState>,
    Path((id, path)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = run_id(&id)?;
    if state.store.run(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no run with id {id}")));
    }
    let file = resolve(&state.run_dir(&id), &path)?;
    let response = tower_http::services::ServeFile::new(file)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?;
    Ok(response.into_response())
}

/// Finds the file a run path names, refusing anything that would leave the run's
/// areas: `..`, absolute paths, and symlinks that point outside.
fn resolve(run_dir: &std::path::Path, path: &str) -> Result<std::path::PathBuf, ApiError> {
    let escapes = || {
        ApiError::bad_request(
            "invalid_path",
            format!(
                "file path '{path}' escapes the run folder; give a path such as outputs/model.pkl"
            ),
        )
    };
    let (root, rest) = area_root(run_dir, path).ok_or_else(|| {
        if path.starts_with('/') || path.split('/').any(|c| c == "..") {
            escapes()
        } else {
            ApiError::not_found(format!(
                "no file '{path}' in this run; run files start with outputs/, logs/, user_logs/ or system_logs/"
            ))
        }
    })?;
    resolve_inside(&root, &rest).map_err(|problem| match problem {
        PathProblem::Escapes => escapes(),
        PathProblem::NotFound => ApiError::not_found(format!("no file '{path}' in this run")),
    })
}
