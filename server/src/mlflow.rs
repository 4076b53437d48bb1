//! MLflow's tracking API mapped onto Runboard's runs, sans-IO: the wire types of the
//! calls MLflow's client makes, its request limits and error codes, and the mapping
//! between MLflow's names and Runboard's. The HTTP edge is `api/mlflow.rs`.
//!
//! The mapping:
//! - an MLflow experiment is a Runboard experiment; its `experiment_id` is its name,
//!   except that MLflow's default experiment `"0"` is the experiment `Default` (names
//!   are stable and survive a backup, where SQLite rowids need not);
//! - an MLflow run is a Runboard run, `run_id` the Runboard run id; a run MLflow's
//!   client creates has no process: it is stored on the compute target [`TARGET`],
//!   `Running` until `runs/update` ends it;
//! - metrics are Runboard metrics (the store `Run.log` writes, so they stream live),
//!   params are run properties, tags are run tags;
//! - artifacts are the run's `outputs/` files: `artifact_uri` is
//!   `mlflow-artifacts:/<run_id>/outputs`.

pub mod wire;

use std::collections::BTreeMap;

use runboard_shared::api::{MetricEntry, MetricsBatch};
use runboard_shared::run::{ExperimentName, RunStatus};
use runboard_shared::series::{Step, WallTime};
use serde::{Deserialize, Deserializer, Serialize};

/// The compute target of runs that MLflow's client created (no process runs them).
pub const TARGET: &str = "mlflow";
/// MLflow's default experiment id.
pub const DEFAULT_EXPERIMENT_ID: &str = "0";
/// The Runboard experiment MLflow's default experiment maps to.
pub const DEFAULT_EXPERIMENT_NAME: &str = "Default";
/// Most metrics in one `runs/log-batch` (MLflow's `MAX_METRICS_PER_BATCH`).
pub const MAX_METRICS_PER_BATCH: usize = 1000;
/// Most params, and most tags, in one `runs/log-batch`.
pub const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
/// Most bytes of one `runs/log-batch` body (MLflow's `MAX_BATCH_LOG_REQUEST_SIZE`).
pub const MAX_BATCH_BYTES: usize = 1_000_000;
/// Most runs one `runs/search` page may ask for (MLflow's own limit).
pub const MAX_SEARCH_RESULTS: usize = 50_000;
/// Most points of one `metrics/get-history` page when the client names no limit.
pub const HISTORY_PAGE: usize = 25_000;

/// An error in MLflow's shape: its `error_code` and HTTP status, and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MlflowError {
    /// `INVALID_PARAMETER_VALUE` (400): the request is malformed or over a limit.
    #[error("{0}")]
    InvalidParameter(String),
    /// `RESOURCE_DOES_NOT_EXIST` (404): no such experiment, run, metric or file.
    #[error("{0}")]
    NotFound(String),
    /// `RESOURCE_ALREADY_EXISTS` (400): an experiment of that name exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// `ENDPOINT_NOT_FOUND` (404): MLflow has this route, Runboard does not.
    #[error("{0}")]
    EndpointNotFound(String),
    /// `UNAUTHENTICATED` (401): no valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// `PERMISSION_DENIED` (403): credentials that do not allow this.
    #[error("{0}")]
    PermissionDenied(String),
    /// `INTERNAL_ERROR` (500): the server failed.
    #[error("{0}")]
    Internal(String),
}

impl MlflowError {
    /// MLflow's `error_code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameter(_) => "INVALID_PARAMETER_VALUE",
            Self::NotFound(_) => "RESOURCE_DOES_NOT_EXIST",
            Self::AlreadyExists(_) => "RESOURCE_ALREADY_EXISTS",
            Self::EndpointNotFound(_) => "ENDPOINT_NOT_FOUND",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::PermissionDenied(_) => "PERMISSION_DENIED",
            Self::Internal(_) => "INTERNAL_ERROR",
        }
    }

    /// The HTTP status MLflow's server answers with this code.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidParameter(_) | Self::AlreadyExists(_) => 400,
            Self::NotFound(_) | Self::EndpointNotFound(_) => 404,
            Self::Unauthenticated(_) => 401,
            Self::PermissionDenied(_) => 403,
            Self::Internal(_) => 500,
        }
    }

    /// The JSON body: `{"error_code": ..., "message": ...}`.
    pub fn body(&self) -> wire::ErrorBody {
        wire::ErrorBody {
            error_code: self.code(),
            message: self.to_string(),
        }
    }
}

/// The id MLflow sees for a Runboard experiment.
pub fn experiment_id(name: &str) -> String {
    if name == DEFAULT_EXPERIMENT_NAME {
        DEFAULT_EXPERIMENT_ID.to_owned()
    } else {
        name.to_owned()
    }
}

