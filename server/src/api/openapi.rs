//! `GET /api/openapi.json`: the API's OpenAPI 3.1 document, generated once from the
//! endpoint table ([`crate::openapi`]).

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;

/// The document's bytes, generated at the first request.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| crate::openapi::document().to_string());

/// `GET /api/openapi.json`.
pub async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}
