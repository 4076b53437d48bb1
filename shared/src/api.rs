//! Request and response bodies of the REST API, shared by the server, the CLI and the
//! browser. Field names follow the Azure ML SDK v1 where the SDK has a name for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::run::{RunId, RunStatus};
use crate::series::{Step, WallTime};

/// Answer to `POST /api/experiments/{name}/runs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct SubmitResponse {
    /// The new run's id.
    pub run_id: RunId,
    /// The run's page in the portal.
    pub portal_url: String,
    /// The run's status (`Queued`).
    pub status: RunStatus,
}

/// One experiment in `GET /api/experiments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ExperimentSummary {
    /// The experiment's name.
    pub name: String,
    /// How many runs it has.
    pub run_count: u64,
    /// When its newest run was submitted (RFC 3339), if it has one.
    pub last_run_time: Option<String>,
    /// How many of its runs are in each status (statuses with no run are left out).
    pub status_counts: BTreeMap<RunStatus, u64>,
}

/// `GET /api/experiments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ExperimentList {
    /// The experiments, by name.
    pub experiments: Vec<ExperimentSummary>,
}

/// One run in a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunSummary {
    /// The run's id.
    pub run_id: RunId,
    /// The experiment it belongs to.
    pub experiment: String,
    /// Its current status.
    pub status: RunStatus,
    /// The compute target it runs on.
    pub target: String,
    /// When it was submitted (RFC 3339).
    pub created_utc: String,
    /// When its script started, if it did.
    pub start_time_utc: Option<String>,
    /// When it reached a terminal status, if it did.
    pub end_time_utc: Option<String>,
    /// The run's tags.
    pub tags: BTreeMap<String, String>,
    /// The run's properties (git information among them).
    pub properties: BTreeMap<String, String>,
    /// While the run waits in `Queued` for a free slot of its compute target: its
    /// place in that target's line, 1 being next. Absent once it has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
    /// Who submitted it: a person's name, or `admin` for the server token; absent for
    /// runs from before people existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    /// The run this one is a child of (a sweep's children); absent for a top-level run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_run_id: Option<RunId>,
}

/// `DELETE /api/runs/{id}`: what was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunDeleted {
    /// The run.
    pub run_id: String,
    /// Bytes of its folder freed on disk.
    pub freed_bytes: u64,
    /// A sweep's children, deleted with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<RunDeleted>,
}

/// `DELETE /api/experiments/{name}`: what was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ExperimentDeleted {
    /// The experiment.
    pub experiment: String,
    /// Its runs, each deleted.
    pub runs: Vec<RunDeleted>,
}

/// `GET /api/runs?experiment=&status=&limit=&cursor=`: newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunList {
    /// One page of runs.
    pub runs: Vec<RunSummary>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/runs/{id}`: the keys of the SDK's `Run.get_details()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The run's id.
    pub run_id: RunId,
    /// The experiment it belongs to.
    pub experiment: String,
    /// The compute target's name.
    pub target: String,
    /// Current status.
    pub status: RunStatus,
    /// When it was submitted (RFC 3339).
    pub created_utc: String,
    /// When its script started.
    pub start_time_utc: Option<String>,
    /// When it reached a terminal status.
    pub end_time_utc: Option<String>,
    /// Properties, git information among them.
    pub properties: BTreeMap<String, String>,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// What was submitted: the estimator, the command line, the script's argv.
    pub run_definition: serde_json::Value,
    /// Log file name → URL to download it.
    pub log_files: BTreeMap<String, String>,
    /// Every status the run went through, with its time.
    pub status_history: Vec<StatusChange>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The run's page in the portal.
    pub portal_url: String,
    /// While the run waits in `Queued` for a free slot of its compute target: its
    /// place in that target's line, 1 being next. Absent once it has started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
    /// Who submitted it (see [`RunSummary::submitted_by`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
}

/// One entry of a run's status history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct StatusChange {
    /// The status entered.
    pub status: RunStatus,
    /// When (RFC 3339).
    pub time: String,
}

/// One file of a run (`GET /api/runs/{id}/files`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunFile {
    /// Path relative to the run (`outputs/model.txt`, `user_logs/std_log.txt`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// `GET /api/runs/{id}/files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunFileList {
    /// The files, by path.
    pub files: Vec<RunFile>,
}

/// `GET /api/files` and `GET /api/files/{folder}`: the server's files area (or one
/// folder of it), recursively. Paths are `/`-separated and relative to the area's root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct FilesAreaList {
    /// The regular files, with their sizes, by path.
    pub files: Vec<RunFile>,
    /// Every folder (empty ones too), by path.
    pub folders: Vec<String>,
}

