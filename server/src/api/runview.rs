//! What the run page reads so that it costs the same for any run size
//! (`runboard_shared::runview`): where to start (`GET /api/runs/{id}/view`), earlier
//! ranges of a log (`GET /api/runs/{id}/log`), a search of a whole log
//! (`GET /api/runs/{id}/log/search`) and a series sampled to what a chart can draw
//! (`GET /api/runs/{id}/series`).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use runboard_shared::api::SeriesBody;
use runboard_shared::run::RunId;
use runboard_shared::runview::{LogMatches, LogRange, SeriesStart, ValueStart, ViewStart};
use serde::Deserialize;

use super::ApiError;
use super::AppState;
use super::KnownRun;
use crate::confined::ConfinedError;
use crate::logread::{self, Search};
use crate::series_sample::{self, MAX_SLICES};

/// A query that does not parse, as a 400 that names the field.
fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::bad_request("invalid_query", e.body_text())
}

/// Runs blocking file reads off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ConfinedError> + Send + 'static,
) -> Result<T, ConfinedError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ConfinedError::Io(std::io::Error::other(e)))?
}

/// A log read that failed, for log `path` of run `id`.
fn log_error(id: &RunId, path: &str, e: ConfinedError) -> ApiError {
    match e {
        ConfinedError::NotFound => ApiError::not_found(format!("run {id} has no log '{path}'")),
        ConfinedError::Io(e) => ApiError::internal(e),
        other => ApiError::bad_request("invalid_path", format!("log '{path}': {other}")),
    }
}

/// `GET /api/runs/{id}/view`: the last event, and as of it the tail of each log
/// ([`logread::TAIL_BYTES`]), each series' count and each metric value in brief.
pub async fn view(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<ViewStart>, ApiError> {
    let id = run.into_id();
    let rows = state.store.view_rows(&id).await?;
    let dir = state.run_dir(&id);
    let offsets: Vec<(String, u64)> = rows
        .offsets
        .into_iter()
        .filter(|(path, _)| logread::is_log_path(path))
        .collect();
    let logs = blocking(move || {
        Ok(offsets
            .into_iter()
            .map(|(path, end)| {
                // A log that has gone since it was read shows as empty.
                logread::range(&dir, &path, end, logread::TAIL_BYTES).unwrap_or(LogRange {
                    path,
                    start: end,
                    end,
                    text: String::new(),
                })
            })
            .collect())
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(ViewStart {
        seq: rows.seq,
        logs,
        series: rows
            .series
            .into_iter()
            .map(|(_, source, run, name, count)| SeriesStart {
                source,
                run,
                name,
                count,
            })
            .collect(),
        values: rows
            .values
            .into_iter()
            .map(|(name, kind, last, count)| ValueStart {
                name,
                kind,
                last: serde_json::from_str(&last).unwrap_or(serde_json::Value::Null),
                count,
            })
            .collect(),
    }))
}

/// The log `path` of a query, checked.
fn log_path(path: &str) -> Result<&str, ApiError> {
    if logread::is_log_path(path) {
        Ok(path)
    } else {
        Err(ApiError::bad_request(
            "invalid_query",
            format!("path must name a log under user_logs/ or system_logs/, got '{path}'"),
        ))
    }
}

/// How far the log `path` was read into events: what a range or search covers.
async fn read_end(state: &AppState, id: &RunId, path: &str) -> Result<u64, ApiError> {
    Ok(state.store.log_offset(id, path).await?)
}

/// Query of `GET /api/runs/{id}/log`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// The log (`user_logs/std_log.txt`).
    path: String,
    /// The byte after the last one wanted; default: the end read so far.
    end: Option<u64>,
    /// How many bytes before `end` (1 to 1 MiB; default 64 KiB).
    bytes: Option<u64>,
}

/// `GET /api/runs/{id}/log?path=&end=&bytes=`: bytes of a log before `end`, cut to
/// start at a whole line (the run page's "earlier lines").
pub async fn range(
    State(state): State<AppState>,
    run: KnownRun,
    query: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<LogRange>, ApiError> {
    let id = run.into_id();
    let Query(q) = query.map_err(bad_query)?;
    let path = log_path(&q.path)?.to_owned();
    let bytes = q.bytes.unwrap_or(logread::TAIL_BYTES);
    if !(1..=logread::MAX_RANGE_BYTES).contains(&bytes) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "bytes must be from 1 to {}, got {bytes}",
                logread::MAX_RANGE_BYTES
            ),
        ));
    }
    let read = read_end(&state, &id, &path).await?;
    let end = q.end.unwrap_or(read).min(read);
    let dir = state.run_dir(&id);
    let p = path.clone();
    let range = blocking(move || logread::range(&dir, &p, end, bytes))
        .await
        .map_err(|e| log_error(&id, &path, e))?;
    Ok(Json(range))
}

