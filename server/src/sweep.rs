//! The sweep scheduler: one task per unfinished sweep (HyperDrive run) that creates
//! its children, applies the early termination policy to their metrics, cancels the
//! children it stops, and ends the parent run when they are all done.
//!
//! The logic (sampling, policies, the best child) is `runboard_shared::sweep`; this
//! module is its I/O. A sweep's parent run has the pseudo compute target
//! [`TARGET`]: admission control and `runs::drive::resume_all` leave it alone, and this
//! task registers as its driver so that cancelling the parent reaches it.
//!
//! Restarts: every decision is written to the store (`sweep_children`) before it is
//! acted on, and a child's parameters depend only on the stored configuration and
//! its index. [`resume_all`] starts the task again for every unfinished sweep, which
//! reads where it was from the store and goes on: the same children, the same
//! parameters, the stopped children stopped again if they still run.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Duration;

use runboard_shared::estimator::{Estimator, ParamValue};
use runboard_shared::run::{ExperimentName, RunId, RunStatus};
use runboard_shared::sweep::{Child, SweepConfig, argument_name, best_child};
use tokio::sync::watch;

use crate::runner::{self, Runner, RunnerError};
use crate::runs::definition::{Definition, SweepTemplate};
use crate::store::{NewRun, StoreError, SweepChildRow};

/// The compute target name of a sweep's parent run: not a real target.
pub const TARGET: &str = "hyperdrive";

/// Where the scheduler writes what it decides: the parent's log, which the portal
/// shows like any run's.
pub const LOG: &str = "user_logs/std_log.txt";

/// The property of a child that the policy stopped: why.
pub const STOPPED_PROPERTY: &str = "hyperdrive_stopped";

/// The property holding a child's parameter values (JSON).
pub const PARAMETERS_PROPERTY: &str = "hyperparameters";

/// How often the scheduler looks at its children.
const TICK: Duration = Duration::from_millis(300);

/// Errors of the scheduler.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Starting or cancelling a child failed.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// Reading or writing a run folder failed.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// The stored sweep cannot be read.
    #[error("sweep {0} is corrupt: {1}")]
    Corrupt(RunId, String),
}

/// At server start: the scheduler of every sweep that has not ended.
pub async fn resume_all(state: &Runner) -> Result<(), SweepError> {
    for id in state.store.live_sweeps().await? {
        tracing::info!(run_id = %id, "resuming sweep");
        spawn(state, id);
    }
    Ok(())
}

/// Starts the scheduler of the sweep whose parent run is `parent` (nothing when one
/// already runs).
pub fn spawn(state: &Runner, parent: RunId) {
    let (cancel_tx, cancel_rx) = watch::channel(false);
    if !state.register_driver(&parent, cancel_tx) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = schedule(&state, &parent, cancel_rx).await {
            tracing::error!(run_id = %parent, error = %e, "sweep scheduler failed");
            let message = format!("Runboard failed to run the sweep: {e}");
            let _ = note(&state, &parent, &message).await;
            let _ = state
                .set_status(&parent, RunStatus::Failed, Some(&message))
                .await;
        }
        state.unregister_driver(&parent);
    });
}

/// Appends a line to the parent's log, publishing it as the watcher would.
async fn note(state: &Runner, parent: &RunId, line: &str) -> Result<(), SweepError> {
    let path = state.run_dir(parent).join(LOG);
    let text = format!("[{}] {line}\n", crate::store::now());
    let written = {
        let path = path.clone();
        let text = text.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            file.write_all(text.as_bytes())?;
            Ok(file.metadata()?.len())
        })
        .await
        .map_err(|e| SweepError::Io("writing the sweep log".into(), std::io::Error::other(e)))?
        .map_err(|e| SweepError::Io("writing the sweep log".into(), e))?
    };
    let read = crate::store::LogRef {
        path: LOG.to_owned(),
        rank: None,
        offset: written - text.len() as u64,
        len: text.len() as u64,
        eof: false,
    };
    state
        .events
        .commit(parent, state.store.append_log(parent, read, text))
        .await?;
    state
        .events
        .commit(
            parent,
            state
                .store
                .upsert_file(parent, LOG, written, &crate::store::now(), false),
        )
        .await?;
    Ok(())
}

