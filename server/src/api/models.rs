//! The model registry over HTTP: `POST /api/models` (from a run's file or folder as
//! JSON, or uploaded files as multipart), listing, one version, its files and a zip.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use runboard_shared::api::{ModelList, ModelVersion, RegisterModel};
use serde::Deserialize;

use super::AppState;
use super::{ApiError, run_id};
use crate::models::{self, ModelError};
use crate::store::{ModelRow, NewModel};

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::BadName(_) => Self::bad_request("invalid_model_name", e.to_string()),
            ModelError::BadPath(_) | ModelError::NotRegular(_) => {
                Self::bad_request("invalid_path", e.to_string())
            }
            ModelError::Missing(..) => Self::bad_request("no_such_file", e.to_string()),
            ModelError::Io(_) => Self::internal(e),
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ModelError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)??)
}

/// A stored version with its files listed.
async fn version_body(state: &AppState, row: ModelRow) -> Result<ModelVersion, ApiError> {
    let dir = models::version_dir(&state.config.data_dir, &row.name, row.version);
    let files = blocking(move || models::files(&dir)).await?;
    Ok(ModelVersion {
        name: row.name,
        version: row.version,
        path: row.path,
        run_id: row.run_id,
        description: row.description,
        tags: row.tags,
        properties: row.properties,
        created_time: row.created_at,
        files,
    })
}

/// `POST /api/models`: a new version (201), from a run's file or folder (JSON
/// [`RegisterModel`] with `run_id` and `path`) or from uploaded files (multipart: a
/// `model` part with the JSON, then `file` parts). Nothing is written unless every
/// check passes.
#[tracing::instrument(skip_all)]
pub async fn register(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let data_dir = state.config.data_dir.clone();
    let (meta, stage, path) = if multipart {
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
        let stage = {
            let data_dir = data_dir.clone();
            blocking(move || models::staging(&data_dir)).await?
        };
        let mut meta: Option<RegisterModel> = None;
        let mut top: Option<String> = None;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?
        {
            match field.name() {
                Some("model") => {
                    let text = field
                        .text()
                        .await
                        .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
                    meta = Some(serde_json::from_str(&text).map_err(|e| {
                        ApiError::bad_request("invalid_model", format!("the model part: {e}"))
                    })?);
                }
                Some("file") => {
                    let name = field.file_name().unwrap_or_default().to_owned();
                    let data = field
                        .bytes()
                        .await
                        .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
                    let dir = stage.path().to_path_buf();
                    let first = blocking(move || models::write_upload(&dir, &name, &data)).await?;
                    match &top {
                        Some(t) if *t != first => {
                            return Err(ApiError::bad_request(
                                "invalid_path",
                                "uploaded files must all be one file or under one folder",
                            ));
                        }
                        _ => top = Some(first),
                    }
                }
                other => {
                    return Err(ApiError::bad_request(
                        "invalid_multipart",
                        format!("unexpected part {other:?}: send a 'model' part and 'file' parts"),
                    ));
                }
            }
        }
        let meta = meta.ok_or_else(|| {
            ApiError::bad_request("invalid_model", "the 'model' part (JSON) is missing")
        })?;
        if meta.run_id.is_some() || meta.path.is_some() {
            return Err(ApiError::bad_request(
                "invalid_model",
                "an upload takes no run_id or path: send them as JSON to register a run's file",
            ));
        }
        let path = top.ok_or_else(|| {
            ApiError::bad_request("invalid_model", "no 'file' part: upload at least one file")
        })?;
        models::check_name(&meta.name)?;
        (meta, stage, path)
    } else {
        let Json(meta) = Json::<RegisterModel>::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_model", e.body_text()))?;
        models::check_name(&meta.name)?;
        let (Some(id), Some(path)) = (meta.run_id.clone(), meta.path.clone()) else {
            return Err(ApiError::bad_request(
                "invalid_model",
                "give run_id and path (a run file such as outputs/model.pkl), or upload files as multipart",
            ));
        };
        let id = run_id(&id).map_err(|_| {
            ApiError::bad_request("no_such_run", crate::no_such_run(&format_args!("{id:?}")))
        })?;
        if state.store.run(&id).await?.is_none() {
            return Err(ApiError::bad_request(
                "no_such_run",
                crate::no_such_run(&id),
            ));
        }
        let run_dir = state.run_dir(&id);
        let stage = {
            let data_dir = data_dir.clone();
            blocking(move || models::staging(&data_dir)).await?
        };
        let dir = stage.path().to_path_buf();
        let shown = id.to_string();
        let name = blocking(move || models::copy_from_run(&run_dir, &shown, &path, &dir)).await?;
        (meta, stage, name)
    };
    let row = state
        .store
        .add_model_version(&NewModel {
            name: meta.name.clone(),
            path,
            run_id: meta.run_id.clone(),
            description: meta.description.clone(),
            tags: meta.tags.clone(),
            properties: meta.properties.clone(),
        })
        .await?;
    let (name, version) = (row.name.clone(), row.version);
    if let Err(e) = blocking(move || models::place(stage, &data_dir, &name, version)).await {
        state
            .store
            .remove_model_version(&row.name, row.version)
            .await?;
        return Err(e);
    }
    Ok((StatusCode::CREATED, Json(version_body(&state, row).await?)).into_response())
}

