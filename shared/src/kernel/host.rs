//! The kernel's only door to the world: the [`Host`] trait.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{RunDetails, RunFile, SubmitResponse, TagsPatch};
use crate::cell::worker::WaitingRun;
use crate::estimator::FieldError;
use crate::event::RunEvent;
use crate::run::RunId;

use super::display::Output;

/// Everything the kernel needs from outside: the server's REST API, the files area
/// and the cell's output. The browser implements it over `fetch` and the websocket
/// (in a Web Worker), the CLI over reqwest, tests with a fake.
///
/// # Design
///
/// The methods that reach the server are `async fn`s, and the kernel awaits them:
/// `Kernel::run_cell` is itself a future, which the host drives with whatever
/// executor it has (`wasm_bindgen_futures::spawn_local` in the browser, a tokio
/// `block_on` in the CLI, a trivial poll loop in tests). The kernel owns no timer and
/// no runtime; waiting for a run is [`Host::next_events`], which returns when the
/// server has something new. The futures are not required to be `Send` because the
/// browser's are not (the kernel runs on one thread everywhere).
///
/// # Paths
///
/// Paths into the files area are normalized by the kernel before they reach the
/// host: relative to the area's root, `/`-separated, without `.`, `..` or a leading
/// `/`; `""` is the root itself. The kernel resolves what a cell writes against the
/// notebook's folder ([`Host::cwd`]) and refuses paths that leave the area.
#[allow(async_fn_in_trait)] // Deliberate: no `Send` bound, see above.
pub trait Host {
    /// The notebook's folder in the files area (`""` for the root): a cell's working
    /// directory.
    fn cwd(&self) -> String;

    /// Live output of the running cell: printed text, the streamed log of a run,
    /// displays. Called in the order the cell produces them.
    fn output(&mut self, output: Output);

    /// Whether the user asked to interrupt the running cell. Checked at every loop
    /// iteration; a host may also end any pending call with
    /// [`HostError::Interrupted`].
    fn interrupted(&mut self) -> bool {
        false
    }

    /// The cell starts waiting on a run (`run.wait_for_completion()`): a host that can
    /// lose the cell's output (a page reload) records this to follow the run again
    /// later with [`super::Kernel::attach`].
    fn waiting(&mut self, _run: &WaitingRun) {}

    /// `GET /api/compute-targets`: the names of the server's compute targets.
    async fn compute_targets(&mut self) -> Result<Vec<String>, HostError>;

    /// Snapshots `submission.source_directory` (a files-area path) and submits it
    /// (`POST /api/experiments/{name}/runs`).
    async fn submit(&mut self, submission: Submission) -> Result<SubmitResponse, HostError>;

    /// `GET /api/runs/{id}`.
    async fn run_details(&mut self, run_id: &RunId) -> Result<RunDetails, HostError>;

    /// The run's events with `seq > after`, in order, waiting until there is at least
    /// one (the websocket `GET /api/runs/{id}/events?after=N`). A run's last event is
    /// its terminal status, so a caller that stops there never waits forever.
    async fn next_events(&mut self, run_id: &RunId, after: u64)
    -> Result<Vec<RunEvent>, HostError>;

    /// `GET /api/runs/{id}/files`.
    async fn run_files(&mut self, run_id: &RunId) -> Result<Vec<RunFile>, HostError>;

    /// Copies the run file `name` (`outputs/model.pkl`) to `to` in the files area,
    /// replacing it. Returns the size.
    async fn download_run_file(
        &mut self,
        run_id: &RunId,
        name: &str,
        to: &str,
    ) -> Result<u64, HostError>;

    /// The run's metrics as the SDK's `get_metrics()` returns them: name → the value,
    /// or the list of values when there are several.
    async fn metrics(
        &mut self,
        run_id: &RunId,
    ) -> Result<BTreeMap<String, serde_json::Value>, HostError>;

    /// `POST /api/runs/{id}/cancel`.
    async fn cancel_run(&mut self, run_id: &RunId) -> Result<(), HostError>;

    /// `PATCH /api/runs/{id}/tags`.
    async fn patch_tags(&mut self, run_id: &RunId, patch: &TagsPatch) -> Result<(), HostError>;

    /// What is at `path` in the files area, if anything.
    async fn stat(&mut self, path: &str) -> Result<Option<FileKind>, HostError>;

    /// The entries of the folder `path`, by name.
    async fn list_dir(&mut self, path: &str) -> Result<Vec<DirEntry>, HostError>;

    /// Writes (or with `append`, appends to) the file `path`; its folder exists.
    async fn write_file(&mut self, path: &str, data: &[u8], append: bool) -> Result<(), HostError>;

    /// Creates the folder `path` and its missing parents (`mkdir -p`).
    async fn make_dirs(&mut self, path: &str) -> Result<(), HostError>;

    /// The contents of the file `path`.
    async fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError>;

    /// Copies the file `from` to the file `to`, replacing it.
    async fn copy_file(&mut self, from: &str, to: &str) -> Result<(), HostError>;

    /// Copies the files under `src` (a files-area path) into the datastore `datastore`
    /// under `target_path`, and returns each copied file's path relative to `src`.
    async fn upload_to_datastore(
        &mut self,
        datastore: &str,
        src: &str,
        target_path: &str,
        overwrite: bool,
    ) -> Result<Vec<String>, HostError>;
}

/// A run to submit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// The experiment's name.
    pub experiment: String,
    /// The estimator's JSON form (as `Estimator` serializes it); its
    /// `source_directory` is as the user wrote it.
    pub estimator: serde_json::Value,
    /// The files-area folder to snapshot: `source_directory` resolved against the
    /// notebook's folder.
    pub source_directory: String,
    /// The run's tags.
    pub tags: BTreeMap<String, String>,
}

/// What a files-area path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A file.
    File,
    /// A folder.
    Dir,
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    /// The entry's name (no `/`).
    pub name: String,
    /// File or folder.
    pub kind: FileKind,
}

/// Why a host call failed. The kernel turns each into the Python exception the SDK
/// (or the standard library) would raise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Nothing at that path, or no such run or file (`FileNotFoundError`).
    #[error("{0}")]
    NotFound(String),
    /// Something is in the way (`FileExistsError`), e.g. a file where a folder goes.
    #[error("{0}")]
    Exists(String),
    /// The server refused the request as invalid; `fields` names each bad field.
    #[error("{message}")]
    Invalid {
        /// The server's message.
        message: String,
        /// Every field error, when there are several.
        fields: Vec<FieldError>,
    },
    /// This host cannot do that (`NotImplementedError`).
    #[error("{0}")]
    Unsupported(String),
    /// The user interrupted the cell (`KeyboardInterrupt`).
    #[error("interrupted")]
    Interrupted,
    /// Anything else: the server is unreachable, an I/O error (`OSError`).
    #[error("{0}")]
    Other(String),
}
