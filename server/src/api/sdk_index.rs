//! The server's PEP 503 package index, `/simple/`: one project, `runboard-azureml`
//! (the SDK package, see [`crate::sdk`]), so that any Python can
//! `pip install --index-url http://HOST:8070/simple/ runboard-azureml`. Public like
//! the web app's own files: the package holds no secret, and pip sends no token.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::ApiError;
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
pub async fn project(Path(project): Path<String>) -> Result<Html<String>, ApiError> {
    if normalize(&project) != sdk::DISTRIBUTION {
        return Err(not_here(&project));
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
pub async fn file(Path((project, file)): Path<(String, String)>) -> Result<Response, ApiError> {
    let wheel = wheel();
    if normalize(&project) != sdk::DISTRIBUTION || file != wheel.file_name {
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

/// PEP 503's name normalisation: runs of `-`, `_` and `.` become one `-`, lower case.
fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim_end_matches('/').chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn not_here(what: &str) -> ApiError {
    ApiError::not_found(format!(
        "this index has only {}; no {what}",
        sdk::DISTRIBUTION
    ))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn names_are_normalised_as_pep_503_says() {
        for (given, expected) in [
            ("runboard-azureml", "runboard-azureml"),
            ("Runboard_AzureML", "runboard-azureml"),
            ("runboard.__azureml", "runboard-azureml"),
            ("numpy", "numpy"),
        ] {
            assert_eq!(normalize(given), expected, "{given}");
        }
    }
}
