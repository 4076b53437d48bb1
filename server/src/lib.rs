//! The `runboard` server, supervisor and CLI.
//!
//! See `ARCHITECTURE.md` for the map. In short: [`api`] is the HTTP edge, [`store`]
//! the only SQL, [`runner`] the only place that starts processes, [`watch`] turns a
//! run folder into events, [`events`] commits
//! events and fans them out through [`hub`], [`cli`] is the client.

pub mod api;
pub mod backup;
pub mod cli;
pub mod config;
pub mod confined;
pub mod datastores;
pub mod events;
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
pub mod runner;
pub mod runs;
pub mod sdk;
pub mod series;
pub mod series_sample;
pub mod snapshot;
pub mod store;
pub mod sweep;
pub mod sweep_view;
pub mod tfevents;
pub mod watch;

use std::path::{Path, PathBuf};

use runboard_shared::run::RunId;

pub use config::Config;

/// The folder of a run: `<data>/runs/<id>`.
pub fn run_dir(data_dir: &Path, run_id: &RunId) -> PathBuf {
    data_dir.join("runs").join(run_id.as_str())
}
