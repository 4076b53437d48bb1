//! The `runboard` server, supervisor and CLI.
//!
//! See `ARCHITECTURE.md` for the map. In short: [`api`] is the HTTP edge, [`store`]
//! the only SQL, [`runner`] the only place that starts processes, [`watch`] turns a
//! run folder into events, [`hub`] fans events out, [`cli`] is the client.

pub mod api;
pub mod backup;
pub mod cli;
pub mod config;
pub mod confined;
pub mod datastores;
pub mod files;
pub mod hub;
pub mod jobuser;
pub mod limits;
pub mod logread;
pub mod metrics;
pub mod mlflow;
pub mod models;
pub mod openapi;
pub mod people;
pub mod pypi;
pub mod replay;

/// The words for a run id that names no run: said in one place, wherever it is said.
pub fn no_such_run(id: &dyn std::fmt::Display) -> String {
    format!("no run with id {id}")
}
pub mod retention;
pub mod runner;
pub mod sdk;
pub mod series;
pub mod series_sample;
pub mod store;
pub mod sweep;
pub mod sweep_view;
pub mod tfevents;
pub mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use runboard_shared::event::RunEvent;
use runboard_shared::run::{RunId, RunStatus};
use tokio::sync::watch as tokio_watch;

pub use config::Config;
use hub::Hub;
use runner::{ComputeTarget, RunnerError, local::LocalTarget};
use store::{Store, StoreError};

/// Everything the server's tasks share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// Settings.
    pub config: Config,
    /// The store.
    pub store: Store,
    /// Live event fan-out.
    pub hub: Hub,
    /// Builds and caches Python environments for the local target.
    pub envs: runner::env::Builder,
    /// Whether a Docker engine answers on this machine.
    pub docker: bool,
    /// Serialises each run's metric writes, so a series file and its count in the
    /// store move together; runs do not wait for each other.
    pub metric_locks: metrics::RunLocks,
    /// Real TensorBoards started on demand.
    pub tensorboards: runner::tensorboard::TensorBoards,
    /// Admission control: which queued runs start when (see [`runner::queue`]).
    pub queue: runner::queue::Queue,
    /// Compute targets by name.
    targets: HashMap<String, Arc<dyn ComputeTarget>>,
    /// The cancel switch of each run whose driver is running.
    drivers: Mutex<HashMap<RunId, tokio_watch::Sender<bool>>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Opens the store in the data folder and sets up the compute targets. The
    /// settings' paths must be absolute ([`Config::resolve_paths`]).
    pub async fn open(config: Config) -> Result<Self, StoreError> {
        if let Some(path) = config.relative_path() {
            return Err(StoreError::Sql(sqlx::Error::Configuration(
                format!(
                    "the path {} is relative: call Config::resolve_paths first",
                    path.display()
                )
                .into(),
            )));
        }
        std::fs::create_dir_all(config.data_dir.join("runs"))
            .map_err(|e| StoreError::Sql(e.into()))?;
        retention::remove_leftovers(&config.data_dir.join("runs"));
        let store = Store::open(&config.data_dir.join("runboard.sqlite")).await?;
        let local: Arc<dyn ComputeTarget> = Arc::new(LocalTarget {
            supervisor_exe: config.supervisor_exe.clone(),
        });
        sdk::install(&config.data_dir).map_err(|e| StoreError::Sql(e.into()))?;
        files::seed(&files::root(&config.data_dir)).map_err(|e| StoreError::Sql(e.into()))?;
        if config.job_user.is_some() {
            jobuser::lock_down(&config.data_dir).map_err(|e| StoreError::Sql(e.into()))?;
        }
        let envs = runner::env::Builder::detect(config.data_dir.join("envs"), &config.python);
        let docker = runner::docker_engine_available();
        let mut targets = HashMap::from([("local".to_owned(), local)]);
        for (name, target) in &config.compute {
            let target: Arc<dyn ComputeTarget> = match target {
                config::ComputeTargetConfig::Slurm(slurm) => Arc::new(
                    runner::slurm::SlurmTarget::new(slurm.clone(), config.supervisor_exe.clone()),
                ),
            };
            targets.insert(name.clone(), target);
        }
        Ok(Self(Arc::new(Inner {
            envs,
            docker,
            metric_locks: metrics::RunLocks::default(),
            tensorboards: runner::tensorboard::TensorBoards::default(),
            queue: runner::queue::Queue::default(),
            targets,
            config,
            store,
            hub: Hub::default(),
            drivers: Mutex::default(),
        })))
    }

    /// The folder of a run.
    pub fn run_dir(&self, run_id: &RunId) -> PathBuf {
        self.config.data_dir.join("runs").join(run_id.as_str())
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
    pub fn script_args(&self, estimator: &runboard_shared::estimator::Estimator) -> Vec<String> {
        let datastores = datastores::root(&self.config.data_dir);
        estimator.argv(&|d| {
            datastores
                .join(&d.datastore)
                .join(&d.path_on_datastore)
                .display()
                .to_string()
        })
    }

    /// The portal URL of a run.
    pub fn portal_url(&self, run_id: &RunId) -> String {
        format!("{}/runs/{run_id}", self.config.public_url)
    }

    /// Publishes events the store has committed.
    pub fn publish_all(&self, run_id: &RunId, events: Vec<RunEvent>) {
        for event in events {
            self.hub.publish(run_id, event);
        }
    }

    /// Changes a run's status (if the transition table allows) and publishes it.
    pub async fn set_status(
        &self,
        run_id: &RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<Option<RunEvent>, StoreError> {
        let event = self.store.set_status(run_id, status, error).await?;
        if let Some(event) = &event {
            self.hub.publish(run_id, event.clone());
        }
        Ok(event)
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
    fn register_driver(&self, run_id: &RunId, cancel: tokio_watch::Sender<bool>) -> bool {
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

    fn unregister_driver(&self, run_id: &RunId) {
        let mut drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        drivers.remove(run_id);
    }
}