/// The values of each child's primary metric (one per interval), in child order.
pub async fn primary_values(
    state: &Runner,
    children: &[SweepChildRow],
    metric: &str,
) -> Result<Vec<Vec<f64>>, SweepError> {
    let mut out = Vec::with_capacity(children.len());
    for child in children {
        let series = state.store.series_list(&child.run_id).await?;
        let Some(row) = series.into_iter().find(|s| {
            s.source == crate::metrics::METRIC && s.tb_run.is_empty() && s.name == metric
        }) else {
            out.push(Vec::new());
            continue;
        };
        let file = crate::series::path(&state.run_dir(&child.run_id), row.id);
        let count = row.count;
        let points = tokio::task::spawn_blocking(move || crate::series::read(&file, count))
            .await
            .map_err(|e| SweepError::Io("reading metrics".into(), std::io::Error::other(e)))?
            .map_err(|e| SweepError::Io("reading metrics".into(), e))?;
        out.push(points.into_iter().map(|p| p.value).collect());
    }
    Ok(out)
}

/// Asks a child to stop, as `POST /api/runs/{id}/cancel` does (`runs::cancel::stop`: a
/// queued child ends at once, a running one is told, an ended one is left).
async fn cancel_child(state: &Runner, id: &RunId) -> Result<(), SweepError> {
    crate::runs::cancel::stop(state, id).await?;
    Ok(())
}

/// A parameter value as a `script_params` value.
fn param_value(value: &serde_json::Value) -> ParamValue {
    match value {
        serde_json::Value::Bool(b) => ParamValue::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => ParamValue::Int(i),
            None => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => ParamValue::Str(s.clone()),
        _ => ParamValue::None,
    }
}

/// What every child of one sweep shares.
struct Parent<'a> {
    id: &'a RunId,
    experiment: &'a ExperimentName,
    config: &'a SweepConfig,
    template: &'a SweepTemplate,
    submitted_by: Option<String>,
}

/// Creates child `idx` with `parameters` added to the estimator's `script_params`.
async fn create_child(
    state: &Runner,
    sweep: &Parent<'_>,
    idx: u32,
    parameters: &[(String, serde_json::Value)],
) -> Result<RunId, SweepError> {
    let (parent, config, template) = (sweep.id, sweep.config, sweep.template);
    let mut estimator = Estimator::from_value(&config.run_config)
        .map_err(|e| SweepError::Corrupt(parent.clone(), format!("{e:?}")))?;
    for (name, value) in parameters {
        let arg = argument_name(name);
        estimator.script_params.retain(|(k, _)| *k != arg);
        estimator.script_params.push((arg, param_value(value)));
    }
    let target = estimator
        .compute_target
        .clone()
        .unwrap_or_else(|| "local".to_owned());
    let argv = state.script_args(&estimator);
    let mut command = vec![template.python.clone(), estimator.entry_script.clone()];
    command.extend(argv.iter().cloned());
    let definition = Definition::Job {
        estimator,
        arguments: argv,
        command,
        environment: template.environment.clone(),
    }
    .to_value();
    let now = chrono::Utc::now();
    let run_id = RunId::new(
        sweep.experiment,
        u64::try_from(now.timestamp()).unwrap_or(0),
        rand::random(),
    );
    let run_dir = state.run_dir(&run_id);
    let snapshot = state.run_dir(parent).join("snapshot");
    {
        let run_dir = run_dir.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            crate::jobuser::create_run_dir(&run_dir, "")?;
            crate::snapshot::copy_tree(&snapshot, &run_dir.join("snapshot"))
        })
        .await
        .map_err(|e| SweepError::Io("copying the snapshot".into(), std::io::Error::other(e)))?
        .map_err(|e| SweepError::Io("copying the snapshot".into(), e))?;
    }
    let values: serde_json::Map<String, serde_json::Value> = parameters.iter().cloned().collect();
    let values = serde_json::Value::Object(values);
    let new = NewRun {
        run_id: run_id.clone(),
        target,
        definition,
        run_token: crate::config::new_token(),
        properties: BTreeMap::from([(PARAMETERS_PROPERTY.to_owned(), values.to_string())]),
        tags: BTreeMap::new(),
        submitted_by: sweep.submitted_by.clone(),
    };
    let write = state.store.create_sweep_child(parent, idx, &new, &values);
    crate::runs::commit_new(state, &run_id, &run_dir, write).await?;
    Ok(run_id)
}

