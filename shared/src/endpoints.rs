//! The endpoint table: every route under `/api`, with its method, path, query
//! parameters, request body, answer and error statuses, written once.
//!
//! The server's `api::routes()` is checked against it in both directions
//! (`server/tests/it/endpoints.rs`), and the OpenAPI 3.1 document served at
//! `GET /api/openapi.json` is generated from it (`server/src/openapi.rs`). A body
//! type is named by a function pointer to [`std::any::type_name`], so a renamed or
//! removed type does not compile here.
//!
//! Only the server enables the `endpoints` feature: the browser bundles do not carry
//! this table.

use std::any::type_name;

use crate::api;
use crate::runview;

/// A request or response body.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// No body.
    Empty,
    /// JSON of a Rust type of the shared crate.
    Json(JsonType),
    /// JSON whose shape is written in prose here: MLflow's own wire shapes (their
    /// types are the server's, `server/src/mlflow/wire.rs`) and this document.
    AnyJson(&'static str),
    /// Bytes of any media type (a file).
    Bytes,
    /// `multipart/form-data`: a submission (the run definition and the snapshot).
    Multipart,
    /// A websocket (`Upgrade: websocket`); without one, the long-poll answer.
    WebSocket,
}

/// A Rust type a JSON body has: its name and its JSON schema (schemars, from the
/// same serde attributes that shape the JSON).
#[derive(Debug, Clone, Copy)]
pub struct JsonType {
    /// `std::any::type_name` of the type.
    pub name: fn() -> &'static str,
    /// Its schema, as a reference to a definition the generator keeps.
    pub schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

/// A query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Whether a request without it is refused (400).
    pub required: bool,
    /// What its value is.
    pub kind: ParamKind,
}

/// What a query parameter's value is, as the server parses it (a value of another
/// kind, or out of the handler's range, is refused with 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Any text.
    Text,
    /// A whole number, at least 0.
    Count,
    /// A number, fractions allowed, at least 0.
    Number,
    /// `true` or `false`.
    Flag,
}

const fn opt(name: &'static str) -> Param {
    Param {
        name,
        required: false,
        kind: ParamKind::Text,
    }
}

const fn req(name: &'static str) -> Param {
    Param {
        name,
        required: true,
        kind: ParamKind::Text,
    }
}

/// An optional whole number.
const fn count(name: &'static str) -> Param {
    Param {
        name,
        required: false,
        kind: ParamKind::Count,
    }
}

/// One endpoint under `/api`.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path pattern as axum writes it: `{id}` one segment, `{*path}` the rest.
    pub path: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
    /// Its query parameters.
    pub query: &'static [Param],
    /// The request body.
    pub request: Body,
    /// The status of a successful answer.
    pub status: u16,
    /// The body of a successful answer.
    pub response: Body,
    /// The other statuses it may answer: its errors besides 401 and 403 (every route
    /// has those: credentials and role are checked before the handler), and a second
    /// success status where there is one.
    pub errors: &'static [u16],
    /// Errors are in MLflow's shape (`{"error_code", "message"}`), not Runboard's.
    pub mlflow: bool,
}

/// The name a [`Body::Json`] type goes by in the document: the last path segment of
/// its `type_name`.
pub fn short_name(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

macro_rules! json {
    ($t:ty) => {
        Body::Json(JsonType {
            name: type_name::<$t>,
            schema: schemars::SchemaGenerator::subschema_for::<$t>,
        })
    };
}

// One argument per column, so each row of the table reads as a row.
#[allow(clippy::too_many_arguments)]
const fn e(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    query: &'static [Param],
    request: Body,
    status: u16,
    response: Body,
    errors: &'static [u16],
) -> Endpoint {
    Endpoint {
        method,
        path,
        summary,
        query,
        request,
        status,
        response,
        errors,
        mlflow: false,
    }
}

const fn mlflow(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    query: &'static [Param],
    request: Body,
    response: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        summary,
        query,
        request,
        status: 200,
        response: Body::AnyJson(response),
        errors: &[400, 404],
        mlflow: true,
    }
}

