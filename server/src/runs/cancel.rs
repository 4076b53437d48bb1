//! Cancelling a run: [`stop`] is the one way cancels are made (the cancel route,
//! deleting a run, a sweep stopping its children); [`cancel`] is the cancel route's
//! use case on top of it.

use runboard_shared::api::RunCanceled;
use runboard_shared::run::{RunId, RunStatus};

use super::RunError;
use super::drive::spawn_driver;
use crate::runner::{Runner, RunnerError, queue};

/// How a cancel went: the run's status now, and whether it has ended already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canceled {
    /// The run and its status: `Canceled` (it was queued, or had no process: it
    /// ended at once) or `CancelRequested` (its job is being stopped).
    pub body: RunCanceled,
    /// True when the run ended at once.
    pub ended: bool,
}

/// Asks the run to stop; a [`RunError::Conflict`] when it has already ended.
#[tracing::instrument(skip_all, fields(run_id = %id))]
pub async fn cancel(runner: &Runner, id: &RunId) -> Result<Canceled, RunError> {
    let (status, ended) = match stop(runner, id).await? {
        Stop::Ended => (RunStatus::Canceled, true),
        Stop::Requested => (RunStatus::CancelRequested, false),
        Stop::AlreadyEnded(status) => {
            return Err(RunError::Conflict(format!(
                "run {id} has already ended ({status}); there is nothing to cancel"
            )));
        }
    };
    Ok(Canceled {
        body: RunCanceled {
            run_id: id.clone(),
            status,
        },
        ended,
    })
}

/// What asking a run to stop did ([`stop`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// It was still queued, or had no process (a run MLflow's client created): it is
    /// `Canceled` now.
    Ended,
    /// Its job is being stopped (`CancelRequested`); the driver ends it `Canceled`.
    Requested,
    /// It had already ended, with this status.
    AlreadyEnded(RunStatus),
}

/// Asks a run to stop: the one way cancels are made (the cancel route, deleting a
/// run). A queued run ends at once, having started nothing, and the runs behind it
/// move up; a run with no process ends at once; a job's driver is told (one is
/// started when none follows the run, and it sees `CancelRequested`).
pub async fn stop(state: &Runner, id: &RunId) -> Result<Stop, RunnerError> {
    if state.current_status(id).await? == RunStatus::Queued
        && state
            .events
            .commit(
                id,
                state
                    .store
                    .set_status_from(id, RunStatus::Queued, RunStatus::Canceled, None),
            )
            .await?
            .is_some()
    {
        queue::admit_or_log(state).await;
        return Ok(Stop::Ended);
    }
    // Not queued (or admitted just now): the job, if any, has to be stopped.
    let status = state.current_status(id).await?;
    if status.is_terminal() {
        return Ok(Stop::AlreadyEnded(status));
    }
    if state
        .set_status(id, RunStatus::CancelRequested, None)
        .await?
        .is_none()
    {
        let status = state.current_status(id).await?;
        if status != RunStatus::CancelRequested {
            return Ok(Stop::AlreadyEnded(status));
        }
    }
    // A run MLflow's client created has no job to stop: it ends here.
    if state
        .store
        .run(id)
        .await?
        .is_some_and(|r| r.summary.target == crate::mlflow::TARGET)
    {
        state.set_status(id, RunStatus::Canceled, None).await?;
        return Ok(Stop::Ended);
    }
    if !state.request_cancel(id) {
        spawn_driver(state, id.clone());
    }
    Ok(Stop::Requested)
}
