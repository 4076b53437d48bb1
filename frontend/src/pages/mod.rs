//! One module per page of the app; the router in [`crate::App`] maps addresses to them.

pub mod experiments;
pub mod not_found;
pub mod run;