/// The Runboard experiment an MLflow experiment id names.
pub fn experiment_name(id: &str) -> Result<ExperimentName, MlflowError> {
    let name = if id == DEFAULT_EXPERIMENT_ID {
        DEFAULT_EXPERIMENT_NAME
    } else {
        id
    };
    ExperimentName::new(name)
        .map_err(|_| MlflowError::NotFound(format!("no experiment with id {id:?}")))
}

/// A name for a new experiment, checked against Runboard's (the SDK's) rule.
pub fn new_experiment_name(name: &str) -> Result<ExperimentName, MlflowError> {
    ExperimentName::new(name).map_err(|e| {
        MlflowError::InvalidParameter(format!(
            "experiment name: {e}; Runboard experiment names follow Azure ML's rule"
        ))
    })
}

/// MLflow's name for a Runboard status.
pub fn status_name(status: RunStatus) -> &'static str {
    use RunStatus::*;
    match status {
        Queued | Preparing | Starting => "SCHEDULED",
        Running | Finalizing | CancelRequested => "RUNNING",
        Completed => "FINISHED",
        Failed => "FAILED",
        Canceled => "KILLED",
    }
}

/// The Runboard statuses, in order, that end a process-less run for an MLflow
/// status given to `runs/update`; empty for one that does not end it.
pub fn ending(status: &str) -> Result<&'static [RunStatus], MlflowError> {
    use RunStatus::*;
    match status {
        "RUNNING" | "SCHEDULED" => Ok(&[]),
        "FINISHED" => Ok(&[Finalizing, Completed]),
        "FAILED" => Ok(&[Failed]),
        "KILLED" => Ok(&[CancelRequested, Canceled]),
        other => Err(MlflowError::InvalidParameter(format!(
            "status {other:?} is not one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED"
        ))),
    }
}

/// Milliseconds since the epoch of an RFC 3339 time.
pub fn millis(rfc3339: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A number that protobuf's JSON may write as a string (`"12"`, `"NaN"`).
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        N(f64),
        S(String),
    }
    match Num::deserialize(d)? {
        Num::N(n) => Ok(n),
        Num::S(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => s.parse().map_err(serde::de::Error::custom),
        },
    }
}

/// An integer that protobuf's JSON may write as a string (int64 fields).
fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        N(i64),
        S(String),
        Null(()),
    }
    match Option::<Int>::deserialize(d)? {
        None | Some(Int::Null(())) => Ok(None),
        Some(Int::N(n)) => Ok(Some(n)),
        Some(Int::S(s)) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// A number as protobuf's JSON writes a double: non-finite ones as strings.
pub fn json_number(v: f64) -> serde_json::Value {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "Infinity".into()
    } else if v == f64::NEG_INFINITY {
        "-Infinity".into()
    } else {
        serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into)
    }
}

/// A key and a value: a param or a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value.
    #[serde(default)]
    pub value: String,
}

/// One metric point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The metric's name.
    pub key: String,
    /// Its value.
    #[serde(deserialize_with = "number", serialize_with = "ser_number")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[serde(default, deserialize_with = "int")]
    pub timestamp: Option<i64>,
    /// The step (MLflow's default 0).
    #[serde(default, deserialize_with = "int")]
    pub step: Option<i64>,
}

fn ser_number<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    json_number(*v).serialize(s)
}

/// `runs/log-batch` (and, one item each, `log-metric`, `log-parameter`, `set-tag`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LogBatch {
    /// The run.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Metric points.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Params.
    #[serde(default)]
    pub params: Vec<KeyValue>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

/// `runs/log-metric`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogMetric {
    /// The run (its old name `run_uuid` is read as this: see [`run_uuid_as_run_id`]).
    #[serde(default)]
    pub run_id: Option<String>,
    /// The point.
    #[serde(flatten)]
    pub metric: Metric,
}

/// `runs/log-parameter` and `runs/set-tag`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogKeyValue {
    /// The run (its old name `run_uuid` is read as this: see [`run_uuid_as_run_id`]).
    #[serde(default)]
    pub run_id: Option<String>,
    /// The param or tag.
    #[serde(flatten)]
    pub item: KeyValue,
}

/// `experiments/create`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreateExperiment {
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Tags (ignored: Runboard experiments have none).
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

/// `runs/create`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CreateRun {
    /// The experiment (absent: the default one).
    #[serde(default)]
    pub experiment_id: Option<String>,
    /// Who (kept as the tag `mlflow.user` when the client sets it).
    #[serde(default)]
    pub user_id: Option<String>,
    /// The run's name (the tag `mlflow.runName`).
    #[serde(default)]
    pub run_name: Option<String>,
    /// When it started, in milliseconds.
    #[serde(default, deserialize_with = "int")]
    pub start_time: Option<i64>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

