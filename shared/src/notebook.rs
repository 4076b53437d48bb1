//! The `.ipynb` document (nbformat 4): read, change, and write back in Jupyter's own
//! layout, so a notebook round-trips with JupyterLab byte for byte.
//!
//! Jupyter writes `json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False)` plus a
//! final newline, with multi-line strings (sources, stream text, `text/plain`) as
//! lists of lines; [`Notebook::to_json`] does the same. [`cell_outputs`] turns what a
//! kernel cell produced into nbformat outputs.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A notebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notebook {
    /// The cells, in order.
    pub cells: Vec<Cell>,
    /// Notebook metadata (kernel spec, language info, …), kept as found.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// The major format version; always 4.
    pub nbformat: u32,
    /// The minor format version (5 when cells have ids).
    pub nbformat_minor: u32,
}

/// One cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cell_type", rename_all = "lowercase")]
pub enum Cell {
    /// Code, with its outputs.
    Code(CodeCell),
    /// Markdown text.
    Markdown(TextCell),
    /// Raw text, passed through.
    Raw(TextCell),
}

/// A code cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeCell {
    /// The cell's id (nbformat 4.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Cell metadata, kept as found.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// The code.
    pub source: MultilineString,
    /// The session's count when the cell last ran; `null` if it has not.
    pub execution_count: Option<u32>,
    /// What it produced when it last ran.
    #[serde(default)]
    pub outputs: Vec<Output>,
}

/// A markdown or raw cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextCell {
    /// The cell's id (nbformat 4.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Cell metadata, kept as found.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// The text.
    pub source: MultilineString,
    /// Files attached to a markdown cell, kept as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Value>,
}

/// One output of a code cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "output_type", rename_all = "snake_case")]
pub enum Output {
    /// Text on `stdout` or `stderr`.
    Stream {
        /// `stdout` or `stderr`.
        name: String,
        /// The text.
        text: MultilineString,
    },
    /// A rich display: MIME type → data.
    DisplayData {
        /// The MIME bundle (`text/plain`, …); text values are lists of lines.
        data: Map<String, Value>,
        /// Display metadata.
        #[serde(default)]
        metadata: Map<String, Value>,
    },
    /// The value of the cell's last expression.
    ExecuteResult {
        /// The execution count of the cell that produced it.
        execution_count: Option<u32>,
        /// The MIME bundle.
        data: Map<String, Value>,
        /// Display metadata.
        #[serde(default)]
        metadata: Map<String, Value>,
    },
    /// The exception the cell raised.
    Error {
        /// The exception class (`NameError`).
        ename: String,
        /// Its message.
        evalue: String,
        /// The traceback, one string per line.
        traceback: Vec<String>,
    },
}

/// nbformat's multi-line string: a string, or a list of lines that are joined. Read
/// in either form, written as a list of lines (each but the last ending in `\n`), as
/// Jupyter writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultilineString(pub String);

impl MultilineString {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for MultilineString {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl Serialize for MultilineString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        lines(&self.0).serialize(s)
    }
}

impl<'de> Deserialize<'de> for MultilineString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(String),
            Lines(Vec<String>),
        }
        Ok(Self(match Form::deserialize(d)? {
            Form::One(text) => text,
            Form::Lines(lines) => lines.concat(),
        }))
    }
}

/// A text as Jupyter's list of lines.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Why a file is not a notebook this module reads.
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    /// Not JSON, or not the nbformat 4 shape.
    #[error("not a Jupyter notebook: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A notebook in another major format version.
    #[error("nbformat {0} notebooks are not supported; save it as nbformat 4")]
    Version(u32),
}

impl Notebook {
    /// An empty nbformat 4.5 notebook with a Python kernel spec.
    pub fn new() -> Self {
        let metadata = serde_json::json!({
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}
        });
        Self {
            cells: Vec::new(),
            metadata: match metadata {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            nbformat: 4,
            nbformat_minor: 5,
        }
    }

    /// Reads a notebook.
    pub fn from_json(text: &str) -> Result<Self, NotebookError> {
        // Check the version first: an nbformat 3 file fails the cell shape anyway, and
        // the version says why.
        #[derive(Deserialize)]
        struct Version {
            nbformat: u32,
        }
        let version: Version = serde_json::from_str(text)?;
        if version.nbformat != 4 {
            return Err(NotebookError::Version(version.nbformat));
        }
        Ok(serde_json::from_str(text)?)
    }

    /// The notebook as Jupyter writes it: keys sorted, one-space indent, UTF-8, final
    /// newline.
    pub fn to_json(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        // Serializing a `Value` into memory cannot fail.
        let _ = sorted(value).serialize(&mut ser);
        let mut text = String::from_utf8(out).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The code cells, in order, with their index among all cells.
    pub fn code_cells_mut(&mut self) -> impl Iterator<Item = (usize, &mut CodeCell)> {
        self.cells
            .iter_mut()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Cell::Code(code) => Some((i, code)),
                _ => None,
            })
    }
}

