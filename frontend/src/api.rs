//! Every request the app makes to the server goes through this module.
//!
//! Requests carry the session cookie (`credentials: same-origin`: the server sets the
//! cookie when the user opens its `?token=` login link) and are aborted when the
//! reactive owner that made them is cleaned up, e.g. when the user leaves the page
//! before the answer came.

use std::fmt;
use std::future::Future;

use gloo_net::http::{Request, Response};
use leptos::prelude::on_cleanup;
use runboard_shared::api::{ErrorBody, ExperimentList};
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use web_sys::{AbortController, RequestCredentials};

/// Why a request gave no answer the page can use, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer came: the server is down or unreachable, or the request was aborted.
    Network(String),
    /// The server answered with an error status.
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's sentence (from its JSON error body, else the status text).
        message: String,
    },
    /// The answer was not the JSON this version of the app expects.
    Decode(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Network(cause) => write!(f, "the server could not be reached ({cause})"),
            ApiError::Server {
                status: 401,
                message,
            } => {
                write!(
                    f,
                    "{message} (open the login link that `runboard serve` printed)"
                )
            }
            ApiError::Server { status, message } => write!(f, "{message} (HTTP {status})"),
            ApiError::Decode(cause) => {
                write!(f, "the server's answer was not understood ({cause})")
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// `GET /api/experiments`.
pub fn experiments() -> impl Future<Output = Result<ExperimentList, ApiError>> {
    get_json("/api/experiments")
}

/// GETs `path` and decodes its JSON answer. The request starts when the future is
/// first polled; it is aborted when the current reactive owner is cleaned up.
fn get_json<T: DeserializeOwned>(path: &str) -> impl Future<Output = Result<T, ApiError>> + use<T> {
    let abort = abort_on_cleanup();
    let request = Request::get(path)
        .credentials(RequestCredentials::SameOrigin)
        .abort_signal(abort.as_ref().map(|a| a.signal()).as_ref());
    async move {
        // Keeps the controller alive (and so the request abortable) until the answer.
        let _abort = abort;
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        if !response.ok() {
            return Err(error_of(response).await);
        }
        let content_type = response.headers().get("content-type").unwrap_or_default();
        if !content_type.starts_with("application/json") {
            // E.g. a static file server's `index.html` where the API should be.
            return Err(ApiError::Decode(format!(
                "expected JSON, got {content_type:?}"
            )));
        }
        response
            .json::<T>()
            .await
            .map_err(|e| ApiError::Decode(e.to_string()))
    }
}

/// An abort controller that is aborted when the current reactive owner is cleaned up.
/// `None` where the browser has none (no request is then aborted).
fn abort_on_cleanup() -> Option<AbortController> {
    let controller = AbortController::new().ok()?;
    // The cleanup must be `Send`; it only ever runs on the browser's one thread.
    let on_cleanup_controller = SendWrapper::new(controller.clone());
    on_cleanup(move || on_cleanup_controller.abort());
    Some(controller)
}

/// The error of a non-2xx answer, with the server's own message when it sent one.
async fn error_of(response: Response) -> ApiError {
    let status = response.status();
    let status_text = response.status_text();
    let message = match response.json::<ErrorBody>().await {
        Ok(body) => body.error.message,
        Err(_) if status_text.is_empty() => "the server refused the request".to_owned(),
        Err(_) => status_text,
    };
    ApiError::Server { status, message }
}
