//! `runboard backup DEST`: a consistent copy of a data folder while its server serves.
//!
//! First the database, through SQLite's online copy (`VACUUM INTO`): the store as it
//! stood at one instant. In that copy, runs that had not ended are marked Failed, saying
//! a backup caught them, so a server started on the copy never waits on jobs that belong
//! to the original. Then the folders, file by file: run folders, the files area,
//! datastores, models, the token and the server config. Files only grow or appear after
//! the database instant, so every event of the copy has its data. Environments (a cache,
//! rebuilt on demand), the SDK package (written at start) and half-received uploads are
//! left out. Links are copied as links; FIFOs, sockets and devices are skipped.

use std::path::Path;

use runboard_shared::run::RunStatus;

use crate::store::{Store, StoreError};

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination exists and is not an empty folder.
    #[error("{0} already exists and is not empty: give a new folder for the backup")]
    DestinationInUse(String),
    /// There is no Runboard data folder at the source.
    #[error("{0} holds no runboard.sqlite: give the server's --data-dir")]
    NotADataFolder(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Copying files failed.
    #[error("copying {0}: {1}")]
    Io(String, std::io::Error),
}

/// What a backup copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Runs that were still going, now Failed in the copy.
    pub unfinished: usize,
    /// Files copied.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The folders and files of a data folder that a backup copies.
const COPIED: [&str; 6] = [
    "runs",
    "files",
    "datastores",
    "models",
    "token",
    "runboard.toml",
];

/// Copies the data folder `data_dir` into `dest` (new, or an empty folder).
pub async fn backup(data_dir: &Path, dest: &Path) -> Result<Report, BackupError> {
    let io = |what: &Path| {
        let shown = what.display().to_string();
        move |e| BackupError::Io(shown, e)
    };
    if std::fs::read_dir(dest).is_ok_and(|mut d| d.next().is_some()) || dest.is_file() {
        return Err(BackupError::DestinationInUse(dest.display().to_string()));
    }
    let db = data_dir.join("runboard.sqlite");
    if !db.is_file() {
        return Err(BackupError::NotADataFolder(data_dir.display().to_string()));
    }
    std::fs::create_dir_all(dest).map_err(io(dest))?;
    let source = Store::open(&db).await?;
    source.copy_into(&dest.join("runboard.sqlite")).await?;

    let copy = Store::open(&dest.join("runboard.sqlite")).await?;
    let unfinished = copy.live_runs().await?;
    let at = crate::store::now();
    for run in &unfinished {
        copy.set_status(
            &run.summary.run_id,
            RunStatus::Failed,
            Some(&format!(
                "this run was still {} when `runboard backup` copied the data folder at {at}; \
                 its logs, metrics and files up to then are kept",
                run.summary.status
            )),
        )
        .await?;
    }
    let mut report = Report {
        unfinished: unfinished.len(),
        ..Report::default()
    };
    for name in COPIED {
        let from = data_dir.join(name);
        if std::fs::symlink_metadata(&from).is_ok() {
            let to = dest.join(name);
            let (files, bytes) = tokio::task::spawn_blocking(move || copy_tree(&from, &to))
                .await
                .map_err(|e| BackupError::Io(name.to_owned(), std::io::Error::other(e)))??;
            report.files += files;
            report.bytes += bytes;
        }
    }
    Ok(report)
}

/// Copies `from` to `to`: folders, regular files, links as links; skips the rest.
/// Returns the files and bytes copied.
fn copy_tree(from: &Path, to: &Path) -> Result<(u64, u64), BackupError> {
    let io = |what: &Path| {
        let shown = what.display().to_string();
        move |e| BackupError::Io(shown, e)
    };
    let meta = match std::fs::symlink_metadata(from) {
        Ok(m) => m,
        // Removed while copying (a temporary file of a job): nothing to copy.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(io(from)(e)),
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        std::fs::create_dir_all(to).map_err(io(to))?;
        let (mut files, mut bytes) = (0, 0);
        for entry in std::fs::read_dir(from).map_err(io(from))? {
            let entry = entry.map_err(io(from))?;
            let (f, b) = copy_tree(&entry.path(), &to.join(entry.file_name()))?;
            files += f;
            bytes += b;
        }
        Ok((files, bytes))
    } else if kind.is_symlink() {
        let target = std::fs::read_link(from).map_err(io(from))?;
        std::os::unix::fs::symlink(target, to).map_err(io(to))?;
        Ok((0, 0))
    } else if kind.is_file() {
        let bytes = std::fs::copy(from, to).map_err(io(from))?;
        Ok((1, bytes))
    } else {
        Ok((0, 0))
    }
}