/// Query of `GET /api/runs/{id}/log/search`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The log.
    path: String,
    /// The text to find (ASCII case ignored), 1 to 256 bytes.
    q: String,
    /// The most lines to return (1 to 10,000; default 1,000).
    limit: Option<usize>,
}

impl SearchQuery {
    /// The log searched.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The text searched for.
    pub fn text(&self) -> &str {
        &self.q
    }
}

/// `GET /api/runs/{id}/log/search?path=&q=&limit=`: the lines of a whole log that
/// contain `q`, read in 256 KiB pieces on the blocking pool (memory does not grow
/// with the log).
pub async fn search(
    State(state): State<AppState>,
    run: KnownRun,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<LogMatches>, ApiError> {
    let id = run.into_id();
    let Query(q) = query.map_err(bad_query)?;
    let path = log_path(&q.path)?.to_owned();
    if q.q.is_empty() || q.q.len() > logread::MAX_QUERY_BYTES {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "q must be 1 to {} bytes of text to find, got {} bytes",
                logread::MAX_QUERY_BYTES,
                q.q.len()
            ),
        ));
    }
    let limit = q.limit.unwrap_or(1000);
    if !(1..=logread::MAX_MATCHES).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "limit must be from 1 to {}, got {limit}",
                logread::MAX_MATCHES
            ),
        ));
    }
    let end = read_end(&state, &id, &path).await?;
    let dir = state.run_dir(&id);
    let p = path.clone();
    let found = blocking(move || {
        let mut s = Search::new(&q.q, limit);
        logread::search(&dir, &p, end, &mut s)?;
        Ok(s)
    })
    .await
    .map_err(|e| log_error(&id, &path, e))?;
    Ok(Json(LogMatches {
        searched: found.searched(),
        truncated: found.truncated,
        matches: found.matches,
    }))
}

/// Query of `GET /api/runs/{id}/series`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesQuery {
    /// `metric` (default) or `tensorboard`.
    source: Option<String>,
    /// The TensorBoard run (default `.`); empty for metrics.
    run: Option<String>,
    /// The metric name or tag.
    name: String,
    /// Into how many slices (1 to 10,000; default 1,000): at most 3 points each.
    slices: Option<usize>,
    /// The first point's index (default 0).
    from: Option<u64>,
    /// The index after the last point (default: every point so far).
    upto: Option<u64>,
}

/// `GET /api/runs/{id}/series?source=&run=&name=&slices=&from=&upto=`: points
/// `from..upto` of a series, all of them or sampled (`series_sample`): min, max and
/// last of each slice, real points in order.
pub async fn series(
    State(state): State<AppState>,
    run: KnownRun,
    query: Result<Query<SeriesQuery>, QueryRejection>,
) -> Result<Json<SeriesBody>, ApiError> {
    let id = run.into_id();
    let Query(q) = query.map_err(bad_query)?;
    let source = q.source.as_deref().unwrap_or(crate::metrics::METRIC);
    let run = match (source, q.run.as_deref()) {
        (crate::metrics::METRIC, None) => "",
        (crate::metrics::TENSORBOARD, None) => ".",
        (crate::metrics::METRIC | crate::metrics::TENSORBOARD, Some(run)) => run,
        (other, _) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("source must be metric or tensorboard, got '{other}'"),
            ));
        }
    };
    let slices = q.slices.unwrap_or(1000);
    if !(1..=MAX_SLICES).contains(&slices) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("slices must be from 1 to {MAX_SLICES}, got {slices}"),
        ));
    }
    let row = state
        .store
        .series_list(&id)
        .await?
        .into_iter()
        .find(|r| r.source == source && r.tb_run == run && r.name == q.name)
        .ok_or_else(|| {
            ApiError::not_found(format!("run {id} has no {source} series '{}'", q.name))
        })?;
    let upto = q.upto.unwrap_or(row.count).min(row.count);
    let from = q.from.unwrap_or(0).min(upto);
    let file = crate::series::path(&state.run_dir(&id), row.id);
    let points =
        tokio::task::spawn_blocking(move || series_sample::sample_file(&file, from, upto, slices))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
    Ok(Json(SeriesBody {
        name: row.name,
        run: row.tb_run,
        x: "step".into(),
        points: Some(points),
        buckets: None,
        count: row.count,
    }))
}
