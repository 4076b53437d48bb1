//! The server's files area over HTTP (`/api/files`): list, read, write, delete.
//! The I/O and the path checks are in [`crate::files`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use runboard_shared::api::{FilesAreaAction, FilesAreaList, RunFile};

use super::ApiError;
use super::AppState;
use crate::files::{self, FilesError};

impl From<FilesError> for ApiError {
    fn from(e: FilesError) -> Self {
        match e {
            FilesError::Escapes(_) => Self::bad_request("invalid_path", e.to_string()),
            FilesError::NotFound(_) => Self::not_found(e.to_string()),
            FilesError::Conflict { .. } => Self::conflict(e.to_string()),
            FilesError::Io(_) => Self::internal(e),
        }
    }
}

fn area(state: &AppState) -> std::path::PathBuf {
    files::root(&state.config.data_dir)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FilesError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)??)
}

/// `GET /api/files`: every file (with its size) and folder of the area.
pub async fn list_all(State(state): State<AppState>) -> Result<Json<FilesAreaList>, ApiError> {
    let root = area(&state);
    Ok(Json(blocking(move || files::list(&root, "")).await?))
}

/// `GET /api/files/{*path}`: a file's bytes (HTTP Range honoured), or a folder's
/// listing as `GET /api/files` gives it.
pub async fn read(
    State(state): State<AppState>,
    Path(path): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let root = area(&state);
    let rel = path.clone();
    let real = blocking(move || files::resolve(&root, &rel)).await?;
    if real.is_dir() {
        let root = area(&state);
        let listing = blocking(move || files::list(&root, &path)).await?;
        return Ok(Json(listing).into_response());
    }
    let root = area(&state);
    let file = blocking(move || files::file(&root, &path)).await?;
    super::files::serve_user_file(file, request).await
}

/// `PUT /api/files/{*path}`: writes the raw body to the file, creating its folders.
/// 201 for a new file, 200 for a replaced one; the body is `{"path", "size"}`.
pub async fn write(
    State(state): State<AppState>,
    Path(path): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<RunFile>), ApiError> {
    let root = area(&state);
    let size = body.len() as u64;
    let rel = path.clone();
    let created = blocking(move || files::write(&root, &rel, &body)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(RunFile { path, size })))
}

/// `DELETE /api/files/{*path}`: removes a file, or a folder with its contents.
pub async fn remove(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<StatusCode, ApiError> {
    let root = area(&state);
    blocking(move || files::remove(&root, &path)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/files/{*path}` with `{"rename_to": "new/path"}` (200, the new path) or
/// `{"create_folder": {}}` (201 new, 200 already there).
pub async fn act(
    State(state): State<AppState>,
    Path(path): Path<String>,
    action: Result<Json<FilesAreaAction>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<runboard_shared::api::FilesAreaActed>), ApiError> {
    let Json(action) = action.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::json(e);
        }
        ApiError::bad_request(
            "invalid_body",
            format!(
                "expected {{\"rename_to\": \"new/path\"}} or {{\"create_folder\": {{}}}}: {}",
                e.body_text()
            ),
        )
    })?;
    let root = area(&state);
    match action {
        FilesAreaAction::RenameTo(to) => {
            let answer = runboard_shared::api::FilesAreaActed { path: to.clone() };
            blocking(move || files::rename(&root, &path, &to)).await?;
            Ok((StatusCode::OK, Json(answer)))
        }
        FilesAreaAction::CreateFolder {} => {
            let answer = runboard_shared::api::FilesAreaActed { path: path.clone() };
            let created = blocking(move || files::make_folder(&root, &path)).await?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(answer)))
        }
    }
}
