//! The endpoint table (`runboard_shared::endpoints`) against the server's routes, in
//! both directions, and the OpenAPI document generated from it.
//!
//! Two checks, because either alone could miss a drift: the set of `api::routes()`
//! (what `api::app` mounts, one `route` per row) equals the table's set; and the
//! router itself, asked each table row's method and path without credentials,
//! answers 401 (a mounted route's authentication), not the fallback's 404 or 405.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use runboard_server::api::AppState;
use runboard_server::{Config, api};
use runboard_shared::endpoints::ENDPOINTS;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::Server;

async fn state() -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path().join("data"))
        .resolve_paths()
        .unwrap();
    (AppState::open(config).await.unwrap(), dir)
}

/// A concrete path for a pattern.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{id}", "exp_1700000000_0000abcd")
        .replace("{*path}", "outputs/a.txt")
        .replace("{hash}", "0123456789abcdef")
        .replace("{framework}", "SKLearn")
        .replace("{link}", "1")
        .replace("{version}", "1")
        .replace("{name}", "exp")
}

async fn status_without_credentials(state: &AppState, method: &str, path: &str) -> StatusCode {
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .body(Body::empty())
        .unwrap();
    api::app(state.clone())
        .oneshot(request)
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_endpoint_table_and_the_routes_are_the_same_both_ways() {
    let (state, _dir) = state().await;
    let routed: BTreeSet<(String, String)> = api::routes(&state)
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    let table: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|e| (e.method.to_owned(), e.path.to_owned()))
        .collect();
    assert_eq!(table.len(), ENDPOINTS.len(), "a row is in the table twice");
    let unlisted: Vec<_> = routed.difference(&table).collect();
    let unrouted: Vec<_> = table.difference(&routed).collect();
    assert!(
        unlisted.is_empty(),
        "routes missing from the table: {unlisted:?}"
    );
    assert!(unrouted.is_empty(), "table rows not routed: {unrouted:?}");

    // The router mounts each row: a mounted route asks for credentials.
    for e in ENDPOINTS {
        let path = concrete(e.path);
        let status = status_without_credentials(&state, e.method, &path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}", e.method);
    }
    // What the table does not list, the router does not answer.
    for (method, path) in [("GET", "/api/nothing"), ("PATCH", "/api/runs")] {
        let status = status_without_credentials(&state, method, path).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_serves_its_openapi_document_generated_from_the_table() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let response = server.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let operations: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_ascii_uppercase(), path.clone()))
        })
        .collect();
    let table: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|e| (e.method.to_owned(), e.path.replace("{*", "{")))
        .collect();
    assert_eq!(operations, table);
    let runs = &doc["paths"]["/api/runs/{id}"]["get"]["responses"];
    assert_eq!(
        runs["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RunDetails"
    );
    assert!(runs["404"].is_object() && runs["401"].is_object());
    // Bodies' schemas list their fields (schemars, from the serde attributes).
    let details = &doc["components"]["schemas"]["RunDetails"];
    assert_eq!(details["type"], "object", "{details}");
    assert!(details["properties"]["runId"].is_object(), "{details}");
    // Nothing under /api answers without credentials, this document included.
    let anonymous = reqwest::get(format!("{}/api/openapi.json", server.url))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// Whether the table lets `method path` answer `status`.
fn documented(method: &str, pattern: &str, status: StatusCode) -> bool {
    let e = ENDPOINTS
        .iter()
        .find(|e| e.method == method && e.path == pattern)
        .unwrap_or_else(|| panic!("{method} {pattern} is not in the table"));
    let code = status.as_u16();
    code == e.status || code == 401 || code == 403 || e.errors.contains(&code)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_statuses_schemathesis_found_undocumented_are_documented() {
    // Regressions from `cargo xtask fuzz`: each answer was right and the table wrong.
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let http = reqwest::Client::new();
    let put = || {
        http.put(format!("{}/api/files/fuzz.txt", server.url))
            .bearer_auth(&server.token)
            .body("x")
            .send()
    };
    // A new file is 201, a replaced one 200.
    let created = put().await.unwrap().status();
    let replaced = put().await.unwrap().status();
    assert_eq!((created, replaced), (StatusCode::CREATED, StatusCode::OK));
    assert!(documented("PUT", "/api/files/{*path}", created));
    assert!(documented("PUT", "/api/files/{*path}", replaced));
    // A bearer token has no session to end: 400, not the 303 the table said.
    let logout = server.post("/api/session/logout").await.status();
    assert_eq!(logout, StatusCode::BAD_REQUEST);
    assert!(documented("POST", "/api/session/logout", logout));
    assert!(!documented(
        "POST",
        "/api/session/logout",
        StatusCode::SEE_OTHER
    ));
}
