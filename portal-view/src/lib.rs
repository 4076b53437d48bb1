//! The portal's view logic: how the browser apps (the run portal and the notebook
//! pages) show what the server sends. Presentation, not wire types or domain rules,
//! which stay in `runboard-shared`.
//!
//! Like `runboard-shared`, this crate does no I/O and depends on no runtime, so its
//! data-driven tests run natively (`cargo test -p runboard-portal-view`) while the
//! apps use it in wasm32.

pub mod display;
pub mod filetree;
pub mod logview;
