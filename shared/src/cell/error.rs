//! The error a cell fails with: a Python exception class name, a message, and the line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Python-style exception raised by a cell: `NameError: name 'x' is not defined`.
///
/// Shown as `{ename}: {evalue}`; [`PyError::evalue`] ends with ` (line N)` when the
/// line is known, so the message alone says where the cell failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PyError {
    /// The exception class (`NameError`, `TypeError`, `NotImplementedError`, the SDK's
    /// `ActivityFailedException`…).
    pub ename: String,
    /// What went wrong, in words, without the line.
    pub message: String,
    /// The 1-based line of the cell the failing statement starts on.
    pub line: Option<u32>,
    /// The traceback's lines as Python prints them (the browser's CPython kernel sends
    /// them); when empty, the error shows as `ename: evalue`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traceback: Vec<String>,
}

impl PyError {
    /// An error of class `ename`; the line is added by the statement that raised it.
    pub fn new(ename: &str, message: impl Into<String>) -> Self {
        Self {
            ename: ename.to_owned(),
            message: message.into(),
            line: None,
            traceback: Vec::new(),
        }
    }

    /// Sets the line unless an inner statement already did.
    #[must_use]
    pub fn at(mut self, line: u32) -> Self {
        self.line.get_or_insert(line);
        self
    }

    /// The exception's value as Jupyter shows it: the message with ` (line N)` at the
    /// end of its first line.
    pub fn evalue(&self) -> String {
        match self.line {
            Some(line) => match self.message.split_once('\n') {
                Some((first, rest)) => format!("{first} (line {line})\n{rest}"),
                None => format!("{} (line {line})", self.message),
            },
            None => self.message.clone(),
        }
    }
}

/// Helpers of the kernel's own errors.
#[cfg(feature = "kernel")]
impl PyError {
    /// The error with `: hint` appended to its message.
    #[must_use]
    pub(crate) fn with_hint(mut self, hint: &str) -> Self {
        self.message = format!("{}: {hint}", self.message);
        self
    }

    /// `TypeError`.
    pub(crate) fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// `ValueError`.
    pub(crate) fn value_error(message: impl Into<String>) -> Self {
        Self::new("ValueError", message)
    }

    /// `NotImplementedError` for a construct outside the notebook language.
    pub(crate) fn unsupported(construct: &str) -> Self {
        Self::new(
            "NotImplementedError",
            format!("{construct} not supported in Runboard notebooks"),
        )
    }
}

impl fmt::Display for PyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.ename, self.evalue())
    }
}

impl std::error::Error for PyError {}
