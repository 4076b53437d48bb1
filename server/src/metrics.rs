//! Metrics and TensorBoard scalars of a run: ingesting what the script logs
//! (`POST /api/runs/{id}/metrics`, fed by the `azureml.core.Run` shim), tailing the
//! TensorBoard event files under `logs/`, and reading series back whole or in
//! buckets. Points go to [`crate::series`] files; the store indexes them and carries
//! their events.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use runboard_shared::api::{MetricBrief, MetricsBatch, ScalarPoint, SeriesBody};
use runboard_shared::event::{EventBody, RunEvent};
use runboard_shared::run::RunId;
use runboard_shared::series::{Step, WallTime};

use crate::events::Events;
use crate::series::{self, XAxis};
use crate::store::{Store, StoreError};
use crate::tfevents::{self, EventFileReader};

/// Errors of metric handling.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The batch is malformed; the message names the metric and the field.
    #[error("{0}")]
    Invalid(String),
    /// The batch carries more values than one request may.
    #[error(
        "the batch carries {points} values, more than the limit of {max} per request; send them in several batches"
    )]
    TooMany {
        /// Values in the batch.
        points: usize,
        /// The limit ([`crate::limits::MAX_METRIC_POINTS`]).
        max: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing a series file failed.
    #[error("series file error: {0}")]
    Io(#[from] std::io::Error),
}

/// Most points carried by one event; longer batches become several events.
pub const POINTS_PER_EVENT: usize = 10_000;

/// Source name of metrics logged with `Run.log`.
pub const METRIC: &str = "metric";
/// Source name of TensorBoard scalars.
pub const TENSORBOARD: &str = "tensorboard";

/// The server's clock, for points logged without a wall time.
fn wall_clock() -> WallTime {
    WallTime::from_secs(chrono::Utc::now().timestamp_micros() as f64 / 1e6)
}

/// What metric ingest and reading need: the store, the [`Events`] service, the
/// per-run locks and where run folders are. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Metrics {
    store: Store,
    events: Events,
    metric_locks: std::sync::Arc<RunLocks>,
    data_dir: PathBuf,
}

impl Metrics {
    /// Metrics of the runs under `<data_dir>/runs`.
    pub fn new(store: Store, events: Events, data_dir: PathBuf) -> Self {
        Self {
            store,
            events,
            metric_locks: std::sync::Arc::default(),
            data_dir,
        }
    }

    fn run_dir(&self, run_id: &RunId) -> PathBuf {
        crate::run_dir(&self.data_dir, run_id)
    }
}