/// `POST /api/files/{*path}`: one action on a file or folder of the files area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FilesAreaAction {
    /// `{"rename_to": "new/path"}`: moves the file or folder (folders on the way are
    /// created; nothing is overwritten).
    RenameTo(String),
    /// `{"create_folder": {}}`: creates the folder and those on its way.
    CreateFolder {},
}

/// Answer to `POST /api/files/{path}`: the path the action made or moved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct FilesAreaActed {
    /// The file's or folder's path in the files area after the action.
    pub path: String,
}

/// `PATCH /api/runs/{id}/tags`: tags to set, and tag names to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TagsPatch {
    /// Tags to add or overwrite.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Tag names to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Every error answer of the API: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The content of an error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable machine-readable code (`not_found`, `invalid_estimator`, …).
    pub code: String,
    /// A sentence for a person, naming what was wrong.
    pub message: String,
    /// Every field error, when the request had several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldErrorBody>,
}

/// One field's error inside an [`ErrorDetail`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldErrorBody {
    /// The field, as the SDK names it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// One cached Python environment (`GET /api/environments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct EnvironmentSummary {
    /// The hash that names it.
    pub hash: String,
    /// What was asked for, in words (`pip: scikit-learn`).
    pub requested: String,
    /// The interpreter's version.
    pub python_version: String,
    /// `uv`, `pip` or `conda`.
    pub installer: String,
    /// When it was built (RFC 3339).
    pub created: String,
    /// When a run last used it (RFC 3339).
    pub last_used: String,
    /// Its size on disk, in bytes.
    pub size_bytes: u64,
    /// What is installed (`pip freeze`).
    pub packages: Vec<String>,
}

/// `GET /api/environments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct EnvironmentList {
    /// The environments, by hash.
    pub environments: Vec<EnvironmentSummary>,
}

/// Answer to `GET /api/frameworks/{framework}/versions`: the versions a framework
/// preset may name, as the package index lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct FrameworkVersions {
    /// The preset (`SKLearn`, `PyTorch`, ...).
    pub framework: String,
    /// The package it installs.
    pub package: String,
    /// The server's Python version, which the versions must support.
    pub python_version: String,
    /// The versions, as the index lists them.
    pub versions: Vec<String>,
}

/// One point of a scalar series.
// Its fields are the raw numbers, as the portal and the behaviour tests read them (this
// doc comment is the OpenAPI description); code that makes a point gives
// `ScalarPoint::new` a `Step` and a `WallTime`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ScalarPoint {
    /// The step (the SDK counts calls of `log` when no step is given).
    pub step: i64,
    /// Seconds since the Unix epoch.
    pub wall_time: f64,
    /// The value.
    pub value: f64,
}

impl ScalarPoint {
    /// The point `value` at `step`, written at `wall_time`.
    pub fn new(step: Step, wall_time: WallTime, value: f64) -> Self {
        Self {
            step: step.0,
            wall_time: wall_time.secs(),
            value,
        }
    }
}

/// One bucket of a downsampled series: the extremes and the last value of the
/// points whose x falls in `[x_start, x_end]`, so spikes stay visible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct Bucket {
    /// The smallest x in the bucket.
    pub x_start: f64,
    /// The largest x in the bucket.
    pub x_end: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The value of the last point.
    pub last: f64,
    /// How many points fell in the bucket.
    pub count: u64,
}

/// A series, whole or downsampled (`GET /api/runs/{id}/metrics/{name}`,
/// `GET /api/runs/{id}/scalars/series`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct SeriesBody {
    /// The metric name or TensorBoard tag.
    pub name: String,
    /// The TensorBoard run, empty for metrics.
    #[serde(default)]
    pub run: String,
    /// `step`, `relative` (seconds since the first point) or `wall`.
    pub x: String,
    /// Every point, when no `buckets` were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<ScalarPoint>>,
    /// The buckets, when `buckets=N` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<Bucket>>,
    /// How many points the series has.
    pub count: u64,
}

/// `GET /api/experiments/{name}/metrics?runs=ID,ID,…`: the metrics of several runs
/// of an experiment in brief, for comparing them (the experiment page's metric
/// columns and overlay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunsMetrics {
    /// The runs asked for, in the order asked.
    pub runs: Vec<RunMetrics>,
}

/// One run's metrics in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunMetrics {
    /// The run.
    pub run_id: RunId,
    /// Its metrics (`run.log` and the other `log_*` calls), by name.
    pub metrics: Vec<MetricBrief>,
}

/// A metric in brief: how many values were logged, and the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct MetricBrief {
    /// The name given to `run.log(name, …)`.
    pub name: String,
    /// `true` for numbers logged with `run.log` (a series, even of one point, whose
    /// points are at `GET /api/runs/{id}/metrics/{name}`), `false` for the other kinds.
    pub series: bool,
    /// Values logged.
    pub count: u64,
    /// The last value logged.
    pub last: serde_json::Value,
}