/// `runs/update`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct UpdateRun {
    /// The run (its old name `run_uuid` is read as this: see [`run_uuid_as_run_id`]).
    #[serde(default)]
    pub run_id: Option<String>,
    /// The new status.
    #[serde(default)]
    pub status: Option<String>,
    /// When it ended, in milliseconds.
    #[serde(default, deserialize_with = "int")]
    pub end_time: Option<i64>,
    /// A new name.
    #[serde(default)]
    pub run_name: Option<String>,
}

/// `runs/delete`, `runs/get` by body.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RunRef {
    /// The run (its old name `run_uuid` is read as this: see [`run_uuid_as_run_id`]).
    #[serde(default)]
    pub run_id: Option<String>,
}

/// `runs/search`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SearchRuns {
    /// The experiments searched.
    #[serde(default)]
    pub experiment_ids: Vec<String>,
    /// MLflow's filter language; see [`Filter`].
    #[serde(default)]
    pub filter: Option<String>,
    /// Most runs on one page (MLflow's default 1,000).
    #[serde(default, deserialize_with = "int")]
    pub max_results: Option<i64>,
    /// The `next_page_token` of the previous page.
    #[serde(default)]
    pub page_token: Option<String>,
    /// MLflow's `order_by` clauses; see [`OrderBy`].
    #[serde(default)]
    pub order_by: Vec<String>,
    /// `ACTIVE_ONLY`, `DELETED_ONLY` or `ALL`; see [`deleted_only`].
    #[serde(default)]
    pub run_view_type: Option<String>,
}

/// Whether a `run_view_type` asks for deleted runs only. Runboard deletes for good
/// (nothing is kept to list), so such a search finds nothing; `ACTIVE_ONLY` and `ALL`
/// are every run there is.
pub fn deleted_only(run_view_type: Option<&str>) -> Result<bool, MlflowError> {
    match run_view_type.unwrap_or("ACTIVE_ONLY") {
        "" | "ACTIVE_ONLY" | "ALL" => Ok(false),
        "DELETED_ONLY" => Ok(true),
        other => Err(MlflowError::InvalidParameter(format!(
            "run_view_type {other:?} is not one of ACTIVE_ONLY, DELETED_ONLY, ALL"
        ))),
    }
}

/// `experiments/search`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SearchExperiments {
    /// Most experiments on one page.
    #[serde(default, deserialize_with = "int")]
    pub max_results: Option<i64>,
    /// A filter: only `name = '...'` and `name LIKE '...%'` are understood.
    #[serde(default)]
    pub filter: Option<String>,
}

/// Reads MLflow's old name of `run_id`, `run_uuid` (which its client sends beside
/// `run_id`, with the same value), as `run_id`.
pub fn run_uuid_as_run_id(body: &mut serde_json::Value) {
    if let Some(obj) = body.as_object_mut()
        && let Some(uuid) = obj.remove("run_uuid")
    {
        obj.entry("run_id").or_insert(uuid);
    }
}

/// The id of the run a request names: `run_id`, or `run_uuid` (its old name).
pub fn required_run_id(run_id: Option<&str>) -> Result<&str, MlflowError> {
    run_id.filter(|s| !s.is_empty()).ok_or_else(|| {
        MlflowError::InvalidParameter("missing value for required parameter 'run_id'".into())
    })
}

/// Checks MLflow's limits on a `runs/log-batch` of `body_bytes` bytes.
pub fn check_batch(body_bytes: usize, batch: &LogBatch) -> Result<(), MlflowError> {
    if body_bytes > MAX_BATCH_BYTES {
        return Err(MlflowError::InvalidParameter(format!(
            "Batched logging API requests must be at most {MAX_BATCH_BYTES} bytes, got a request of {body_bytes} bytes"
        )));
    }
    for (what, len, max) in [
        ("metrics", batch.metrics.len(), MAX_METRICS_PER_BATCH),
        ("params", batch.params.len(), MAX_PARAMS_TAGS_PER_BATCH),
        ("tags", batch.tags.len(), MAX_PARAMS_TAGS_PER_BATCH),
    ] {
        if len > max {
            return Err(MlflowError::InvalidParameter(format!(
                "A batch logging request can contain at most {max} {what}. Got {len} {what}. \
                 Please split up {what} across multiple requests and try again."
            )));
        }
    }
    let total = batch.metrics.len() + batch.params.len() + batch.tags.len();
    if total > MAX_METRICS_PER_BATCH {
        return Err(MlflowError::InvalidParameter(format!(
            "A batch logging request can contain at most {MAX_METRICS_PER_BATCH} metrics, params \
             and tags in total. Got {total}."
        )));
    }
    Ok(())
}

