//! The messages between the notebook page and the kernel's Web Worker.
//!
//! The page posts a [`ToWorker`] and the worker answers with [`FromWorker`]s, each as a
//! JSON string (`postMessage(text)`), so the two wasm modules share only these types.
//! Cells are named by their nbformat id. One cell runs at a time: the page queues the
//! rest, as Jupyter does.
//!
//! A cell that waits on a run (`run.wait_for_completion()`) says so first with
//! [`FromWorker::Waiting`]; the page saves that in the cell's metadata, so that after a
//! reload it can send [`ToWorker::Attach`] and show the run's whole log again.

use serde::{Deserialize, Serialize};

use super::{Display, Output, PyError};

/// From the page to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Runs a cell's source in the session.
    Run {
        /// The cell's id.
        cell: String,
        /// The cell's source.
        source: String,
        /// The notebook's folder in the files area (`""` for the root): the cell's
        /// working directory.
        cwd: String,
    },
    /// Follows a run that a cell was waiting on before the page was reloaded, as
    /// `run.wait_for_completion(show_output=True)` does, from its first line.
    Attach {
        /// The cell's id.
        cell: String,
        /// The run, as the worker described it in [`FromWorker::Waiting`].
        run: WaitingRun,
        /// The notebook's folder.
        cwd: String,
    },
    /// Asks the running cell to stop (`KeyboardInterrupt` at its next loop step or
    /// server call).
    Interrupt,
}

/// From the worker to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker has loaded and takes cells.
    Ready,
    /// A piece of the running cell's output, as it is produced.
    Output {
        /// The cell's id.
        cell: String,
        /// The output.
        output: Output,
    },
    /// The cell starts waiting on a run; what it outputs next is the run's log.
    Waiting {
        /// The cell's id.
        cell: String,
        /// The run.
        run: WaitingRun,
    },
    /// The cell has finished.
    Done {
        /// The cell's id.
        cell: String,
        /// The session's execution count for this cell (0 for an [`ToWorker::Attach`]).
        execution_count: u32,
        /// What its last expression displays, if it succeeded.
        result: Option<Display>,
        /// The exception it failed with.
        error: Option<PyError>,
    },
}

/// A run a cell waits on, with what the worker needs to follow it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingRun {
    /// The run's id.
    pub run_id: String,
    /// Its experiment.
    pub experiment: String,
    /// Its page in the portal.
    pub portal_url: String,
    /// The session's variables bound to this run (`run`), bound again by an attach.
    #[serde(default)]
    pub names: Vec<String>,
    /// Whether the cell streams the run's log (`show_output=True`).
    #[serde(default)]
    pub show_output: bool,
}

impl ToWorker {
    /// The message as the JSON text posted to the worker.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl FromWorker {
    /// The message as the JSON text posted to the page.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_json_that_reads_back() {
        let run = ToWorker::Run {
            cell: "setup".into(),
            source: "print(1)".into(),
            cwd: "projects".into(),
        };
        assert_eq!(
            run.to_json(),
            r#"{"type":"run","cell":"setup","source":"print(1)","cwd":"projects"}"#
        );
        assert_eq!(
            serde_json::from_str::<ToWorker>(r#"{"type":"interrupt"}"#).unwrap(),
            ToWorker::Interrupt
        );
        let done = FromWorker::Done {
            cell: "c".into(),
            execution_count: 3,
            result: None,
            error: Some(PyError::new("NameError", "name 'x' is not defined")),
        };
        let back: FromWorker = serde_json::from_str(&done.to_json()).unwrap();
        assert_eq!(back, done);
        let out = FromWorker::Output {
            cell: "c".into(),
            output: Output::Stdout {
                text: "hi\n".into(),
            },
        };
        assert_eq!(
            out.to_json(),
            r#"{"type":"output","cell":"c","output":{"type":"stdout","text":"hi\n"}}"#
        );
    }
}
