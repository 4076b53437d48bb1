//! The store: experiments, runs, status history, properties, tags, the file index and
//! every run's event log, in SQLite through sqlx. This is the only module that
//! writes SQL.
//!
//! Writes go through a pool of one connection, so they are serialised in this
//! process: that is what makes per-run sequence numbers gap-free without retries.
//! Reads use a separate pool and never wait for a writer (WAL).

mod mlflow;
mod models;
mod runview;
pub use runview::ViewRows;
mod sweeps;

pub use models::{ModelRow, NewModel};
pub use sweeps::{SweepChildRow, SweepRow};

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use runboard_shared::api::{ExperimentSummary, RunFile, RunSummary, StatusChange, TagsPatch};
use runboard_shared::event::{EventBody, RunEvent};
use runboard_shared::run::{RunId, RunStatus};
use runboard_shared::series::Step;
use serde::{Deserialize, Serialize};

use crate::people::{Role, ShareScope};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (I/O, corruption, a constraint).
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row holds something this version cannot read.
    #[error("corrupt row in the store: {0}")]
    Corrupt(String),
    /// No run has this id.
    #[error("no run {0}")]
    NoSuchRun(RunId),
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A new run, as the API hands it to the store.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Its id.
    pub run_id: RunId,
    /// The compute target's name.
    pub target: String,
    /// The run definition (JSON).
    pub definition: serde_json::Value,
    /// The token the run's script uses to write to this run.
    pub run_token: String,
    /// Properties (git information among them).
    pub properties: BTreeMap<String, String>,
    /// Tags given at submit time.
    pub tags: BTreeMap<String, String>,
    /// Who submitted it.
    pub submitted_by: Option<String>,
}

/// How an event's body is kept in `events.body`. A log's text and a series' points
/// are on disk already (the log file, the series file), so their events keep only
/// where: each byte is stored once. Other events, and events written before this
/// form, are inline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredBody {
    /// A log event: its text is these bytes of the log file.
    LogRef {
        /// Where.
        log_ref: LogRef,
    },
    /// A scalars event: its points are these points of the series file.
    ScalarsRef {
        /// Where.
        scalars_ref: ScalarsRef,
    },
    /// The body itself.
    Inline(EventBody),
}

/// Bytes of a log file of a run that one log event carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRef {
    /// The log, relative to the run folder (`user_logs/std_log.txt`).
    pub path: String,
    /// The process rank of a per-process log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    /// The first byte.
    pub offset: u64,
    /// How many bytes.
    pub len: u64,
    /// Read as the end of the log: an incomplete character at its end is U+FFFD
    /// (`watch::decode_chunk`).
    #[serde(default)]
    pub eof: bool,
}

/// Points of a series file that one scalars event carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalarsRef {
    /// The series' source (`metric`, `tensorboard`).
    pub source: String,
    /// Its TensorBoard run ("" for metrics).
    pub run: String,
    /// Its name or tag.
    pub name: String,
    /// Its id (`<run>/metrics/<id>.bin`).
    pub series: i64,
    /// The index of the first point.
    pub from: u64,
    /// How many points.
    pub count: u64,
}

/// An event as [`Store::events_after`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Its sequence number.
    pub seq: u64,
    /// When it was recorded (RFC 3339).
    pub time: String,
    /// Its body, or where it is.
    pub body: StoredBody,
}

/// A run that has not ended, as admission control sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRun {
    /// Its id.
    pub run_id: RunId,
    /// Its compute target's name.
    pub target: String,
    /// Its status (never a terminal one).
    pub status: RunStatus,
}

/// A run as stored.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// The run's summary (id, status, times, tags, properties).
    pub summary: RunSummary,
    /// The run definition (JSON).
    pub definition: serde_json::Value,
    /// The run-scoped token.
    pub run_token: String,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// A `series` row as read: id, source, TensorBoard run, name, count, last step,
/// last value.
type SeriesTuple = (i64, String, String, String, i64, Option<i64>, Option<f64>);

/// A scalar series as the store indexes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    /// Its id within the run (names its points file).
    pub id: i64,
    /// `metric` or `tensorboard`.
    pub source: String,
    /// The TensorBoard run, empty for metrics.
    pub tb_run: String,
    /// Metric name or tag.
    pub name: String,
    /// Committed points.
    pub count: u64,
    /// The last point's step.
    pub last_step: Option<Step>,
    /// The last point's value.
    pub last_value: Option<f64>,
}

/// Filter and page of `list_runs`.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// Only runs of this experiment.
    pub experiment: Option<String>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Page size.
    pub limit: u32,
    /// Runs strictly older than this cursor (from a previous page): see [`parse_cursor`].
    pub cursor: Option<(String, String)>,
}

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct Store {
    write: SqlitePool,
    read: SqlitePool,
}