/// The scheduler's loop, from wherever the store says the sweep is to its end.
#[tracing::instrument(skip_all, fields(run_id = %parent))]
async fn schedule(
    state: &Runner,
    parent: &RunId,
    mut cancel: watch::Receiver<bool>,
) -> Result<(), SweepError> {
    let sweep = state
        .store
        .sweep(parent)
        .await?
        .ok_or_else(|| SweepError::Corrupt(parent.clone(), "no sweep row".into()))?;
    let config: SweepConfig = serde_json::from_str(&sweep.config)
        .map_err(|e| SweepError::Corrupt(parent.clone(), e.to_string()))?;
    let template =
        SweepTemplate::read(&sweep.template).map_err(|e| SweepError::Corrupt(parent.clone(), e))?;
    let record = state
        .store
        .run(parent)
        .await?
        .ok_or_else(|| SweepError::Corrupt(parent.clone(), "no parent run".into()))?;
    let experiment = ExperimentName::new(&record.summary.experiment)
        .map_err(|e| SweepError::Corrupt(parent.clone(), e.to_string()))?;
    let submitted_by = record.summary.submitted_by.clone();
    let started = chrono::DateTime::parse_from_rfc3339(&sweep.started_at)
        .map_err(|e| SweepError::Corrupt(parent.clone(), e.to_string()))?;
    let deadline = started + chrono::Duration::minutes(i64::from(config.max_duration_minutes));
    let total = config.total_children();
    let goal = config.primary_metric_goal;

    if record.summary.status == RunStatus::Queued {
        for status in [
            RunStatus::Preparing,
            RunStatus::Starting,
            RunStatus::Running,
        ] {
            state.set_status(parent, status, None).await?;
        }
        note(
            state,
            parent,
            &format!(
                "Sweep started: {total} children, at most {} at once, primary metric '{}' ({:?}), policy {:?}, sampling {:?}",
                config.max_concurrent_runs,
                config.primary_metric_name,
                goal,
                config.policy,
                config.sampling
            ),
        )
        .await?;
    } else {
        note(state, parent, "Sweep resumed after a server restart").await?;
    }

    let shared = Parent {
        id: parent,
        experiment: &experiment,
        config: &config,
        template: &template,
        submitted_by,
    };
    let mut stopping: Option<String> = None;
    let mut cancelled = false;
    loop {
        let status = state.current_status(parent).await?;
        if status.is_terminal() {
            // Ended from outside (a cancel of a queued parent): stop the children.
            for child in state.store.sweep_children(parent).await? {
                cancel_child(state, &child.run_id).await?;
            }
            return Ok(());
        }
        if stopping.is_none() && (status == RunStatus::CancelRequested || *cancel.borrow()) {
            stopping = Some("the sweep was cancelled".into());
            cancelled = true;
            note(
                state,
                parent,
                "Sweep cancelled: cancelling every child that has not ended",
            )
            .await?;
        }
        if stopping.is_none() && chrono::Utc::now() >= deadline {
            stopping = Some(format!(
                "max_duration_minutes ({}) reached",
                config.max_duration_minutes
            ));
            note(
                state,
                parent,
                &format!(
                    "max_duration_minutes ({}) reached: starting no more children and cancelling those that run",
                    config.max_duration_minutes
                ),
            )
            .await?;
        }

        let children = state.store.sweep_children(parent).await?;
        let summaries: HashMap<RunId, RunStatus> = state
            .store
            .children(parent)
            .await?
            .into_iter()
            .map(|s| (s.run_id, s.status))
            .collect();
        let status_of = |c: &SweepChildRow| summaries.get(&c.run_id).copied();
        let ended = |c: &SweepChildRow| status_of(c).is_none_or(RunStatus::is_terminal);
        let values = primary_values(state, &children, &config.primary_metric_name).await?;

        // The policy, each child's new intervals in turn. Decisions are stored before
        // the cancel, so a restart cancels again and never decides twice.
        if stopping.is_none() {
            let kids: Vec<Child<'_>> = children
                .iter()
                .zip(&values)
                .map(|(c, v)| Child {
                    values: v,
                    finished: ended(c),
                })
                .collect();
            for (i, child) in children.iter().enumerate() {
                if ended(child) || child.stopped.is_some() {
                    continue;
                }
                let reached = u32::try_from(values[i].len()).unwrap_or(u32::MAX);
                if reached <= child.evaluated {
                    continue;
                }
                let reason = (child.evaluated as usize + 1..=reached as usize)
                    .find_map(|x| config.policy.decide(goal, &kids, i, x));
                state
                    .store
                    .set_sweep_child_evaluated(parent, child.idx, reached, reason.as_deref())
                    .await?;
                if let Some(reason) = reason {
                    note(
                        state,
                        parent,
                        &format!("Stopping child {} ({}): {reason}", child.idx, child.run_id),
                    )
                    .await?;
                    state
                        .store
                        .add_properties(
                            &child.run_id,
                            &BTreeMap::from([(STOPPED_PROPERTY.to_owned(), reason)]),
                        )
                        .await?;
                    cancel_child(state, &child.run_id).await?;
                }
            }
        }
        // Children stopped before a restart that still run, and every child when the
        // sweep is stopping.
        for child in &children {
            if ended(child) {
                continue;
            }
            if let Some(why) = &stopping
                && child.stopped.is_none()
            {
                state
                    .store
                    .set_sweep_child_evaluated(parent, child.idx, child.evaluated, Some(why))
                    .await?;
                state
                    .store
                    .add_properties(
                        &child.run_id,
                        &BTreeMap::from([(STOPPED_PROPERTY.to_owned(), why.clone())]),
                    )
                    .await?;
                cancel_child(state, &child.run_id).await?;
            } else if child.stopped.is_some()
                && status_of(child) != Some(RunStatus::CancelRequested)
            {
                cancel_child(state, &child.run_id).await?;
            }
        }

        // New children while there is room.
        let mut created = u32::try_from(children.len()).unwrap_or(u32::MAX);
        let mut live = children.iter().filter(|c| !ended(c)).count() as u32;
        if stopping.is_none() {
            while live < config.max_concurrent_runs && created < total {
                let Some(parameters) = config.child_parameters(created) else {
                    break;
                };
                let id = create_child(state, &shared, created, &parameters).await?;
                let shown: Vec<String> =
                    parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
                note(
                    state,
                    parent,
                    &format!("Started child {created} ({id}): {}", shown.join(" ")),
                )
                .await?;
                created += 1;
                live += 1;
            }
            runner::queue::admit_or_log(state).await;
        }

        if live == 0 && (created >= total || stopping.is_some()) {
            let children = state.store.sweep_children(parent).await?;
            return finish(state, parent, &config, &children, cancelled).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = cancel.changed() => {}
        }
    }
}

