//! A run's files as the API serves them (its "drive"): the index of its areas
//! (`outputs/`, `logs/`, `user_logs/`, `system_logs/`) and each file opened confined
//! to its area; its source snapshot listed and opened likewise. Nothing here follows
//! a link out, opens a FIFO or a device ([`crate::confined`]).

use std::path::{Path, PathBuf};

use runboard_shared::api::{RunFile, RunFileList};
use runboard_shared::run::RunId;

use super::RunError;
use crate::confined::{ConfinedError, Opened};
use crate::store::Store;
use crate::watch::AREAS;

/// The files of the run's areas, as the store indexed them.
pub async fn list(store: &Store, id: &RunId) -> Result<RunFileList, RunError> {
    Ok(RunFileList {
        files: store.files(id).await?,
    })
}

/// Opens the file the run path `path` names (`outputs/model.pkl`), and the name it
/// is served under.
pub async fn open(run_dir: PathBuf, path: String) -> Result<(Opened, String), RunError> {
    tokio::task::spawn_blocking(move || open_in_run(&run_dir, &path))
        .await
        .map_err(RunError::internal)?
}

/// Every file of the run's source snapshot, by path.
pub async fn snapshot(run_dir: &Path) -> Result<RunFileList, RunError> {
    let root = run_dir.join("snapshot");
    let files = tokio::task::spawn_blocking(move || list_files(&root))
        .await
        .map_err(RunError::internal)?
        .map_err(RunError::internal)?;
    Ok(RunFileList { files })
}

/// Opens the file `path` of the run's source snapshot.
pub async fn open_snapshot(run_dir: &Path, path: String) -> Result<(Opened, String), RunError> {
    let root = run_dir.join("snapshot");
    tokio::task::spawn_blocking(move || open_in(&root, &path))
        .await
        .map_err(RunError::internal)?
}

/// Opens the file a run path names, as [`crate::confined::open_in_area`] does:
/// nothing out of its area (`..`, absolute paths, links out, an area folder
/// replaced by a link), and only regular files (never a FIFO or device).
pub fn open_in_run(run_dir: &Path, path: &str) -> Result<(Opened, String), RunError> {
    let escapes = || RunError::Invalid {
        code: "invalid_path",
        message: format!(
            "file path '{path}' escapes the run folder; give a path such as outputs/model.pkl"
        ),
    };
    let (area, rest) = area_folder(path).ok_or_else(|| {
        if path.starts_with('/') || path.split('/').any(|c| c == "..") {
            escapes()
        } else {
            RunError::NotFound(format!(
                "no file '{path}' in this run; run files start with outputs/, logs/, user_logs/ or system_logs/"
            ))
        }
    })?;
    if rest.is_empty() {
        return Err(RunError::NotFound(format!("no file '{path}' in this run")));
    }
    match crate::confined::open_in_area(run_dir, area.as_ref(), rest.as_ref()) {
        Ok(opened) => Ok((opened, path.to_owned())),
        Err(ConfinedError::Escapes) => Err(escapes()),
        Err(ConfinedError::NotFound) => {
            Err(RunError::NotFound(format!("no file '{path}' in this run")))
        }
        Err(ConfinedError::NotRegular("folder")) => Err(RunError::NotFound(format!(
            "no file '{path}' in this run; it is a folder"
        ))),
        Err(ConfinedError::NotRegular(what)) => Err(RunError::Invalid {
            code: "not_a_file",
            message: format!(
                "run file '{path}' is a {what}, not a regular file; only regular files are served"
            ),
        }),
        Err(e) => Err(RunError::internal(e)),
    }
}

/// The area folder (relative to the run folder) and the rest of a run path.
fn area_folder(path: &str) -> Option<(&'static str, &str)> {
    let (area, rest) = path.split_once('/')?;
    let (_, folder, _) = AREAS.iter().find(|(name, _, _)| *name == area)?;
    Some((folder, rest))
}

/// Opens the file `path` names under the snapshot folder `root` with
/// [`crate::confined::open`]: nothing out of it (`..`, absolute paths, links out) and
/// only regular files.
pub fn open_in(root: &Path, path: &str) -> Result<(Opened, String), RunError> {
    let escapes = || RunError::Invalid {
        code: "invalid_path",
        message: format!(
            "file path '{path}' escapes the snapshot; give a path such as train.py or src/model.py"
        ),
    };
    if path.starts_with('/') {
        return Err(escapes());
    }
    match crate::confined::open(root, Path::new(path)) {
        Ok(opened) => Ok((opened, path.to_owned())),
        Err(ConfinedError::Escapes) => Err(escapes()),
        Err(ConfinedError::NotFound) => Err(RunError::NotFound(format!(
            "no file '{path}' in this run's snapshot"
        ))),
        Err(ConfinedError::NotRegular("folder")) => Err(RunError::NotFound(format!(
            "no file '{path}' in this run's snapshot; it is a folder"
        ))),
        Err(ConfinedError::NotRegular(what)) => Err(RunError::Invalid {
            code: "not_a_file",
            message: format!("snapshot file '{path}' is a {what}, not a regular file"),
        }),
        Err(e) => Err(RunError::internal(e)),
    }
}

/// The regular files under `root` with their sizes, as `/`-separated paths sorted
/// by path. Symlinks are listed only when they point at a file inside `root` (what
/// [`open_in`] would serve); an absent `root` is an empty snapshot.
pub fn list_files(root: &Path) -> std::io::Result<Vec<RunFile>> {
    let mut files = Vec::new();
    let Ok(real_root) = root.canonicalize() else {
        return Ok(files);
    };
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if files.len() >= crate::limits::MAX_LISTED_FILES {
            break;
        }
        for entry in std::fs::read_dir(&dir)?.take(crate::limits::MAX_LISTED_FILES) {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let size = if kind.is_file() {
                entry.metadata()?.len()
            } else if kind.is_symlink() {
                match path.canonicalize() {
                    Ok(real) if real.starts_with(&real_root) && real.is_file() => {
                        std::fs::metadata(&real)?.len()
                    }
                    _ => continue,
                }
            } else {
                continue;
            };
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(RunFile {
                path: rel.join("/"),
                size,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
