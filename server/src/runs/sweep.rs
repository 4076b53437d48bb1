//! Creating a sweep: a HyperDrive configuration and its source snapshot become the
//! sweep's parent run, and its scheduler (`crate::sweep`) starts. And a run's
//! children, as a sweep's table shows them.

use std::collections::{BTreeMap, HashMap};

use runboard_shared::api::{ChildList, ChildRun};

use runboard_shared::estimator::Estimator;
use runboard_shared::run::{ExperimentName, RunId};
use runboard_shared::sweep::{Sampling, SweepConfig};

use super::RunError;
use super::definition::{Definition, SweepTemplate};
use super::stage::{stage, target};
use crate::runner::Runner;
use crate::store::NewRun;

/// A sweep submission, parsed.
#[derive(Debug)]
pub struct SweepSubmission {
    /// The experiment the sweep joins.
    pub experiment: ExperimentName,
    /// The HyperDrive configuration.
    pub config: SweepConfig,
    /// The run configuration each child runs with its parameters.
    pub estimator: Estimator,
    /// The source folder as a tar.gz; `None`: the files-area folder named by
    /// `source_directory`.
    pub snapshot: Option<bytes::Bytes>,
    /// Who submitted it.
    pub submitted_by: String,
}

/// Checks the submission, stores the parent run and starts the scheduler. The
/// errors name the run configuration's fields as the estimator's (the handler
/// says they are `run_config`'s). Nothing is created when a check fails.
#[tracing::instrument(skip_all, fields(experiment = %sub.experiment))]
pub async fn create(runner: &Runner, sub: SweepSubmission) -> Result<RunId, RunError> {
    let SweepSubmission {
        experiment,
        mut config,
        estimator,
        snapshot,
        submitted_by,
    } = sub;
    target(runner, &estimator).map_err(|e| RunError::Fields(vec![e]))?;
    let staged = stage(runner, &estimator, snapshot).await?;
    // A random sweep without a seed gets one now, stored, so that a restart draws
    // the same children.
    if let Sampling::Random { seed: None } = config.sampling {
        config.sampling = Sampling::Random {
            seed: Some(u64::from(rand::random::<u32>())),
        };
    }
    let template = SweepTemplate {
        environment: staged.environment.clone(),
        python: staged.python.clone(),
    }
    .to_value();
    let config_json = serde_json::to_string(&config).map_err(RunError::internal)?;

    let now = chrono::Utc::now();
    let run_id = RunId::new(
        &experiment,
        u64::try_from(now.timestamp()).unwrap_or(0),
        rand::random(),
    );
    // The children get copies of this snapshot.
    let run_dir = staged.place(runner, &run_id)?;
    let new = NewRun {
        run_id: run_id.clone(),
        target: crate::sweep::TARGET.to_owned(),
        definition: Definition::Sweep {
            hyperdrive: config.clone(),
            estimator,
        }
        .to_value(),
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
        submitted_by: Some(submitted_by),
    };
    let write = runner.store.create_sweep(&new, &config_json, &template);
    super::commit_new(runner, &run_id, &run_dir, write).await?;
    tracing::info!(%run_id, "sweep submitted");
    crate::sweep::spawn(runner, run_id.clone());
    Ok(run_id)
}

/// The runs whose parent is `id`, oldest first; for a sweep, with each child's
/// parameters, best primary metric and stop reason.
pub async fn children(runner: &Runner, id: &RunId) -> Result<ChildList, RunError> {
    let runs = runner.store.children(id).await?;
    let Some(sweep) = runner.store.sweep(id).await? else {
        return Ok(ChildList {
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
        });
    };
    let config: SweepConfig = serde_json::from_str(&sweep.config).map_err(RunError::internal)?;
    let rows = runner.store.sweep_children(id).await?;
    let values = crate::sweep::primary_values(runner, &rows, &config.primary_metric_name)
        .await
        .map_err(RunError::internal)?;
    let by_run: HashMap<&RunId, usize> = rows
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
    Ok(ChildList {
        children,
        primary_metric_name: Some(config.primary_metric_name.clone()),
        primary_metric_goal: Some(format!("{:?}", config.primary_metric_goal).to_lowercase()),
    })
}