/// Errors of a read of something named in the path.
const READ: &[u16] = &[404];
/// Errors of a read with a query.
const QUERY: &[u16] = &[400, 404];
/// Errors of a write with a JSON body.
const WRITE: &[u16] = &[400, 404, 409, 413, 415];
/// Errors of an upload.
const UPLOAD: &[u16] = &[400, 404, 409, 413, 415];
/// Errors of a ranged file read (a `Range` outside the file).
const FILE: &[u16] = &[400, 404, 416];

const NONE: &[Param] = &[];
const MLFLOW_BODY: Body = Body::AnyJson("MLflow's request message, as JSON");

/// Every endpoint under `/api`, the routes of `api::routes()`.
pub const ENDPOINTS: &[Endpoint] = &[
    e(
        "GET",
        "/api/openapi.json",
        "This document: the API in OpenAPI 3.1",
        NONE,
        Body::Empty,
        200,
        Body::AnyJson("an OpenAPI 3.1 document"),
        &[],
    ),
    e(
        "GET",
        "/api/experiments",
        "The experiments with their run counts",
        NONE,
        Body::Empty,
        200,
        json!(api::ExperimentList),
        &[],
    ),
    e(
        "POST",
        "/api/experiments/{name}/runs",
        "Submit a run: the run definition and its snapshot",
        NONE,
        Body::Multipart,
        201,
        json!(api::SubmitResponse),
        UPLOAD,
    ),
    e(
        "GET",
        "/api/experiments/{name}/metrics",
        "The latest metrics of some runs of an experiment, to compare",
        &[opt("runs")],
        Body::Empty,
        200,
        json!(api::RunsMetrics),
        QUERY,
    ),
    e(
        "GET",
        "/api/runs",
        "Runs, newest first, a page at a time",
        &[
            opt("experiment"),
            opt("status"),
            count("limit"),
            opt("cursor"),
        ],
        Body::Empty,
        200,
        json!(api::RunList),
        QUERY,
    ),
    e(
        "GET",
        "/api/runs/{id}",
        "A run's details",
        NONE,
        Body::Empty,
        200,
        json!(api::RunDetails),
        READ,
    ),
    e(
        "DELETE",
        "/api/runs/{id}",
        "Delete an ended run and its files",
        NONE,
        Body::Empty,
        200,
        json!(api::RunDeleted),
        &[404, 409],
    ),
    e(
        "DELETE",
        "/api/experiments/{name}",
        "Delete an experiment whose runs have all ended",
        NONE,
        Body::Empty,
        200,
        json!(api::ExperimentDeleted),
        &[404, 409],
    ),
    e(
        "POST",
        "/api/runs/{id}/cancel",
        "Ask a run to stop: 202 while the job stops, 200 when a queued run is canceled at once",
        NONE,
        Body::Empty,
        202,
        json!(api::RunCanceled),
        &[200, 404, 409],
    ),
    e(
        "PATCH",
        "/api/runs/{id}/tags",
        "Set and remove a run's tags",
        NONE,
        json!(api::TagsPatch),
        200,
        json!(std::collections::BTreeMap<String, String>),
        WRITE,
    ),
    e(
        "GET",
        "/api/runs/{id}/files",
        "The files a run wrote",
        NONE,
        Body::Empty,
        200,
        json!(api::RunFileList),
        READ,
    ),
    e(
        "GET",
        "/api/runs/{id}/files/{*path}",
        "One file a run wrote (a `Range` may ask for part of it)",
        NONE,
        Body::Empty,
        200,
        Body::Bytes,
        FILE,
    ),
    e(
        "GET",
        "/api/runs/{id}/events",
        "A run's events: a websocket, or a long poll without `Upgrade`",
        &[
            count("after"),
            Param {
                name: "wait",
                required: false,
                kind: ParamKind::Number,
            },
        ],
        Body::Empty,
        200,
        Body::WebSocket,
        QUERY,
    ),
    e(
        "GET",
        "/api/runs/{id}/snapshot",
        "The files of a run's snapshot",
        NONE,
        Body::Empty,
        200,
        json!(api::RunFileList),
        READ,
    ),
    e(
        "GET",
        "/api/runs/{id}/snapshot/{*path}",
        "One file of a run's snapshot",
        NONE,
        Body::Empty,
        200,
        Body::Bytes,
        FILE,
    ),
    e(
        "POST",
        "/api/runs/{id}/metrics",
        "Log a batch of metrics (a run's own token may)",
        NONE,
        json!(api::MetricsBatch),
        200,
        json!(api::MetricsIngested),
        WRITE,
    ),
    e(
        "GET",
        "/api/runs/{id}/metrics",
        "A run's latest metrics",
        NONE,
        Body::Empty,
        200,
        json!(serde_json::Map<String, serde_json::Value>),
        READ,
    ),
    e(
        "GET",
        "/api/runs/{id}/metrics/{name}",
        "One metric's series, sampled",
        &[count("buckets"), opt("x")],
        Body::Empty,
        200,
        json!(api::SeriesBody),
        QUERY,
    ),
    e(
        "GET",
        "/api/runs/{id}/scalars",
        "The TensorBoard scalars a run wrote",
        NONE,
        Body::Empty,
        200,
        json!(api::ScalarList),
        READ,
    ),
    e(
        "GET",
        "/api/runs/{id}/scalars/series",
        "One TensorBoard scalar's series, sampled",
        &[req("tag"), opt("run"), count("buckets"), opt("x")],
        Body::Empty,
        200,
        json!(api::SeriesBody),
        QUERY,
    ),
    e(
        "GET",
        "/api/runs/{id}/view",
        "Where a run page starts: log tails and sampled series",
        NONE,
        Body::Empty,
        200,
        json!(runview::ViewStart),
        READ,
    ),
    e(
        "GET",
        "/api/runs/{id}/log",
        "A range of a log's lines",
        &[req("path"), count("end"), count("bytes")],
        Body::Empty,
        200,
        json!(runview::LogRange),
        QUERY,
    ),
    e(
        "GET",
        "/api/runs/{id}/log/search",
        "Search a log",
        &[req("path"), req("q"), count("limit")],
        Body::Empty,
        200,
        json!(runview::LogMatches),
        QUERY,
    ),
    e(
        "GET",
        "/api/runs/{id}/series",
        "A series sampled for a range of steps",
        &[
            req("name"),
            opt("source"),
            opt("run"),
            count("slices"),
            count("from"),
            count("upto"),
        ],
        Body::Empty,
        200,
        json!(api::SeriesBody),
        QUERY,
    ),
    e(
        "GET",
        "/api/environments",
        "The environments built on this server",
        NONE,
        Body::Empty,
        200,
        json!(api::EnvironmentList),
        &[],
    ),
    e(
        "GET",
        "/api/frameworks/{framework}/versions",
        "The versions of a framework preset",
        NONE,
        Body::Empty,
        200,
        json!(api::FrameworkVersions),
        &[404, 502],
    ),
    e(
        "GET",
        "/api/environments/{hash}",
        "One environment",
        NONE,
        Body::Empty,
        200,
        json!(api::EnvironmentSummary),
        READ,
    ),
    e(
        "DELETE",
        "/api/environments/{hash}",
        "Delete an environment no run uses",
        NONE,
        Body::Empty,
        204,
        Body::Empty,
        &[404, 409],
    ),
    e(
        "GET",
        "/api/compute-targets",
        "The compute targets' names",
        NONE,
        Body::Empty,
        200,
        json!(Vec<String>),
        &[],
    ),
    e(
        "GET",
        "/api/files",
        "The files area: every file and folder",
        NONE,
        Body::Empty,
        200,
        json!(api::FilesAreaList),
        &[],
    ),
    e(
        "GET",
        "/api/files/{*path}",
        "One file of the files area",
        NONE,
        Body::Empty,
        200,
        Body::Bytes,
        FILE,
    ),
    e(
        "PUT",
        "/api/files/{*path}",
        "Write a file of the files area (201 new, 200 replaced)",
        NONE,
        Body::Bytes,
        201,
        json!(api::RunFile),
        &[200, 400, 404, 409, 413, 415],
    ),
    e(
        "POST",
        "/api/files/{*path}",
        "Make a folder (201, or 200 if it was there) or rename a file of the files area",
        NONE,
        json!(api::FilesAreaAction),
        200,
        json!(api::FilesAreaActed),
        &[201, 400, 404, 409, 413, 415],
    ),
    e(
        "DELETE",
        "/api/files/{*path}",
        "Delete a file or an empty folder of the files area",
        NONE,
        Body::Empty,
        204,
        Body::Empty,
        &[400, 404, 409],
    ),
    e(
        "POST",
        "/api/models",
        "Register a model version",
        NONE,
        Body::Multipart,
        201,
        json!(api::ModelVersion),
        UPLOAD,
    ),
    e(
        "GET",
        "/api/models",
        "Model versions, by name",
        &[opt("name")],
        Body::Empty,
        200,
        json!(api::ModelList),
        QUERY,
    ),
    e(
        "GET",
        "/api/models/{name}/versions/{version}",
        "One model version",
        NONE,
        Body::Empty,
        200,
        json!(api::ModelVersion),
        QUERY,
    ),
    e(
        "GET",
        "/api/models/{name}/versions/{version}/download",
        "A model version's files, zipped",
        NONE,
        Body::Empty,
        200,
        Body::Bytes,
        QUERY,
    ),
    e(
        "GET",
        "/api/models/{name}/versions/{version}/files/{*path}",
        "One file of a model version",
        NONE,
        Body::Empty,
        200,
        Body::Bytes,
        FILE,
    ),
    e(
        "GET",
        "/api/runs/{id}/models",
        "The model versions a run registered",
        NONE,
        Body::Empty,
        200,
        json!(api::ModelList),
        READ,
    ),
    e(
        "POST",
        "/api/experiments/{name}/sweeps",
        "Submit a HyperDrive sweep",
        NONE,
        Body::Multipart,
        201,
        json!(api::SubmitResponse),
        UPLOAD,
    ),
    e(
        "GET",
        "/api/runs/{id}/children",
        "A sweep's child runs",
        NONE,
        Body::Empty,
        200,
        json!(api::ChildList),
        READ,
    ),
    e(
        "POST",
        "/api/datastores/{name}/upload",
        "Copy files of the files area into a datastore",
        NONE,
        json!(api::DatastoreUpload),
        200,
        json!(api::DatastoreUploaded),
        WRITE,
    ),
    e(
        "PUT",
        "/api/datastores/{name}/files/{*path}",
        "Write one file of a datastore",
        &[Param {
            name: "overwrite",
            required: false,
            kind: ParamKind::Flag,
        }],
        Body::Bytes,
        200,
        json!(api::DatastoreUploaded),
        UPLOAD,
    ),
    e(
        "GET",
        "/api/session",
        "Who is calling",
        NONE,
        Body::Empty,
        200,
        json!(api::Me),
        &[],
    ),
    e(
        "POST",
        "/api/session/logout",
        "End this browser session (a bearer token has none: 400)",
        NONE,
        Body::Empty,
        204,
        Body::Empty,
        &[400],
    ),
    e(
        "GET",
        "/api/sessions",
        "Your sessions",
        NONE,
        Body::Empty,
        200,
        json!(api::SessionList),
        &[],
    ),
    e(
        "DELETE",
        "/api/sessions/{id}",
        "End one of your sessions",
        NONE,
        Body::Empty,
        204,
        Body::Empty,
        READ,
    ),
    e(
        "GET",
        "/api/tokens",
        "Your API tokens",
        NONE,
        Body::Empty,
        200,
        json!(api::ApiTokenList),
        &[],
    ),
    e(
        "POST",
        "/api/tokens",
        "Make an API token (shown once)",
        NONE,
        json!(api::NewApiToken),
        201,
        json!(api::ApiTokenCreated),
        WRITE,
    ),
    e(
        "DELETE",
        "/api/tokens/{id}",
        "Revoke one of your API tokens",
        NONE,
        Body::Empty,
        204,
        Body::Empty,
        READ,
    ),
    e(
        "GET",
        "/api/runs/{id}/share-links",
        "A run's share links",
        NONE,
        Body::Empty,
        200,
        json!(api::ShareLinkList),
        READ,
    ),
    e(
        "POST",
        "/api/runs/{id}/share-links",
        "Make a share link to a run",
        NONE,
        json!(api::NewShareLink),
        201,
        json!(api::ShareLinkInfo),
        WRITE,
    ),
    e(
        "DELETE",
        "/api/runs/{id}/share-links/{link}",
        "Revoke a run's share link",
        NONE,
        Body::Empty,
        204,
        Body::Empty,
        READ,
    ),
    e(
        "GET",
        "/api/experiments/{name}/share-links",
        "An experiment's share links",
        NONE,
        Body::Empty,
        200,
        json!(api::ShareLinkList),
        READ,
    ),
    e(
        "POST",
        "/api/experiments/{name}/share-links",
        "Make a share link to an experiment",
        NONE,
        json!(api::NewShareLink),
        201,
        json!(api::ShareLinkInfo),
        WRITE,
    ),
    e(
        "DELETE",
        "/api/experiments/{name}/share-links/{link}",
        "Revoke an experiment's share link",
        NONE,
        Body::Empty,
        204,
        Body::Empty,
        READ,
    ),
    // MLflow's tracking API (issue 12), in MLflow's shapes.
    mlflow(
        "GET",
        "/api/2.0/mlflow/experiments/get-by-name",
        "MLflow: an experiment by name",
        &[req("experiment_name")],
        Body::Empty,
        "{\"experiment\": Experiment}",
    ),
    mlflow(
        "GET",
        "/api/2.0/mlflow/experiments/get",
        "MLflow: an experiment by id",
        &[req("experiment_id")],
        Body::Empty,
        "{\"experiment\": Experiment}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/experiments/create",
        "MLflow: create an experiment",
        NONE,
        MLFLOW_BODY,
        "{\"experiment_id\"}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/experiments/search",
        "MLflow: search experiments",
        NONE,
        MLFLOW_BODY,
        "{\"experiments\": [Experiment], \"next_page_token\"}",
    ),
    mlflow(
        "GET",
        "/api/2.0/mlflow/experiments/search",
        "MLflow: search experiments",
        &[count("max_results"), opt("page_token"), opt("filter")],
        Body::Empty,
        "{\"experiments\": [Experiment], \"next_page_token\"}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/create",
        "MLflow: create a run",
        NONE,
        MLFLOW_BODY,
        "{\"run\": Run}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/update",
        "MLflow: update a run's status",
        NONE,
        MLFLOW_BODY,
        "{\"run_info\": RunInfo}",
    ),
    mlflow(
        "GET",
        "/api/2.0/mlflow/runs/get",
        "MLflow: a run",
        &[opt("run_id"), opt("run_uuid")],
        Body::Empty,
        "{\"run\": Run}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/search",
        "MLflow: search runs",
        NONE,
        MLFLOW_BODY,
        "{\"runs\": [Run], \"next_page_token\"}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/delete",
        "MLflow: delete a run",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/restore",
        "MLflow: restore a deleted run (refused: deletion is final)",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        "MLflow: log a metric",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/log-parameter",
        "MLflow: log a parameter",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/set-tag",
        "MLflow: set a tag",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/delete-tag",
        "MLflow: delete a tag",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/log-batch",
        "MLflow: log metrics, parameters and tags",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/log-inputs",
        "MLflow: log inputs (accepted, not kept)",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/runs/log-model",
        "MLflow: log a model (accepted, not kept)",
        NONE,
        MLFLOW_BODY,
        "{}",
    ),
    mlflow(
        "GET",
        "/api/2.0/mlflow/metrics/get-history",
        "MLflow: a metric's history",
        &[
            opt("run_id"),
            opt("run_uuid"),
            req("metric_key"),
            count("max_results"),
            opt("page_token"),
        ],
        Body::Empty,
        "{\"metrics\": [Metric], \"next_page_token\"}",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/logged-models/search",
        "MLflow: search logged models (none are kept)",
        NONE,
        MLFLOW_BODY,
        "{\"models\": []}",
    ),
    mlflow(
        "GET",
        "/api/2.0/mlflow/{*path}",
        "MLflow: any other endpoint answers ENDPOINT_NOT_FOUND",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow/{*path}",
        "MLflow: any other endpoint answers ENDPOINT_NOT_FOUND",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "PATCH",
        "/api/2.0/mlflow/{*path}",
        "MLflow: any other endpoint answers ENDPOINT_NOT_FOUND",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "DELETE",
        "/api/2.0/mlflow/{*path}",
        "MLflow: any other endpoint answers ENDPOINT_NOT_FOUND",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "GET",
        "/api/3.0/mlflow/{*path}",
        "MLflow 3: endpoints answer ENDPOINT_NOT_FOUND, so the client falls back",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "POST",
        "/api/3.0/mlflow/{*path}",
        "MLflow 3: endpoints answer ENDPOINT_NOT_FOUND, so the client falls back",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "GET",
        "/api/2.0/mlflow-artifacts/{*path}",
        "MLflow artifacts: any other endpoint answers ENDPOINT_NOT_FOUND",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "POST",
        "/api/2.0/mlflow-artifacts/{*path}",
        "MLflow artifacts: any other endpoint answers ENDPOINT_NOT_FOUND",
        NONE,
        Body::Empty,
        "never: 404",
    ),
    mlflow(
        "GET",
        "/api/2.0/mlflow-artifacts/artifacts",
        "MLflow artifacts: list a run's outputs",
        &[opt("path")],
        Body::Empty,
        "{\"files\": [FileInfo]}",
    ),
    Endpoint {
        response: Body::Bytes,
        ..mlflow(
            "GET",
            "/api/2.0/mlflow-artifacts/artifacts/{*path}",
            "MLflow artifacts: download one of a run's outputs",
            NONE,
            Body::Empty,
            "",
        )
    },
    Endpoint {
        errors: &[400, 404, 409, 413],
        ..mlflow(
            "PUT",
            "/api/2.0/mlflow-artifacts/artifacts/{*path}",
            "MLflow artifacts: upload one of a run's outputs",
            NONE,
            Body::Bytes,
            "{}",
        )
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_and_path_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for e in ENDPOINTS {
            assert!(
                seen.insert((e.method, e.path)),
                "{} {} twice",
                e.method,
                e.path
            );
            assert!(e.path.starts_with("/api/"), "{}", e.path);
            assert!(
                ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&e.method),
                "{}",
                e.method
            );
        }
    }

    #[test]
    fn json_bodies_go_by_their_type_s_name() {
        assert_eq!(short_name(type_name::<api::RunList>()), "RunList");
        assert_eq!(short_name("RunList"), "RunList");
    }
}