/// A param that would change: MLflow's params are written once.
pub fn param_conflict(
    existing: &BTreeMap<String, String>,
    params: &[KeyValue],
) -> Result<(), MlflowError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for p in params {
        let old = existing
            .get(&p.key)
            .map(String::as_str)
            .or_else(|| seen.get(p.key.as_str()).copied());
        if let Some(old) = old
            && old != p.value
        {
            return Err(MlflowError::InvalidParameter(format!(
                "Changing param values is not allowed. Param with key='{}' was already logged \
                 with value='{old}' for this run. Attempted logging new value '{}'.",
                p.key, p.value
            )));
        }
        seen.insert(&p.key, &p.value);
    }
    Ok(())
}

/// A batch as Runboard's metrics ingest takes it: the points of each metric as one
/// entry (in the order logged, with their steps and wall times; one entry per metric
/// makes one append and one transaction of the store, not one per point), tags as
/// tags, params as properties. `now` stands in for a missing timestamp. MLflow's
/// steps and millisecond timestamps become [`Step`]s and [`WallTime`]s here.
pub fn to_metrics_batch(batch: &LogBatch, now: WallTime) -> MetricsBatch {
    let mut metrics: Vec<MetricEntry> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &batch.metrics {
        let i = *index.entry(&m.key).or_insert_with(|| {
            metrics.push(MetricEntry {
                name: m.key.clone(),
                ..MetricEntry::default()
            });
            metrics.len() - 1
        });
        let entry = &mut metrics[i];
        entry.values.push(m.value);
        entry.steps.push(Step(m.step.unwrap_or(0)));
        entry
            .wall_times
            .push(m.timestamp.map_or(now, WallTime::from_millis));
    }
    MetricsBatch {
        metrics,
        tags: batch
            .tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect(),
        properties: batch
            .params
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect(),
        batch: None,
    }
}

/// A run as `runs/search` filters it.
#[derive(Debug, Clone, PartialEq)]
pub struct Searched<'a> {
    /// MLflow's status name.
    pub status: &'a str,
    /// The run's name.
    pub run_name: &'a str,
    /// Tags.
    pub tags: &'a BTreeMap<String, String>,
    /// Params.
    pub params: &'a BTreeMap<String, String>,
    /// The last value of each metric.
    pub metrics: &'a BTreeMap<String, f64>,
    /// The run id.
    pub run_id: &'a str,
    /// When it started, in milliseconds.
    pub start_time: Option<i64>,
    /// When it ended, in milliseconds.
    pub end_time: Option<i64>,
}

/// A comparison of MLflow's filter language.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One clause: `<entity>.<key> <op> <value>`.
#[derive(Debug, Clone, PartialEq)]
struct Clause {
    entity: String,
    key: String,
    op: Op,
    value: String,
}

/// A parsed `runs/search` filter: clauses joined by `AND` (MLflow's language has no
/// `OR`). Understood: `metrics.<k>` with `= != < <= > >=` and a number;
/// `params.<k>`, `tags.<k>`, `attributes.status`, `attributes.run_name` with `=` or
/// `!=` and a quoted string. Keys may be quoted with backticks or double quotes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter(Vec<Clause>);

