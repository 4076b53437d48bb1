//! The places jobs run: compute targets behind one trait ([`ComputeTarget`]: local and
//! Slurm), the job's control files and supervisor, Python environments, admission
//! ([`queue`]), TensorBoards, and the [`Runner`] handle that holds them. This is the
//! only module that starts processes. A run's life (its driver, from `Preparing` to a
//! terminal status) is the use case [`crate::runs::drive`]; stopping a run is
//! [`crate::runs::cancel::stop`].

pub mod control;
pub mod env;
pub mod launch;
pub mod local;
pub mod queue;
pub mod slurm;
pub mod supervisor;
pub mod tensorboard;
pub mod wake;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use runboard_shared::estimator::Estimator;
use runboard_shared::run::{RunId, RunStatus};
use tokio::sync::watch;

use crate::config::{ComputeTargetConfig, Config};
use crate::events::Events;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use control::Exit;

/// Errors of the runner.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// Reading or writing the run folder, or starting a process, failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run names a compute target this server does not have.
    #[error("unknown compute target {0:?}")]
    UnknownTarget(String),
    /// The run vanished from the store.
    #[error("run {0} is not in the store")]
    NoSuchRun(RunId),
}

impl RunnerError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

/// What the runner needs, given to it explicitly: the settings, the store, the
/// [`Events`] service, metric ingest (a job's spooled metrics and event files), the
/// environment builder, the compute targets, admission, TensorBoards, and the cancel
/// switch of each run's driver. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Runner(Arc<RunnerParts>);

/// The parts of a [`Runner`].
#[derive(Debug)]
pub struct RunnerParts {
    /// Settings (paths absolute).
    pub config: Config,
    /// The store.
    pub store: Store,
    /// Commit, then publish.
    pub events: Events,
    /// Metric ingest and reading.
    pub metrics: Metrics,
    /// Builds and caches Python environments for the local target.
    pub envs: env::Builder,
    /// Whether a Docker engine answers on this machine.
    pub docker: bool,
    /// Real TensorBoards started on demand.
    pub tensorboards: tensorboard::TensorBoards,
    /// Admission control: which queued runs start when (see [`queue`]).
    pub queue: queue::Queue,
    /// Compute targets by name.
    targets: HashMap<String, Arc<dyn ComputeTarget>>,
    /// The cancel switch of each run whose driver is running.
    drivers: Mutex<HashMap<RunId, watch::Sender<bool>>>,
}

impl std::ops::Deref for Runner {
    type Target = RunnerParts;
    fn deref(&self) -> &RunnerParts {
        &self.0
    }
}

impl Runner {
    /// The runner of `config`'s compute targets (the local one and those configured),
    /// detecting the environment builder's tools and Docker.
    pub fn new(config: Config, store: Store, events: Events, metrics: Metrics) -> Self {
        let local: Arc<dyn ComputeTarget> = Arc::new(local::LocalTarget {
            supervisor_exe: config.supervisor_exe.clone(),
        });
        let mut targets = HashMap::from([("local".to_owned(), local)]);
        for (name, target) in &config.compute {
            let target: Arc<dyn ComputeTarget> = match target {
                ComputeTargetConfig::Slurm(slurm) => Arc::new(slurm::SlurmTarget::new(
                    slurm.clone(),
                    config.supervisor_exe.clone(),
                )),
            };
            targets.insert(name.clone(), target);
        }
        let envs = env::Builder::detect(config.data_dir.join("envs"), &config.python);
        Self(Arc::new(RunnerParts {
            envs,
            docker: docker_engine_available(),
            tensorboards: tensorboard::TensorBoards::default(),
            queue: queue::Queue::default(),
            targets,
            metrics,
            events,
            store,
            config,
            drivers: Mutex::default(),
        }))
    }

    /// The folder of a run.
    pub fn run_dir(&self, run_id: &RunId) -> PathBuf {
        crate::run_dir(&self.config.data_dir, run_id)
    }

    /// The compute target called `name`.
    pub fn target(&self, name: &str) -> Result<Arc<dyn ComputeTarget>, RunnerError> {
        self.targets
            .get(name)
            .cloned()
            .ok_or_else(|| RunnerError::UnknownTarget(name.to_owned()))
    }

