//! Experiments and runs: submit, list, details, cancel, tags.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use runboard_shared::api::{
    ExperimentList, RunCanceled, RunDetails, RunList, SubmitResponse, TagsPatch,
};
use runboard_shared::estimator::Estimator;
use runboard_shared::run::{ExperimentName, RunStatus};

use super::AppState;
use super::KnownRun;
use super::{ApiError, run_id};
use crate::people::Principal;
use crate::runs::{RunError, cancel, submit, tags};
use crate::store::{RunQuery, parse_cursor};

/// The multipart fields of a submission.
#[derive(Debug, Default)]
struct Submission {
    estimator: Option<String>,
    snapshot: Option<bytes::Bytes>,
    properties: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
}

async fn read_submission(mut multipart: Multipart) -> Result<Submission, ApiError> {
    let mut sub = Submission::default();
    let field_error = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "upload_too_large",
                "the upload is larger than the server accepts; exclude large files from the snapshot with .amlignore or .gitignore, or raise --max-snapshot-mb",
            )
        } else {
            ApiError::new(
                status,
                "invalid_multipart",
                format!("could not read the multipart body: {}", e.body_text()),
            )
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(field_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "estimator" => sub.estimator = Some(field.text().await.map_err(field_error)?),
            "snapshot" => sub.snapshot = Some(field.bytes().await.map_err(field_error)?),
            "properties" | "tags" => {
                let text = field.text().await.map_err(field_error)?;
                let map: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|e| {
                    ApiError::bad_request(
                        "invalid_multipart",
                        format!("multipart field '{name}' must be a JSON object of strings: {e}"),
                    )
                })?;
                let what = if name == "tags" { "tag" } else { "property" };
                if let Some(problem) = map
                    .iter()
                    .find_map(|(k, v)| crate::limits::tag_problem(what, k, v))
                {
                    return Err(ApiError::bad_request("invalid_multipart", problem));
                }
                if name == "tags" {
                    sub.tags = map;
                } else {
                    sub.properties = map;
                }
            }
            other => {
                return Err(ApiError::bad_request(
                    "invalid_multipart",
                    format!(
                        "unknown multipart field '{other}'; expected estimator, snapshot, properties, tags"
                    ),
                ));
            }
        }
    }
    Ok(sub)
}

/// `POST /api/experiments/{name}/runs`.
#[tracing::instrument(skip_all, fields(experiment = %name))]
pub async fn submit(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<SubmitResponse>), ApiError> {
    let experiment = ExperimentName::new(&name)
        .map_err(|e| ApiError::bad_request("invalid_experiment_name", e.to_string()))?;
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            "invalid_multipart",
            format!("expected a multipart/form-data body with fields estimator and snapshot: {e}"),
        )
    })?;
    let sub = read_submission(multipart).await?;
    let estimator_json = sub.estimator.ok_or_else(|| {
        ApiError::bad_request(
            "invalid_multipart",
            "multipart field 'estimator' (the estimator as JSON) is missing",
        )
    })?;
    let estimator = Estimator::from_json(&estimator_json).map_err(ApiError::fields)?;
    let run_id = submit::submit(
        &state.runner,
        submit::Submission {
            experiment,
            estimator,
            snapshot: sub.snapshot,
            properties: sub.properties,
            tags: sub.tags,
            submitted_by: principal.name().to_owned(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SubmitResponse {
            portal_url: state.portal_url(&run_id),
            run_id,
            status: RunStatus::Queued,
        }),
    ))
}

impl axum::response::IntoResponse for RunError {
    fn into_response(self) -> axum::response::Response {
        ApiError::from(self).into_response()
    }
}

impl From<RunError> for ApiError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Fields(errors) | RunError::Environment(errors) => ApiError::fields(errors),
            RunError::Invalid { code, message } => ApiError::bad_request(code, message),
            RunError::NotFound(message) => ApiError::not_found(message),
            RunError::Conflict(message) => ApiError::conflict(message),
            RunError::Snapshot(e) => e.into(),
            RunError::Store(e) => e.into(),
            RunError::Runner(e) => e.into(),
            RunError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// `GET /api/experiments`.
pub async fn experiments(State(state): State<AppState>) -> Result<Json<ExperimentList>, ApiError> {
    Ok(Json(ExperimentList {
        experiments: state.store.experiments().await?,
    }))
}

/// `GET /api/compute-targets`: the names of the server's compute targets.
pub async fn compute_targets(State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.target_names())
}

