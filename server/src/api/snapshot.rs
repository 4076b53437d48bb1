//! A run's source snapshot, for the portal's Snapshot tab: the file list and each
//! file's bytes, from `<data>/runs/<id>/snapshot/` (never changed after submission).

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use runboard_shared::api::RunFileList;

use super::ApiError;
use super::AppState;
use super::KnownRun;
use crate::runs::files;

/// `GET /api/runs/{id}/snapshot`: every file of the snapshot, by path.
#[tracing::instrument(skip_all, fields(run_id = %run.id()))]
pub async fn list(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<RunFileList>, ApiError> {
    Ok(Json(files::snapshot(&state.run_dir(run.id())).await?))
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
    let opened = files::open_snapshot(&state.run_dir(run.id()), path).await?;
    super::files::serve_opened(opened, request).await
}

#[cfg(test)]
mod tests {
    use crate::runs::files::{list_files, open_in as open};
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
