//! What the HTTP handlers share. Only `api/` and `main.rs` use [`AppState`]; the
//! modules behind them are given what they need explicitly ([`Runner`],
//! [`Metrics`], [`Events`], the store, settings).

use std::path::PathBuf;
use std::sync::Arc;

use runboard_shared::run::RunId;

use crate::config::Config;
use crate::events::Events;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::runner::{ComputeTarget, Runner, RunnerError};
use crate::runs::delete::remove_leftovers;
use crate::store::{Store, StoreError};
use crate::{files, jobuser, sdk};

/// Everything the handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// Settings.
    pub config: Config,
    /// The store.
    pub store: Store,
    /// The one way to publish: commit, then fan out.
    pub events: Events,
    /// Metric ingest and reading.
    pub metrics: Metrics,
    /// Compute targets, drivers, admission, environments, TensorBoards.
    pub runner: Runner,
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
        remove_leftovers(&config.data_dir.join("runs"));
        let store = Store::open(&config.data_dir.join("runboard.sqlite")).await?;
        sdk::install(&config.data_dir).map_err(|e| StoreError::Sql(e.into()))?;
        files::seed(&files::root(&config.data_dir)).map_err(|e| StoreError::Sql(e.into()))?;
        if config.job_user.is_some() {
            jobuser::lock_down(&config.data_dir).map_err(|e| StoreError::Sql(e.into()))?;
        }
        let events = Events::new(store.clone(), Arc::new(Hub::default()));
        let metrics = Metrics::new(store.clone(), events.clone(), config.data_dir.clone());
        let runner = Runner::new(
            config.clone(),
            store.clone(),
            events.clone(),
            metrics.clone(),
        );
        Ok(Self(Arc::new(Inner {
            config,
            store,
            events,
            metrics,
            runner,
        })))
    }

    /// The folder of a run.
    pub fn run_dir(&self, run_id: &RunId) -> PathBuf {
        crate::run_dir(&self.config.data_dir, run_id)
    }

    /// The compute target called `name`.
    pub fn target(&self, name: &str) -> Result<Arc<dyn ComputeTarget>, RunnerError> {
        self.runner.target(name)
    }

    /// Names of the compute targets.
    pub fn target_names(&self) -> Vec<String> {
        self.runner.target_names()
    }

    /// The arguments of an estimator's `script_params` on this machine.
    pub fn script_args(&self, estimator: &runboard_shared::estimator::Estimator) -> Vec<String> {
        self.runner.script_args(estimator)
    }

    /// The portal URL of a run.
    pub fn portal_url(&self, run_id: &RunId) -> String {
        format!("{}/runs/{run_id}", self.config.public_url)
    }
}
