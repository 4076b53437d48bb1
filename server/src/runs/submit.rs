//! Submitting a run: an estimator and its source snapshot become a `Queued` run,
//! admitted at once when its compute target has a free slot.

use std::collections::BTreeMap;

use runboard_shared::estimator::{DistributedTraining, Estimator, FieldError};
use runboard_shared::run::{ExperimentName, RunId};

use super::RunError;
use super::definition::Definition;
use super::stage::{stage, target};
use crate::runner::{self, Runner};
use crate::store::NewRun;

/// A submission, parsed.
#[derive(Debug)]
pub struct Submission {
    /// The experiment the run joins.
    pub experiment: ExperimentName,
    /// What to run.
    pub estimator: Estimator,
    /// The source folder as a tar.gz; `None`: the files-area folder the estimator's
    /// `source_directory` names.
    pub snapshot: Option<bytes::Bytes>,
    /// Run properties.
    pub properties: BTreeMap<String, String>,
    /// Run tags.
    pub tags: BTreeMap<String, String>,
    /// Who submitted it.
    pub submitted_by: String,
}

/// Checks the submission whole, then stores the run `Queued` and asks admission to
/// start it. Nothing is created when a check fails.
#[tracing::instrument(skip_all, fields(experiment = %sub.experiment))]
pub async fn submit(runner: &Runner, sub: Submission) -> Result<RunId, RunError> {
    let estimator = sub.estimator;
    let target = target(runner, &estimator).map_err(|e| RunError::Fields(vec![e]))?;
    if target != "local"
        && matches!(
            estimator.distribution(),
            Some(DistributedTraining::ParameterServer { .. })
        )
    {
        return Err(RunError::Fields(vec![FieldError::new(
            "distributed_training",
            format!(
                "ParameterServer jobs run on the local target only; '{target}' does not lay out TF_CONFIG tasks yet"
            ),
        )]));
    }
    if target == "local" && estimator.node_count > 1 {
        return Err(RunError::Fields(vec![FieldError::new(
            "node_count",
            format!(
                "{} nodes asked, but the compute target 'local' is one machine; submit to a Slurm compute target for several nodes",
                estimator.node_count
            ),
        )]));
    }
    let staged = stage(runner, &estimator, sub.snapshot).await?;

    let now = chrono::Utc::now();
    let run_id = RunId::new(
        &sub.experiment,
        u64::try_from(now.timestamp()).unwrap_or(0),
        rand::random(),
    );
    let argv = runner.script_args(&estimator);
    let mut command = vec![staged.python.clone(), estimator.entry_script.clone()];
    command.extend(argv.iter().cloned());
    let definition = Definition::Job {
        estimator: estimator.clone(),
        arguments: argv,
        command,
        environment: staged.environment.clone(),
    }
    .to_value();
    let run_dir = staged.place(runner, &run_id)?;
    let new = NewRun {
        run_id: run_id.clone(),
        target,
        definition,
        run_token: crate::config::new_token(),
        properties: sub.properties,
        tags: sub.tags,
        submitted_by: Some(sub.submitted_by),
    };
    super::commit_new(runner, &run_id, &run_dir, runner.store.create_run(&new)).await?;
    tracing::info!(%run_id, "run submitted");
    // Starts the run now if its compute target has a free slot; else it waits in
    // Queued, in the store, and learns its place in line.
    runner::queue::admit_or_log(runner).await;
    Ok(run_id)
}
