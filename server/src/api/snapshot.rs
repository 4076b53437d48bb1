//! A run's source snapshot, for the portal's Snapshot tab: the file list and each
//! file's bytes, from `<data>/runs/<id>/snapshot/` (never changed after submission).

use std::path::{Path as FsPath, PathBuf};

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use runboard_shared::api::{RunFile, RunFileList};

use super::ApiError;
use super::AppState;
use super::KnownRun;

/// `GET /api/runs/{id}/snapshot`: every file of the snapshot, by path.
#[tracing::instrument(skip_all, fields(run_id = %run.id()))]
pub async fn list(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<RunFileList>, ApiError> {
    let id = run.into_id();
    let root = snapshot_dir(&state, &id);
    let files = tokio::task::spawn_blocking(move || list_files(&root))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Json(RunFileList { files }))
}

/// `GET /api/runs/{id}/snapshot/{*path}`: one file of the snapshot (HTTP Range
/// honoured).
#[tracing::instrument(skip_all, fields(run_id = %run.id()))]
pub async fn download(
    State(state): State<AppState>,
    run: KnownRun,
    Path((_, path)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = run.into_id();
    let root = snapshot_dir(&state, &id);
    let opened = tokio::task::spawn_blocking(move || open(&root, &path))
        .await
        .map_err(ApiError::internal)??;
    super::files::serve_opened(opened, request).await
}

/// Opens the file `path` names under `root` with [`crate::confined::open`]:
/// nothing out of it (`..`, absolute paths, links out) and only regular files.
fn open(root: &FsPath, path: &str) -> Result<(crate::confined::Opened, String), ApiError> {
    use crate::confined::ConfinedError;
    let escapes = || {
        ApiError::bad_request(
            "invalid_path",
            format!(
                "file path '{path}' escapes the snapshot; give a path such as train.py or src/model.py"
            ),
        )
    };
    if path.starts_with('/') {
        return Err(escapes());
    }
    match crate::confined::open(root, FsPath::new(path)) {
        Ok(opened) => Ok((opened, path.to_owned())),
        Err(ConfinedError::Escapes) => Err(escapes()),
        Err(ConfinedError::NotFound) => Err(ApiError::not_found(format!(
            "no file '{path}' in this run's snapshot"
        ))),
        Err(ConfinedError::NotRegular("folder")) => Err(ApiError::not_found(format!(
            "no file '{path}' in this run's snapshot; it is a folder"
        ))),
        Err(ConfinedError::NotRegular(what)) => Err(ApiError::bad_request(
            "not_a_file",
            format!("snapshot file '{path}' is a {what}, not a regular file"),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

fn snapshot_dir(state: &AppState, id: &runboard_shared::run::RunId) -> PathBuf {
    state.run_dir(id).join("snapshot")
}

/// The regular files under `root` with their sizes, as `/`-separated paths sorted
/// by path. Symlinks are listed only when they point at a file inside `root` (what
/// [`resolve`] would serve); an absent `root` is an empty snapshot.
fn list_files(root: &FsPath) -> std::io::Result<Vec<RunFile>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    fn snapshot() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("snapshot");
        std::fs::create_dir_all(root.join("src/pkg")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("train.py"), "print('hi')\n").unwrap();
        std::fs::write(root.join("src/pkg/model.py"), "x = 1\n").unwrap();
        std::fs::write(root.join(".amlignore"), "data/\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "outside").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("train.py"), root.join("alias.py")).unwrap();
        dir
    }

    #[test]
    fn lists_files_with_sizes_and_skips_links_that_leave() {
        let dir = snapshot();
        let files = list_files(&dir.path().join("snapshot")).unwrap();
        let listed: Vec<(&str, u64)> = files.iter().map(|f| (f.path.as_str(), f.size)).collect();
        assert_eq!(
            listed,
            [
                (".amlignore", 6),
                ("alias.py", 12),
                ("src/pkg/model.py", 6),
                ("train.py", 12)
            ]
        );
        assert!(list_files(&dir.path().join("absent")).unwrap().is_empty());
    }

    #[test]
    fn resolves_only_files_inside_the_snapshot() {
        let dir = snapshot();
        let root = dir.path().join("snapshot");
        let status = |path: &str| open(&root, path).map(|_| StatusCode::OK);
        let code = |path: &str| match status(path) {
            Ok(s) => s,
            Err(e) => e.into_response().status(),
        };
        assert_eq!(code("train.py"), StatusCode::OK);
        assert_eq!(code("src/pkg/model.py"), StatusCode::OK);
        assert_eq!(code("./train.py"), StatusCode::OK);
        assert_eq!(code("alias.py"), StatusCode::OK);
        assert_eq!(code("missing.py"), StatusCode::NOT_FOUND);
        assert_eq!(code("src"), StatusCode::NOT_FOUND);
        assert_eq!(code("../secret.txt"), StatusCode::BAD_REQUEST);
        assert_eq!(code("src/../../secret.txt"), StatusCode::BAD_REQUEST);
        assert_eq!(code("/etc/passwd"), StatusCode::BAD_REQUEST);
        assert_eq!(code("leak.txt"), StatusCode::BAD_REQUEST);
        assert_eq!(code(""), StatusCode::BAD_REQUEST);
    }
}
