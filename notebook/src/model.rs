//! The notebook page's pure logic, without a browser: cells as the page edits them and
//! their round trip to nbformat, the commands of Jupyter's command mode, and where a
//! cell's output stood when it started waiting on a run.

use runboard_shared::cell::worker::WaitingRun;
use runboard_shared::notebook::{self as nb, MultilineString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a cell holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Python in the notebook language.
    Code,
    /// Markdown text.
    Markdown,
    /// Raw text, kept as it is.
    Raw,
}

/// One cell as the page edits it.
#[derive(Debug, Clone, PartialEq)]
pub struct CellData {
    /// nbformat 4.5's cell id (unique in the notebook).
    pub id: String,
    /// Code, markdown or raw.
    pub kind: Kind,
    /// The text.
    pub source: String,
    /// What it produced when it last ran (code cells).
    pub outputs: Vec<nb::Output>,
    /// The session's count when it last ran.
    pub execution_count: Option<u32>,
    /// Cell metadata, kept as found (plus Runboard's `runboard` key, see [`Waiting`]).
    pub metadata: Map<String, Value>,
    /// A markdown cell's attachments, kept as found.
    pub attachments: Option<Value>,
}

impl CellData {
    /// A new empty cell.
    pub fn new(kind: Kind, id: String) -> Self {
        Self {
            id,
            kind,
            source: String::new(),
            outputs: Vec::new(),
            execution_count: None,
            metadata: Map::new(),
            attachments: None,
        }
    }

    /// The cell from a notebook; `id` is used when the file's cell has none (nbformat
    /// before 4.5).
    pub fn from_nb(cell: nb::Cell, id: String) -> Self {
        match cell {
            nb::Cell::Code(c) => Self {
                id: c.id.unwrap_or(id),
                kind: Kind::Code,
                source: c.source.0,
                outputs: c.outputs,
                execution_count: c.execution_count,
                metadata: c.metadata,
                attachments: None,
            },
            nb::Cell::Markdown(t) => Self::from_text(Kind::Markdown, t, id),
            nb::Cell::Raw(t) => Self::from_text(Kind::Raw, t, id),
        }
    }

    fn from_text(kind: Kind, t: nb::TextCell, id: String) -> Self {
        Self {
            id: t.id.unwrap_or(id),
            kind,
            source: t.source.0,
            outputs: Vec::new(),
            execution_count: None,
            metadata: t.metadata,
            attachments: t.attachments,
        }
    }

    /// The cell as nbformat stores it. A markdown or raw cell keeps no outputs.
    pub fn to_nb(&self) -> nb::Cell {
        let text = || nb::TextCell {
            id: Some(self.id.clone()),
            metadata: self.metadata.clone(),
            source: MultilineString(self.source.clone()),
            attachments: self.attachments.clone(),
        };
        match self.kind {
            Kind::Code => nb::Cell::Code(nb::CodeCell {
                id: Some(self.id.clone()),
                metadata: self.metadata.clone(),
                source: MultilineString(self.source.clone()),
                execution_count: self.execution_count,
                outputs: self.outputs.clone(),
            }),
            Kind::Markdown => nb::Cell::Markdown(text()),
            Kind::Raw => nb::Cell::Raw(text()),
        }
    }

    /// The run this cell was waiting on when the notebook was last saved, if any.
    pub fn waiting(&self) -> Option<Waiting> {
        serde_json::from_value(self.metadata.get(METADATA_KEY)?.get("waiting")?.clone()).ok()
    }

    /// Records (or with `None`, forgets) the run this cell waits on.
    pub fn set_waiting(&mut self, waiting: Option<&Waiting>) {
        match waiting.and_then(|w| serde_json::to_value(w).ok()) {
            Some(value) => {
                let mut ours = Map::new();
                ours.insert("waiting".to_owned(), value);
                self.metadata
                    .insert(METADATA_KEY.to_owned(), Value::Object(ours));
            }
            None => {
                self.metadata.remove(METADATA_KEY);
            }
        }
    }
}

