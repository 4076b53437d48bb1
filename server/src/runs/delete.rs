//! Deleting runs and experiments (the run use case `delete`): the rows in one transaction, then the run folder.
//! A run that has not ended is cancelled first and deleted once it has ended and its
//! driver is done with it. A sweep goes with its children; a child of a sweep that has
//! not ended cannot be deleted alone (the scheduler would miss it). Models registered
//! from a run stay: their files are copies under `<data>/models/`
//! (`store::KEPT_RUN_TABLES`).
//!
//! The folder is renamed to `runs/.deleted-<id>` before it is removed, so a crash
//! halfway leaves a name [`remove_leftovers`] clears at the next start, never half a
//! run folder under a run's name.

use std::path::Path;
use std::time::{Duration, Instant};

use runboard_shared::api::{ExperimentDeleted, RunDeleted};
use runboard_shared::run::RunId;

use crate::runner::Runner;
use crate::store::StoreError;

/// Why a delete did not happen.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// No such run.
    #[error("{}", crate::no_such_run(.0))]
    NoSuchRun(RunId),
    /// No such experiment.
    #[error("no experiment called {0:?}")]
    NoSuchExperiment(String),
    /// The run is a child of a sweep that has not ended.
    #[error(
        "run {run} is a child of sweep {sweep}, which has not ended: cancel or delete the sweep first"
    )]
    ChildOfLiveSweep {
        /// The child.
        run: RunId,
        /// Its sweep.
        sweep: RunId,
    },
    /// Asking the run to stop failed.
    #[error("run {0} could not be stopped: {1}")]
    Stopping(RunId, String),
    /// The run was cancelled but has not ended in time.
    #[error("run {0} was asked to stop but has not ended yet; try again in a moment")]
    StillStopping(RunId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Removing the folder failed (the rows are gone).
    #[error("the run's rows are deleted, but removing its folder failed: {0}")]
    Folder(std::io::Error),
}

/// How long a delete waits for a cancelled run to end, besides the grace period.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// Deletes a run, cancelling it first if it has not ended.
pub async fn delete_run(state: &Runner, run_id: &RunId) -> Result<RunDeleted, DeleteError> {
    let Some(record) = state.store.run(run_id).await? else {
        return Err(DeleteError::NoSuchRun(run_id.clone()));
    };
    if let Some(sweep) = &record.summary.parent_run_id
        && let Some(parent) = state.store.run(sweep).await?
        && !parent.summary.status.is_terminal()
    {
        return Err(DeleteError::ChildOfLiveSweep {
            run: run_id.clone(),
            sweep: sweep.clone(),
        });
    }
    if !record.summary.status.is_terminal() {
        stop(state, run_id).await?;
    }
    // Children first: their rows name the parent.
    let mut children = Vec::new();
    for child in state.store.children(run_id).await? {
        children.push(Box::pin(delete_run(state, &child.run_id)).await?);
    }
    state.tensorboards.stop(run_id);
    if !state.store.delete_run(run_id).await? {
        return Err(DeleteError::NoSuchRun(run_id.clone()));
    }
    // Its viewers get a close frame saying so (`api::events`).
    state.events.close(run_id);
    let dir = state.run_dir(run_id);
    let trash = dir.with_file_name(format!(".deleted-{run_id}"));
    let freed_bytes = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
        match std::fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        }
        let bytes = size_of(&trash);
        std::fs::remove_dir_all(&trash)?;
        Ok(bytes)
    })
    .await
    .map_err(|e| DeleteError::Folder(std::io::Error::other(e)))?
    .map_err(DeleteError::Folder)?;
    tracing::info!(%run_id, freed_bytes, "run deleted");
    Ok(RunDeleted {
        run_id: run_id.to_string(),
        freed_bytes,
        children,
    })
}

/// Deletes every run of an experiment, then the experiment.
pub async fn delete_experiment(
    state: &Runner,
    name: &str,
) -> Result<ExperimentDeleted, DeleteError> {
    if !state.store.experiment_exists(name).await? {
        return Err(DeleteError::NoSuchExperiment(name.to_owned()));
    }
    let mut runs = Vec::new();
    for run_id in state.store.experiment_run_ids(name).await? {
        runs.push(delete_run(state, &run_id).await?);
    }
    // A run submitted meanwhile keeps the experiment; deleting again finishes it.
    state.store.delete_empty_experiment(name).await?;
    Ok(ExperimentDeleted {
        experiment: name.to_owned(),
        runs,
    })
}

/// Cancels the run and waits until it has ended and no driver follows it.
async fn stop(state: &Runner, run_id: &RunId) -> Result<(), DeleteError> {
    match super::cancel::stop(state, run_id).await {
        Ok(_) => {}
        Err(crate::runner::RunnerError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(DeleteError::Stopping(run_id.clone(), e.to_string())),
    }
    let deadline = Instant::now() + Duration::from_secs(state.config.grace_seconds) + STOP_WAIT;
    loop {
        let ended = state.current_status(run_id).await?.is_terminal();
        if ended && !state.has_driver(run_id) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(DeleteError::StillStopping(run_id.clone()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Bytes of the regular files under `dir`, not following links.
fn size_of(dir: &Path) -> u64 {
    let mut seen = std::collections::HashSet::new();
    size_once(dir, &mut seen)
}

/// The bytes of the files under `dir`, each file counted once however many hard links
/// it has there (a run's `kept/` links share the log files' blocks).
fn size_once(dir: &Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for entry in entries.flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => total += size_once(&entry.path(), seen),
            Ok(t) if t.is_file() => {
                if let Ok(m) = entry.metadata()
                    && seen.insert((m.dev(), m.ino()))
                {
                    total += m.len();
                }
            }
            _ => {}
        }
    }
    total
}

/// Removes the `.deleted-*` folders a crash left in `runs/`.
pub fn remove_leftovers(runs: &Path) {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".deleted-")
            && let Err(e) = std::fs::remove_dir_all(entry.path())
        {
            tracing::warn!(path = %entry.path().display(), error = %e, "could not remove a deleted run's folder");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_with_two_links_in_the_folder_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("kept")).unwrap();
        std::fs::write(dir.path().join("log.txt"), vec![b'x'; 1000]).unwrap();
        std::fs::write(dir.path().join("other.txt"), vec![b'y'; 10]).unwrap();
        std::fs::hard_link(dir.path().join("log.txt"), dir.path().join("kept/1")).unwrap();
        assert_eq!(super::size_of(dir.path()), 1010);
    }
}
