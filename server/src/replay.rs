//! Reading a run's events back: the store keeps a log event as where its text is in
//! the log file and a scalars event as where its points are in the series file
//! ([`crate::store::StoredBody`]); this reads them from there, so the websocket's
//! replay and the long poll send the same events as were sent live.

use std::path::Path;

use runboard_shared::event::{EventBody, RunEvent};
use runboard_shared::run::RunId;

use crate::store::{LogRef, ScalarsRef, Store, StoreError, StoredBody, StoredEvent};

/// Events of `run_id` after `after` (at most `limit`), their payloads read from the
/// run folder `run_dir`.
pub async fn events_after(
    store: &Store,
    run_dir: &Path,
    run_id: &RunId,
    after: u64,
    limit: u32,
) -> Result<Vec<RunEvent>, StoreError> {
    let stored = store.events_after(run_id, after, limit).await?;
    if stored
        .iter()
        .all(|e| matches!(e.body, StoredBody::Inline(_)))
    {
        return Ok(stored
            .into_iter()
            .map(|e| resolve(Path::new(""), e))
            .collect());
    }
    let dir = run_dir.to_owned();
    tokio::task::spawn_blocking(move || stored.into_iter().map(|e| resolve(&dir, e)).collect())
        .await
        .map_err(|e| StoreError::Corrupt(format!("reading events of {run_id}: {e}")))
}

/// One event with its payload read from `run_dir`.
fn resolve(run_dir: &Path, event: StoredEvent) -> RunEvent {
    let body = match event.body {
        StoredBody::Inline(body) => body,
        StoredBody::LogRef { log_ref } => log_text(run_dir, log_ref),
        StoredBody::ScalarsRef { scalars_ref } => scalars(run_dir, scalars_ref),
    };
    RunEvent {
        seq: event.seq,
        time: event.time,
        body,
    }
}

/// The text of a log event, decoded as it was when it was read live. A log the job
/// has since cut short gives what is left and says how much is missing.
fn log_text(run_dir: &Path, at: LogRef) -> EventBody {
    let source = crate::watch::read_path(run_dir, &at.path);
    let bytes = crate::confined::read_at(run_dir, Path::new(&source), at.offset, at.len)
        .unwrap_or_default();
    let (mut text, _) = crate::watch::decode_chunk(&bytes, at.eof || (bytes.len() as u64) < at.len);
    let missing = at.len.saturating_sub(bytes.len() as u64);
    if missing > 0 {
        text.push_str(&format!(
            "\n[{missing} bytes of {} written here are no longer on disk]\n",
            at.path
        ));
    }
    EventBody::Log {
        path: at.path,
        rank: at.rank,
        text,
    }
}

/// The points of a scalars event (fewer if the series file lost some).
fn scalars(run_dir: &Path, at: ScalarsRef) -> EventBody {
    let file = crate::series::path(run_dir, at.series);
    let points = crate::series::read_range(&file, at.from, at.count).unwrap_or_default();
    EventBody::Scalars {
        source: at.source,
        run: at.run,
        name: at.name,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(body: StoredBody) -> StoredEvent {
        StoredEvent {
            seq: 1,
            time: "2026-12-04T00:00:00Z".into(),
            body,
        }
    }

    #[test]
    fn a_log_event_reads_its_bytes_and_a_cut_log_says_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("user_logs")).unwrap();
        std::fs::write(
            dir.path().join("user_logs/std_log.txt"),
            "épreuve 1\nline 2\n",
        )
        .unwrap();
        let at = |offset, len| {
            stored(StoredBody::LogRef {
                log_ref: LogRef {
                    path: "user_logs/std_log.txt".into(),
                    rank: None,
                    offset,
                    len,
                    eof: false,
                },
            })
        };
        let text = |e: RunEvent| match e.body {
            EventBody::Log { text, .. } => text,
            other => panic!("{other:?}"),
        };
        assert_eq!(text(resolve(dir.path(), at(0, 11))), "épreuve 1\n");
        assert_eq!(text(resolve(dir.path(), at(11, 7))), "line 2\n");
        // The job truncated its log after it was read.
        std::fs::write(dir.path().join("user_logs/std_log.txt"), "épreuve").unwrap();
        assert_eq!(
            text(resolve(dir.path(), at(0, 11))),
            "épreuve\n[3 bytes of user_logs/std_log.txt written here are no longer on disk]\n"
        );
    }

    #[test]
    fn a_scalars_event_reads_its_points_from_the_series_file() {
        use runboard_shared::api::ScalarPoint;
        let dir = tempfile::tempdir().unwrap();
        let points: Vec<ScalarPoint> = (0..10)
            .map(|i| ScalarPoint {
                step: i,
                wall_time: 1.5 * i as f64,
                value: (i * i) as f64,
            })
            .collect();
        crate::series::append(&crate::series::path(dir.path(), 7), 0, &points).unwrap();
        let event = resolve(
            dir.path(),
            stored(StoredBody::ScalarsRef {
                scalars_ref: ScalarsRef {
                    source: "metric".into(),
                    run: String::new(),
                    name: "loss".into(),
                    series: 7,
                    from: 3,
                    count: 4,
                },
            }),
        );
        assert_eq!(
            event.body,
            EventBody::Scalars {
                source: "metric".into(),
                run: String::new(),
                name: "loss".into(),
                points: points[3..7].to_vec(),
            }
        );
    }

    #[test]
    fn events_written_inline_read_as_they_are() {
        let body = EventBody::Log {
            path: "user_logs/std_log.txt".into(),
            rank: None,
            text: "kept inline by an older server\n".into(),
        };
        let json = serde_json::to_string(&body).unwrap();
        let parsed: StoredBody = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, StoredBody::Inline(body.clone()));
        assert_eq!(
            resolve(Path::new("/nonexistent"), stored(parsed)).body,
            body
        );
    }
}
