//! Integration tests of the `runboard` binary and its router: real processes, real
//! SQLite, a real server on 127.0.0.1:0.

// A failed unwrap is a failed test, with its location: the right behaviour here.
#![allow(clippy::unwrap_used)]

mod backup;
mod bad_input;
mod browser_kernel;
mod cli;
mod datastores;
mod distributed;
mod docs;
mod endpoints;
mod environments;
mod files_area;
mod hardening;
mod job_user;
mod metrics;
mod mlflow;
mod models;
mod notebook;
mod people;
mod pip_index;
mod python_sdk;
mod queue;
mod readme_path;
mod restart;
mod retention;
mod roles;
mod runs;
mod runview;
mod security;
mod slurm;
mod support;
mod sweep_page;
mod sweeps;
mod tfevents;
mod websocket;