/// One TensorBoard scalar series (`GET /api/runs/{id}/scalars`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ScalarSummary {
    /// The TensorBoard run (folder under `logs/`, `.` for `logs/` itself).
    pub run: String,
    /// The tag.
    pub tag: String,
    /// Points stored.
    pub count: u64,
    /// The last point's step.
    pub last_step: Option<Step>,
    /// The last point's value.
    pub last_value: Option<f64>,
}

/// `GET /api/runs/{id}/scalars`: scalar series, and the other summaries found
/// (histograms, images, text), counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ScalarList {
    /// The scalar series.
    pub scalars: Vec<ScalarSummary>,
    /// Non-scalar summaries: run, tag, kind and how many.
    pub other: Vec<OtherSummary>,
}

/// Non-scalar TensorBoard summaries of one tag, counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct OtherSummary {
    /// The TensorBoard run.
    pub run: String,
    /// The tag.
    pub tag: String,
    /// `histogram`, `image`, `audio`, `text` or `tensor`.
    pub kind: String,
    /// How many were seen.
    pub count: u64,
}

/// `POST /api/runs/{id}/metrics`: what a run's script sends (the `azureml.core.Run`
/// shim batches into this).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricsBatch {
    /// Metric values, in the order logged.
    #[serde(default)]
    pub metrics: Vec<MetricEntry>,
    /// Tags to set (`run.tag`, `run.set_tags`).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Properties to add (`run.add_properties`).
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// The batch's id, chosen by the sender (the SDK: a random hex string): a batch
    /// sent again after a lost answer is answered without being stored twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// Answer to `POST /api/runs/{id}/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct MetricsIngested {
    /// How many values were stored (0 for a batch sent again under its id).
    pub stored: usize,
}

/// Values of one metric in a batch. Numbers go to the metric's scalar series:
/// either `value` (one) or `values` (several, with `steps` and `wall_times` of the
/// same length when given). Anything else (`kind` `list`, `row`, `table`, `image`,
/// or a string) is kept as it was logged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricEntry {
    /// The metric name.
    pub name: String,
    /// `scalar` (default), `list`, `row`, `table`, `image` or `value`.
    #[serde(default)]
    pub kind: Option<String>,
    /// One value.
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    /// Several numbers.
    #[serde(default)]
    pub values: Vec<f64>,
    /// The steps of `value`/`values`; absent: the metric's count so far, then +1.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The wall times of `value`/`values` (Unix seconds); absent: the server's time.
    #[serde(default)]
    pub wall_times: Vec<WallTime>,
    /// The SDK's `description`.
    #[serde(default)]
    pub description: Option<String>,
}

/// `POST /api/datastores/{name}/upload`: copies a folder (or one file) of the server's
/// files area into the datastore `name` (a folder of the server,
/// `<data>/datastores/<name>/`), as the SDK's `Datastore.upload(src_dir, target_path,
/// overwrite)` does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DatastoreUpload {
    /// The files-area path to copy (a folder: its files, recursively; or one file).
    pub src: String,
    /// Where in the datastore (`""`: its root).
    #[serde(default)]
    pub target_path: String,
    /// Replace files that are already there; otherwise they are kept and skipped.
    #[serde(default)]
    pub overwrite: bool,
}

/// The answer to [`DatastoreUpload`] and to `PUT /api/datastores/{name}/files/{*path}`
/// (raw body, `?overwrite=true|false`, default true), whose lists hold that one path
/// in the datastore, normalized (`./a//b` is `a/b`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct DatastoreUploaded {
    /// Each file copied, relative to `src` (for a single file: its name), sorted.
    pub files: Vec<String>,
    /// Files left as they were because they exist and `overwrite` was false (same
    /// form and order as `files`).
    #[serde(default)]
    pub skipped: Vec<String>,
}

/// `GET /api/runs/{id}/events?after=N&wait=S` asked without a websocket upgrade: the
/// run's events after `N` (at most a page), waiting up to `S` seconds for one when there
/// are none yet (a long poll, for clients without websockets: the Python SDK's
/// `wait_for_completion`, a synchronous request in the browser's kernel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    /// Events in sequence order, each with its `seq`; empty when the wait ran out.
    pub events: Vec<crate::event::RunEvent>,
    /// The `after` to ask with next: the last `seq` here, or the one asked with.
    pub next_after: u64,
}

/// `POST /api/models` (JSON): registers a run's file or folder as a new version of a
/// model. Uploaded files are registered with the multipart form of the same route: a
/// `model` part holding this JSON (without `run_id` and `path`) and one `file` part per
/// file (its file name may hold `/` for a folder's files).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterModel {
    /// The model's name: 1–255 of letters, digits, `-`, `_` and `.`, starting with a
    /// letter or digit (Azure ML's rule).
    pub name: String,
    /// The run whose file is registered.
    #[serde(default)]
    pub run_id: Option<String>,
    /// The run file or folder (`outputs/model.pkl`, `outputs/model/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Properties.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