/// The key of Runboard's own cell metadata (`{"runboard": {"waiting": …}}`).
pub const METADATA_KEY: &str = "runboard";

/// A cell that waits on a run: the run, and how much of the cell's output came before
/// the wait (what an attach after a reload keeps; the rest it writes again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// The run.
    pub run: WaitingRun,
    /// Outputs before the wait.
    pub outputs: usize,
    /// Characters of the last of those outputs, when it is a stream that the wait's
    /// text would have continued.
    pub stream_chars: Option<usize>,
}

impl Waiting {
    /// Marks where `outputs` stand as the cell starts waiting on `run`.
    pub fn at(run: WaitingRun, outputs: &[nb::Output]) -> Self {
        let stream_chars = match outputs.last() {
            Some(nb::Output::Stream { text, .. }) => Some(text.0.chars().count()),
            _ => None,
        };
        Self {
            run,
            outputs: outputs.len(),
            stream_chars,
        }
    }

    /// Cuts `outputs` back to what they were when the wait began.
    pub fn truncate(&self, outputs: &mut Vec<nb::Output>) {
        outputs.truncate(self.outputs);
        if let (Some(chars), Some(nb::Output::Stream { text, .. })) =
            (self.stream_chars, outputs.last_mut())
        {
            let end = text
                .0
                .char_indices()
                .nth(chars)
                .map_or(text.0.len(), |(i, _)| i);
            text.0.truncate(end);
        }
    }
}

/// The page's notebook: its cells and the file's other parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The cells.
    pub cells: Vec<CellData>,
    /// Notebook metadata, kept as found.
    pub metadata: Map<String, Value>,
    /// nbformat's minor version (at least 5: cells have ids).
    pub nbformat_minor: u32,
}

impl Document {
    /// Reads a `.ipynb`. Cells without an id get one from `new_id`.
    pub fn from_json(
        text: &str,
        mut new_id: impl FnMut() -> String,
    ) -> Result<Self, nb::NotebookError> {
        let notebook = nb::Notebook::from_json(text)?;
        let mut seen = std::collections::HashSet::new();
        let cells = notebook
            .cells
            .into_iter()
            .map(|c| {
                let mut cell = CellData::from_nb(c, new_id());
                // Ids must be unique; a copied cell may repeat one.
                while !seen.insert(cell.id.clone()) {
                    cell.id = new_id();
                }
                cell
            })
            .collect();
        Ok(Self {
            cells,
            metadata: notebook.metadata,
            nbformat_minor: notebook.nbformat_minor.max(5),
        })
    }

    /// The notebook as Jupyter writes it.
    pub fn to_json(&self) -> String {
        let mut notebook = nb::Notebook::new();
        notebook.metadata = self.metadata.clone();
        notebook.nbformat_minor = self.nbformat_minor;
        notebook.cells = self.cells.iter().map(CellData::to_nb).collect();
        notebook.to_json()
    }
}

/// What a key does in command mode (Jupyter's shortcuts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Enter: edit the selected cell.
    Edit,
    /// Shift+Enter: run the cell and select the next (adding one at the end).
    RunAndAdvance,
    /// Ctrl+Enter: run the cell and stay.
    Run,
    /// Alt+Enter: run the cell and insert one below.
    RunAndInsert,
    /// A: insert a cell above.
    InsertAbove,
    /// B: insert a cell below.
    InsertBelow,
    /// D, D: delete the cell.
    Delete,
    /// M: make it markdown.
    ToMarkdown,
    /// Y: make it code.
    ToCode,
    /// R: make it raw.
    ToRaw,
    /// Up or K.
    SelectPrevious,
    /// Down or J.
    SelectNext,
    /// Ctrl+S or S: save.
    Save,
    /// I, I: interrupt the kernel.
    Interrupt,
}

/// A key press as [`command`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Key<'a> {
    /// `KeyboardEvent.key`.
    pub key: &'a str,
    /// Shift held.
    pub shift: bool,
    /// Ctrl or Cmd held.
    pub ctrl: bool,
    /// Alt held.
    pub alt: bool,
}