/// Stores a batch from a run's script. Checks the whole batch before storing any of
/// it, so a bad batch changes nothing.
pub async fn ingest(
    state: &Metrics,
    run_id: &RunId,
    batch: MetricsBatch,
) -> Result<usize, MetricsError> {
    const KINDS: [&str; 6] = ["scalar", "list", "row", "table", "image", "value"];
    use crate::limits::{MAX_METRIC_POINTS, cut, name_problem, tag_problem};
    let points: usize = batch
        .metrics
        .iter()
        .map(|m| if m.value.is_some() { 1 } else { m.values.len() })
        .sum();
    if points > MAX_METRIC_POINTS {
        return Err(MetricsError::TooMany {
            points,
            max: MAX_METRIC_POINTS,
        });
    }
    for (what, map) in [("tag", &batch.tags), ("property", &batch.properties)] {
        if let Some(problem) = map.iter().find_map(|(k, v)| tag_problem(what, k, v)) {
            return Err(MetricsError::Invalid(problem));
        }
    }
    for (i, m) in batch.metrics.iter().enumerate() {
        if let Some(problem) = name_problem(&m.name) {
            let shown = if m.name.trim().is_empty() {
                String::new()
            } else {
                format!(" {:?}", cut(&m.name))
            };
            return Err(MetricsError::Invalid(format!(
                "metrics[{i}]: name{shown} {problem}"
            )));
        }
        let what = format!("metrics[{i}] ({:?})", m.name);
        if let Some(kind) = &m.kind
            && !KINDS.contains(&kind.as_str())
        {
            return Err(MetricsError::Invalid(format!(
                "{what}: kind '{kind}' is not one of {}",
                KINDS.join(", ")
            )));
        }
        let n = if m.value.is_some() { 1 } else { m.values.len() };
        if m.value.is_some() && !m.values.is_empty() {
            return Err(MetricsError::Invalid(format!(
                "{what}: give value or values, not both"
            )));
        }
        if n == 0 {
            return Err(MetricsError::Invalid(format!("{what}: no value")));
        }
        for (field, len) in [("steps", m.steps.len()), ("wall_times", m.wall_times.len())] {
            if len != 0 && len != n {
                return Err(MetricsError::Invalid(format!(
                    "{what}: {field} has {len} entries for {n} values"
                )));
            }
        }
    }

    if let Some(id) = &batch.batch
        && (id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(MetricsError::Invalid(format!(
            "batch: {:?} is not a batch id (1 to 64 letters, digits, '-' or '_')",
            cut(id)
        )));
    }

    let _guard = state.metric_locks.lock(run_id).await;
    // A batch sent again after its answer was lost: stored already, answered alike.
    if let Some(id) = &batch.batch
        && state.metric_locks.seen(run_id, id)
    {
        return Ok(0);
    }
    let batch_id = batch.batch.clone();
    let mut stored = 0;
    let now = wall_clock();
    // The numbers of each metric, in the order logged: one append and one event per
    // metric per batch, however many `run.log` calls the batch holds (each viewer of
    // the run then gets a frame a batch, not a frame a point).
    let mut numbers_of: Vec<(String, Vec<LoggedNumber>)> = Vec::new();
    for m in batch.metrics {
        let kind = m.kind.clone().unwrap_or_else(|| "scalar".to_owned());
        let numbers: Option<Vec<f64>> = match (&m.value, kind.as_str()) {
            (None, _) => Some(m.values.clone()),
            (Some(serde_json::Value::Number(n)), "scalar") => n.as_f64().map(|v| vec![v]),
            (Some(serde_json::Value::Bool(b)), "scalar") => Some(vec![f64::from(u8::from(*b))]),
            _ => None,
        };
        match numbers {
            Some(values) => {
                let at = match numbers_of.iter().position(|(name, _)| *name == m.name) {
                    Some(at) => at,
                    None => {
                        numbers_of.push((m.name.clone(), Vec::new()));
                        numbers_of.len() - 1
                    }
                };
                numbers_of[at].1.extend(
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (m.steps.get(i).copied(), m.wall_times.get(i).copied(), *v)),
                );
            }
            None => {
                let kind = if kind == "scalar" {
                    "value".to_owned()
                } else {
                    kind
                };
                let value = m.value.clone().unwrap_or(serde_json::Value::Null);
                state
                    .events
                    .commit(
                        run_id,
                        state.store.add_metric_value(run_id, &m.name, &kind, &value),
                    )
                    .await?;
                stored += 1;
            }
        }
    }
    for (name, numbers) in numbers_of {
        let (_, count) = state.store.series(run_id, METRIC, "", &name).await?;
        let points: Vec<ScalarPoint> = numbers
            .iter()
            .enumerate()
            .map(|(i, (step, wall_time, value))| {
                ScalarPoint::new(
                    step.unwrap_or(Step(count as i64 + i as i64)),
                    wall_time.unwrap_or(now),
                    *value,
                )
            })
            .collect();
        stored += points.len();
        record_scalars_locked(state, run_id, METRIC, "", &name, &points).await?;
    }
    if !batch.tags.is_empty() {
        let patch = runboard_shared::api::TagsPatch {
            set: batch.tags,
            remove: Vec::new(),
        };
        state
            .events
            .commit(run_id, state.store.patch_tags(run_id, &patch))
            .await?;
    }
    state
        .store
        .add_properties(run_id, &batch.properties)
        .await?;
    if let Some(id) = batch_id {
        state.metric_locks.remember(run_id, id);
    }
    Ok(stored)
}

