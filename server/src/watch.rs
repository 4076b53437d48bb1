//! Watching a run's folder: tailing its log files into events and indexing the files
//! it writes under `outputs/`, `logs/`, `user_logs/` and `system_logs/`.
//!
//! The decoding is sans-IO ([`decode_chunk`]); [`tail_logs`] and [`scan_files`] do
//! the reading and hand the results to the store.

use std::path::{Path, PathBuf};

use runboard_shared::event::RunEvent;
use runboard_shared::run::RunId;

use crate::store::{Store, StoreError};

/// The most bytes of a log turned into one event.
pub const MAX_CHUNK: usize = 256 * 1024;

/// Decodes bytes read from a log file into text. Returns the text and how many bytes
/// it consumed: an incomplete UTF-8 character at the end is left for the next read,
/// unless `eof` says no more bytes will come. Invalid bytes become U+FFFD.
pub fn decode_chunk(bytes: &[u8], eof: bool) -> (String, usize) {
    let mut text = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                text.push_str(valid);
                return (text, bytes.len());
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                match e.error_len() {
                    Some(bad) => {
                        text.push(char::REPLACEMENT_CHARACTER);
                        rest = &after[bad..];
                    }
                    None if eof => {
                        text.push(char::REPLACEMENT_CHARACTER);
                        return (text, bytes.len());
                    }
                    None => return (text, bytes.len() - after.len()),
                }
            }
        }
    }
}

/// A log file of a run and the process rank it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// Path relative to the run folder (`user_logs/std_log.txt`).
    pub path: String,
    /// `Some(r)` for `std_log_process_<r>.txt`.
    pub rank: Option<u32>,
}

/// The environment build log, streamed like the job's own logs.
pub const ENVIRONMENT_LOG: &str = "system_logs/environment.txt";

/// The log files that exist: the environment build log, then those under
/// `<run>/user_logs/`, by name.
pub fn log_files(run_dir: &Path) -> Vec<LogFile> {
    let mut files = Vec::new();
    if run_dir.join(ENVIRONMENT_LOG).is_file() {
        files.push(LogFile {
            path: ENVIRONMENT_LOG.to_owned(),
            rank: None,
        });
    }
    let Some(Ok(entries)) =
        crate::confined::real_folder(run_dir, Path::new("user_logs")).map(std::fs::read_dir)
    else {
        return files;
    };
    let mut user: Vec<LogFile> = entries
        .take(crate::limits::MAX_LISTED_FILES)
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".txt"))
        .map(|name| LogFile {
            rank: name
                .strip_prefix("std_log_process_")
                .and_then(|r| r.strip_suffix(".txt"))
                .and_then(|r| r.parse().ok()),
            path: format!("user_logs/{name}"),
        })
        .collect();
    user.sort_by(|a, b| a.path.cmp(&b.path));
    files.extend(user);
    files
}

/// Reads what was appended to each of the run's log files since the store last saw
/// it, and records it as log events. `eof` says the job has ended. Returns the new
/// events in order.
pub async fn tail_logs(
    store: &Store,
    run_id: &RunId,
    run_dir: &Path,
    eof: bool,
) -> Result<Vec<RunEvent>, StoreError> {
    let mut events = Vec::new();
    tail_logs_each(store, run_id, run_dir, eof, |e| events.push(e)).await?;
    Ok(events)
}

/// [`tail_logs`], handing each event to `each` as soon as it is committed: the
/// driver publishes it then, so a log read in one pass (a 1 GiB log written faster
/// than the driver wakes) is never held in memory whole, only one 256 KiB chunk of it.
pub async fn tail_logs_each(
    store: &Store,
    run_id: &RunId,
    run_dir: &Path,
    eof: bool,
    mut each: impl FnMut(RunEvent),
) -> Result<(), StoreError> {
    let dir = run_dir.to_owned();
    let logs = tokio::task::spawn_blocking(move || {
        let logs = log_files(&dir);
        for log in &logs {
            keep(&dir, &log.path);
        }
        logs
    })
    .await
    .unwrap_or_default();
    for log in logs {
        loop {
            let offset = store.log_offset(run_id, &log.path).await?;
            let (dir, path) = (run_dir.to_owned(), log.path.clone());
            let read = tokio::task::spawn_blocking(move || {
                let source = read_path(&dir, &path);
                crate::confined::read_at(&dir, Path::new(&source), offset, MAX_CHUNK as u64)
            })
            .await;
            let Ok(Ok(bytes)) = read else {
                break;
            };
            if bytes.is_empty() {
                break;
            }
            let full = bytes.len() == MAX_CHUNK;
            let (text, used) = decode_chunk(&bytes, eof && !full);
            if used == 0 {
                break;
            }
            let read = crate::store::LogRef {
                path: log.path.clone(),
                rank: log.rank,
                offset,
                len: used as u64,
                eof: eof && !full,
            };
            let event = store.append_log(run_id, read, text).await?;
            each(event);
            if !full {
                break;
            }
        }
    }
    Ok(())
}

/// The folder of a run where the server keeps a hard link to each of the job's logs
/// (`kept/std_log.txt` for `user_logs/std_log.txt`), made the first time the log is
/// seen. `user_logs/` is the job's to write (a distributed job's ranks write their own
/// logs there), so a job could replace a log after it was read; the link keeps the
/// bytes it wrote, which log events point to (they are stored once, see
/// `replay`), and costs no space: it is the same file. `kept/` is root's, `0700`.
pub const KEPT: &str = "kept";