/// The current time as the store writes it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { write, read })
    }

    /// Stores a new run in `Queued` (creating its experiment if needed) and returns
    /// its first event.
    pub async fn create_run(&self, run: &NewRun) -> Result<RunEvent> {
        let mut tx = self.write.begin().await?;
        let event = insert_run(&mut tx, run, None, RunStatus::Queued).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Moves a run to `status` if the transition table allows it, recording the
    /// change in its history and event log. Returns `None` (and changes nothing) when
    /// the table refuses the move, for example a job that ends after it was cancelled.
    pub async fn set_status(
        &self,
        run_id: &RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<Option<RunEvent>> {
        self.transition(run_id, None, status, error).await
    }

    /// As [`Store::set_status`], but only when the run is in `from` now: the check and
    /// the move are one transaction, so a run that has just moved on is left alone
    /// (cancelling a run that is still queued, and only then, ends it at once).
    pub async fn set_status_from(
        &self,
        run_id: &RunId,
        from: RunStatus,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<Option<RunEvent>> {
        self.transition(run_id, Some(from), status, error).await
    }

    async fn transition(
        &self,
        run_id: &RunId,
        from: Option<RunStatus>,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<Option<RunEvent>> {
        let mut tx = self.write.begin().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT status FROM runs WHERE run_id = ?")
                .bind(run_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let current = parse_status(&current.ok_or_else(|| StoreError::NoSuchRun(run_id.clone()))?)?;
        if !current.can_become(status) || from.is_some_and(|from| from != current) {
            return Ok(None);
        }
        let at = now();
        sqlx::query(
            "UPDATE runs SET status = ?,
                start_time = CASE WHEN ? AND start_time IS NULL THEN ? ELSE start_time END,
                end_time = CASE WHEN ? THEN ? ELSE end_time END,
                error = COALESCE(?, error)
             WHERE run_id = ?",
        )
        .bind(status.as_str())
        .bind(status == RunStatus::Running)
        .bind(&at)
        .bind(status.is_terminal())
        .bind(&at)
        .bind(error)
        .bind(run_id.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO status_history (run_id, status, at) VALUES (?, ?, ?)")
            .bind(run_id.as_str())
            .bind(status.as_str())
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        let body = EventBody::Status {
            status,
            error: error.map(str::to_owned),
        };
        let event = append_event(&mut tx, run_id, &at, body).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    /// How many bytes of the log file `path` have been read into events.
    pub async fn log_offset(&self, run_id: &RunId, path: &str) -> Result<u64> {
        let offset: Option<i64> =
            sqlx::query_scalar("SELECT offset FROM log_offsets WHERE run_id = ? AND path = ?")
                .bind(run_id.as_str())
                .bind(path)
                .fetch_optional(&self.read)
                .await?;
        Ok(offset.unwrap_or(0).try_into().unwrap_or(0))
    }

    /// Records how far a file has been read (TensorBoard event files).
    pub async fn set_offset(&self, run_id: &RunId, path: &str, offset: u64) -> Result<()> {
        set_offset(&self.write, run_id, path, offset).await?;
        Ok(())
    }

    /// Records that bytes `read.offset..read.offset + read.len` of a log file were
    /// read as `text`, and the offset reached, in one transaction. The event keeps
    /// where the text is ([`LogRef`]), not the text: the file has it.
    pub async fn append_log(&self, run_id: &RunId, read: LogRef, text: String) -> Result<RunEvent> {
        let mut tx = self.write.begin().await?;
        let at = now();
        set_offset(&mut *tx, run_id, &read.path, read.offset + read.len).await?;
        let body = EventBody::Log {
            path: read.path.clone(),
            rank: read.rank,
            text,
        };
        let stored = StoredBody::LogRef { log_ref: read };
        let event = append_event_as(&mut tx, run_id, &at, body, Some(&stored)).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Records a file's size and time in the index. Returns an event when the file is
    /// new or changed and `announce` is set.
    pub async fn upsert_file(
        &self,
        run_id: &RunId,
        path: &str,
        size: u64,
        modified: &str,
        announce: bool,
    ) -> Result<Option<RunEvent>> {
        let size_db = i64::try_from(size).unwrap_or(i64::MAX);
        let known: Option<(i64, String)> =
            sqlx::query_as("SELECT size, modified FROM files WHERE run_id = ? AND path = ?")
                .bind(run_id.as_str())
                .bind(path)
                .fetch_optional(&self.read)
                .await?;
        if known
            .as_ref()
            .is_some_and(|(s, m)| *s == size_db && m == modified)
        {
            return Ok(None);
        }
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO files (run_id, path, size, modified) VALUES (?, ?, ?, ?)
             ON CONFLICT (run_id, path) DO UPDATE SET size = excluded.size, modified = excluded.modified",
        )
        .bind(run_id.as_str())
        .bind(path)
        .bind(size_db)
        .bind(modified)
        .execute(&mut *tx)
        .await?;
        let event = if announce {
            let body = EventBody::File {
                path: path.to_owned(),
                size,
            };
            Some(append_event(&mut tx, run_id, &now(), body).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(event)
    }

    /// The run's files, by path.
    pub async fn files(&self, run_id: &RunId) -> Result<Vec<RunFile>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT path, size FROM files WHERE run_id = ? ORDER BY path")
                .bind(run_id.as_str())
                .fetch_all(&self.read)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(path, size)| RunFile {
                path,
                size: size.try_into().unwrap_or(0),
            })
            .collect())
    }

    /// Events of a run with `seq > after`, in order, at most `limit` of them, as
    /// stored: a log's text and a series' points are where to read them
    /// (`crate::replay` reads them).
    pub async fn events_after(
        &self,
        run_id: &RunId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT seq, at, body FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(run_id.as_str())
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(seq, time, body)| {
                Ok(StoredEvent {
                    seq: seq.try_into().unwrap_or(0),
                    time,
                    body: serde_json::from_str(&body).map_err(|e| {
                        StoreError::Corrupt(format!("event {seq} of {run_id}: {e}"))
                    })?,
                })
            })
            .collect()
    }

    /// One run, or `None` when there is no such run.
    pub async fn run(&self, run_id: &RunId) -> Result<Option<RunRecord>> {
        let row = sqlx::query(&format!("{RUN_COLUMNS} WHERE run_id = ?"))
            .bind(run_id.as_str())
            .fetch_optional(&self.read)
            .await?;
        match row {
            None => Ok(None),
            Some(row) => {
                let mut record = run_record(&row)?;
                self.fill_maps(std::slice::from_mut(&mut record.summary))
                    .await?;
                Ok(Some(record))
            }
        }
    }

    /// Writes a consistent copy of the whole database to `path` (SQLite's
    /// `VACUUM INTO`), while other connections go on reading and writing.
    pub async fn copy_into(&self, path: &Path) -> Result<()> {
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Corrupt(format!("{} is not UTF-8", path.display())))?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.read)
            .await?;
        Ok(())
    }

    /// Runs that have not reached a terminal status, in the order they were
    /// submitted.
    pub async fn live_runs(&self) -> Result<Vec<RunRecord>> {
        let rows = sqlx::query(&format!(
            "{RUN_COLUMNS} WHERE status NOT IN ('Completed', 'Failed', 'Canceled') ORDER BY rowid"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(run_record).collect()
    }

    /// The id, compute target and status of every run that has not reached a
    /// terminal status, in the order they were submitted: the runs table's `rowid`,
    /// which SQLite gives out in insertion order (never reused, as runs are never
    /// deleted), so two runs submitted in the same millisecond keep their order.
    pub async fn live_run_states(&self) -> Result<Vec<LiveRun>> {
        // The live statuses by name, so that the status index finds them without
        // reading every run that ever ended (this runs at each submission and end).
        let live: Vec<String> = RunStatus::ALL
            .iter()
            .filter(|s| !s.is_terminal())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let rows: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT run_id, target, status FROM runs WHERE status IN ({}) ORDER BY rowid",
            live.join(", ")
        ))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(run_id, target, status)| {
                Ok(LiveRun {
                    run_id: RunId::parse(&run_id)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    target,
                    status: parse_status(&status)?,
                })
            })
            .collect()
    }

    /// Records a queued run's place in its target's line as a
    /// [`EventBody::QueuePosition`] event. `None` (nothing written) when the run is no
    /// longer `Queued`: a place in line after the run has started would mislead.
    pub async fn add_queue_position(
        &self,
        run_id: &RunId,
        position: u32,
    ) -> Result<Option<RunEvent>> {
        let mut tx = self.write.begin().await?;
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM runs WHERE run_id = ?")
            .bind(run_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if status.as_deref() != Some(RunStatus::Queued.as_str()) {
            return Ok(None);
        }
        let body = EventBody::QueuePosition { position };
        let event = append_event(&mut tx, run_id, &now(), body).await?;
        tx.commit().await?;
        Ok(Some(event))
    }

    /// One page of runs, newest first, and the cursor of the next page.
    pub async fn list_runs(&self, query: &RunQuery) -> Result<(Vec<RunSummary>, Option<String>)> {
        let mut sql = format!("{RUN_COLUMNS} WHERE 1 = 1");
        if query.experiment.is_some() {
            sql.push_str(" AND experiment = ?");
        }
        if query.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        let cursor = &query.cursor;
        if cursor.is_some() {
            sql.push_str(" AND (created_at, run_id) < (?, ?)");
        }
        sql.push_str(" ORDER BY created_at DESC, run_id DESC LIMIT ?");
        let mut q = sqlx::query(&sql);
        if let Some(e) = &query.experiment {
            q = q.bind(e);
        }
        if let Some(s) = query.status {
            q = q.bind(s.as_str());
        }
        if let Some((at, id)) = cursor {
            q = q.bind(at).bind(id);
        }
        let mut rows = q.bind(query.limit + 1).fetch_all(&self.read).await?;
        let more = rows.len() > query.limit as usize;
        rows.truncate(query.limit as usize);
        let runs = self.summaries(&rows).await?;
        let next = runs
            .last()
            .filter(|_| more)
            .map(|r| format!("{}|{}", r.created_utc, r.run_id));
        Ok((runs, next))
    }

    /// Runs' summaries from rows of [`RUN_COLUMNS`], with their tags, properties and
    /// places in line.
    async fn summaries(&self, rows: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<RunSummary>> {
        let mut runs: Vec<RunSummary> = rows
            .iter()
            .map(|r| run_record(r).map(|r| r.summary))
            .collect::<Result<_>>()?;
        self.fill_maps(&mut runs).await?;
        Ok(runs)
    }

    /// Every experiment with its run count, last run and status counts.
    pub async fn experiments(&self) -> Result<Vec<ExperimentSummary>> {
        // Two queries, each an ordered scan of one index (runs_by_experiment_status
        // covers the second), merged by name: no join, no temporary sort.
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM experiments ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        let stats: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT experiment, status, MAX(created_at), COUNT(*) FROM runs
             GROUP BY experiment, status ORDER BY experiment, status",
        )
        .fetch_all(&self.read)
        .await?;
        // Per name: (status, newest run, count) rows, a zero row first.
        type Stats = Vec<(Option<String>, Option<String>, i64)>;
        let mut by_name: BTreeMap<String, Stats> = names
            .into_iter()
            .map(|name| (name, vec![(None, None, 0)]))
            .collect();
        for (name, status, last, count) in stats {
            if let Some(rows) = by_name.get_mut(&name) {
                rows.push((Some(status), Some(last), count));
            }
        }
        let rows = by_name.into_iter().flat_map(|(name, rows)| {
            rows.into_iter()
                .map(move |(s, l, c)| (name.clone(), s, l, c))
        });
        let mut out: Vec<ExperimentSummary> = Vec::new();
        for (name, status, last, count) in rows {
            if out.last().is_none_or(|e| e.name != name) {
                out.push(ExperimentSummary {
                    name: name.clone(),
                    run_count: 0,
                    last_run_time: None,
                    status_counts: BTreeMap::new(),
                });
            }
            let Some(summary) = out.last_mut() else {
                continue;
            };
            let count = u64::try_from(count).unwrap_or(0);
            summary.run_count += count;
            if last > summary.last_run_time {
                summary.last_run_time = last;
            }
            if let Some(status) = status {
                summary.status_counts.insert(parse_status(&status)?, count);
            }
        }
        Ok(out)
    }

    /// Every status the run went through, oldest first.
    pub async fn status_history(&self, run_id: &RunId) -> Result<Vec<StatusChange>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT status, at FROM status_history WHERE run_id = ? ORDER BY rowid")
                .bind(run_id.as_str())
                .fetch_all(&self.read)
                .await?;
        rows.into_iter()
            .map(|(status, time)| {
                Ok(StatusChange {
                    status: parse_status(&status)?,
                    time,
                })
            })
            .collect()
    }

    /// The series `(source, tb_run, name)` of a run, created if new: its id and how
    /// many points it has.
    pub async fn series(
        &self,
        run_id: &RunId,
        source: &str,
        tb_run: &str,
        name: &str,
    ) -> Result<(i64, u64)> {
        let mut tx = self.write.begin().await?;
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT id, count FROM series WHERE run_id = ? AND source = ? AND tb_run = ? AND name = ?",
        )
        .bind(run_id.as_str())
        .bind(source)
        .bind(tb_run)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, count)) = found {
            return Ok((id, count.try_into().unwrap_or(0)));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO series (run_id, id, source, tb_run, name, count)
             VALUES (?, (SELECT COALESCE(MAX(id), 0) + 1 FROM series WHERE run_id = ?), ?, ?, ?, 0)
             RETURNING id",
        )
        .bind(run_id.as_str())
        .bind(run_id.as_str())
        .bind(source)
        .bind(tb_run)
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((id, 0))
    }

    /// Records that series `id` now has `count` points ending with `last`, and
    /// appends `events` (the points, announced; each kept as where its points are in
    /// the series file), in one transaction.
    pub async fn advance_series(
        &self,
        run_id: &RunId,
        id: i64,
        count: u64,
        last: Option<runboard_shared::api::ScalarPoint>,
        events: Vec<(EventBody, ScalarsRef)>,
    ) -> Result<Vec<RunEvent>> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE series SET count = ?, last_step = ?, last_wall = ?, last_value = ? WHERE run_id = ? AND id = ?",
        )
        .bind(i64::try_from(count).unwrap_or(i64::MAX))
        .bind(last.map(|p| p.step))
        .bind(last.map(|p| p.wall_time))
        .bind(last.map(|p| p.value))
        .bind(run_id.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let at = now();
        let mut out = Vec::with_capacity(events.len());
        for (body, scalars_ref) in events {
            let stored = StoredBody::ScalarsRef { scalars_ref };
            out.push(append_event_as(&mut tx, run_id, &at, body, Some(&stored)).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Every series of a run: id, source, TensorBoard run, name, count, last step,
    /// last value.
    pub async fn series_list(&self, run_id: &RunId) -> Result<Vec<SeriesRow>> {
        let rows: Vec<SeriesTuple> = sqlx::query_as(
            "SELECT id, source, tb_run, name, count, last_step, last_value FROM series
             WHERE run_id = ? ORDER BY source, tb_run, name",
        )
        .bind(run_id.as_str())
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, source, tb_run, name, count, last_step, last_value)| SeriesRow {
                    id,
                    source,
                    tb_run,
                    name,
                    count: count.try_into().unwrap_or(0),
                    last_step: last_step.map(Step),
                    last_value,
                },
            )
            .collect())
    }

    /// Stores a metric value that is not a number, and returns its event.
    pub async fn add_metric_value(
        &self,
        run_id: &RunId,
        name: &str,
        kind: &str,
        value: &serde_json::Value,
    ) -> Result<RunEvent> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO metric_values (run_id, name, seq, kind, value)
             VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM metric_values WHERE run_id = ? AND name = ?), ?, ?)",
        )
        .bind(run_id.as_str())
        .bind(name)
        .bind(run_id.as_str())
        .bind(name)
        .bind(kind)
        .bind(value.to_string())
        .execute(&mut *tx)
        .await?;
        let body = EventBody::MetricValue {
            name: name.to_owned(),
            kind: kind.to_owned(),
            value: value.clone(),
        };
        let event = append_event(&mut tx, run_id, &now(), body).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// The non-numeric metric values of a run: name, kind, value, in the order logged.
    pub async fn metric_values(
        &self,
        run_id: &RunId,
    ) -> Result<Vec<(String, String, serde_json::Value)>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT name, kind, value FROM metric_values WHERE run_id = ? ORDER BY name, seq",
        )
        .bind(run_id.as_str())
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(n, k, v)| {
                (
                    n,
                    k,
                    serde_json::from_str(&v).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect())
    }

    /// Counts non-scalar TensorBoard summaries.
    pub async fn count_other(
        &self,
        run_id: &RunId,
        tb_run: &str,
        tag: &str,
        kind: &str,
        n: u64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO tb_other (run_id, tb_run, tag, kind, count) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (run_id, tb_run, tag, kind) DO UPDATE SET count = count + excluded.count",
        )
        .bind(run_id.as_str())
        .bind(tb_run)
        .bind(tag)
        .bind(kind)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The counted non-scalar TensorBoard summaries: run, tag, kind, count.
    pub async fn others(&self, run_id: &RunId) -> Result<Vec<(String, String, String, u64)>> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT tb_run, tag, kind, count FROM tb_other WHERE run_id = ? ORDER BY tb_run, tag, kind",
        )
        .bind(run_id.as_str())
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(r, t, k, c)| (r, t, k, c.try_into().unwrap_or(0)))
            .collect())
    }

    /// Adds or overwrites run properties.
    pub async fn add_properties(
        &self,
        run_id: &RunId,
        properties: &BTreeMap<String, String>,
    ) -> Result<()> {
        if properties.is_empty() {
            return Ok(());
        }
        let mut tx = self.write.begin().await?;
        for (k, v) in properties {
            sqlx::query(
                "INSERT INTO properties (run_id, key, value) VALUES (?, ?, ?)
                 ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
            )
            .bind(run_id.as_str())
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Applies a tags patch and returns the event carrying the new set.
    pub async fn patch_tags(&self, run_id: &RunId, patch: &TagsPatch) -> Result<RunEvent> {
        let mut tx = self.write.begin().await?;
        for (k, v) in &patch.set {
            sqlx::query(
                "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)
                 ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
            )
            .bind(run_id.as_str())
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
        }
        for k in &patch.remove {
            sqlx::query("DELETE FROM tags WHERE run_id = ? AND key = ?")
                .bind(run_id.as_str())
                .bind(k)
                .execute(&mut *tx)
                .await?;
        }
        let tags = key_values(&mut *tx, "tags", run_id).await?;
        let body = EventBody::Tags { tags };
        let event = append_event(&mut tx, run_id, &now(), body).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// Fills the tags and properties of each summary, and the place in line of each
    /// queued one (among the queued runs of its target, in submission order).
    async fn fill_maps(&self, runs: &mut [RunSummary]) -> Result<()> {
        for run in runs {
            if run.status == RunStatus::Queued {
                let position: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM runs
                     WHERE target = ? AND status = 'Queued'
                       AND rowid <= (SELECT rowid FROM runs WHERE run_id = ?)",
                )
                .bind(&run.target)
                .bind(run.run_id.as_str())
                .fetch_one(&self.read)
                .await?;
                run.queue_position = u32::try_from(position).ok().filter(|p| *p > 0);
            }
            run.tags = key_values(&self.read, "tags", &run.run_id).await?;
            run.properties = key_values(&self.read, "properties", &run.run_id).await?;
        }
        Ok(())
    }
}

/// A person as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonRow {
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Whether they have set a password.
    pub has_password: bool,
    /// When they were added (Unix seconds).
    pub created_at: i64,
}

