//! One module per page of the app; the router in [`crate::App`] maps addresses to them.

pub mod environments;
pub mod experiment;
pub mod experiments;
pub mod login;
pub mod not_found;
pub mod run;