/// Links a log of `user_logs/` into [`KEPT`] unless it is there already. A log that
/// is not a regular file is not kept (a link made in a race with the job links the
/// job's link or FIFO itself, which [`crate::confined`] then refuses to read).
pub fn keep(run_dir: &Path, log: &str) {
    let Some(name) = log.strip_prefix("user_logs/") else {
        return;
    };
    let kept = run_dir.join(KEPT).join(name);
    if std::fs::symlink_metadata(&kept).is_ok() {
        return;
    }
    let original = run_dir.join(log);
    if !std::fs::symlink_metadata(&original).is_ok_and(|m| m.file_type().is_file()) {
        return;
    }
    let made = std::fs::create_dir_all(run_dir.join(KEPT)).and_then(|()| {
        std::fs::set_permissions(
            run_dir.join(KEPT),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
    });
    if let Err(e) = made.and_then(|()| std::fs::hard_link(&original, &kept)) {
        tracing::warn!(log, error = %e, "could not keep a link to the log; it is read where it is");
    }
}

/// The file to read for the log `log` (`user_logs/std_log.txt`), relative to the run
/// folder: its [`KEPT`] link when there is one.
pub fn read_path(run_dir: &Path, log: &str) -> String {
    match log.strip_prefix("user_logs/") {
        Some(name) if std::fs::symlink_metadata(run_dir.join(KEPT).join(name)).is_ok() => {
            format!("{KEPT}/{name}")
        }
        _ => log.to_owned(),
    }
}

/// The areas of a run whose files are indexed: (name in the run's file paths,
/// folder relative to the run folder, announce changes as events).
pub const AREAS: [(&str, &str, bool); 4] = [
    ("outputs", "wd/outputs", true),
    ("logs", "wd/logs", true),
    ("user_logs", "user_logs", false),
    ("system_logs", "system_logs", false),
];

/// Where the run file `path` (`outputs/model.txt`) lives on disk, if `path` names
/// one of the [`AREAS`]. Checking that it stays inside is the caller's job.
pub fn area_root(run_dir: &Path, path: &str) -> Option<(PathBuf, String)> {
    let (area, rest) = path.split_once('/')?;
    let (_, folder, _) = AREAS.iter().find(|(name, _, _)| *name == area)?;
    Some((run_dir.join(folder), rest.to_owned()))
}

/// A file found by [`list_area_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    /// Path relative to the run (`outputs/model.txt`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time (RFC 3339).
    pub modified: String,
    /// Whether changes are announced as events.
    pub announce: bool,
}

/// Lists the regular files of every area (symlinks are not followed).
pub fn list_area_files(run_dir: &Path) -> Vec<FoundFile> {
    let mut found = Vec::new();
    for (area, folder, announce) in AREAS {
        // The job may have put a link in place of the area, and may write millions
        // of files: walk real folders only, and list at most MAX_LISTED_FILES.
        let Some(root) = crate::confined::real_folder(run_dir, Path::new(folder)) else {
            continue;
        };
        let mut listed = 0;
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                listed += 1;
                if listed > crate::limits::MAX_LISTED_FILES {
                    stack.clear();
                    break;
                }
                // `DirEntry::metadata` does not follow links: a link is neither.
                let Ok(meta) = entry.metadata() else { continue };
                let path = entry.path();
                if meta.is_dir() {
                    stack.push(path);
                } else if meta.is_file() {
                    let Ok(rel) = path.strip_prefix(&root) else {
                        continue;
                    };
                    let Some(rel) = rel.to_str() else { continue };
                    let modified = meta
                        .modified()
                        .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339())
                        .unwrap_or_default();
                    found.push(FoundFile {
                        path: format!("{area}/{rel}"),
                        size: meta.len(),
                        modified,
                        announce,
                    });
                }
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// Indexes the run's files, returning events for new or changed files of the
/// announced areas.
pub async fn scan_files(
    store: &Store,
    run_id: &RunId,
    run_dir: &Path,
) -> Result<Vec<RunEvent>, StoreError> {
    let dir = run_dir.to_owned();
    let found = tokio::task::spawn_blocking(move || list_area_files(&dir))
        .await
        .unwrap_or_default();
    let mut events = Vec::new();
    for f in found {
        if let Some(e) = store
            .upsert_file(run_id, &f.path, f.size, &f.modified, f.announce)
            .await?
        {
            events.push(e);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], eof: bool, text: &str, used: usize) {
        assert_eq!(
            decode_chunk(bytes, eof),
            (text.to_owned(), used),
            "{bytes:?}"
        );
    }

    #[test]
    fn decoding_keeps_whole_characters() {
        check(b"hello\n", false, "hello\n", 6);
        check(b"", false, "", 0);
        // "é" is C3 A9: a read that ends between the two bytes waits for the second.
        check(b"caf\xc3", false, "caf", 3);
        check(b"caf\xc3\xa9", false, "café", 5);
        // At the end of the job an incomplete character is replaced, not lost.
        check(b"caf\xc3", true, "caf\u{fffd}", 4);
        // Invalid bytes in the middle are replaced and reading goes on.
        check(b"a\xffb", false, "a\u{fffd}b", 3);
        check(b"\r10%\r20%", false, "\r10%\r20%", 8);
    }

    #[test]
    fn log_files_carry_their_rank() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("user_logs")).unwrap();
        for name in [
            "std_log.txt",
            "std_log_process_1.txt",
            "std_log_process_0.txt",
            "notes.bin",
        ] {
            std::fs::write(dir.path().join("user_logs").join(name), "").unwrap();
        }
        let got: Vec<(String, Option<u32>)> = log_files(dir.path())
            .into_iter()
            .map(|l| (l.path, l.rank))
            .collect();
        assert_eq!(
            got,
            [
                ("user_logs/std_log.txt".to_owned(), None),
                ("user_logs/std_log_process_0.txt".to_owned(), Some(0)),
                ("user_logs/std_log_process_1.txt".to_owned(), Some(1)),
            ]
        );
    }
}