/// `GET /api/runs?experiment=&status=&limit=&cursor=`.
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<RunList>, ApiError> {
    let mut query = RunQuery {
        limit: 50,
        ..RunQuery::default()
    };
    for (key, value) in &params {
        match key.as_str() {
            "experiment" => query.experiment = Some(value.clone()),
            "status" => {
                query.status = Some(RunStatus::parse(value).ok_or_else(|| {
                    let known: Vec<&str> = RunStatus::ALL.iter().map(|s| s.as_str()).collect();
                    ApiError::bad_request(
                        "invalid_query",
                        format!("status '{value}' is not one of {}", known.join(", ")),
                    )
                })?);
            }
            "limit" => {
                query.limit = value
                    .parse()
                    .ok()
                    .filter(|l| (1..=1000).contains(l))
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_query",
                            format!("limit must be a whole number from 1 to 1000, got '{value}'"),
                        )
                    })?;
            }
            "cursor" => {
                query.cursor = Some(parse_cursor(value).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("cursor '{value}' is not one this server gave out"),
                    )
                })?);
            }
            other => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!(
                        "unknown query parameter '{other}'; expected experiment, status, limit, cursor"
                    ),
                ));
            }
        }
    }
    let (runs, next_cursor) = state.store.list_runs(&query).await?;
    Ok(Json(RunList { runs, next_cursor }))
}

/// `GET /api/runs/{id}`: the SDK's `get_details()`.
pub async fn details(
    State(state): State<AppState>,
    KnownRun(record): KnownRun,
) -> Result<Json<RunDetails>, ApiError> {
    let id = record.summary.run_id.clone();
    let log_files = state
        .store
        .files(&id)
        .await?
        .into_iter()
        .filter(|f| f.path.starts_with("user_logs/") || f.path.starts_with("system_logs/"))
        .map(|f| {
            let url = format!("{}/api/runs/{id}/files/{}", state.config.public_url, f.path);
            (f.path, url)
        })
        .collect();
    let s = record.summary;
    Ok(Json(RunDetails {
        portal_url: state.portal_url(&id),
        status_history: state.store.status_history(&id).await?,
        run_id: s.run_id,
        experiment: s.experiment,
        target: s.target,
        status: s.status,
        created_utc: s.created_utc,
        start_time_utc: s.start_time_utc,
        end_time_utc: s.end_time_utc,
        properties: s.properties,
        tags: s.tags,
        run_definition: record.definition,
        log_files,
        error: record.error,
        queue_position: s.queue_position,
        submitted_by: s.submitted_by,
    }))
}

/// `POST /api/runs/{id}/cancel`: 202 while the job stops, 200 when the run was
/// still queued (it is Canceled at once, having started nothing), 409 when it has
/// ended.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RunCanceled>), ApiError> {
    let id = run_id(&id)?;
    let canceled = cancel::cancel(&state.runner, &id).await?;
    let code = if canceled.ended {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((code, Json(canceled.body)))
}

/// `PATCH /api/runs/{id}/tags`.
pub async fn patch_tags(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<TagsPatch>, JsonRejection>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let Json(patch) = body.map_err(ApiError::json)?;
    // A bad patch is told so before whether the run exists.
    tags::check(&patch)?;
    let id = KnownRun::find(&state, &id).await?.into_id();
    Ok(Json(
        tags::patch(&state.store, &state.events, &id, &patch).await?,
    ))
}

impl From<crate::runs::delete::DeleteError> for ApiError {
    fn from(e: crate::runs::delete::DeleteError) -> Self {
        use crate::runs::delete::DeleteError as E;
        match e {
            E::NoSuchRun(_) | E::NoSuchExperiment(_) => ApiError::not_found(e.to_string()),
            E::StillStopping(_) | E::ChildOfLiveSweep { .. } => ApiError::conflict(e.to_string()),
            E::Store(e) => e.into(),
            E::Folder(_) | E::Stopping(..) => ApiError::internal(e),
        }
    }
}

/// `DELETE /api/runs/{id}`: deletes the run, its rows and its folder (cancelled
/// first if it has not ended; models registered from it stay).
#[tracing::instrument(skip_all, fields(run_id = %id))]
pub async fn delete_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<runboard_shared::api::RunDeleted>, ApiError> {
    let id = run_id(&id)?;
    Ok(Json(
        crate::runs::delete::delete_run(&state.runner, &id).await?,
    ))
}

/// `DELETE /api/experiments/{name}`: deletes every run of the experiment, then it.
pub async fn delete_experiment(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<runboard_shared::api::ExperimentDeleted>, ApiError> {
    Ok(Json(
        crate::runs::delete::delete_experiment(&state.runner, &name).await?,
    ))
}
