//! A notebook cell's run as it crosses the wire: what a cell shows (text streams and
//! structured displays, which the browser draws and the CLI writes into the `.ipynb`
//! as MIME bundles), the error it fails with, and the messages between the notebook
//! page and the kernel's Web Worker ([`worker`]). No parser here: the page uses these
//! types without the kernel.

pub(crate) mod error;
pub mod worker;

pub use error::PyError;

use serde::{Deserialize, Serialize};

use crate::run::RunStatus;

/// One piece of a cell's output, in the order produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// Text written to standard output (`print`, a run's streamed log).
    Stdout {
        /// The text; may end mid-line.
        text: String,
    },
    /// Text written to standard error (warnings).
    Stderr {
        /// The text; may end mid-line.
        text: String,
    },
    /// A rich display (`RunDetails(run).show()`).
    Display {
        /// What to show.
        display: Display,
    },
}

/// A value shown richly: the last expression of a cell, or a widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Display {
    /// Any other value: its Python `repr`.
    Text {
        /// The `repr`.
        text: String,
    },
    /// An `Estimator`, a preset or a `ScriptRunConfig`: its parameters as a table.
    Estimator {
        /// The SDK class (`SKLearn`).
        class: String,
        /// Each parameter that is set, with its Python `repr`, in the SDK's order.
        parameters: Vec<(String, String)>,
    },
    /// A run: a card that the page keeps live (status, duration, link, log tail), from
    /// a `Run` as the last expression or `RunDetails(run).show()`.
    Run {
        /// The run's id.
        run_id: String,
        /// Its experiment.
        experiment: String,
        /// Its status when the cell showed it.
        status: Option<RunStatus>,
        /// Its page in the portal.
        portal_url: String,
    },
}

/// The MIME type of a display's JSON form in a notebook's outputs.
pub const DISPLAY_MIME: &str = "application/vnd.runboard.display+json";

impl Display {
    /// The plain-text form (`text/plain`), as Python would print the value.
    pub fn text_plain(&self) -> String {
        match self {
            Display::Text { text } => text.clone(),
            Display::Estimator { class, parameters } => {
                let width = parameters.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
                let mut out = format!("{class}(");
                for (i, (name, value)) in parameters.iter().enumerate() {
                    out.push_str(if i == 0 { "\n    " } else { ",\n    " });
                    out.push_str(&format!("{name:width$} = {value}"));
                }
                out.push_str(if parameters.is_empty() { ")" } else { "\n)" });
                out
            }
            Display::Run {
                run_id,
                experiment,
                status,
                portal_url,
            } => {
                let mut out = format!(
                    "Run(Experiment: {experiment},\nId: {run_id},\nType: azureml.scriptrun"
                );
                if let Some(status) = status {
                    out.push_str(&format!(",\nStatus: {}", status.as_str()));
                }
                out.push_str(&format!(")\nPortal: {portal_url}"));
                out
            }
        }
    }
}
