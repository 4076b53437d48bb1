//! Sweeps: `POST /api/experiments/{name}/sweeps` (a HyperDrive configuration and the
//! source snapshot, multipart) and `GET /api/runs/{id}/children`. The scheduling is
//! `crate::sweep`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use runboard_shared::api::{ChildList, ChildRun, FieldErrorBody, SubmitResponse};
use runboard_shared::estimator::FieldError;
use runboard_shared::run::{ExperimentName, RunId, RunStatus};
use runboard_shared::sweep::{Sampling, SweepConfig};

use super::runs::{environment_for, pack_from_files_area};
use super::{ApiError, run_id};
use crate::AppState;
use crate::people::Principal;
use crate::runner::snapshot;
use crate::store::NewRun;

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
    let (mut config, estimator) = SweepConfig::parse(&config_text).map_err(sweep_fields)?;
    let target = estimator
        .compute_target
        .clone()
        .unwrap_or_else(|| "local".to_owned());
    if state.target(&target).is_err() {
        return Err(sweep_fields(vec![FieldError::new(
            "run_config.compute_target",
            format!(
                "unknown compute target '{target}'; this server has: {}",
                state.target_names().join(", ")
            ),
        )]));
    }
    let archive = match archive {
        Some(archive) => archive,
        None => pack_from_files_area(&state, &estimator.source_directory).await?,
    };
    let incoming_root = state.config.data_dir.join("incoming");
    std::fs::create_dir_all(&incoming_root).map_err(ApiError::internal)?;
    let incoming = tempfile::TempDir::new_in(&incoming_root).map_err(ApiError::internal)?;
    let limit = state.config.max_snapshot_bytes;
    let dst = incoming.path().to_owned();
    tokio::task::spawn_blocking(move || snapshot::unpack(archive.as_ref(), &dst, limit))
        .await
        .map_err(ApiError::internal)??;
    let environment =
        environment_for(&state, &estimator, incoming.path()).map_err(in_run_config)?;
    let entry = incoming.path().join(&estimator.entry_script);
    if !snapshot::is_inside(std::path::Path::new(&estimator.entry_script)) || !entry.is_file() {
        return Err(sweep_fields(vec![FieldError::new(
            "run_config.entry_script",
            format!(
                "'{}' is not a file inside source_directory '{}'",
                estimator.entry_script, estimator.source_directory
            ),
        )]));
    }
    // A random sweep without a seed gets one now, stored, so that a restart draws
    // the same children.
    if let Sampling::Random { seed: None } = config.sampling {
        config.sampling = Sampling::Random {
            seed: Some(u64::from(rand::random::<u32>())),
        };
    }
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
    let template = serde_json::json!({"environment": environment, "python": python});
    let config_json = serde_json::to_string(&config).map_err(ApiError::internal)?;

    let now = chrono::Utc::now();
    let run_id = RunId::new(
        &experiment,
        u64::try_from(now.timestamp()).unwrap_or(0),
        rand::random(),
    );
    // The children get copies of this snapshot.
    let run_dir = super::runs::place_snapshot(&state, &run_id, incoming)?;
    let new = NewRun {
        run_id: run_id.clone(),
        target: crate::sweep::TARGET.to_owned(),
        definition: serde_json::json!({"hyperdrive": config, "estimator": estimator}),
        run_token: crate::config::new_token(),
        properties: BTreeMap::from([
            (
                "primary_metric_name".to_owned(),
                config.primary_metric_name.clone(),
            ),
            (
                "primary_metric_goal".to_owned(),
                format!("{:?}", config.primary_metric_goal).to_lowercase(),
            ),
        ]),
        tags: BTreeMap::new(),
        submitted_by: Some(principal.name().to_owned()),
    };
    let event = match state
        .store
        .create_sweep(&new, &config_json, &template)
        .await
    {
        Ok(event) => event,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&run_dir);
            return Err(e.into());
        }
    };
    state.hub.publish(&run_id, event);
    tracing::info!(%run_id, "sweep submitted");
    crate::sweep::spawn(&state, run_id.clone());
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
    Path(id): Path<String>,
) -> Result<Json<ChildList>, ApiError> {
    let id = run_id(&id)?;
    if state.store.run(&id).await?.is_none() {
        return Err(super::no_run(&state, &id).await);
    }
    let runs = state.store.children(&id).await?;
    let sweep = state.store.sweep(&id).await?;
    let Some(sweep) = sweep else {
        return Ok(Json(ChildList {
            children: runs
                .into_iter()
                .map(|run| ChildRun {
                    run,
                    parameters: None,
                    primary_metric: None,
                    stopped: None,
                })
                .collect(),
            primary_metric_name: None,
            primary_metric_goal: None,
        }));
    };
    let config: SweepConfig = serde_json::from_str(&sweep.config).map_err(ApiError::internal)?;
    let rows = state.store.sweep_children(&id).await?;
    let values = crate::sweep::primary_values(&state, &rows, &config.primary_metric_name)
        .await
        .map_err(ApiError::internal)?;
    let by_run: std::collections::HashMap<&RunId, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.run_id, i))
        .collect();
    let children = runs
        .into_iter()
        .map(|run| {
            let i = by_run.get(&run.run_id).copied();
            ChildRun {
                parameters: i.map(|i| rows[i].parameters.clone()),
                primary_metric: i.and_then(|i| config.primary_metric_goal.best(&values[i])),
                stopped: i.and_then(|i| rows[i].stopped.clone()),
                run,
            }
        })
        .collect();
    Ok(Json(ChildList {
        children,
        primary_metric_name: Some(config.primary_metric_name.clone()),
        primary_metric_goal: Some(format!("{:?}", config.primary_metric_goal).to_lowercase()),
    }))
}
