//! Datastore uploads over HTTP (`/api/datastores/{name}/…`): the SDK's
//! `Datastore.upload` from the files area, and one file at a time from the CLI. The
//! I/O and the checks are in [`crate::datastores`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use runboard_shared::api::{DatastoreUpload, DatastoreUploaded};
use serde::Deserialize;

use super::ApiError;
use super::AppState;
use crate::datastores::{self, DatastoreError};

impl From<DatastoreError> for ApiError {
    fn from(e: DatastoreError) -> Self {
        match e {
            DatastoreError::InvalidName(_) => {
                Self::bad_request("invalid_datastore_name", e.to_string())
            }
            DatastoreError::InvalidPath(_) => Self::bad_request("invalid_path", e.to_string()),
            DatastoreError::NotFound(_) => Self::not_found(e.to_string()),
            DatastoreError::Conflict(_) => Self::conflict(e.to_string()),
            DatastoreError::Io(_) => Self::internal(e),
        }
    }
}

/// 413 for a body over the configured limit (the route's `DefaultBodyLimit`).
fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload_too_large",
        "the upload is larger than the server accepts; raise --max-snapshot-mb or copy the data into the datastore's folder on the server",
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DatastoreError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)??)
}

/// `POST /api/datastores/{name}/upload` with [`DatastoreUpload`]: copies a folder (or
/// one file) of the files area into the datastore.
pub async fn upload(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<DatastoreUpload>, JsonRejection>,
) -> Result<Json<DatastoreUploaded>, ApiError> {
    let Json(request) = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(
                "invalid_json",
                format!(
                    "expected {{\"src\": \"files/area/path\", \"target_path\": \"in/the/datastore\", \"overwrite\": false}}: {}",
                    e.body_text()
                ),
            )
        }
    })?;
    let data_dir = state.config.data_dir.clone();
    let answer = blocking(move || datastores::upload(&data_dir, &name, &request)).await?;
    Ok(Json(answer))
}

/// Query of the PUT route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutQuery {
    /// Replace a file that is there (the default); otherwise keep it.
    #[serde(default = "yes")]
    overwrite: bool,
}

fn yes() -> bool {
    true
}

/// `PUT /api/datastores/{name}/files/{*path}?overwrite=true|false`: writes the raw
/// body to one file of the datastore, creating its folders.
pub async fn put_file(
    State(state): State<AppState>,
    Path((name, path)): Path<(String, String)>,
    query: Result<Query<PutQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DatastoreUploaded>, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request("invalid_body", e.body_text())
        }
    })?;
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(
            "invalid_query",
            format!(
                "expected ?overwrite=true or ?overwrite=false: {}",
                e.body_text()
            ),
        )
    })?;
    let data_dir = state.config.data_dir.clone();
    let answer =
        blocking(move || datastores::put(&data_dir, &name, &path, &body, query.overwrite)).await?;
    Ok(Json(answer))
}