/// One version of a registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ModelVersion {
    /// The model's name.
    pub name: String,
    /// Its version: 1, 2, 3, … per name.
    pub version: u32,
    /// The registered file or folder's name (`model.pkl`); the model's files are under
    /// it.
    pub path: String,
    /// The run it was registered from, if any.
    pub run_id: Option<String>,
    /// Free text.
    pub description: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub properties: BTreeMap<String, String>,
    /// When it was registered (RFC 3339, UTC).
    pub created_time: String,
    /// Its files, relative to the version's folder (`model.pkl`, `model/weights.bin`).
    pub files: Vec<RunFile>,
}

/// `GET /api/models` (the latest version of each model, or with `?name=` every version
/// of one, newest first) and `GET /api/runs/{id}/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ModelList {
    /// The versions.
    pub models: Vec<ModelVersion>,
}

/// `GET /api/session`: who the request's credentials belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct Me {
    /// The person's name (`admin` for the server token), or `share link`.
    pub name: String,
    /// `viewer`, `editor` or `admin`; absent for a share link's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// For a share link's session: the run it shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_run: Option<String>,
    /// For a share link's session: the experiment it shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_experiment: Option<String>,
}

/// A browser session, as `GET /api/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct SessionInfo {
    /// Its id, for `DELETE /api/sessions/{id}` (not its secret).
    pub id: i64,
    /// Whose it is: a person's name, or `admin` for the server token's login.
    pub person: String,
    /// When it started (RFC 3339).
    pub created_utc: String,
    /// Its last request (RFC 3339, within a minute).
    pub last_seen_utc: String,
    /// True for the session making this request.
    pub current: bool,
}

/// `GET /api/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct SessionList {
    /// The caller's sessions (an admin's call lists everyone's).
    pub sessions: Vec<SessionInfo>,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct NewApiToken {
    /// What the token is for (1–100 characters), shown in lists.
    pub label: String,
}

/// A personal API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ApiTokenInfo {
    /// Its id, for `DELETE /api/tokens/{id}`.
    pub id: i64,
    /// Whose it is (`admin`: the built-in admin).
    pub person: String,
    /// Its label.
    pub label: String,
    /// When it was made (RFC 3339).
    pub created_utc: String,
}

/// `POST /api/tokens`' answer: the token itself, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ApiTokenCreated {
    /// The token's description.
    #[serde(flatten)]
    pub info: ApiTokenInfo,
    /// Send as `Authorization: Bearer <token>`; not stored, not shown again.
    pub token: String,
}

/// `GET /api/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ApiTokenList {
    /// The caller's tokens (an admin's call lists everyone's).
    pub tokens: Vec<ApiTokenInfo>,
}

/// `POST /api/runs/{id}/share-links` and `POST /api/experiments/{name}/share-links`
/// (an empty body is the same as `{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewShareLink {
    /// Hours until the link stops working: more than 0 (fractions allowed: 0.5 is
    /// half an hour), at most 87,600 (ten years); absent: until revoked.
    #[serde(default)]
    pub expires_in_hours: Option<f64>,
}

/// A read-only share link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ShareLinkInfo {
    /// Its id, for `DELETE …/share-links/{link}`.
    pub id: i64,
    /// The link to open, only in the answer that created it (the secret is not
    /// stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The run it shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The experiment it shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// Who made it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_utc: String,
    /// When it stops working (RFC 3339), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_utc: Option<String>,
}

/// `GET …/share-links`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ShareLinkList {
    /// Newest first.
    pub links: Vec<ShareLinkInfo>,
}

/// One child in `GET /api/runs/{id}/children`: the run, and for a sweep's child its
/// parameters, the best value of the sweep's primary metric, and why the sweep
/// stopped it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ChildRun {
    /// The child run.
    #[serde(flatten)]
    pub run: RunSummary,
    /// A sweep's child: its parameter values (name → value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<serde_json::Value>,
    /// A sweep's child: the best value it logged of the primary metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_metric: Option<f64>,
    /// A sweep's child that the sweep stopped: why (the policy's reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// `GET /api/runs/{id}/children`: oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ChildList {
    /// The children.
    pub children: Vec<ChildRun>,
    /// When the run is a sweep: its primary metric's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_metric_name: Option<String>,
    /// When the run is a sweep: `maximize` or `minimize`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_metric_goal: Option<String>,
}

/// Answer to `POST /api/runs/{id}/cancel`: the run and its status now, `Canceled`
/// (200: it ended at once) or `CancelRequested` (202: its job is being stopped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct RunCanceled {
    /// The run.
    pub run_id: RunId,
    /// Its status after the cancel.
    pub status: RunStatus,
}
