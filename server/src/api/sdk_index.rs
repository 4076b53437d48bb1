//! The server's PEP 503 package index, `/simple/`: one project, `runboard-azureml`
//! (the SDK package, see [`crate::sdk`]), so that any Python can
//! `pip install --index-url http://HOST:8070/simple/ runboard-azureml`. Public like
//! the web app's own files: the package holds no secret, and pip sends no token.
//!
//! Every other project is the upstream index's, through [`super::pip_proxy`]: only its
//! pure-Python wheels, checked against the upstream's SHA-256 (the notebook kernel's
//! `%pip install`).

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::{ApiError, pip_proxy};
use crate::pypi::normalize;
use crate::sdk;

fn wheel() -> &'static sdk::Wheel {
    static WHEEL: OnceLock<sdk::Wheel> = OnceLock::new();
    WHEEL.get_or_init(sdk::wheel)
}

/// `GET /simple/`: the projects.
pub async fn root() -> Html<String> {
    let name = sdk::DISTRIBUTION;
    Html(format!(
        "<!DOCTYPE html>\n<html><body>\n<a href=\"/simple/{name}/\">{name}</a>\n</body></html>\n"
    ))
}

/// `GET /simple/{project}/`: the project's files, each with its hash.
pub async fn project(
    State(state): State<AppState>,
    Path(project): Path<String>,
) -> Result<Html<String>, ApiError> {
    if normalize(&project) != sdk::DISTRIBUTION {
        return pip_proxy::page(&state, &project).await;
    }
    let wheel = wheel();
    Ok(Html(format!(
        "<!DOCTYPE html>\n<html><body>\n<a href=\"/simple/{}/{file}#sha256={}\" \
         data-requires-python=\"&gt;=3.8\">{file}</a>\n</body></html>\n",
        sdk::DISTRIBUTION,
        wheel.sha256,
        file = wheel.file_name,
    )))
}

/// `GET /simple/{project}/{file}`: the wheel.
pub async fn file(
    State(state): State<AppState>,
    Path((project, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if normalize(&project) != sdk::DISTRIBUTION {
        return pip_proxy::file(&state, &project, &file).await;
    }
    let wheel = wheel();
    if file != wheel.file_name {
        return Err(not_here(&format!("{project}/{file}")));
    }
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        wheel.bytes.clone(),
    )
        .into_response())
}

fn not_here(what: &str) -> ApiError {
    ApiError::not_found(format!(
        "this index has only {}; no {what}",
        sdk::DISTRIBUTION
    ))
}
