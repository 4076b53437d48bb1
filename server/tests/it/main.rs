//! Integration tests of the `runboard` binary and its router: real processes, real
//! SQLite, a real server on 127.0.0.1:0.

// A failed unwrap is a failed test, with its location: the right behaviour here.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod cli;
mod datastores;
mod distributed;
mod environments;
mod files_area;
mod metrics;
mod notebook;
mod people;
mod readme_path;
mod restart;
mod roles;
mod runs;
mod slurm;
mod support;
mod tfevents;
mod websocket;