/// Appends points to a series and publishes them. The caller holds the run's
/// [`RunLocks`] lock.
async fn record_scalars_locked(
    state: &Metrics,
    run_id: &RunId,
    source: &str,
    tb_run: &str,
    name: &str,
    points: &[ScalarPoint],
) -> Result<Vec<RunEvent>, MetricsError> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let (id, count) = state.store.series(run_id, source, tb_run, name).await?;
    let file = series::path(&state.run_dir(run_id), id);
    let owned = points.to_vec();
    tokio::task::spawn_blocking(move || series::append(&file, count, &owned))
        .await
        .map_err(std::io::Error::other)??;
    let events = points
        .chunks(POINTS_PER_EVENT)
        .enumerate()
        .map(|(i, chunk)| {
            let body = EventBody::Scalars {
                source: source.to_owned(),
                run: tb_run.to_owned(),
                name: name.to_owned(),
                points: chunk.to_vec(),
            };
            let at = crate::store::ScalarsRef {
                source: source.to_owned(),
                run: tb_run.to_owned(),
                name: name.to_owned(),
                series: id,
                from: count + (i * POINTS_PER_EVENT) as u64,
                count: chunk.len() as u64,
            };
            (body, at)
        })
        .collect();
    let events = state
        .events
        .commit(
            run_id,
            state.store.advance_series(
                run_id,
                id,
                count + points.len() as u64,
                points.last().copied(),
                events,
            ),
        )
        .await?;
    Ok(events)
}

/// A number as logged: its step and wall time when given, and its value.
type LoggedNumber = (Option<Step>, Option<WallTime>, f64);

/// One lock per run for metric writes. A run's lock exists while someone holds or
/// waits for it, so the map holds only runs being written. Beside them, the ids of
/// each run's last [`RECENT_BATCHES`] stored batches (for [`MAX_RUNS_REMEMBERED`] runs
/// at most), so that a batch sent again after a lost answer is not stored twice.
#[derive(Debug, Default)]
pub struct RunLocks {
    locks:
        std::sync::Mutex<std::collections::HashMap<RunId, std::sync::Weak<tokio::sync::Mutex<()>>>>,
    recent: std::sync::Mutex<std::collections::HashMap<RunId, std::collections::VecDeque<String>>>,
}

/// Batch ids remembered per run: the SDK sends one batch at a time and retries the
/// one that failed before any newer, so a few suffice.
pub const RECENT_BATCHES: usize = 32;
/// Runs whose batch ids are remembered; past it, the map starts over (a retry that
/// old is then stored again).
pub const MAX_RUNS_REMEMBERED: usize = 10_000;