/// Ends the parent: best child, status by the SDK's rules, all in its log.
async fn finish(
    state: &Runner,
    parent: &RunId,
    config: &SweepConfig,
    children: &[SweepChildRow],
    cancelled: bool,
) -> Result<(), SweepError> {
    let values = primary_values(state, children, &config.primary_metric_name).await?;
    let goal = config.primary_metric_goal;
    let bests: Vec<Option<f64>> = values.iter().map(|v| goal.best(v)).collect();
    let mut statuses = Vec::with_capacity(children.len());
    for child in children {
        statuses.push(state.current_status(&child.run_id).await?);
    }
    let mut properties = BTreeMap::new();
    if let Some(i) = best_child(goal, &bests) {
        let best = bests[i].unwrap_or(f64::NAN);
        note(
            state,
            parent,
            &format!(
                "Best child: {} ({}) with {} = {best}",
                children[i].idx, children[i].run_id, config.primary_metric_name
            ),
        )
        .await?;
        properties.insert(
            "best_child_run_id".to_owned(),
            children[i].run_id.to_string(),
        );
        properties.insert("best_metric_value".to_owned(), best.to_string());
    } else {
        note(
            state,
            parent,
            &format!(
                "No child logged '{}': there is no best child",
                config.primary_metric_name
            ),
        )
        .await?;
    }
    state.store.add_properties(parent, &properties).await?;
    let count = |s: RunStatus| statuses.iter().filter(|x| **x == s).count();
    let summary = format!(
        "Sweep ended: {} children, {} completed, {} failed, {} canceled ({} stopped by the policy)",
        children.len(),
        count(RunStatus::Completed),
        count(RunStatus::Failed),
        count(RunStatus::Canceled),
        children
            .iter()
            .filter(|c| c.stopped.as_deref().is_some_and(|s| s.contains("Policy")))
            .count()
    );
    note(state, parent, &summary).await?;
    if cancelled {
        state.set_status(parent, RunStatus::Canceled, None).await?;
    } else if !children.is_empty() && count(RunStatus::Failed) == children.len() {
        state
            .set_status(
                parent,
                RunStatus::Failed,
                Some("every child of the sweep failed"),
            )
            .await?;
    } else {
        state
            .set_status(parent, RunStatus::Finalizing, None)
            .await?;
        state.set_status(parent, RunStatus::Completed, None).await?;
    }
    Ok(())
}