/// Who a browser session belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionOwner {
    /// The built-in admin (logged in with the server token).
    BuiltinAdmin,
    /// A person, with their current role.
    Person(String, Role),
    /// A share link, with what it shares.
    Share(i64, ShareScope),
}

/// A browser session as listed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionRow {
    /// Its id (not its secret).
    pub id: i64,
    /// The person, `None` for the built-in admin and share sessions.
    pub person: Option<String>,
    /// The share link, for share sessions.
    pub share_link: Option<i64>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Last request (Unix seconds, updated at most once a minute).
    pub last_seen: i64,
}

/// A personal API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TokenRow {
    /// Its id.
    pub id: i64,
    /// Its person, `None` for the built-in admin.
    pub person: Option<String>,
    /// What its owner called it.
    pub label: String,
    /// Created (Unix seconds).
    pub created_at: i64,
}

/// A share link as stored (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ShareLinkRow {
    /// Its id.
    pub id: i64,
    /// What it shares.
    pub scope: ShareScope,
    /// Who made it, `None` for the built-in admin.
    pub created_by: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// When it stops working (Unix seconds), if ever.
    pub expires_at: Option<i64>,
}

/// How often a session's `last_seen` is written: reads stay reads.
const LAST_SEEN_EVERY: i64 = 60;