/// The command a key gives in command mode; `previous` is the key pressed just before
/// (for the doubled D, D and I, I).
pub fn command(key: Key<'_>, previous: Option<&str>) -> Option<Command> {
    let lower = key.key.to_ascii_lowercase();
    Some(match (lower.as_str(), key.shift, key.ctrl, key.alt) {
        ("enter", true, false, false) => Command::RunAndAdvance,
        ("enter", false, true, false) => Command::Run,
        ("enter", false, false, true) => Command::RunAndInsert,
        ("enter", false, false, false) => Command::Edit,
        ("s", _, true, _) | ("s", false, false, false) => Command::Save,
        (_, _, true, _) | (_, _, _, true) => return None,
        ("a", false, ..) => Command::InsertAbove,
        ("b", false, ..) => Command::InsertBelow,
        ("d", false, ..) if previous == Some("d") => Command::Delete,
        ("i", false, ..) if previous == Some("i") => Command::Interrupt,
        ("m", false, ..) => Command::ToMarkdown,
        ("y", false, ..) => Command::ToCode,
        ("r", false, ..) => Command::ToRaw,
        ("arrowup" | "k", false, ..) => Command::SelectPrevious,
        ("arrowdown" | "j", false, ..) => Command::SelectNext,
        _ => return None,
    })
}

/// The command a key gives while a cell is being edited: only running and leaving.
pub fn edit_command(key: Key<'_>) -> Option<Command> {
    match (key.key, key.shift, key.ctrl, key.alt) {
        ("Enter", true, false, false) => Some(Command::RunAndAdvance),
        ("Enter", false, true, false) => Some(Command::Run),
        ("Enter", false, false, true) => Some(Command::RunAndInsert),
        ("s" | "S", _, true, _) => Some(Command::Save),
        _ => None,
    }
}

/// The folder of a files-area path (`"a/b.ipynb"` → `"a"`, `"b.ipynb"` → `""`).
pub fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// A files-area path's last part.
pub fn name_of(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// `folder` joined with `name` (`""` is the root).
pub fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_owned()
    } else {
        format!("{folder}/{name}")
    }
}