impl Filter {
    /// Parses `text`; an empty filter matches every run.
    pub fn parse(text: &str) -> Result<Self, MlflowError> {
        let bad =
            |why: &str| MlflowError::InvalidParameter(format!("invalid filter {text:?}: {why}"));
        let mut clauses = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (entity, after) = rest
                .split_once('.')
                .ok_or_else(|| bad("expected <entity>.<key>"))?;
            let entity = match entity.trim().to_ascii_lowercase().as_str() {
                "metrics" | "metric" => "metrics",
                "params" | "param" | "parameters" | "parameter" => "params",
                "tags" | "tag" => "tags",
                "attributes" | "attribute" | "attr" | "run" => "attributes",
                other => return Err(bad(&format!("unknown entity {other:?}"))),
            };
            let (key, after) = take_token(after).ok_or_else(|| bad("expected a key"))?;
            let after = after.trim_start();
            let (op, after) = [
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("=", Op::Eq),
                ("<", Op::Lt),
                (">", Op::Gt),
            ]
            .into_iter()
            .find_map(|(s, op)| after.strip_prefix(s).map(|a| (op, a)))
            .ok_or_else(|| bad("expected one of = != < <= > >="))?;
            let (value, after) =
                take_token(after.trim_start()).ok_or_else(|| bad("expected a value"))?;
            if entity != "metrics" && !matches!(op, Op::Eq | Op::Ne) {
                return Err(bad("only = and != compare strings"));
            }
            if entity == "metrics" && value.parse::<f64>().is_err() {
                return Err(bad(&format!(
                    "metrics compare with a number, got {value:?}"
                )));
            }
            if entity == "attributes" && !matches!(key.as_str(), "status" | "run_name") {
                return Err(bad(&format!(
                    "the attribute {key:?} is not searchable here; status and run_name are"
                )));
            }
            clauses.push(Clause {
                entity: entity.to_owned(),
                key,
                op,
                value,
            });
            rest = after.trim_start();
            if rest.is_empty() {
                break;
            }
            let lower = rest.get(..4).map(str::to_ascii_lowercase);
            if lower.as_deref() == Some("and ") {
                rest = rest[4..].trim_start();
            } else {
                return Err(bad("clauses are joined with AND"));
            }
        }
        Ok(Self(clauses))
    }

    /// Whether `run` passes every clause.
    pub fn matches(&self, run: &Searched<'_>) -> bool {
        self.0.iter().all(|c| {
            if c.entity == "metrics" {
                let (Some(v), Ok(x)) = (run.metrics.get(&c.key), c.value.parse::<f64>()) else {
                    return false;
                };
                return match c.op {
                    Op::Eq => *v == x,
                    Op::Ne => *v != x,
                    Op::Lt => *v < x,
                    Op::Le => *v <= x,
                    Op::Gt => *v > x,
                    Op::Ge => *v >= x,
                };
            }
            let found = match (c.entity.as_str(), c.key.as_str()) {
                ("attributes", "status") => Some(run.status),
                ("attributes", _) => Some(run.run_name),
                ("params", k) => run.params.get(k).map(String::as_str),
                (_, k) => run.tags.get(k).map(String::as_str),
            };
            match (found, &c.op) {
                (Some(v), Op::Eq) => v == c.value,
                (Some(v), Op::Ne) => v != c.value,
                _ => false,
            }
        })
    }
}

/// What one `order_by` clause sorts by.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SortKey {
    Metric(String),
    Param(String),
    Tag(String),
    StartTime,
    EndTime,
    RunName,
    Status,
    RunId,
}

/// A value a run sorts by: a number or a string, or none (sorted last).
#[derive(Debug, Clone, PartialEq)]
enum SortValue<'a> {
    Number(f64),
    Text(&'a str),
    Missing,
}

/// The value `run` sorts by under `key`.
fn sort_value<'a>(run: &Searched<'a>, key: &SortKey) -> SortValue<'a> {
    let text = |v: Option<&'a String>| v.map_or(SortValue::Missing, |s| SortValue::Text(s));
    let number = |v: Option<i64>| v.map_or(SortValue::Missing, |n| SortValue::Number(n as f64));
    match key {
        SortKey::Metric(k) => run
            .metrics
            .get(k)
            .map_or(SortValue::Missing, |v| SortValue::Number(*v)),
        SortKey::Param(k) => text(run.params.get(k)),
        SortKey::Tag(k) => text(run.tags.get(k)),
        SortKey::StartTime => number(run.start_time),
        SortKey::EndTime => number(run.end_time),
        SortKey::RunName => SortValue::Text(run.run_name),
        SortKey::Status => SortValue::Text(run.status),
        SortKey::RunId => SortValue::Text(run.run_id),
    }
}

/// Parsed `runs/search` `order_by` clauses, as MLflow's SQL store orders: each
/// `<entity>.<key> [ASC|DESC]` (ascending by default; an identifier without an
/// entity is an attribute), runs without the value after those with it whichever
/// the direction (and a NaN metric between the two), then newest `start_time`
/// first, then by run id. Attributes: `start_time` (or `created`), `end_time`,
/// `run_name`, `status`, `run_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderBy(Vec<(SortKey, bool)>);

