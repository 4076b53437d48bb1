//! Components used by more than one page, one concept each.

pub mod chart;
pub mod file_browser;
pub mod log_view;
pub mod status;
