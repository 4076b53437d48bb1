//! The package index's other projects: `/simple/{project}/` for any project but the
//! SDK's proxies the upstream index (`[pip] index_url`, PyPI by default), serving only
//! its pure-Python wheels, so that the notebook kernel's `%pip install` (and any pip
//! pointed at this server) gets them through the server.
//!
//! Not an open proxy: the client names a project and a file name, never a URL. A file
//! is served only when the upstream's listing of that project names it, from the URL
//! the listing gives, and only when its bytes have the listing's SHA-256. Checked files
//! are kept in `<data>/pip-cache/<sha256>` (written beside, then renamed), so a file is
//! downloaded once. The pure logic is [`crate::pypi`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::ApiError;
use super::AppState;
use crate::pypi::{self, UpstreamFile};

/// The largest wheel the proxy downloads.
const MAX_WHEEL_BYTES: u64 = 256 * 1024 * 1024;

/// What the kernel and the error pages say about binary packages.
const PURE_ONLY: &str = "the notebook kernel installs pure-Python wheels only; binary \
    packages such as numpy belong in the job's environment (pip_packages or conda_packages \
    of the estimator or its Environment)";

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .user_agent(concat!("runboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

/// `GET /simple/{project}/` of a proxied project.
pub async fn page(state: &AppState, project: &str) -> Result<Html<String>, ApiError> {
    let files = pure_listing(state, project).await?;
    Ok(Html(pypi::render_page(project, &files)))
}

/// `GET /simple/{project}/{file}` of a proxied project.
pub async fn file(state: &AppState, project: &str, name: &str) -> Result<Response, ApiError> {
    let index = &state.config.pip_index_url;
    if !pypi::safe_file_name(name) {
        return Err(ApiError::not_found(format!(
            "no file {name:?} of {project}"
        )));
    }
    let files = pure_listing(state, project).await?;
    let Some(wanted) = files.into_iter().find(|f| f.filename == name) else {
        return Err(ApiError::not_found(format!(
            "{index} lists no pure-Python wheel {name} of {project}"
        )));
    };
    let cache = state.config.data_dir.join("pip-cache");
    let path = cache.join(&wanted.sha256);
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        download(index, project, &wanted, &cache, &path).await?;
    }
    let bytes = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

/// The upstream's pure-Python wheels of `project`; 404 for a project it does not have
/// or one without such wheels, 502 when it cannot be asked.
async fn pure_listing(state: &AppState, project: &str) -> Result<Vec<UpstreamFile>, ApiError> {
    let index = &state.config.pip_index_url;
    if !pypi::valid_project(project) {
        return Err(ApiError::not_found(format!(
            "{project:?} is not a valid project name"
        )));
    }
    let base = project_url(index, project)?;
    let response = client()
        .get(base.clone())
        .header(header::ACCEPT, pypi::JSON_ACCEPT)
        .send()
        .await
        .map_err(|e| unreachable(index, &e))?;
    if response.status() == StatusCode::NOT_FOUND {
        return Err(ApiError::not_found(format!(
            "no project {project} on the package index {index}"
        )));
    }
    if !response.status().is_success() {
        return Err(bad_gateway(format!(
            "the package index {index} answered {} for {project}",
            response.status()
        )));
    }
    let body = response.bytes().await.map_err(|e| unreachable(index, &e))?;
    let files = pypi::parse_listing(&body)
        .map_err(|e| bad_gateway(format!("the package index {index}, for {project}: {e}")))?;
    let any = !files.is_empty();
    let mut pure = pypi::pure_wheels(project, files);
    if pure.is_empty() {
        let what = if any {
            "has no pure-Python wheel"
        } else {
            "has no files"
        };
        return Err(ApiError::not_found(format!(
            "{project} {what} on {index}: {PURE_ONLY}"
        )));
    }
    // Absolute upstream URLs, so a file is fetched from where the listing says.
    for f in &mut pure {
        f.url = base
            .join(&f.url)
            .map_err(|e| bad_gateway(format!("{index} lists a bad URL {:?}: {e}", f.url)))?
            .to_string();
    }
    Ok(pure)
}

fn project_url(index: &str, project: &str) -> Result<reqwest::Url, ApiError> {
    let index = reqwest::Url::parse(index)
        .map_err(|e| ApiError::internal(format!("[pip] index_url {index:?}: {e}")))?;
    index
        .join(&format!("{}/", pypi::normalize(project)))
        .map_err(ApiError::internal)
}

/// Downloads `file`, checks its SHA-256 and its size, and puts it at `path`.
async fn download(
    index: &str,
    project: &str,
    file: &UpstreamFile,
    cache: &Path,
    path: &Path,
) -> Result<(), ApiError> {
    let mut response = client()
        .get(&file.url)
        .send()
        .await
        .map_err(|e| unreachable(index, &e))?;
    if !response.status().is_success() {
        return Err(bad_gateway(format!(
            "the package index {index} answered {} for {}",
            response.status(),
            file.filename
        )));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(index, &e))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() as u64 > MAX_WHEEL_BYTES {
            return Err(bad_gateway(format!(
                "{} of {project} is larger than {} MiB; install it in the job's environment",
                file.filename,
                MAX_WHEEL_BYTES / 1024 / 1024
            )));
        }
    }
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != file.sha256 {
        tracing::warn!(file = %file.filename, listed = %file.sha256, got = %digest, "pip proxy: hash mismatch");
        return Err(bad_gateway(format!(
            "refused {}: its SHA-256 is {digest}, but {index} lists {}",
            file.filename, file.sha256
        )));
    }
    tokio::fs::create_dir_all(cache)
        .await
        .map_err(ApiError::internal)?;
    let part = part_path(path);
    tokio::fs::write(&part, &bytes)
        .await
        .map_err(ApiError::internal)?;
    if let Err(e) = tokio::fs::rename(&part, path).await {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(ApiError::internal(e));
    }
    Ok(())
}

/// A name beside `path` that no other download uses.
fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".part-{:016x}", rand::random::<u64>()));
    path.with_file_name(name)
}

fn bad_gateway(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_GATEWAY, "package_index", message)
}

fn unreachable(index: &str, error: &reqwest::Error) -> ApiError {
    // reqwest's Display leaves out the cause ("error sending request"); name it.
    let mut cause = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        cause = format!("{cause}: {s}");
        source = s.source();
    }
    bad_gateway(format!(
        "could not reach the package index {index} ({cause})"
    ))
}