/// Query of `GET /api/models`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Every version of this model, newest first.
    name: Option<String>,
}

/// `GET /api/models`: the latest version of each model; `?name=` every version of one.
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ModelList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let rows = match &query.name {
        Some(name) => state.store.model_versions(name).await?,
        None => state.store.latest_models().await?,
    };
    let mut models = Vec::new();
    for row in rows {
        models.push(version_body(&state, row).await?);
    }
    Ok(Json(ModelList { models }))
}

/// `GET /api/runs/{id}/models`: the versions registered from a run.
pub async fn of_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ModelList>, ApiError> {
    let id = run_id(&id)?;
    let mut models = Vec::new();
    for row in state.store.run_models(id.as_str()).await? {
        models.push(version_body(&state, row).await?);
    }
    Ok(Json(ModelList { models }))
}

/// The stored version, or a 404 that says which versions exist.
async fn find(state: &AppState, name: &str, version: &str) -> Result<ModelRow, ApiError> {
    let versions = state.store.model_versions(name).await?;
    if versions.is_empty() {
        return Err(ApiError::not_found(format!("no model named {name:?}")));
    }
    let latest = versions[0].version;
    let wanted = match version {
        "latest" => latest,
        v => v.parse::<u32>().map_err(|_| {
            ApiError::bad_request(
                "invalid_version",
                format!("version {v:?} is not a number (or 'latest')"),
            )
        })?,
    };
    versions
        .into_iter()
        .find(|v| v.version == wanted)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "model {name:?} has no version {wanted}; its versions are 1 to {latest}"
            ))
        })
}

/// `GET /api/models/{name}/versions/{version}` (`latest` for the newest).
pub async fn one(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<ModelVersion>, ApiError> {
    let row = find(&state, &name, &version).await?;
    Ok(Json(version_body(&state, row).await?))
}

/// `GET /api/models/{name}/versions/{version}/download`: every file, as a zip.
pub async fn download(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = find(&state, &name, &version).await?;
    let dir = models::version_dir(&state.config.data_dir, &row.name, row.version);
    let bytes = blocking(move || models::zip(&dir)).await?;
    let disposition = format!("attachment; filename=\"{}-{}.zip\"", row.name, row.version);
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/models/{name}/versions/{version}/files/{*path}`: one file (with Range).
pub async fn file(
    State(state): State<AppState>,
    Path((name, version, path)): Path<(String, String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let row = find(&state, &name, &version).await?;
    let dir = models::version_dir(&state.config.data_dir, &row.name, row.version);
    let full = models::file(&dir, &path).ok_or_else(|| {
        ApiError::not_found(format!(
            "model {name:?} version {} has no file {path:?}",
            row.version
        ))
    })?;
    // A model file is data: served like every file a user or job wrote.
    super::files::serve_user_file(full, request).await
}
