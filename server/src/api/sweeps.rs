//! Sweeps: `POST /api/experiments/{name}/sweeps` (a HyperDrive configuration and the
//! source snapshot, multipart) and `GET /api/runs/{id}/children`. The scheduling is
//! `crate::sweep`.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use runboard_shared::api::{ChildList, FieldErrorBody, SubmitResponse};
use runboard_shared::estimator::FieldError;
use runboard_shared::run::{ExperimentName, RunStatus};
use runboard_shared::sweep::SweepConfig;

use super::ApiError;
use super::AppState;
use super::KnownRun;
use crate::people::Principal;
use crate::runs::RunError;
use crate::runs::sweep::{self, SweepSubmission};

/// 400 `invalid_sweep` naming every bad field; nothing was created.
fn sweep_fields(errors: Vec<FieldError>) -> ApiError {
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_sweep",
        message: format!("invalid sweep: {message}"),
        details: errors
            .into_iter()
            .map(|e| FieldErrorBody {
                field: e.field,
                message: e.message,
            })
            .collect(),
    }
}

/// An error of the run configuration, named inside `run_config`.
fn in_run_config(mut e: ApiError) -> ApiError {
    for d in &mut e.details {
        d.field = format!("run_config.{}", d.field);
    }
    if e.code == "invalid_estimator" {
        e.code = "invalid_sweep";
        e.message = format!(
            "invalid sweep: run_config.{}",
            e.message.trim_start_matches("invalid estimator: ")
        );
    }
    e
}

/// `POST /api/experiments/{name}/sweeps`: multipart `config` (the HyperDrive
/// configuration as JSON, see `runboard_shared::sweep::SweepConfig::parse`) and
/// `snapshot` (a tar.gz of the source folder; without it, `run_config`'s
/// `source_directory` in the files area). Creates the parent run and starts the
/// sweep's scheduler; 400 naming every bad field creates nothing.
#[tracing::instrument(skip_all, fields(experiment = %name))]
pub async fn submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<SubmitResponse>), ApiError> {
    let experiment = ExperimentName::new(&name)
        .map_err(|e| ApiError::bad_request("invalid_experiment_name", e.to_string()))?;
    let mut multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            "invalid_multipart",
            format!("expected a multipart/form-data body with fields config and snapshot: {e}"),
        )
    })?;
    let field_error = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(
            e.status(),
            "invalid_multipart",
            format!("could not read the multipart body: {}", e.body_text()),
        )
    };
    let (mut config_text, mut archive) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        match field.name().unwrap_or_default() {
            "config" => config_text = Some(field.text().await.map_err(field_error)?),
            "snapshot" => archive = Some(field.bytes().await.map_err(field_error)?),
            other => {
                return Err(ApiError::bad_request(
                    "invalid_multipart",
                    format!("unknown multipart field '{other}'; expected config, snapshot"),
                ));
            }
        }
    }
    let config_text = config_text.ok_or_else(|| {
        ApiError::bad_request(
            "invalid_multipart",
            "multipart field 'config' (the HyperDrive configuration as JSON) is missing",
        )
    })?;
    let (config, estimator) = SweepConfig::parse(&config_text).map_err(sweep_fields)?;
    let sub = SweepSubmission {
        experiment,
        config,
        estimator,
        snapshot: archive,
        submitted_by: principal.name().to_owned(),
    };
    let run_id = match sweep::create(&state.runner, sub).await {
        Ok(run_id) => run_id,
        // The run configuration's fields, named as its.
        Err(RunError::Fields(errors)) => {
            return Err(sweep_fields(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(&format!("run_config.{}", e.field), e.message))
                    .collect(),
            ));
        }
        Err(RunError::Environment(errors)) => {
            return Err(in_run_config(ApiError::fields(errors)));
        }
        Err(e) => return Err(e.into()),
    };
    Ok((
        StatusCode::CREATED,
        Json(SubmitResponse {
            portal_url: state.portal_url(&run_id),
            run_id,
            status: RunStatus::Queued,
        }),
    ))
}

/// `GET /api/runs/{id}/children`: the runs whose parent is this one, oldest first;
/// for a sweep, with each child's parameters, best primary metric and stop reason.
pub async fn children(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<ChildList>, ApiError> {
    Ok(Json(sweep::children(&state.runner, run.id()).await?))
}
