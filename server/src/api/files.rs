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
use crate::runs::files;

/// `GET /api/runs/{id}/files`.
pub async fn list(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<RunFileList>, ApiError> {
    Ok(Json(files::list(&state.store, run.id()).await?))
}

/// `GET /api/runs/{id}/files/{*path}`: the file's bytes (Range requests honoured).
pub async fn download(
    State(state): State<AppState>,
    run: KnownRun,
    Path((_, path)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let opened = files::open(state.run_dir(run.id()), path).await?;
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
