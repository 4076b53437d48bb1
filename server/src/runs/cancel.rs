//! Cancelling a run ([`crate::runner::stop`] does the stopping).

use runboard_shared::api::RunCanceled;
use runboard_shared::run::{RunId, RunStatus};

use super::RunError;
use crate::runner::{self, Runner, Stop};

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
    let (status, ended) = match runner::stop(runner, id).await? {
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
