//! Runboard's shared vocabulary: the types that cross the wire between the server, the
//! CLI and the browser, and the pure logic that goes with them.
//!
//! This crate does no I/O and depends on no runtime (no tokio, axum, sqlx or web-sys),
//! so it builds for `wasm32-unknown-unknown` as well as natively.

pub mod api;
pub mod cell;
#[cfg(feature = "endpoints")]
pub mod endpoints;
pub mod environment;
pub mod estimator;
pub mod event;
pub mod grammar;
pub mod notebook;
pub mod run;
pub mod runview;
pub mod series;
pub mod sweep;