type ShareTuple = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

fn share_row(
    (id, run_id, experiment, created_by, created_at, expires_at): ShareTuple,
) -> Result<ShareLinkRow> {
    let scope = match (run_id, experiment) {
        (Some(run), _) => ShareScope::Run(run),
        (None, Some(experiment)) => ShareScope::Experiment(experiment),
        (None, None) => {
            return Err(StoreError::Corrupt(format!(
                "share link {id} shares nothing"
            )));
        }
    };
    Ok(ShareLinkRow {
        id,
        scope,
        created_by,
        created_at,
        expires_at,
    })
}

fn parse_role(text: &str) -> Result<Role> {
    Role::parse(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

const SHARE_COLUMNS: &str =
    "SELECT id, run_id, experiment, created_by, created_at, expires_at FROM share_links";

/// People, sessions, API tokens and share links. Secrets arrive hashed
/// (`people::hash_secret`); times are Unix seconds given by the caller.
impl Store {
    /// Adds a person; `false` when the name is taken.
    pub async fn add_person(&self, name: &str, role: Role, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO people (name, role, password_hash, created_at) VALUES (?, ?, NULL, ?)",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every person, by name.
    pub async fn people(&self) -> Result<Vec<PersonRow>> {
        let rows: Vec<(String, String, bool, i64)> = sqlx::query_as(
            "SELECT name, role, password_hash IS NOT NULL, created_at FROM people ORDER BY name",
        )
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(name, role, has_password, created_at)| {
                Ok(PersonRow {
                    name,
                    role: parse_role(&role)?,
                    has_password,
                    created_at,
                })
            })
            .collect()
    }

    /// Changes a person's role; `false` when there is no such person.
    pub async fn set_role(&self, name: &str, role: Role) -> Result<bool> {
        let done = sqlx::query("UPDATE people SET role = ? WHERE name = ?")
            .bind(role.as_str())
            .bind(name)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a person with their sessions, tokens, login links and share links;
    /// `false` when there is no such person.
    pub async fn remove_person(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM people WHERE name = ?")
            .bind(name)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a one-time login link for `person`, replacing their earlier ones.
    pub async fn add_login_link(
        &self,
        person: &str,
        secret_hash: &str,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM login_links WHERE person = ?")
            .bind(person)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_links (secret_hash, person, expires_at) VALUES (?, ?, ?)")
            .bind(secret_hash)
            .bind(person)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The person a login link is for, while it has not been used nor expired.
    pub async fn login_link(&self, secret_hash: &str, now: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT person FROM login_links WHERE secret_hash = ? AND expires_at > ?",
        )
        .bind(secret_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Uses a login link once: sets its person's password and deletes the link.
    /// `None` (and nothing changed) when the link is unknown, used or expired.
    pub async fn use_login_link(
        &self,
        secret_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<String>> {
        let mut tx = self.write.begin().await?;
        let person: Option<String> = sqlx::query_scalar(
            "DELETE FROM login_links WHERE secret_hash = ? AND expires_at > ? RETURNING person",
        )
        .bind(secret_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(person) = &person {
            sqlx::query("UPDATE people SET password_hash = ? WHERE name = ?")
                .bind(password_hash)
                .bind(person)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(person)
    }

    /// A person's role and password hash (if set).
    pub async fn credentials(&self, name: &str) -> Result<Option<(Role, Option<String>)>> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT role, password_hash FROM people WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.read)
                .await?;
        row.map(|(role, hash)| Ok((parse_role(&role)?, hash)))
            .transpose()
    }

    /// Creates a browser session for a person (`None`: the built-in admin) or a
    /// share link; returns its id.
    pub async fn create_session(
        &self,
        secret_hash: &str,
        person: Option<&str>,
        share_link: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO sessions (secret_hash, person, share_link, created_at, last_seen)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(secret_hash)
        .bind(person)
        .bind(share_link)
        .bind(now)
        .bind(now)
        .fetch_one(&self.write)
        .await?)
    }

    /// The session with this secret and its owner, unless it has been idle for
    /// `idle` seconds or more (then it is deleted) or its share link has expired.
    /// Notes the request in `last_seen` (at most once a minute).
    pub async fn session(
        &self,
        secret_hash: &str,
        now: i64,
        idle: i64,
    ) -> Result<Option<(i64, SessionOwner)>> {
        type Row = (i64, Option<String>, Option<String>, i64, Option<i64>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.id, s.person, p.role, s.last_seen, s.share_link
             FROM sessions s LEFT JOIN people p ON p.name = s.person
             WHERE s.secret_hash = ?",
        )
        .bind(secret_hash)
        .fetch_optional(&self.read)
        .await?;
        let Some((id, person, role, last_seen, share_link)) = row else {
            return Ok(None);
        };
        if now - last_seen >= idle {
            self.delete_session(id).await?;
            return Ok(None);
        }
        let owner = match (person, role, share_link) {
            (Some(person), Some(role), _) => SessionOwner::Person(person, parse_role(&role)?),
            (None, _, Some(link)) => match self.share_link(link).await? {
                Some(row) if row.expires_at.is_none_or(|at| at > now) => {
                    SessionOwner::Share(link, row.scope)
                }
                _ => return Ok(None),
            },
            (None, _, None) => SessionOwner::BuiltinAdmin,
            (Some(_), None, _) => return Ok(None),
        };
        if now - last_seen >= LAST_SEEN_EVERY {
            sqlx::query("UPDATE sessions SET last_seen = ? WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(&self.write)
                .await?;
        }
        Ok(Some((id, owner)))
    }

    /// Sessions, newest first: every one (`None`), or those of one owner (`Some(None)`:
    /// the built-in admin's).
    pub async fn sessions(&self, person: Option<Option<&str>>) -> Result<Vec<SessionRow>> {
        self.newest_first(
            "SELECT id, person, share_link, created_at, last_seen FROM sessions",
            "person IS ? AND share_link IS NULL",
            person,
        )
        .await
    }

    /// Deletes a session; `false` when there was none with this id.
    pub async fn delete_session(&self, id: i64) -> Result<bool> {
        self.delete_by_id("sessions", id).await
    }

    /// Stores a personal API token (`person` `None`: the built-in admin's); returns
    /// its id.
    pub async fn create_token(
        &self,
        secret_hash: &str,
        person: Option<&str>,
        label: &str,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO api_tokens (secret_hash, person, label, created_at) VALUES (?, ?, ?, ?)
             RETURNING id",
        )
        .bind(secret_hash)
        .bind(person)
        .bind(label)
        .bind(now)
        .fetch_one(&self.write)
        .await?)
    }

    /// The owner of the API token with this secret: the built-in admin, or a person
    /// with their current role.
    pub async fn token_owner(&self, secret_hash: &str) -> Result<Option<SessionOwner>> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT t.person, p.role FROM api_tokens t LEFT JOIN people p ON p.name = t.person
             WHERE t.secret_hash = ?",
        )
        .bind(secret_hash)
        .fetch_optional(&self.read)
        .await?;
        Ok(match row {
            None | Some((Some(_), None)) => None,
            Some((None, _)) => Some(SessionOwner::BuiltinAdmin),
            Some((Some(person), Some(role))) => {
                Some(SessionOwner::Person(person, parse_role(&role)?))
            }
        })
    }

    /// API tokens, newest first: every one (`None`) or one owner's (`Some(None)`: the
    /// built-in admin's).
    pub async fn tokens(&self, person: Option<Option<&str>>) -> Result<Vec<TokenRow>> {
        self.newest_first(
            "SELECT id, person, label, created_at FROM api_tokens",
            "person IS ?",
            person,
        )
        .await
    }

    /// The rows of `select` (`SELECT … FROM table`), newest first: every one (`owner`
    /// `None`), or those the condition `mine` picks for one owner (`Some(None)`: the
    /// built-in admin's), `mine` taking the person as its one parameter.
    async fn newest_first<T>(
        &self,
        select: &str,
        mine: &str,
        owner: Option<Option<&str>>,
    ) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
    {
        Ok(match owner {
            None => {
                sqlx::query_as(&format!("{select} ORDER BY id DESC"))
                    .fetch_all(&self.read)
                    .await?
            }
            Some(person) => {
                sqlx::query_as(&format!("{select} WHERE {mine} ORDER BY id DESC"))
                    .bind(person)
                    .fetch_all(&self.read)
                    .await?
            }
        })
    }

    /// Deletes the row `id` of `table` (sessions, API tokens, share links); `false` when
    /// there was none.
    async fn delete_by_id(&self, table: &str, id: i64) -> Result<bool> {
        let done = sqlx::query(&format!("DELETE FROM {table} WHERE id = ?"))
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes an API token; `false` when there was none with this id.
    pub async fn delete_token(&self, id: i64) -> Result<bool> {
        self.delete_by_id("api_tokens", id).await
    }

    /// Stores a share link; returns its id.
    pub async fn create_share_link(
        &self,
        secret_hash: &str,
        scope: &ShareScope,
        created_by: Option<&str>,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<i64> {
        let (run_id, experiment) = match scope {
            ShareScope::Run(id) => (Some(id.as_str()), None),
            ShareScope::Experiment(name) => (None, Some(name.as_str())),
        };
        Ok(sqlx::query_scalar(
            "INSERT INTO share_links (secret_hash, run_id, experiment, created_by, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(secret_hash)
        .bind(run_id)
        .bind(experiment)
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&self.write)
        .await?)
    }

    /// The share link with this id.
    pub async fn share_link(&self, id: i64) -> Result<Option<ShareLinkRow>> {
        let row: Option<ShareTuple> = sqlx::query_as(&format!("{SHARE_COLUMNS} WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(share_row).transpose()
    }

    /// The share link with this secret, while it has not expired.
    pub async fn share_link_by_secret(
        &self,
        secret_hash: &str,
        now: i64,
    ) -> Result<Option<ShareLinkRow>> {
        let row: Option<ShareTuple> = sqlx::query_as(&format!(
            "{SHARE_COLUMNS} WHERE secret_hash = ? AND (expires_at IS NULL OR expires_at > ?)"
        ))
        .bind(secret_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        row.map(share_row).transpose()
    }

    /// The share links of a run or an experiment, newest first.
    pub async fn share_links(&self, scope: &ShareScope) -> Result<Vec<ShareLinkRow>> {
        let (column, value) = match scope {
            ShareScope::Run(id) => ("run_id", id),
            ShareScope::Experiment(name) => ("experiment", name),
        };
        let rows: Vec<ShareTuple> = sqlx::query_as(&format!(
            "{SHARE_COLUMNS} WHERE {column} = ? ORDER BY id DESC"
        ))
        .bind(value)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(share_row).collect()
    }

    /// Revokes a share link and ends its sessions; `false` when there was none.
    pub async fn delete_share_link(&self, id: i64) -> Result<bool> {
        self.delete_by_id("share_links", id).await
    }

    /// Deletes a run's rows, all in one transaction: everything in
    /// [`RUN_TABLES`], and the sessions of its share links. Models registered from it
    /// stay ([`KEPT_RUN_TABLES`]). False when there was no such run.
    pub async fn delete_run(&self, run_id: &RunId) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "DELETE FROM sessions WHERE share_link IN (SELECT id FROM share_links WHERE run_id = ?)",
        )
        .bind(run_id.as_str())
        .execute(&mut *tx)
        .await?;
        for table in RUN_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE run_id = ?"))
                .bind(run_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT OR REPLACE INTO deleted_runs (run_id, experiment, deleted_at) \
             SELECT run_id, experiment, ? FROM runs WHERE run_id = ?",
        )
        .bind(now())
        .bind(run_id.as_str())
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM runs WHERE run_id = ?")
            .bind(run_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// When a deleted run was deleted (RFC 3339), or `None` if it never was.
    pub async fn deleted_at(&self, run_id: &RunId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT deleted_at FROM deleted_runs WHERE run_id = ?")
                .bind(run_id.as_str())
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// The ids of an experiment's runs that have no parent (a sweep's children go with
    /// it), oldest first.
    pub async fn experiment_run_ids(&self, name: &str) -> Result<Vec<RunId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT run_id FROM runs WHERE experiment = ? AND parent_run_id IS NULL ORDER BY created_at")
                .bind(name)
                .fetch_all(&self.read)
                .await?;
        Ok(ids.iter().filter_map(|id| RunId::parse(id).ok()).collect())
    }

    /// Deletes an experiment that has no runs left, and its share links' sessions and
    /// links. False when there was no such experiment or it still has runs.
    pub async fn delete_empty_experiment(&self, name: &str) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE experiment = ?")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        if runs > 0 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM sessions WHERE share_link IN (SELECT id FROM share_links WHERE experiment = ?)",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM share_links WHERE experiment = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM experiments WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// The tables with a `run_id` column besides `runs` itself (checked against
    /// [`RUN_TABLES`] and [`KEPT_RUN_TABLES`] by a test, so a new table is not
    /// forgotten by [`Store::delete_run`]).
    pub async fn tables_with_run_id(&self) -> Result<Vec<String>> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND c.name = 'run_id' AND m.name != 'runs' ORDER BY m.name",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(tables)
    }

    /// Whether an experiment exists.
    pub async fn experiment_exists(&self, name: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM experiments WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        Ok(found.is_some())
    }
}

/// The tables whose rows about a run go with it ([`Store::delete_run`]).
pub const RUN_TABLES: &[&str] = &[
    "status_history",
    "properties",
    "tags",
    "files",
    "events",
    "log_offsets",
    "series",
    "metric_values",
    "tb_other",
    "share_links",
    "sweep_children",
    "sweeps",
];

/// The tables that keep naming a deleted run: a model outlives the run it came from,
/// and `deleted_runs` remembers that it was deleted.
pub const KEPT_RUN_TABLES: &[&str] = &["deleted_runs", "models"];

const RUN_COLUMNS: &str = "SELECT run_id, experiment, status, target, definition, run_token, \
     created_at, start_time, end_time, error, submitted_by, parent_run_id FROM runs";

fn run_record(row: &sqlx::sqlite::SqliteRow) -> Result<RunRecord> {
    let run_id: String = row.try_get("run_id")?;
    let run_id = RunId::parse(&run_id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let definition: String = row.try_get("definition")?;
    Ok(RunRecord {
        summary: RunSummary {
            run_id,
            experiment: row.try_get("experiment")?,
            status: parse_status(&row.try_get::<String, _>("status")?)?,
            target: row.try_get("target")?,
            created_utc: row.try_get("created_at")?,
            start_time_utc: row.try_get("start_time")?,
            end_time_utc: row.try_get("end_time")?,
            tags: BTreeMap::new(),
            properties: BTreeMap::new(),
            queue_position: None,
            submitted_by: row.try_get("submitted_by")?,
            parent_run_id: row
                .try_get::<Option<String>, _>("parent_run_id")?
                .map(|id| RunId::parse(&id).map_err(|e| StoreError::Corrupt(e.to_string())))
                .transpose()?,
        },
        definition: serde_json::from_str(&definition)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        run_token: row.try_get("run_token")?,
        error: row.try_get("error")?,
    })
}

fn parse_status(text: &str) -> Result<RunStatus> {
    RunStatus::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown status {text:?}")))
}

/// A page cursor is `<created_at>|<run_id>` of the last run of the previous page;
/// `None` when `cursor` does not have that shape.
pub fn parse_cursor(cursor: &str) -> Option<(String, String)> {
    let (at, id) = cursor.split_once('|')?;
    RunId::parse(id).ok()?;
    chrono::DateTime::parse_from_rfc3339(at).ok()?;
    Some((at.to_owned(), id.to_owned()))
}

/// Records how far the file `path` of a run has been read.
/// A run's rows of a key/value table (`tags`, `properties`).
async fn key_values<'e, E: sqlx::Executor<'e, Database = Sqlite>>(
    executor: E,
    table: &str,
    run_id: &RunId,
) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as(&format!("SELECT key, value FROM {table} WHERE run_id = ?"))
            .bind(run_id.as_str())
            .fetch_all(executor)
            .await?;
    Ok(rows.into_iter().collect())
}

async fn set_offset<'e, E: sqlx::Executor<'e, Database = Sqlite>>(
    executor: E,
    run_id: &RunId,
    path: &str,
    offset: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO log_offsets (run_id, path, offset) VALUES (?, ?, ?)
         ON CONFLICT (run_id, path) DO UPDATE SET offset = excluded.offset",
    )
    .bind(run_id.as_str())
    .bind(path)
    .bind(i64::try_from(offset).unwrap_or(i64::MAX))
    .execute(executor)
    .await?;
    Ok(())
}

/// Inserts a new run in `status` — `Queued`, or `Running` for a run no process runs
/// (its start time is now) — creating its experiment if needed, a child of `parent`
/// when given, inside `tx`; returns its first event.
async fn insert_run(
    tx: &mut Transaction<'_, Sqlite>,
    run: &NewRun,
    parent: Option<&RunId>,
    status: RunStatus,
) -> Result<RunEvent> {
    let at = now();
    let start_time = (status == RunStatus::Running).then_some(&at);
    sqlx::query("INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)")
        .bind(run.run_id.experiment())
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO runs (run_id, experiment, status, target, definition, run_token, created_at,
                           start_time, submitted_by, parent_run_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(run.run_id.as_str())
    .bind(run.run_id.experiment())
    .bind(status.as_str())
    .bind(&run.target)
    .bind(run.definition.to_string())
    .bind(&run.run_token)
    .bind(&at)
    .bind(start_time)
    .bind(&run.submitted_by)
    .bind(parent.map(RunId::as_str))
    .execute(&mut **tx)
    .await?;
    for (table, map) in [("properties", &run.properties), ("tags", &run.tags)] {
        for (k, v) in map {
            sqlx::query(&format!(
                "INSERT INTO {table} (run_id, key, value) VALUES (?, ?, ?)"
            ))
            .bind(run.run_id.as_str())
            .bind(k)
            .bind(v)
            .execute(&mut **tx)
            .await?;
        }
    }
    sqlx::query("INSERT INTO status_history (run_id, status, at) VALUES (?, ?, ?)")
        .bind(run.run_id.as_str())
        .bind(status.as_str())
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    let body = EventBody::Status {
        status,
        error: None,
    };
    append_event(tx, &run.run_id, &at, body).await
}

/// Appends an event with the run's next sequence number, inside `tx`.
async fn append_event(
    tx: &mut Transaction<'_, Sqlite>,
    run_id: &RunId,
    at: &str,
    body: EventBody,
) -> Result<RunEvent> {
    append_event_as(tx, run_id, at, body, None).await
}

/// Appends `body` with the run's next sequence number, inside `tx`, kept as `stored`
/// when given (where its payload is on disk), else inline.
async fn append_event_as(
    tx: &mut Transaction<'_, Sqlite>,
    run_id: &RunId,
    at: &str,
    body: EventBody,
    stored: Option<&StoredBody>,
) -> Result<RunEvent> {
    let json = match stored {
        Some(stored) => serde_json::to_string(stored),
        None => serde_json::to_string(&body),
    }
    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (run_id, seq, at, body)
         VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE run_id = ?), ?, ?)
         RETURNING seq",
    )
    .bind(run_id.as_str())
    .bind(run_id.as_str())
    .bind(at)
    .bind(json)
    .fetch_one(&mut **tx)
    .await?;
    Ok(RunEvent {
        seq: seq.try_into().unwrap_or(0),
        time: at.to_owned(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_table_naming_a_run_is_deleted_with_it_or_kept_on_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).await.unwrap();
        let mut named: Vec<&str> = RUN_TABLES.iter().chain(KEPT_RUN_TABLES).copied().collect();
        named.sort_unstable();
        assert_eq!(
            store.tables_with_run_id().await.unwrap(),
            named,
            "a table with a run_id column must be in RUN_TABLES (deleted with the run) \
             or KEPT_RUN_TABLES"
        );
    }
}