impl RunLocks {
    /// Waits for `run_id`'s lock.
    pub async fn lock(&self, run_id: &RunId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.retain(|_, lock| lock.strong_count() > 0);
            match locks.get(run_id).and_then(std::sync::Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = std::sync::Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(run_id.clone(), std::sync::Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    /// Whether batch `id` of `run_id` was stored. The caller holds the run's lock.
    pub fn seen(&self, run_id: &RunId, id: &str) -> bool {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent
            .get(run_id)
            .is_some_and(|ids| ids.iter().any(|seen| seen == id))
    }

    /// Notes that batch `id` of `run_id` was stored.
    pub fn remember(&self, run_id: &RunId, id: String) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= MAX_RUNS_REMEMBERED && !recent.contains_key(run_id) {
            recent.clear();
        }
        let ids = recent.entry(run_id.clone()).or_default();
        if ids.len() == RECENT_BATCHES {
            ids.pop_front();
        }
        ids.push_back(id);
    }
}

/// The SDK's `get_metrics()`: name → the value, or the list of values when the
/// metric was logged more than once.
pub async fn get_metrics(
    state: &Metrics,
    run_id: &RunId,
) -> Result<serde_json::Map<String, serde_json::Value>, MetricsError> {
    let mut out = serde_json::Map::new();
    let run_dir = state.run_dir(run_id);
    for row in state.store.series_list(run_id).await? {
        if row.source != METRIC {
            continue;
        }
        let file = series::path(&run_dir, row.id);
        let count = row.count;
        let points = tokio::task::spawn_blocking(move || series::read(&file, count))
            .await
            .map_err(std::io::Error::other)??;
        let values: Vec<serde_json::Value> = points.iter().map(|p| number(p.value)).collect();
        out.insert(row.name, collapse(values));
    }
    let mut grouped: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for (name, _, value) in state.store.metric_values(run_id).await? {
        match grouped.last_mut() {
            Some((last, values)) if *last == name => values.push(value),
            _ => grouped.push((name, vec![value])),
        }
    }
    for (name, values) in grouped {
        out.insert(name, collapse(values));
    }
    Ok(out)
}

/// Each metric of `run_id` in brief (count and last value), by name: numeric series
/// from their index rows, the other kinds from their stored values.
pub async fn briefs(state: &Metrics, run_id: &RunId) -> Result<Vec<MetricBrief>, MetricsError> {
    let mut out: Vec<MetricBrief> = state
        .store
        .series_list(run_id)
        .await?
        .into_iter()
        .filter(|row| row.source == METRIC)
        .map(|row| MetricBrief {
            name: row.name,
            series: true,
            count: row.count,
            last: row.last_value.map_or(serde_json::Value::Null, number),
        })
        .collect();
    for (name, _, value) in state.store.metric_values(run_id).await? {
        match out.last_mut() {
            Some(brief) if !brief.series && brief.name == name => {
                brief.count += 1;
                brief.last = value;
            }
            _ => out.push(MetricBrief {
                name,
                series: false,
                count: 1,
                last: value,
            }),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn number(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn collapse(mut values: Vec<serde_json::Value>) -> serde_json::Value {
    if values.len() == 1 {
        values.remove(0)
    } else {
        serde_json::Value::Array(values)
    }
}

/// A series read back: every point, or the buckets.
type SeriesParts = (
    Option<Vec<ScalarPoint>>,
    Option<Vec<runboard_shared::api::Bucket>>,
);

/// A series of a run, whole or in `buckets`.
pub async fn series_body(
    state: &Metrics,
    run_id: &RunId,
    source: &str,
    tb_run: &str,
    name: &str,
    buckets: Option<usize>,
    x: XAxis,
) -> Result<Option<SeriesBody>, MetricsError> {
    let rows = state.store.series_list(run_id).await?;
    let Some(row) = rows
        .into_iter()
        .find(|r| r.source == source && r.tb_run == tb_run && r.name == name)
    else {
        return Ok(None);
    };
    let file = series::path(&state.run_dir(run_id), row.id);
    let count = row.count;
    let body = tokio::task::spawn_blocking(move || -> std::io::Result<SeriesParts> {
        Ok(match buckets {
            Some(n) => (None, Some(series::bucketize_file(&file, count, n, x)?)),
            None => (Some(series::read(&file, count)?), None),
        })
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(Some(SeriesBody {
        name: row.name,
        run: row.tb_run,
        x: x.as_str().to_owned(),
        points: body.0,
        buckets: body.1,
        count: row.count,
    }))
}

/// The TensorBoard event files of a run: every file whose name contains `tfevents`
/// under `wd/logs/`, with its TensorBoard run (its folder relative to `logs/`, `.`
/// for `logs/` itself).
pub fn event_files(run_dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let Some(root) = crate::confined::real_folder(run_dir, Path::new("wd/logs")) else {
        return found;
    };
    let mut seen = 0;
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > crate::limits::MAX_LISTED_FILES {
                stack.clear();
                break;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && entry.file_name().to_string_lossy().contains("tfevents") {
                let run = dir
                    .strip_prefix(&root)
                    .ok()
                    .map(|r| r.to_string_lossy().into_owned())
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| ".".to_owned());
                found.push((path, run));
            }
        }
    }
    found.sort();
    found
}

/// Readers of a run's event files, kept by its driver between ticks.
#[derive(Debug, Default)]
pub struct EventFiles {
    readers: HashMap<PathBuf, EventFileReader>,
}

/// Reads what was appended to the run's TensorBoard event files and stores the
/// scalars (each point published with its sequence number) and counts the rest.
pub async fn tail_event_files(
    state: &Metrics,
    run_id: &RunId,
    run_dir: &Path,
    files: &mut EventFiles,
) -> Result<(), MetricsError> {
    for (path, tb_run) in event_files(run_dir) {
        let key = format!(
            "tfevents:{}",
            path.strip_prefix(run_dir).unwrap_or(&path).display()
        );
        let reader = match files.readers.get_mut(&path) {
            Some(r) => r,
            None => {
                let offset = state.store.log_offset(run_id, &key).await?;
                files
                    .readers
                    .entry(path.clone())
                    .or_insert_with(|| EventFileReader::at_offset(offset))
            }
        };
        // The job writes `logs/`: open only a regular file inside the run folder.
        let Ok(mut opened) = path
            .strip_prefix(run_dir)
            .map_err(|_| crate::confined::ConfinedError::Escapes)
            .and_then(|rel| crate::confined::open(run_dir, rel))
        else {
            continue;
        };
        if opened.meta.len() <= reader.offset() {
            continue;
        }
        let mut r = reader.clone();
        let (batch, r) = tokio::task::spawn_blocking(move || {
            let batch = tfevents::read_open(&mut opened.file, &mut r);
            (batch, r)
        })
        .await
        .map_err(std::io::Error::other)?;
        let batch = batch?;
        {
            let _guard = state.metric_locks.lock(run_id).await;
            for series in &batch.scalars {
                let points: Vec<ScalarPoint> = series
                    .points
                    .iter()
                    .map(|p| ScalarPoint::new(p.step, p.wall_time, p.value))
                    .collect();
                record_scalars_locked(state, run_id, TENSORBOARD, &tb_run, &series.tag, &points)
                    .await?;
            }
        }
        let mut counts: HashMap<(String, String), u64> = HashMap::new();
        for other in &batch.other {
            *counts
                .entry((other.tag.to_string(), other.kind.as_str().to_owned()))
                .or_default() += 1;
        }
        for ((tag, kind), n) in counts {
            state
                .store
                .count_other(run_id, &tb_run, &tag, &kind, n)
                .await?;
        }
        state.store.set_offset(run_id, &key, r.offset()).await?;
        files.readers.insert(path, r);
    }
    Ok(())
}

/// Spool files the shim writes under `logs/` when it could not reach the server
/// before the script ended.
pub const SPOOL_PREFIX: &str = "runboard-metrics-spool";

/// Ingests the shim's spool files of a run (one [`MetricsBatch`] per line), then
/// renames each to `….ingested` so it is never read twice. Problems are logged:
/// a bad spool must not fail a run that completed.
pub async fn ingest_spools(state: &Metrics, run_id: &RunId, run_dir: &Path) {
    let Some(Ok(entries)) =
        crate::confined::real_folder(run_dir, Path::new("wd/logs")).map(std::fs::read_dir)
    else {
        return;
    };
    let mut spools: Vec<PathBuf> = entries
        .take(crate::limits::MAX_LISTED_FILES)
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(SPOOL_PREFIX) && n.ends_with(".jsonl"))
        })
        .collect();
    spools.sort();
    for spool in spools {
        // The job wrote it: a regular file inside the run folder, of bounded size.
        let text = match spool
            .strip_prefix(run_dir)
            .map_err(|_| crate::confined::ConfinedError::Escapes)
            .and_then(|rel| {
                crate::confined::read_capped(run_dir, rel, crate::limits::MAX_SPOOL_BYTES)
            }) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                tracing::warn!(%run_id, spool = %spool.display(), error = %e, "metrics spool not read");
                String::new()
            }
        };
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str::<MetricsBatch>(line) {
                Ok(batch) => {
                    if let Err(e) = ingest(state, run_id, batch).await {
                        tracing::warn!(%run_id, spool = %spool.display(), line = i + 1, error = %e, "spooled metrics rejected");
                    }
                }
                Err(e) => {
                    tracing::warn!(%run_id, spool = %spool.display(), line = i + 1, error = %e, "unreadable spooled metrics")
                }
            }
        }
        let _ = std::fs::rename(&spool, spool.with_extension("jsonl.ingested"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_hold_their_own_metric_locks_and_a_run_waits_for_its_own() {
        let locks = RunLocks::default();
        let a = RunId::parse("exp_1700000000_0000000a").unwrap();
        let b = RunId::parse("exp_1700000000_0000000b").unwrap();
        let held_a = locks.lock(&a).await;
        // Another run is not kept waiting by a's writer.
        let held_b = tokio::time::timeout(std::time::Duration::from_secs(5), locks.lock(&b))
            .await
            .expect("run b waited for run a's lock");
        // The same run is.
        let second_a = locks.lock(&a);
        tokio::pin!(second_a);
        assert!(futures_util::poll!(second_a.as_mut()).is_pending());
        drop(held_a);
        let again = second_a.await;
        drop((again, held_b));
        // Locks nobody holds are forgotten.
        let c = RunId::parse("exp_1700000000_0000000c").unwrap();
        let _c = locks.lock(&c).await;
        assert_eq!(locks.locks.lock().unwrap().len(), 1);
    }
}