/// A name for a new file in `existing` names: `Untitled.ipynb`, `Untitled1.ipynb`, …
pub fn untitled(existing: &[String], stem: &str, ext: &str) -> String {
    (0..)
        .map(|i| {
            if i == 0 {
                format!("{stem}{ext}")
            } else {
                format!("{stem}{i}{ext}")
            }
        })
        .find(|name| !existing.contains(name))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("new-{n}")
        }
    }

    fn key(key: &str) -> Key<'_> {
        Key {
            key,
            ..Key::default()
        }
    }

    #[test]
    fn a_jupyter_notebook_reads_and_writes_back_byte_for_byte() {
        let text = include_str!("../../notebooks/Quickstart.ipynb");
        let doc = Document::from_json(text, ids()).unwrap();
        assert_eq!(doc.cells.len(), 13);
        assert_eq!(doc.cells[1].id, "setup");
        assert_eq!(doc.cells[0].kind, Kind::Markdown);
        assert_eq!(doc.to_json(), text);
    }

    #[test]
    fn cells_without_ids_or_with_repeated_ids_get_new_ones() {
        let text = r#"{"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "source": "1", "execution_count": null, "outputs": []},
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "x"},
            {"cell_type": "raw", "id": "a", "metadata": {}, "source": "y"}]}"#;
        let doc = Document::from_json(text, ids()).unwrap();
        let got: Vec<_> = doc.cells.iter().map(|c| (c.id.as_str(), c.kind)).collect();
        assert_eq!(
            got,
            [
                ("new-1", Kind::Code),
                ("a", Kind::Markdown),
                ("new-4", Kind::Raw)
            ]
        );
        assert_eq!(doc.nbformat_minor, 5);
        assert!(doc.to_json().contains("\"id\": \"new-4\""));
    }

    #[test]
    fn a_file_that_is_not_a_notebook_says_why() {
        let e = Document::from_json("{\"nbformat\": 3}", ids()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "nbformat 3 notebooks are not supported; save it as nbformat 4"
        );
    }

    fn stream(text: &str) -> nb::Output {
        nb::Output::Stream {
            name: "stdout".into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_wait_marks_the_outputs_before_it_and_truncate_goes_back_there() {
        let run = WaitingRun {
            run_id: "quickstart_1_ab".into(),
            experiment: "quickstart".into(),
            portal_url: "/runs/quickstart_1_ab".into(),
            names: vec!["run".into()],
            show_output: true,
        };
        let before = vec![stream("submitted é\n")];
        let waiting = Waiting::at(run, &before);
        assert_eq!((waiting.outputs, waiting.stream_chars), (1, Some(12)));

        // The wait's text joined the stream; a display came after.
        let mut later = vec![
            stream("submitted é\nRunId: x\nepoch 1\n"),
            nb::Output::Error {
                ename: "E".into(),
                evalue: "v".into(),
                traceback: vec![],
            },
        ];
        waiting.truncate(&mut later);
        assert_eq!(later, before);

        // Stored in the cell's metadata, read back, and forgotten.
        let mut cell = CellData::new(Kind::Code, "c".into());
        cell.set_waiting(Some(&waiting));
        assert_eq!(cell.waiting(), Some(waiting));
        assert!(cell.metadata.contains_key("runboard"));
        cell.set_waiting(None);
        assert_eq!(cell.waiting(), None);
        assert!(cell.metadata.is_empty());
    }

    #[test]
    fn command_mode_keys_are_jupyters() {
        let shift_enter = Key {
            key: "Enter",
            shift: true,
            ..Key::default()
        };
        let ctrl_enter = Key {
            key: "Enter",
            ctrl: true,
            ..Key::default()
        };
        let ctrl_s = Key {
            key: "s",
            ctrl: true,
            ..Key::default()
        };
        let cases = [
            (key("Enter"), None, Some(Command::Edit)),
            (shift_enter, None, Some(Command::RunAndAdvance)),
            (ctrl_enter, None, Some(Command::Run)),
            (key("a"), None, Some(Command::InsertAbove)),
            (key("b"), None, Some(Command::InsertBelow)),
            (key("d"), None, None),
            (key("d"), Some("d"), Some(Command::Delete)),
            (key("i"), Some("i"), Some(Command::Interrupt)),
            (key("m"), None, Some(Command::ToMarkdown)),
            (key("y"), None, Some(Command::ToCode)),
            (key("ArrowDown"), None, Some(Command::SelectNext)),
            (key("k"), None, Some(Command::SelectPrevious)),
            (ctrl_s, None, Some(Command::Save)),
            (
                Key {
                    key: "a",
                    ctrl: true,
                    ..Key::default()
                },
                None,
                None,
            ),
            (key("x"), None, None),
        ];
        for (k, previous, expect) in cases {
            assert_eq!(command(k, previous), expect, "{k:?} after {previous:?}");
        }
        assert_eq!(edit_command(shift_enter), Some(Command::RunAndAdvance));
        assert_eq!(edit_command(key("a")), None);
        assert_eq!(edit_command(key("Enter")), None);
    }

    #[test]
    fn paths_and_new_names() {
        assert_eq!(folder_of("a/b/c.ipynb"), "a/b");
        assert_eq!(folder_of("c.ipynb"), "");
        assert_eq!(name_of("a/b/c.ipynb"), "c.ipynb");
        assert_eq!(join("", "x"), "x");
        assert_eq!(join("a", "x"), "a/x");
        let existing = vec!["Untitled.ipynb".to_owned(), "Untitled1.ipynb".to_owned()];
        assert_eq!(untitled(&existing, "Untitled", ".ipynb"), "Untitled2.ipynb");
        assert_eq!(untitled(&[], "Untitled Folder", ""), "Untitled Folder");
    }
}