    /// Names of the compute targets.
    pub fn target_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.targets.keys().cloned().collect();
        names.sort();
        names
    }

    /// The arguments of an estimator's `script_params`, data references replaced by
    /// their folder on this machine (`<data>/datastores/<datastore>/<path>`).
    pub fn script_args(&self, estimator: &Estimator) -> Vec<String> {
        let datastores = crate::datastores::root(&self.config.data_dir);
        estimator.argv(&|d| {
            datastores
                .join(&d.datastore)
                .join(&d.path_on_datastore)
                .display()
                .to_string()
        })
    }

    /// Changes a run's status (if the transition table allows) and publishes it.
    pub async fn set_status(
        &self,
        run_id: &RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<Option<runboard_shared::event::RunEvent>, StoreError> {
        self.events.set_status(run_id, status, error).await
    }

    /// A run's current status.
    pub async fn current_status(&self, run_id: &RunId) -> Result<RunStatus, StoreError> {
        self.store
            .run(run_id)
            .await?
            .map(|r| r.summary.status)
            .ok_or_else(|| StoreError::NoSuchRun(run_id.clone()))
    }

    /// Asks the driver of a run to cancel its job. False when no driver runs.
    pub fn request_cancel(&self, run_id: &RunId) -> bool {
        let drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        drivers.get(run_id).is_some_and(|tx| tx.send(true).is_ok())
    }

    /// Records the cancel switch of a run's new driver; false (and nothing changed)
    /// when the run already has one.
    pub(crate) fn register_driver(&self, run_id: &RunId, cancel: watch::Sender<bool>) -> bool {
        let mut drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        match drivers.entry(run_id.clone()) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(cancel);
                true
            }
        }
    }

    /// Whether a driver is following the run.
    pub fn has_driver(&self, run_id: &RunId) -> bool {
        let drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        drivers.contains_key(run_id)
    }

    pub(crate) fn unregister_driver(&self, run_id: &RunId) {
        let mut drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        drivers.remove(run_id);
    }
}

/// Where a job is, as its compute target sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Nothing has been launched for this run folder.
    NotLaunched,
    /// The job's supervisor runs but the job has not started yet.
    Launching,
    /// The job's process runs.
    Running,
    /// The job has ended.
    Exited(Exit),
    /// The job's supervisor is gone without saying how the job ended.
    Lost(String),
}

/// A place that runs jobs. Methods are quick and synchronous: they start or signal
/// processes and read small files, never wait for a job.
pub trait ComputeTarget: Send + Sync + std::fmt::Debug {
    /// Starts the job described by `<run>/control/job.json`.
    fn launch(&self, run_dir: &Path) -> Result<(), RunnerError>;
    /// Asks the job to stop (it ends with [`control::ExitReason::Canceled`]).
    fn cancel(&self, run_dir: &Path) -> Result<(), RunnerError>;
    /// Where the job is now.
    fn poll(&self, run_dir: &Path) -> Result<JobState, RunnerError>;
    /// True when `job.json` lists every process ([`launch::plan`]); false when the
    /// target starts the processes itself from one command and the job's
    /// [`control::Layout`] (Slurm's `srun`).
    fn lays_out_processes(&self) -> bool {
        true
    }
    /// Facts about the job to record as run properties (a Slurm job id, its nodes).
    fn properties(&self, _run_dir: &Path) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }
}

/// The rank that `mpirun` (Open MPI) names as the first to fail, from its report:
/// `Process name: [[41477,1],1]` → 1.
pub fn mpi_failed_rank(mpirun_output: &str) -> Option<usize> {
    let line = mpirun_output
        .lines()
        .find(|l| l.trim_start().starts_with("Process name:"))?;
    let inner = line.rsplit_once("],")?.1;
    inner.trim().trim_end_matches(']').trim().parse().ok()
}

/// The last `lines` lines of a text file, at most `max_bytes` of them. Only those
/// bytes are read, and only from a regular file (the job can write its run folder:
/// see [`crate::confined`]).
pub fn log_tail(path: &Path, lines: usize, max_bytes: usize) -> String {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return String::new();
    };
    let Ok(bytes) = crate::confined::read_tail(dir, Path::new(name), max_bytes as u64) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Whether a Docker engine answers (`docker info`), within 5 seconds.
pub fn docker_engine_available() -> bool {
    let child = std::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else { return false };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// Runs a tool (`uv --version`, `squeue …`) without input; its stdout, trimmed, when
/// it succeeds, else `None`.
fn stdout_of(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod failure_tests {
    use super::mpi_failed_rank;

    #[test]
    fn the_rank_open_mpi_names_as_first_to_fail() {
        let report = "--------------------------------------------------------------------------\n\
mpirun detected that one or more processes exited with non-zero status, thus causing\n\
the job to be terminated. The first process to do so was:\n\n  Process name: [[41477,1],1]\n  Exit code:    1\n";
        assert_eq!(mpi_failed_rank(report), Some(1));
        assert_eq!(mpi_failed_rank("  Process name: [[5,1],12]"), Some(12));
        assert_eq!(mpi_failed_rank("all good"), None);
    }
}
