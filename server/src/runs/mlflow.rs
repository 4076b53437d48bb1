//! A run MLflow's client creates (`runs/create`): a folder for its artifacts and a
//! row, `Running`, that no process drives; the client logs to it and ends it.

use std::collections::BTreeMap;

use runboard_shared::run::{ExperimentName, RunId};

use super::RunError;
use super::definition::{Definition, MlflowCreated};
use crate::runner::Runner;
use crate::store::NewRun;

/// What `runs/create` asked for, checked by the handler.
#[derive(Debug)]
pub struct NewMlflowRun {
    /// The experiment (it exists).
    pub experiment: ExperimentName,
    /// The run's name, also its `mlflow.runName` tag.
    pub run_name: Option<String>,
    /// When the client started it, in milliseconds since the epoch.
    pub start_time: Option<i64>,
    /// Its tags, checked against the limits.
    pub tags: BTreeMap<String, String>,
    /// Who created it.
    pub submitted_by: String,
}

/// Creates the run; on failure nothing of it is left.
pub async fn create(runner: &Runner, run: NewMlflowRun) -> Result<RunId, RunError> {
    let secs = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let run_id = RunId::new(&run.experiment, secs, rand::random());
    let run_dir = runner.run_dir(&run_id);
    if let Err(e) = crate::jobuser::create_run_dir(&run_dir, "wd/outputs") {
        let _ = std::fs::remove_dir_all(&run_dir);
        return Err(RunError::Internal(format!("creating the run folder: {e}")));
    }
    let new = NewRun {
        run_id: run_id.clone(),
        target: crate::mlflow::TARGET.to_owned(),
        definition: Definition::Mlflow {
            mlflow: MlflowCreated {
                run_name: run.run_name,
                start_time: run.start_time,
            },
        }
        .to_value(),
        run_token: crate::config::new_token(),
        properties: BTreeMap::new(),
        tags: run.tags,
        submitted_by: Some(run.submitted_by),
    };
    super::commit_new(
        runner,
        &run_id,
        &run_dir,
        runner.store.create_external_run(&new),
    )
    .await?;
    Ok(run_id)
}
