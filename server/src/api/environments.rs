//! Cached Python environments: list, one, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use runboard_shared::api::{EnvironmentList, EnvironmentSummary};

use super::ApiError;
use super::AppState;

fn summaries(state: &AppState) -> Vec<EnvironmentSummary> {
    state
        .runner
        .envs
        .list()
        .into_iter()
        .map(|(m, size, used)| EnvironmentSummary {
            requested: m.spec.describe(),
            hash: m.hash,
            python_version: m.python_version,
            installer: m.installer,
            created: m.created,
            last_used: chrono::DateTime::<chrono::Utc>::from(used)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            size_bytes: size,
            packages: m.packages,
        })
        .collect()
}

/// `GET /api/environments`.
pub async fn list(State(state): State<AppState>) -> Json<EnvironmentList> {
    let state2 = state.clone();
    let environments = tokio::task::spawn_blocking(move || summaries(&state2))
        .await
        .unwrap_or_default();
    Json(EnvironmentList { environments })
}

/// `GET /api/environments/{hash}`.
pub async fn one(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<EnvironmentSummary>, ApiError> {
    let found = tokio::task::spawn_blocking(move || summaries(&state))
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|e| e.hash == hash);
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no environment with that hash"))
}

/// `DELETE /api/environments/{hash}`: 204, or 404 when there is no such environment.
pub async fn delete(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<StatusCode, ApiError> {
    match state.runner.envs.remove(&hash) {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::not_found(format!("no environment {hash:?}"))),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// `GET /api/frameworks/{framework}/versions`: the SDK's `get_supported_versions()`,
/// answered from the package index for the target's Python.
pub async fn framework_versions(
    State(state): State<AppState>,
    Path(framework): Path<String>,
) -> Result<Json<runboard_shared::api::FrameworkVersions>, ApiError> {
    let parsed: runboard_shared::estimator::Framework = framework.parse().map_err(|_| {
        ApiError::not_found(format!(
            "no framework {framework:?}; known: SKLearn, PyTorch, TensorFlow, Chainer"
        ))
    })?;
    let package = parsed.preset().pip_package.unwrap_or_default();
    let versions = crate::runner::env::available_versions(&state.config.python, package)
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "package_index_unavailable",
                e.to_string(),
            )
        })?;
    Ok(Json(runboard_shared::api::FrameworkVersions {
        framework: parsed.name().to_owned(),
        package: package.to_owned(),
        python_version: state.runner.envs.python_version.clone(),
        versions,
    }))
}
