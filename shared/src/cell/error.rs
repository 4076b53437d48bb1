//! The error a cell fails with: a Python exception class name, its message, and the
//! traceback.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Python-style exception raised by a cell: `NameError: name 'x' is not defined`.
///
/// Shown as `{ename}: {message}`, as the traceback's last line says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PyError {
    /// The exception class (`NameError`, `TypeError`, `NotImplementedError`, the SDK's
    /// `ActivityFailedException`…).
    pub ename: String,
    /// What went wrong: Python's `str(exception)`, nbformat's `evalue`.
    pub message: String,
    /// The traceback's lines as Python prints them, with the cell's own frames only;
    /// when empty, the error shows as `ename: message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traceback: Vec<String>,
}

impl PyError {
    /// An error of class `ename`, without a traceback.
    pub fn new(ename: &str, message: impl Into<String>) -> Self {
        Self {
            ename: ename.to_owned(),
            message: message.into(),
            traceback: Vec::new(),
        }
    }
}

impl fmt::Display for PyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.ename, self.message)
    }
}

impl std::error::Error for PyError {}
