//! Experiments and runs: submit, list, details, cancel, tags.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use runboard_shared::api::{ExperimentList, RunDetails, RunList, SubmitResponse, TagsPatch};
use runboard_shared::environment::env_spec;
use runboard_shared::estimator::{Estimator, FieldError};
use runboard_shared::run::{ExperimentName, RunId, RunStatus};

use super::{ApiError, run_id};
use crate::AppState;
use crate::people::Principal;
use crate::runner::{self, snapshot};
use crate::store::{NewRun, RunQuery, parse_cursor};

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
    let target = estimator
        .compute_target
        .clone()
        .unwrap_or_else(|| "local".to_owned());
    if state.target(&target).is_err() {
        return Err(ApiError::fields(vec![FieldError {
            field: "compute_target".into(),
            message: format!(
                "unknown compute target '{target}'; this server has: {}",
                state.target_names().join(", ")
            ),
        }]));
    }
    if target != "local"
        && matches!(
            estimator.distribution(),
            Some(runboard_shared::estimator::DistributedTraining::ParameterServer { .. })
        )
    {
        return Err(ApiError::fields(vec![FieldError::new(
            "distributed_training",
            format!(
                "ParameterServer jobs run on the local target only; '{target}' does not lay out TF_CONFIG tasks yet"
            ),
        )]));
    }
    if target == "local" && estimator.node_count > 1 {
        return Err(ApiError::fields(vec![FieldError::new(
            "node_count",
            format!(
                "{} nodes asked, but the compute target 'local' is one machine; submit to a Slurm compute target for several nodes",
                estimator.node_count
            ),
        )]));
    }
    let archive = match sub.snapshot {
        Some(archive) => archive,
        None => pack_from_files_area(&state, &estimator.source_directory).await?,
    };

    // Unpack into a temporary folder that disappears on any error below.
    let incoming_root = state.config.data_dir.join("incoming");
    std::fs::create_dir_all(&incoming_root).map_err(ApiError::internal)?;
    let incoming = tempfile::TempDir::new_in(&incoming_root).map_err(ApiError::internal)?;
    let limit = state.config.max_snapshot_bytes;
    let dst = incoming.path().to_owned();
    tokio::task::spawn_blocking(move || snapshot::unpack(archive.as_ref(), &dst, limit))
        .await
        .map_err(ApiError::internal)??;
    let environment = environment_for(&state, &estimator, incoming.path())?;
    let entry = incoming.path().join(&estimator.entry_script);
    if !snapshot::is_inside(std::path::Path::new(&estimator.entry_script)) || !entry.is_file() {
        return Err(ApiError::fields(vec![FieldError {
            field: "entry_script".into(),
            message: format!(
                "'{}' is not a file inside source_directory '{}'",
                estimator.entry_script, estimator.source_directory
            ),
        }]));
    }

    let now = chrono::Utc::now();
    let run_id = RunId::new(
        &experiment,
        u64::try_from(now.timestamp()).unwrap_or(0),
        rand::random(),
    );
    let argv = state.script_args(&estimator);
    let python = match environment["hash"].as_str() {
        Some(hash) => state
            .envs
            .root
            .join(hash)
            .join("bin/python")
            .display()
            .to_string(),
        None => state.config.python.clone(),
    };
    let mut command = vec![python, estimator.entry_script.clone()];
    command.extend(argv.iter().cloned());
    let definition = serde_json::json!({
        "estimator": estimator,
        "arguments": argv,
        "command": command,
        "environment": environment,
    });
    let run_dir = place_snapshot(&state, &run_id, incoming)?;
    let new = NewRun {
        run_id: run_id.clone(),
        target,
        definition,
        run_token: crate::config::new_token(),
        properties: sub.properties,
        tags: sub.tags,
        submitted_by: Some(principal.name().to_owned()),
    };
    let event = match state.store.create_run(&new).await {
        Ok(event) => event,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&run_dir);
            return Err(e.into());
        }
    };
    state.hub.publish(&run_id, event);
    tracing::info!(%run_id, "run submitted");
    // Starts the run now if its compute target has a free slot; else it waits in
    // Queued, in the store, and learns its place in line.
    runner::queue::admit_or_log(&state).await;
    Ok((
        StatusCode::CREATED,
        Json(SubmitResponse {
            portal_url: state.portal_url(&run_id),
            run_id,
            status: RunStatus::Queued,
        }),
    ))
}

/// A submission without a `snapshot` part (the browser's notebook): packs the
/// files-area folder `source_directory` names, as the CLI packs a local one.
pub(super) async fn pack_from_files_area(
    state: &AppState,
    source_directory: &str,
) -> Result<bytes::Bytes, ApiError> {
    let missing = || {
        ApiError::bad_request(
            "invalid_multipart",
            format!(
                "multipart field 'snapshot' (a tar.gz of source_directory) is missing, and source_directory '{source_directory}' is not a folder of the server's files area"
            ),
        )
    };
    let relative = std::path::Path::new(source_directory);
    // A named folder only: the area's root holds every notebook and project.
    let named = relative
        .components()
        .any(|c| matches!(c, std::path::Component::Normal(_)));
    if source_directory.starts_with('/') || !snapshot::is_inside(relative) || !named {
        return Err(missing());
    }
    let folder = crate::files::folder(
        &crate::files::root(&state.config.data_dir),
        source_directory,
    )
    .map_err(|e| match e {
        crate::files::FilesError::Io(e) => ApiError::internal(e),
        _ => missing(),
    })?;
    let limit = state.config.max_snapshot_bytes;
    let archive = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        snapshot::pack(&folder, limit, &mut out).map(|()| out)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(archive.into())
}

