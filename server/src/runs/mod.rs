//! The run use cases: what happens to a run, apart from how it was asked for. Each
//! takes what it needs explicitly (the [`Runner`](crate::runner::Runner), the store,
//! the [`Events`](crate::events::Events) service), returns a typed result, and fails
//! with a [`RunError`]; the handlers in `api/` parse the request, call one of these
//! and map the error to an HTTP answer.
//!
//! - [`submit`]: a run from an estimator and its source snapshot;
//! - [`sweep`]: a HyperDrive sweep's parent run (its scheduler is `crate::sweep`);
//! - [`stage`]: what both check and unpack before anything is created;
//! - [`definition`]: what a run was asked to do, as stored, and a sweep's template;
//! - [`drive`]: a run's life, from `Preparing` to a terminal status (its driver task,
//!   re-attached at server start);
//! - [`cancel`], [`tags`], [`delete`]: a run's cancel (and [`cancel::stop`], the one
//!   way cancels are made), tag patch, deletion;
//! - [`mlflow`]: a run MLflow's client creates and logs to;
//! - [`files`]: the files a run wrote and its snapshot, listed and opened confined.

pub mod cancel;
pub mod definition;
pub mod delete;
pub mod drive;
pub mod files;
pub mod mlflow;
pub mod stage;
pub mod submit;
pub mod sweep;
pub mod tags;

use runboard_shared::estimator::FieldError;

use std::path::Path;

use runboard_shared::run::RunId;

use crate::events::Published;
use crate::runner::{Runner, RunnerError};
use crate::snapshot::SnapshotError;
use crate::store::StoreError;

/// Why a run use case did not happen. Bad input changes nothing.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Fields of the estimator are wrong (all of them, at once).
    #[error("invalid estimator")]
    Fields(Vec<FieldError>),
    /// The estimator's environment files are wrong or unusable.
    #[error("invalid environment")]
    Environment(Vec<FieldError>),
    /// The request is wrong otherwise: a stable code and a sentence.
    #[error("{message}")]
    Invalid {
        /// Stable machine-readable code.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// What was asked for is not there (a run's file).
    #[error("{0}")]
    NotFound(String),
    /// The run is in a state that does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// The source snapshot cannot be unpacked or packed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runner failed.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// The server failed otherwise (a folder could not be made, a task panicked).
    #[error("{0}")]
    Internal(String),
}

impl RunError {
    fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
}

/// Commits a new run's row with `write` (a store call that also appends its first
/// event) and publishes it; when that fails, removes the folder made for the run, so
/// no half-made run is left. How every way of making a run ends.
pub(crate) async fn commit_new<T: Published>(
    runner: &Runner,
    run_id: &RunId,
    run_dir: &Path,
    write: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let committed = runner.events.commit(run_id, write).await;
    if committed.is_err() {
        let _ = std::fs::remove_dir_all(run_dir);
    }
    committed
}