impl Default for Notebook {
    fn default() -> Self {
        Self::new()
    }
}

/// `value` with every object's keys sorted, as Python's `sort_keys=True`.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

pub use outputs::{cell_outputs, error_output, mime_bundle, push_output, result_output};

/// A cell run's outputs in nbformat's form.
mod outputs {
    use serde_json::{Map, Value};

    use super::{MultilineString, Output, lines};
    use crate::cell::{self as kernel, DISPLAY_MIME, Display, PyError};

    /// A display as a MIME bundle: `text/plain` (as lines) and Runboard's JSON form
    /// ([`DISPLAY_MIME`]), which the notebook page draws (a run card, a table).
    pub fn mime_bundle(display: &Display) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert(
            "text/plain".to_owned(),
            Value::from(lines(&display.text_plain())),
        );
        if !matches!(display, Display::Text { .. })
            && let Ok(json) = serde_json::to_value(display)
        {
            data.insert(DISPLAY_MIME.to_owned(), json);
        }
        data
    }

    /// The nbformat outputs of one cell run: its stream text (consecutive pieces of the
    /// same stream joined), its displays, then its result or its error.
    pub fn cell_outputs(
        produced: Vec<kernel::Output>,
        result: &Result<Option<Display>, PyError>,
        execution_count: u32,
    ) -> Vec<Output> {
        let mut outputs: Vec<Output> = Vec::new();
        for piece in produced {
            push_output(&mut outputs, piece);
        }
        match result {
            Ok(Some(display)) => outputs.push(result_output(display, execution_count)),
            Ok(None) => {}
            Err(e) => outputs.push(error_output(e)),
        }
        outputs
    }

    /// Appends one piece of live output: text joins the stream output before it when
    /// that is the same stream, as Jupyter stores it.
    pub fn push_output(outputs: &mut Vec<Output>, piece: kernel::Output) {
        let (name, text) = match piece {
            kernel::Output::Stdout { text } => ("stdout", text),
            kernel::Output::Stderr { text } => ("stderr", text),
            kernel::Output::Display { display } => {
                outputs.push(Output::DisplayData {
                    data: mime_bundle(&display),
                    metadata: Map::new(),
                });
                return;
            }
        };
        match outputs.last_mut() {
            Some(Output::Stream {
                name: last,
                text: buf,
            }) if last == name => {
                buf.0.push_str(&text);
            }
            _ => outputs.push(Output::Stream {
                name: name.to_owned(),
                text: MultilineString(text),
            }),
        }
    }

    /// The `execute_result` of a cell's last expression.
    pub fn result_output(display: &Display, execution_count: u32) -> Output {
        Output::ExecuteResult {
            execution_count: Some(execution_count),
            data: mime_bundle(display),
            metadata: Map::new(),
        }
    }

    /// The `error` output of a failed cell.
    pub fn error_output(e: &PyError) -> Output {
        Output::Error {
            ename: e.ename.clone(),
            evalue: e.message.clone(),
            traceback: if e.traceback.is_empty() {
                e.to_string().lines().map(str::to_owned).collect()
            } else {
                e.traceback.clone()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notebook as JupyterLab 4 saves it.
    const JUPYTERLAB: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "a1b2c3d4",
   "metadata": {},
   "source": [
    "# Quickstart\n",
    "Train a model — with ünïcode."
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 3,
   "id": "e5f6a7b8",
   "metadata": {
    "scrolled": true,
    "tags": [
     "setup"
    ]
   },
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "hello\n",
      "world\n"
     ]
    },
    {
     "data": {
      "text/plain": [
       "42"
      ]
     },
     "execution_count": 3,
     "metadata": {},
     "output_type": "execute_result"
    },
    {
     "ename": "NameError",
     "evalue": "name 'x' is not defined",
     "output_type": "error",
     "traceback": [
      "\u001b[0;31mNameError\u001b[0m"
     ]
    }
   ],
   "source": [
    "print('hello')\n",
    "print('world')\n",
    "42"
   ]
  },
  {
   "cell_type": "raw",
   "id": "c9d0e1f2",
   "metadata": {},
   "source": []
  },
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "0a1b2c3d",
   "metadata": {},
   "outputs": [],
   "source": []
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3 (ipykernel)",
   "language": "python",
   "name": "python3"
  },
  "language_info": {
   "name": "python",
   "version": "3.11.4"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
"##;

    #[test]
    fn a_jupyterlab_notebook_round_trips_byte_for_byte() {
        let nb = Notebook::from_json(JUPYTERLAB).unwrap();
        assert_eq!(nb.cells.len(), 4);
        let Cell::Code(code) = &nb.cells[1] else {
            panic!("cell 1 is code");
        };
        assert_eq!(code.source.as_str(), "print('hello')\nprint('world')\n42");
        assert_eq!(code.execution_count, Some(3));
        assert_eq!(nb.to_json(), JUPYTERLAB);
    }

    #[test]
    fn sources_may_be_one_string_and_are_written_as_lines() {
        let nb = Notebook::from_json(
            r#"{"cells": [{"cell_type": "code", "metadata": {}, "source": "a = 1\nb = 2",
                "execution_count": null, "outputs": []}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 4}"#,
        )
        .unwrap();
        let json = nb.to_json();
        assert!(
            json.contains("\"source\": [\n    \"a = 1\\n\",\n    \"b = 2\"\n   ]"),
            "{json}"
        );
        assert_eq!(Notebook::from_json(&json).unwrap(), nb);
    }

    #[test]
    fn other_format_versions_and_shapes_are_refused_clearly() {
        for (text, expect) in [
            (
                r#"{"nbformat": 3, "worksheets": []}"#,
                "nbformat 3 notebooks are not supported; save it as nbformat 4",
            ),
            (
                "not json",
                "not a Jupyter notebook: expected ident at line 1 column 2",
            ),
            (
                r#"{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code"}]}"#,
                "not a Jupyter notebook: missing field `source` at line 1 column 69",
            ),
        ] {
            let e = Notebook::from_json(text).unwrap_err();
            assert_eq!(e.to_string(), expect, "{text}");
        }
    }

    #[test]
    fn a_new_notebook_is_nbformat_4_5() {
        let nb = Notebook::new();
        assert_eq!((nb.nbformat, nb.nbformat_minor), (4, 5));
        assert_eq!(Notebook::from_json(&nb.to_json()).unwrap(), nb);
    }

    #[test]
    fn a_pythons_traceback_is_the_error_outputs_traceback() {
        use crate::cell::PyError;
        // As the browser's CPython kernel sends it.
        let sent = r#"{"ename":"KeyError","message":"'x'","line":null,
            "traceback":["Traceback (most recent call last):","  File \"<cell-1>\", line 1, in <module>","KeyError: 'x'"]}"#;
        let e: PyError = serde_json::from_str(sent).unwrap();
        let Output::Error {
            ename,
            evalue,
            traceback,
        } = error_output(&e)
        else {
            panic!("not an error output");
        };
        assert_eq!((ename.as_str(), evalue.as_str()), ("KeyError", "'x'"));
        assert_eq!(traceback.len(), 3);
        assert_eq!(traceback[2], "KeyError: 'x'");
        // Without one, the error is its one line.
        let plain = PyError::new("NameError", "name 'y' is not defined");
        assert!(
            serde_json::to_string(&plain)
                .unwrap()
                .find("traceback")
                .is_none()
        );
        let Output::Error { traceback, .. } = error_output(&plain) else {
            panic!("not an error output");
        };
        assert_eq!(traceback, ["NameError: name 'y' is not defined"]);
    }

    #[test]
    fn kernel_outputs_become_nbformat_outputs() {
        use crate::cell::{self as kernel, Display, PyError};
        let produced = vec![
            kernel::Output::Stdout { text: "a".into() },
            kernel::Output::Stdout { text: "b\n".into() },
            kernel::Output::Stderr {
                text: "warn\n".into(),
            },
            kernel::Output::Stdout { text: "c\n".into() },
            kernel::Output::Display {
                display: Display::Text {
                    text: "shown".into(),
                },
            },
        ];
        let ok = cell_outputs(
            produced.clone(),
            &Ok(Some(Display::Estimator {
                class: "SKLearn".into(),
                parameters: vec![("entry_script".into(), "'train.py'".into())],
            })),
            7,
        );
        let json = serde_json::to_value(&ok).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"output_type": "stream", "name": "stdout", "text": ["ab\n"]},
                {"output_type": "stream", "name": "stderr", "text": ["warn\n"]},
                {"output_type": "stream", "name": "stdout", "text": ["c\n"]},
                {"output_type": "display_data", "data": {"text/plain": ["shown"]}, "metadata": {}},
                {"output_type": "execute_result", "execution_count": 7, "metadata": {}, "data": {
                    "text/plain": ["SKLearn(\n", "    entry_script = 'train.py'\n", ")"],
                    "application/vnd.runboard.display+json": {
                        "kind": "estimator", "class": "SKLearn",
                        "parameters": [["entry_script", "'train.py'"]]
                    }
                }}
            ])
        );
        let e = PyError::new("NameError", "name 'x' is not defined");
        let failed = cell_outputs(Vec::new(), &Err(e), 8);
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            serde_json::json!([{
                "output_type": "error", "ename": "NameError",
                "evalue": "name 'x' is not defined",
                "traceback": ["NameError: name 'x' is not defined"]
            }])
        );
    }
}
