//! A run's files: the index, and downloads with HTTP Range.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use runboard_shared::api::RunFileList;
use tower::ServiceExt;

use super::{ApiError, run_id};
use crate::AppState;
use crate::watch::AREAS;

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
    let run_dir = state.run_dir(&id);
    let opened = tokio::task::spawn_blocking(move || open(&run_dir, &path))
        .await
        .map_err(ApiError::internal)??;
    serve_opened(opened, request).await
}

/// Serves a file opened with [`crate::confined`] (HTTP Range honoured, the type
/// guessed from the name the client asked for): `ServeFile` opens it again through
/// `/proc/self/fd`, which is this very file whatever the job did to its path since.
pub async fn serve_opened(
    (opened, name): (crate::confined::Opened, String),
    request: Request,
) -> Result<Response, ApiError> {
    let mime = mime_guess::from_path(&name).first_or_octet_stream();
    let response = tower_http::services::ServeFile::new_with_mime(opened.fd_path(), &mime)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?;
    drop(opened);
    Ok(response.into_response())
}

/// Opens the file a run path names, as [`crate::confined::open_in_area`] does:
/// nothing out of its area (`..`, absolute paths, links out, an area folder
/// replaced by a link), and only regular files (never a FIFO or device).
fn open(
    run_dir: &std::path::Path,
    path: &str,
) -> Result<(crate::confined::Opened, String), ApiError> {
    use crate::confined::ConfinedError;
    let escapes = || {
        ApiError::bad_request(
            "invalid_path",
            format!(
                "file path '{path}' escapes the run folder; give a path such as outputs/model.pkl"
            ),
        )
    };
    let (area, rest) = area_folder(path).ok_or_else(|| {
        if path.starts_with('/') || path.split('/').any(|c| c == "..") {
            escapes()
        } else {
            ApiError::not_found(format!(
                "no file '{path}' in this run; run files start with outputs/, logs/, user_logs/ or system_logs/"
            ))
        }
    })?;
    if rest.is_empty() {
        return Err(ApiError::not_found(format!("no file '{path}' in this run")));
    }
    match crate::confined::open_in_area(run_dir, area.as_ref(), rest.as_ref()) {
        Ok(opened) => Ok((opened, path.to_owned())),
        Err(ConfinedError::Escapes) => Err(escapes()),
        Err(ConfinedError::NotFound) => {
            Err(ApiError::not_found(format!("no file '{path}' in this run")))
        }
        Err(ConfinedError::NotRegular("folder")) => Err(ApiError::not_found(format!(
            "no file '{path}' in this run; it is a folder"
        ))),
        Err(ConfinedError::NotRegular(what)) => Err(ApiError::bad_request(
            "not_a_file",
            format!(
                "run file '{path}' is a {what}, not a regular file; only regular files are served"
            ),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The area folder (relative to the run folder) and the rest of a run path.
fn area_folder(path: &str) -> Option<(&'static str, &str)> {
    let (area, rest) = path.split_once('/')?;
    let (_, folder, _) = AREAS.iter().find(|(name, _, _)| *name == area)?;
    Some((folder, rest))
}
