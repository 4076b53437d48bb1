//! Runboard's notebook pages (work in progress).