impl OrderBy {
    /// Parses the clauses; an empty list is MLflow's default order.
    pub fn parse(clauses: &[String]) -> Result<Self, MlflowError> {
        let mut keys = Vec::new();
        for text in clauses {
            let bad = |why: &str| {
                MlflowError::InvalidParameter(format!("invalid order_by clause {text:?}: {why}"))
            };
            let trimmed = text.trim();
            let (ident, ascending) = match trimmed.rsplit_once(char::is_whitespace) {
                Some((rest, dir)) if dir.eq_ignore_ascii_case("asc") => (rest.trim_end(), true),
                Some((rest, dir)) if dir.eq_ignore_ascii_case("desc") => (rest.trim_end(), false),
                _ => (trimmed, true),
            };
            if ident.is_empty() {
                return Err(bad("expected <entity>.<key> [ASC|DESC]"));
            }
            let (entity, key) = match ident.split_once('.') {
                Some((e, k)) if !e.starts_with(['`', '"', '\'']) => (e.to_ascii_lowercase(), k),
                _ => ("attributes".to_owned(), ident),
            };
            let key = match take_token(key) {
                Some((k, rest)) if rest.trim().is_empty() => k,
                _ => {
                    return Err(bad(
                        "expected one key, quoted with backticks if it has spaces",
                    ));
                }
            };
            let sort = match entity.as_str() {
                "metrics" | "metric" => SortKey::Metric(key),
                "params" | "param" | "parameters" | "parameter" => SortKey::Param(key),
                "tags" | "tag" => SortKey::Tag(key),
                "attributes" | "attribute" | "attr" | "run" => match key.as_str() {
                    "start_time" | "created" | "Created" => SortKey::StartTime,
                    "end_time" => SortKey::EndTime,
                    "run_name" => SortKey::RunName,
                    "status" => SortKey::Status,
                    "run_id" => SortKey::RunId,
                    other => {
                        return Err(bad(&format!(
                            "runs are not ordered by the attribute {other:?} here; \
                                 start_time, end_time, run_name, status and run_id are"
                        )));
                    }
                },
                other => {
                    return Err(bad(&format!(
                        "unknown entity {other:?}; metrics, params, tags and attributes are"
                    )));
                }
            };
            keys.push((sort, ascending));
        }
        Ok(Self(keys))
    }

    /// The order of two runs.
    pub fn compare(&self, a: &Searched<'_>, b: &Searched<'_>) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        // 0: a value, 1: NaN, 2: none; then the value itself.
        let rank = |v: &SortValue<'_>| match v {
            SortValue::Number(n) if n.is_nan() => 1,
            SortValue::Missing => 2,
            _ => 0,
        };
        for (key, ascending) in &self.0 {
            let (x, y) = (sort_value(a, key), sort_value(b, key));
            let by_rank = rank(&x).cmp(&rank(&y));
            if by_rank != Ordering::Equal {
                return by_rank;
            }
            let by_value = match (&x, &y) {
                (SortValue::Number(x), SortValue::Number(y)) => x.total_cmp(y),
                (SortValue::Text(x), SortValue::Text(y)) => x.cmp(y),
                _ => Ordering::Equal,
            };
            let by_value = if *ascending {
                by_value
            } else {
                by_value.reverse()
            };
            if by_value != Ordering::Equal {
                return by_value;
            }
        }
        let by_start = match (a.start_time, b.start_time) {
            (Some(x), Some(y)) => y.cmp(&x),
            (x, y) => y.is_some().cmp(&x.is_some()),
        };
        if !self.0.iter().any(|(k, _)| *k == SortKey::StartTime) && by_start != Ordering::Equal {
            return by_start;
        }
        a.run_id.cmp(b.run_id)
    }
}