/// The run's environment, checked at submit time so that a bad request changes
/// nothing: `{"spec", "hash"}`, or `null` for a `user_managed` run.
pub(super) fn environment_for(
    state: &AppState,
    estimator: &Estimator,
    snapshot_dir: &std::path::Path,
) -> Result<serde_json::Value, ApiError> {
    if let Some(image) = &estimator.custom_docker_image
        && !state.docker
    {
        return Err(ApiError::fields(vec![FieldError::new(
            "custom_docker_image",
            format!(
                "'{image}' cannot run: this compute target has no Docker engine (`docker info` failed); \
                 leave custom_docker_image unset to run in a virtual environment"
            ),
        )]));
    }
    let read = |field: &str, path: &Option<String>| -> Result<Option<String>, ApiError> {
        let Some(path) = path else { return Ok(None) };
        let file = snapshot_dir.join(path);
        if !snapshot::is_inside(std::path::Path::new(path)) || !file.is_file() {
            return Err(ApiError::fields(vec![FieldError::new(
                field,
                format!(
                    "'{path}' is not a file inside source_directory '{}'",
                    estimator.source_directory
                ),
            )]));
        }
        std::fs::read_to_string(&file).map(Some).map_err(|e| {
            ApiError::fields(vec![FieldError::new(
                field,
                format!("'{path}' is not readable text: {e}"),
            )])
        })
    };
    let requirements = read("pip_requirements_file", &estimator.pip_requirements_file)?;
    let conda_file = read(
        "conda_dependencies_file",
        &estimator.conda_dependencies_file,
    )?;
    let spec = env_spec(
        estimator,
        requirements.as_deref(),
        conda_file.as_deref(),
        state.envs.conda_mode(),
    )
    .map_err(|e| ApiError::fields(vec![e]))?;
    Ok(match spec {
        None => serde_json::Value::Null,
        Some(spec) => serde_json::json!({"hash": state.envs.hash(&spec), "spec": spec}),
    })
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

/// Makes the new run's folder, closed to jobs ([`crate::jobuser::create_run_dir`]),
/// and moves the unpacked snapshot in as its `snapshot/`; on failure, neither is
/// left behind. Returns the folder.
pub(super) fn place_snapshot(
    state: &AppState,
    run_id: &RunId,
    incoming: tempfile::TempDir,
) -> Result<std::path::PathBuf, ApiError> {
    let run_dir = state.run_dir(run_id);
    crate::jobuser::create_run_dir(&run_dir, "").map_err(ApiError::internal)?;
    let keep = incoming.keep();
    if let Err(e) = std::fs::rename(&keep, run_dir.join("snapshot")) {
        let _ = std::fs::remove_dir_all(&keep);
        let _ = std::fs::remove_dir_all(&run_dir);
        return Err(ApiError::internal(e));
    }
    Ok(run_dir)
}

/// `GET /api/runs/{id}`: the SDK's `get_details()`.
pub async fn details(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunDetails>, ApiError> {
    let id = run_id(&id)?;
    let Some(record) = state.store.run(&id).await? else {
        return Err(super::no_run(&state, &id).await);
    };
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
#[tracing::instrument(skip_all, fields(run_id = %id))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let id = run_id(&id)?;
    match runner::stop(&state, &id).await? {
        runner::Stop::Ended => Ok((
            StatusCode::OK,
            Json(serde_json::json!({"run_id": id, "status": RunStatus::Canceled})),
        )),
        runner::Stop::Requested => Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({"run_id": id, "status": RunStatus::CancelRequested})),
        )),
        runner::Stop::AlreadyEnded(status) => Err(ApiError::conflict(format!(
            "run {id} has already ended ({status}); there is nothing to cancel"
        ))),
    }
}

/// `PATCH /api/runs/{id}/tags`.
pub async fn patch_tags(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Json<TagsPatch>, JsonRejection>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let id = run_id(&id)?;
    let Json(patch) = body.map_err(ApiError::json)?;
    if let Some(problem) = patch
        .set
        .iter()
        .find_map(|(k, v)| crate::limits::tag_problem("tag", k, v))
        .or_else(|| {
            patch
                .remove
                .iter()
                .find_map(|k| crate::limits::tag_problem("tag", k, ""))
        })
    {
        return Err(ApiError::bad_request("invalid_tags", problem));
    }
    if state.store.run(&id).await?.is_none() {
        return Err(super::no_run(&state, &id).await);
    }
    let event = state.store.patch_tags(&id, &patch).await?;
    let tags = match &event.body {
        runboard_shared::event::EventBody::Tags { tags } => tags.clone(),
        _ => BTreeMap::new(),
    };
    state.hub.publish(&id, event);
    Ok(Json(tags))
}

impl From<crate::retention::DeleteError> for ApiError {
    fn from(e: crate::retention::DeleteError) -> Self {
        use crate::retention::DeleteError as E;
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
    Ok(Json(crate::retention::delete_run(&state, &id).await?))
}

/// `DELETE /api/experiments/{name}`: deletes every run of the experiment, then it.
pub async fn delete_experiment(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<runboard_shared::api::ExperimentDeleted>, ApiError> {
    Ok(Json(
        crate::retention::delete_experiment(&state, &name).await?,
    ))
}
