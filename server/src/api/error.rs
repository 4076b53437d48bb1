//! The one error type of the HTTP edge: every failure becomes a JSON body
//! `{"error": {"code", "message", "details"?}}` with a fitting status code. Causes of
//! 5xx answers are logged, not shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use runboard_shared::api::{ErrorBody, ErrorDetail, FieldErrorBody};
use runboard_shared::estimator::FieldError;

use crate::runner::RunnerError;
use crate::snapshot::SnapshotError;
use crate::store::StoreError;

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// A sentence naming what was wrong.
    pub message: String,
    /// Field errors, when there were several.
    pub details: Vec<FieldErrorBody>,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The answer to a JSON body that could not be read: 413 `body_too_large` naming
    /// the limit when it was too large, else 400 `invalid_json` with the reason.
    pub fn json(rejection: axum::extract::rejection::JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than this route accepts ({} bytes for JSON bodies, {} for metrics batches)",
                    crate::limits::MAX_JSON_BODY_BYTES,
                    crate::limits::MAX_METRICS_BODY_BYTES
                ),
            )
        } else {
            Self::bad_request("invalid_json", rejection.body_text())
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong credentials: send 'Authorization: Bearer <token>' (the server's token or a personal API token), log in at /login with a name and password, or open the login URL that `runboard serve` printed (`runboard token` prints it again)",
        )
    }

    /// 500: the cause is logged, the client gets a generic sentence.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }

    /// 400 `invalid_estimator` listing every field error.
    pub fn fields(errors: Vec<FieldError>) -> Self {
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_estimator",
            message: format!("invalid estimator: {message}"),
            details: errors
                .into_iter()
                .map(|e| FieldErrorBody {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchRun(id) => Self::not_found(crate::no_such_run(&id)),
            other => Self::internal(other),
        }
    }
}

impl From<RunnerError> for ApiError {
    fn from(e: RunnerError) -> Self {
        match e {
            RunnerError::Store(e) => e.into(),
            RunnerError::NoSuchRun(id) => Self::not_found(crate::no_such_run(&id)),
            e => Self::internal(e),
        }
    }
}

impl From<SnapshotError> for ApiError {
    fn from(e: SnapshotError) -> Self {
        match e {
            SnapshotError::TooManyEntries { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "snapshot_too_many_entries",
                e.to_string(),
            ),
            SnapshotError::ExtensionTooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "snapshot_header_too_large",
                e.to_string(),
            ),
            SnapshotError::TooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "snapshot_too_large",
                e.to_string(),
            ),
            SnapshotError::Io(_) | SnapshotError::Walk(_) => Self::internal(e),
            _ => Self::bad_request("invalid_snapshot", e.to_string()),
        }
    }
}