/// A key or value: quoted with `'`, `"` or backticks, or a bare word.
fn take_token(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start();
    let first = text.chars().next()?;
    if matches!(first, '\'' | '"' | '`') {
        let end = text[1..].find(first)? + 1;
        return Some((text[1..end].to_owned(), &text[end + 1..]));
    }
    let end = text
        .find(|c: char| c.is_whitespace() || "=!<>".contains(c))
        .unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_owned(), &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(metrics: usize, params: usize, tags: usize) -> LogBatch {
        LogBatch {
            run_id: Some("r".into()),
            metrics: (0..metrics)
                .map(|i| Metric {
                    key: format!("m{i}"),
                    value: 1.0,
                    timestamp: Some(0),
                    step: Some(0),
                })
                .collect(),
            params: (0..params)
                .map(|i| KeyValue {
                    key: format!("p{i}"),
                    value: "v".into(),
                })
                .collect(),
            tags: (0..tags)
                .map(|i| KeyValue {
                    key: format!("t{i}"),
                    value: "v".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn batches_within_mlflow_limits_pass_and_others_name_the_limit() {
        let check = |bytes, b: LogBatch, expect: Option<&str>| {
            let got = check_batch(bytes, &b);
            match expect {
                None => assert_eq!(got, Ok(())),
                Some(needle) => {
                    let e = got.unwrap_err();
                    assert_eq!(e.code(), "INVALID_PARAMETER_VALUE");
                    assert_eq!(e.status(), 400);
                    assert!(e.to_string().contains(needle), "{e}");
                }
            }
        };
        check(10, batch(1000, 0, 0), None);
        check(10, batch(0, 100, 100), None);
        check(1_000_000, batch(1, 1, 1), None);
        check(10, batch(1001, 0, 0), Some("at most 1000 metrics"));
        check(10, batch(0, 101, 0), Some("at most 100 params"));
        check(10, batch(0, 0, 101), Some("at most 100 tags"));
        check(10, batch(900, 100, 100), Some("1100"));
        check(1_000_001, batch(1, 0, 0), Some("at most 1000000 bytes"));
    }

    #[test]
    fn experiment_ids_are_names_and_zero_is_default() {
        assert_eq!(experiment_id("Default"), "0");
        assert_eq!(experiment_id("mnist"), "mnist");
        assert_eq!(experiment_name("0").unwrap().as_str(), "Default");
        assert_eq!(experiment_name("mnist").unwrap().as_str(), "mnist");
        assert_eq!(
            experiment_name("no/such").unwrap_err().code(),
            "RESOURCE_DOES_NOT_EXIST"
        );
        assert_eq!(
            new_experiment_name("my experiment").unwrap_err().code(),
            "INVALID_PARAMETER_VALUE"
        );
    }

    #[test]
    fn statuses_map_both_ways() {
        assert_eq!(status_name(RunStatus::Running), "RUNNING");
        assert_eq!(status_name(RunStatus::Queued), "SCHEDULED");
        assert_eq!(status_name(RunStatus::Completed), "FINISHED");
        assert_eq!(status_name(RunStatus::Canceled), "KILLED");
        assert_eq!(status_name(RunStatus::Failed), "FAILED");
        assert_eq!(
            ending("FINISHED").unwrap(),
            [RunStatus::Finalizing, RunStatus::Completed]
        );
        assert!(ending("RUNNING").unwrap().is_empty());
        assert_eq!(
            ending("DONE").unwrap_err().code(),
            "INVALID_PARAMETER_VALUE"
        );
        // Each ending is a path the status machine allows from Running.
        for s in ["FINISHED", "FAILED", "KILLED"] {
            let mut at = RunStatus::Running;
            for next in ending(s).unwrap() {
                assert!(at.can_become(*next), "{s}: {at} -> {next}");
                at = *next;
            }
        }
    }

    #[test]
    fn protobuf_json_numbers_and_strings_both_parse() {
        let m: LogMetric = serde_json::from_str(
            r#"{"run_id": "r", "key": "loss", "value": "NaN", "timestamp": "1700000000000", "step": 3}"#,
        )
        .unwrap();
        assert!(m.metric.value.is_nan());
        assert_eq!(m.metric.timestamp, Some(1_700_000_000_000));
        assert_eq!(m.metric.step, Some(3));
        let mut v = serde_json::json!({"run_uuid": "r", "key": "a", "value": 0.5, "timestamp": 5});
        run_uuid_as_run_id(&mut v);
        let m: LogMetric = serde_json::from_value(v).unwrap();
        assert_eq!(m.run_id.as_deref(), Some("r"));
        assert_eq!(m.metric.step, None);
        assert_eq!(json_number(f64::NAN), "NaN");
        assert_eq!(json_number(1.5), 1.5);
    }

    #[test]
    fn a_batch_becomes_points_with_their_steps_and_times() {
        let b = LogBatch {
            run_id: None,
            metrics: vec![Metric {
                key: "acc".into(),
                value: 0.9,
                timestamp: Some(1500),
                step: Some(7),
            }],
            params: vec![KeyValue {
                key: "lr".into(),
                value: "0.1".into(),
            }],
            tags: vec![KeyValue {
                key: "t".into(),
                value: "x".into(),
            }],
        };
        let mut b = b;
        let point = |key: &str, value, step| Metric {
            key: key.into(),
            value,
            timestamp: None,
            step: Some(step),
        };
        b.metrics.extend([
            point("loss", 2.0, 0),
            point("acc", 0.95, 8),
            point("loss", 1.0, 1),
        ]);
        let m = to_metrics_batch(&b, WallTime::from_millis(2000));
        let names: Vec<&str> = m.metrics.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["acc", "loss"]);
        assert_eq!(m.metrics[0].values, [0.9, 0.95]);
        assert_eq!(m.metrics[0].steps, [Step(7), Step(8)]);
        let secs: Vec<f64> = m.metrics[0].wall_times.iter().map(|t| t.secs()).collect();
        assert_eq!(secs, [1.5, 2.0]);
        assert_eq!(m.metrics[1].values, [2.0, 1.0]);
        assert_eq!(m.metrics[1].steps, [Step(0), Step(1)]);
        assert_eq!(m.properties["lr"], "0.1");
        assert_eq!(m.tags["t"], "x");
    }

    #[test]
    fn params_are_written_once() {
        let existing = BTreeMap::from([("lr".to_owned(), "0.1".to_owned())]);
        let kv = |k: &str, v: &str| KeyValue {
            key: k.into(),
            value: v.into(),
        };
        assert_eq!(param_conflict(&existing, &[kv("lr", "0.1")]), Ok(()));
        assert_eq!(param_conflict(&existing, &[kv("n", "1")]), Ok(()));
        assert!(param_conflict(&existing, &[kv("lr", "0.2")]).is_err());
        assert!(param_conflict(&BTreeMap::new(), &[kv("a", "1"), kv("a", "2")]).is_err());
    }

    #[test]
    fn filters_match_as_mlflow_s_language_says() {
        let tags = BTreeMap::from([("team".to_owned(), "vision".to_owned())]);
        let params = BTreeMap::from([("lr".to_owned(), "0.1".to_owned())]);
        let metrics = BTreeMap::from([("acc".to_owned(), 0.9)]);
        let run = Searched {
            status: "FINISHED",
            run_name: "first",
            tags: &tags,
            params: &params,
            metrics: &metrics,
            run_id: "r",
            start_time: None,
            end_time: None,
        };
        let check = |filter: &str, expect: bool| {
            assert_eq!(
                Filter::parse(filter).unwrap().matches(&run),
                expect,
                "{filter}"
            );
        };
        check("", true);
        check("metrics.acc > 0.5", true);
        check("metrics.acc < 0.5", false);
        check("metrics.acc >= 0.9 and params.lr = '0.1'", true);
        check("metrics.missing > 0", false);
        check(
            "tags.team = 'vision' AND attributes.status = 'FINISHED'",
            true,
        );
        check("tags.`team` != \"vision\"", false);
        check("attributes.run_name = 'first'", true);
        check("params.lr = '0.2'", false);
        for bad in [
            "acc > 1",
            "metrics.acc ~ 1",
            "metrics.acc > high",
            "params.lr > '1'",
            "metrics.acc > 1 or metrics.acc < 0",
            "attributes.artifact_uri = 'x'",
        ] {
            assert_eq!(
                Filter::parse(bad).unwrap_err().code(),
                "INVALID_PARAMETER_VALUE",
                "{bad}"
            );
        }
    }

    #[test]
    fn order_by_sorts_as_mlflow_s_sql_store_and_names_what_it_cannot() {
        // Four runs: id, start time, last `score` (NaN, or none), `lr` param.
        struct R(&'static str, i64, Option<f64>, Option<&'static str>);
        let runs = [
            R("a", 10, Some(0.5), Some("0.1")),
            R("b", 20, Some(0.9), None),
            R("c", 30, None, Some("0.01")),
            R("d", 40, Some(f64::NAN), Some("0.1")),
            R("e", 40, Some(0.5), Some("0.3")),
        ];
        let data: Vec<_> = runs
            .iter()
            .map(|r| {
                let metrics: BTreeMap<String, f64> =
                    r.2.map(|v| ("score".to_owned(), v)).into_iter().collect();
                let params: BTreeMap<String, String> =
                    r.3.map(|v| ("lr".to_owned(), v.to_owned()))
                        .into_iter()
                        .collect();
                (r.0, r.1, metrics, params)
            })
            .collect();
        let tags = BTreeMap::new();
        let check = |clauses: &[&str], expect: &str| {
            let order =
                OrderBy::parse(&clauses.iter().map(|c| c.to_string()).collect::<Vec<_>>()).unwrap();
            let mut searched: Vec<Searched<'_>> = data
                .iter()
                .map(|(id, start, metrics, params)| Searched {
                    status: "FINISHED",
                    run_name: id,
                    tags: &tags,
                    params,
                    metrics,
                    run_id: id,
                    start_time: Some(*start),
                    end_time: None,
                })
                .collect();
            searched.sort_by(|a, b| order.compare(a, b));
            let got: String = searched.iter().map(|s| s.run_id).collect();
            assert_eq!(got, expect, "{clauses:?}");
        };
        // MLflow's default: newest first, ties by run id.
        check(&[], "decba");
        // A value first, then NaN, then none, in either direction; ties newest first.
        check(&["metrics.score DESC"], "beadc");
        check(&["metrics.`score` ASC"], "eabdc");
        check(&["metrics.score"], "eabdc");
        check(&["start_time"], "abcde");
        check(&["attributes.start_time DESC"], "decba");
        check(&["params.lr DESC", "metrics.score asc"], "eadcb");
        check(&["run_name desc"], "edcba");
        for bad in [
            "metrics.score sideways",
            "artifact_uri",
            "attributes.lifecycle_stage DESC",
            "datasets.name",
            "metrics.`a b` c",
            "",
        ] {
            let e = OrderBy::parse(&[bad.to_owned()]).unwrap_err();
            assert_eq!(e.code(), "INVALID_PARAMETER_VALUE", "{bad}");
            assert!(e.to_string().contains("order_by"), "{e}");
        }
    }
}
