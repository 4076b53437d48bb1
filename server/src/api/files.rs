//! A run's files: the index, and downloads with HTTP Range.

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use runboard_shared::api::RunFileList;
use tower::ServiceExt;

use super::ApiError;
use super::AppState;
use super::KnownRun;
use crate::watch::AREAS;

/// `GET /api/runs/{id}/files`.
pub async fn list(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<RunFileList>, ApiError> {
    let id = run.into_id();
    Ok(Json(RunFileList {
        files: state.store.files(&id).await?,
    }))
}

/// `GET /api/runs/{id}/files/{*path}`: the file's bytes (Range requests honoured).
pub async fn download(
    State(state): State<AppState>,
    run: KnownRun,
    Path((_, path)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = run.into_id();
    let run_dir = state.run_dir(&id);
    let opened = tokio::task::spawn_blocking(move || open(&run_dir, &path))
        .await
        .map_err(ApiError::internal)??;
    serve_opened(opened, request).await
}

/// Serves a file opened with [`crate::confined`] (HTTP Range honoured, the type
/// guessed from the name the client asked for): `ServeFile` opens it again through
/// `/proc/self/fd`, which is this very file whatever the job did to its path since.
pub async fn serve_opened(
    (opened, name): (crate::confined::Opened, String),
    request: Request,
) -> Result<Response, ApiError> {
    let mime = mime_guess::from_path(&name).first_or_octet_stream();
    let response = tower_http::services::ServeFile::new_with_mime(opened.fd_path(), &mime)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?
        .into_response();
    drop(opened);
    let name = name.rsplit('/').next().unwrap_or_default().to_owned();
    Ok(sandboxed(response, &name))
}

/// `Content-Security-Policy` of a file a user or a job wrote: opened in a tab, it is a
/// page of a unique opaque origin, whose scripts (if any ran) cannot reach the
/// server's cookies, storage or API.
pub const USER_FILE_POLICY: &str = "sandbox";

/// Serves a file written by a user or a job (run files, snapshot files, the files
/// area) so that no browser runs it on the server's origin: `X-Content-Type-Options:
/// nosniff`, `Content-Security-Policy: sandbox`, and `Content-Disposition: attachment`
/// unless it is a safe preview type ([`inline_type`]), which is then named exactly.
/// HTTP Range is honoured (`ServeFile`).
pub(super) async fn serve_user_file(
    file: std::path::PathBuf,
    request: Request,
) -> Result<Response, ApiError> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let response = tower_http::services::ServeFile::new(file)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?
        .into_response();
    Ok(sandboxed(response, &name))
}

/// The headers of [`serve_user_file`] on an answer serving the file called `name`.
fn sandboxed(mut response: Response, name: &str) -> Response {
    let ok = response.status().is_success();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(USER_FILE_POLICY),
    );
    match inline_type(name) {
        Some(content_type) if ok => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        Some(_) => {}
        None => {
            headers.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment"),
            );
        }
    }
    response
}

/// The content type a file named `name` is shown inline with, or `None` when it must
/// be downloaded: PNG, JPEG, GIF and WebP images as themselves, and text as
/// `text/plain; charset=utf-8`, whatever language it holds (a browser shows such a
/// file as text and never runs it). HTML, SVG, XML, JavaScript, PDF and everything
/// unknown are downloaded: each can hold a script.
pub fn inline_type(name: &str) -> Option<&'static str> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() {
        // A dotfile such as `.amlignore`: text.
        return matches!(ext, "amlignore" | "gitignore" | "dockerignore").then_some(TEXT);
    }
    Some(match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" | "log" | "out" | "err" | "md" | "rst" | "py" | "ipynb" | "json" | "jsonl"
        | "yaml" | "yml" | "toml" | "ini" | "cfg" | "conf" | "csv" | "tsv" | "sh" | "r" | "c"
        | "h" | "cc" | "cpp" | "hpp" | "rs" | "go" | "java" | "scala" | "sql" | "tex"
        | "properties" => TEXT,
        _ => return None,
    })
}

const TEXT: &str = "text/plain; charset=utf-8";

/// Opens the file a run path names, as [`crate::confined::open_in_area`] does:
/// nothing out of its area (`..`, absolute paths, links out, an area folder
/// replaced by a link), and only regular files (never a FIFO or device).
fn open(
    run_dir: &std::path::Path,
    path: &str,
) -> Result<(crate::confined::Opened, String), ApiError> {
    use crate::confined::ConfinedError;
    let escapes = || {
        ApiError::bad_request(
            "invalid_path",
            format!(
                "file path '{path}' escapes the run folder; give a path such as outputs/model.pkl"
            ),
        )
    };
    let (area, rest) = area_folder(path).ok_or_else(|| {
        if path.starts_with('/') || path.split('/').any(|c| c == "..") {
            escapes()
        } else {
            ApiError::not_found(format!(
                "no file '{path}' in this run; run files start with outputs/, logs/, user_logs/ or system_logs/"
            ))
        }
    })?;
    if rest.is_empty() {
        return Err(ApiError::not_found(format!("no file '{path}' in this run")));
    }
    match crate::confined::open_in_area(run_dir, area.as_ref(), rest.as_ref()) {
        Ok(opened) => Ok((opened, path.to_owned())),
        Err(ConfinedError::Escapes) => Err(escapes()),
        Err(ConfinedError::NotFound) => {
            Err(ApiError::not_found(format!("no file '{path}' in this run")))
        }
        Err(ConfinedError::NotRegular("folder")) => Err(ApiError::not_found(format!(
            "no file '{path}' in this run; it is a folder"
        ))),
        Err(ConfinedError::NotRegular(what)) => Err(ApiError::bad_request(
            "not_a_file",
            format!(
                "run file '{path}' is a {what}, not a regular file; only regular files are served"
            ),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The area folder (relative to the run folder) and the rest of a run path.
fn area_folder(path: &str) -> Option<(&'static str, &str)> {
    let (area, rest) = path.split_once('/')?;
    let (_, folder, _) = AREAS.iter().find(|(name, _, _)| *name == area)?;
    Some((folder, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_and_plain_images_are_shown_inline() {
        let check = |name: &str, expect: Option<&str>| {
            assert_eq!(inline_type(name), expect, "{name}");
        };
        check("std_log.txt", Some(TEXT));
        check("train.py", Some(TEXT));
        check("metrics.JSON", Some(TEXT));
        check(".amlignore", Some(TEXT));
        check("plot.png", Some("image/png"));
        check("photo.JPG", Some("image/jpeg"));
        check("anim.gif", Some("image/gif"));
        check("small.webp", Some("image/webp"));
        for download in [
            "x.html",
            "x.htm",
            "x.svg",
            "x.xml",
            "x.xhtml",
            "x.js",
            "x.mjs",
            "x.css",
            "x.pdf",
            "model.pkl",
            "README",
            ".env",
            "x.bmp",
        ] {
            check(download, None);
        }
    }
}
