//! Bad input gets a 4xx JSON error naming what was wrong, and changes nothing.
//! These tests call the router in-process (`tower::ServiceExt::oneshot`).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use runboard_server::api::AppState;
use runboard_server::{Config, api};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{RUNBOARD, multipart, tar_gz, tar_gz_symlink};

struct App {
    state: AppState,
    _dir: tempfile::TempDir,
}

const TOKEN: &str = "test-token";

async fn app_with(configure: impl FnOnce(&mut Config)) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.token = TOKEN.into();
    config.supervisor_exe = RUNBOARD.into();
    configure(&mut config);
    App {
        state: AppState::open(config).await.unwrap(),
        _dir: dir,
    }
}

async fn app() -> App {
    app_with(|_| {}).await
}

impl App {
    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = api::app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }

    async fn submit_raw(&self, experiment: &str, parts: &[(&str, &[u8])]) -> (StatusCode, Value) {
        let (content_type, body) = multipart(parts);
        let request = Request::post(format!("/api/experiments/{experiment}/runs"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", content_type)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    async fn submit(&self, estimator: &Value, snapshot: &[u8]) -> (StatusCode, Value) {
        self.submit_raw(
            "exp",
            &[
                ("estimator", estimator.to_string().as_bytes()),
                ("snapshot", snapshot),
            ],
        )
        .await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let request = Request::get(path)
            .header("Authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// Nothing was stored and no run folder or upload was left behind.
    async fn assert_unchanged(&self) {
        let (status, runs) = self.get("/api/runs").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(runs["runs"], json!([]), "a run was stored");
        let data = &self.state.config.data_dir;
        let leftovers = |dir: &str| {
            std::fs::read_dir(data.join(dir))
                .map(|d| d.count())
                .unwrap_or(0)
        };
        assert_eq!(leftovers("runs"), 0, "a run folder was left behind");
        assert_eq!(leftovers("incoming"), 0, "an upload was left behind");
    }
}

fn estimator() -> Value {
    json!({"source_directory": ".", "entry_script": "train.py"})
}

fn train_py() -> Vec<u8> {
    tar_gz(&[("train.py", b"print('hi')\n")])
}

/// Checks a rejected request: status, code, and a message holding `needle`.
#[track_caller]
fn check(got: (StatusCode, Value), status: StatusCode, code: &str, needle: &str) {
    let (got_status, body) = got;
    assert_eq!(got_status, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "message {message:?} should contain {needle:?}"
    );
}

#[tokio::test]
async fn malformed_estimator_json() {
    let app = app().await;
    let got = app
        .submit_raw(
            "exp",
            &[
                ("estimator", b"{\"entry_script\": "),
                ("snapshot", &train_py()),
            ],
        )
        .await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_estimator",
        "estimator:",
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn unknown_estimator_field_names_the_closest_known_one() {
    let app = app().await;
    let mut est = estimator();
    est["entry_scirpt"] = json!("x.py");
    let got = app.submit(&est, &train_py()).await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_estimator",
        "did you mean 'entry_script'",
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn an_environment_definition_with_the_estimators_own_packages_is_refused() {
    let app = app().await;
    let mut est = estimator();
    est["pip_packages"] = json!(["six"]);
    est["environment_definition"] = json!({
        "name": "e",
        "python": {"condaDependencies": {"dependencies": [{"pip": ["attrs"]}]}},
        "docker": {"baseDockerfile": "FROM ubuntu"}
    });
    let (status, body) = app.submit(&est, &train_py()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let details: Vec<String> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d["field"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        details,
        [
            "environment_definition.docker.baseDockerfile: is not supported by Runboard: build \
             the image and give it as baseImage",
            "environment_definition: cannot be combined with pip_packages: the Environment \
             describes the whole environment, so put them in it",
        ],
        "{body}"
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn every_field_error_comes_at_once() {
    let app = app().await;
    let est = json!({"source_directory": ".", "entry_script": "train.py", "node_count": 0, "max_run_duration_seconds": -5});
    let (status, body) = app.submit(&est, &train_py()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"node_count") && fields.contains(&"max_run_duration_seconds"),
        "{body}"
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn invalid_experiment_names() {
    let app = app().await;
    for name in ["-starts-with-dash", "has.dot", &"x".repeat(256)] {
        let got = app
            .submit_raw(
                name,
                &[
                    ("estimator", estimator().to_string().as_bytes()),
                    ("snapshot", &train_py()),
                ],
            )
            .await;
        check(
            got,
            StatusCode::BAD_REQUEST,
            "invalid_experiment_name",
            "invalid experiment name",
        );
    }
    app.assert_unchanged().await;
}

#[tokio::test]
async fn entry_script_missing_or_outside_the_source_folder() {
    let app = app().await;
    let mut est = estimator();
    est["entry_script"] = json!("missing.py");
    let got = app.submit(&est, &train_py()).await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_estimator",
        "entry_script: 'missing.py' is not a file",
    );
    for outside in ["../train.py", "/etc/passwd"] {
        est["entry_script"] = json!(outside);
        let got = app.submit(&est, &train_py()).await;
        check(
            got,
            StatusCode::BAD_REQUEST,
            "invalid_estimator",
            "entry_script",
        );
    }
    app.assert_unchanged().await;
}

#[tokio::test]
async fn unknown_compute_target() {
    let app = app().await;
    let mut est = estimator();
    est["compute_target"] = json!("gpu-cluster");
    let got = app.submit(&est, &train_py()).await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_estimator",
        "compute_target: unknown compute target 'gpu-cluster'",
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn several_nodes_on_the_local_target() {
    let app = app().await;
    let mut est = estimator();
    est["node_count"] = json!(2);
    est["distributed_backend"] = json!("mpi");
    let got = app.submit(&est, &train_py()).await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_estimator",
        "node_count: 2 nodes asked",
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn tar_entries_that_escape_the_root() {
    let app = app().await;
    let cases: [(Vec<u8>, &str); 4] = [
        (
            tar_gz(&[("train.py", b"\n"), ("../evil.py", b"x")]),
            "\"../evil.py\" escapes",
        ),
        (
            tar_gz(&[("train.py", b"\n"), ("/etc/cron.d/evil", b"x")]),
            "escapes the source folder",
        ),
        (tar_gz_symlink("data", "/etc"), "is a link to \"/etc\""),
        (
            tar_gz_symlink("sub/data", "../../../x"),
            "outside the source folder",
        ),
    ];
    for (archive, needle) in cases {
        let got = app.submit(&estimator(), &archive).await;
        check(got, StatusCode::BAD_REQUEST, "invalid_snapshot", needle);
    }
    let got = app.submit(&estimator(), b"this is not gzip").await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_snapshot",
        "not a valid tar.gz",
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn missing_or_unknown_multipart_fields() {
    let app = app().await;
    let got = app
        .submit_raw("exp", &[("estimator", estimator().to_string().as_bytes())])
        .await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_multipart",
        "'snapshot'",
    );
    let got = app.submit_raw("exp", &[("snapshot", &train_py())]).await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_multipart",
        "'estimator'",
    );
    let got = app
        .submit_raw(
            "exp",
            &[
                ("estimator", estimator().to_string().as_bytes()),
                ("snapsh0t", b""),
            ],
        )
        .await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_multipart",
        "unknown multipart field 'snapsh0t'",
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn oversize_uploads_and_snapshots_get_413() {
    let app = app_with(|c| {
        c.max_upload_bytes = 64 * 1024;
        c.max_snapshot_bytes = 32 * 1024;
    })
    .await;
    // The compressed upload itself is over the limit (random bytes do not compress).
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let got = app.submit(&estimator(), &noise).await;
    check(
        got,
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload_too_large",
        "larger than the server accepts",
    );
    // A small upload that unpacks to more than the snapshot limit.
    let zeros = vec![0u8; 100 * 1024];
    let archive = tar_gz(&[("train.py", b"\n"), ("weights.bin", &zeros)]);
    assert!(archive.len() < 64 * 1024);
    let got = app.submit(&estimator(), &archive).await;
    check(
        got,
        StatusCode::PAYLOAD_TOO_LARGE,
        "snapshot_too_large",
        "larger than the limit",
    );
    app.assert_unchanged().await;
}

#[tokio::test]
async fn unknown_run_ids_are_404() {
    let app = app().await;
    for path in [
        "/api/runs/exp_1700000000_0000abcd",
        "/api/runs/not-a-run-id",
        "/api/runs/exp_1700000000_0000abcd/files",
        "/api/runs/exp_1700000000_0000abcd/files/outputs/model.pkl",
    ] {
        check(
            app.get(path).await,
            StatusCode::NOT_FOUND,
            "not_found",
            "no run with id",
        );
    }
    let cancel = Request::post("/api/runs/exp_1700000000_0000abcd/cancel")
        .header("Authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    check(
        app.send(cancel).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no run with id",
    );
}

#[tokio::test]
async fn bad_queries_and_tag_patches() {
    let app = app().await;
    check(
        app.get("/api/runs?status=Done").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "status 'Done'",
    );
    check(
        app.get("/api/runs?limit=0").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "limit",
    );
    check(
        app.get("/api/runs?cursor=xyz").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "cursor",
    );
    check(
        app.get("/api/runs?colour=red").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        "'colour'",
    );
    let patch = |body: &'static str| {
        Request::builder()
            .method(Method::PATCH)
            .uri("/api/runs/exp_1700000000_0000abcd/tags")
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    check(
        app.send(patch("{\"set\": ")).await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
        "",
    );
    check(
        app.send(patch("{\"sett\": {}}")).await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
        "sett",
    );
    check(
        app.send(patch("{\"set\": {\"a\": \"b\"}}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
        "no run",
    );
}

/// Submits a run whose script writes `outputs/` files (one a symlink to /etc/passwd)
/// and waits for it to end.
async fn finished_run(app: &App) -> String {
    let script = b"import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/ok.txt','w').write('ok')\nos.symlink('/etc/passwd', 'outputs/passwd')\n";
    let (status, body) = app
        .submit(&estimator(), &tar_gz(&[("train.py", script)]))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["run_id"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let (_, details) = app.get(&format!("/api/runs/{id}")).await;
        if details["status"] == "Completed" {
            return id;
        }
        assert_ne!(details["status"], "Failed", "{details}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("run {id} did not complete");
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_that_escape_the_run_folder_and_cancels_of_finished_runs() {
    let app = app().await;
    let id = finished_run(&app).await;
    let (status, _) = app
        .get(&format!("/api/runs/{id}/files/outputs/ok.txt"))
        .await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "outputs/../../../../etc/passwd",
        "outputs/%2E%2E/%2E%2E/snapshot/train.py",
        "%2Fetc%2Fpasswd",
        "outputs//etc/passwd",
        "outputs/passwd",
    ] {
        let got = app.get(&format!("/api/runs/{id}/files/{path}")).await;
        check(
            got,
            StatusCode::BAD_REQUEST,
            "invalid_path",
            "escapes the run folder",
        );
    }
    let cancel = Request::post(format!("/api/runs/{id}/cancel"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    check(
        app.send(cancel).await,
        StatusCode::CONFLICT,
        "conflict",
        "already ended (Completed)",
    );
    let (_, details) = app.get(&format!("/api/runs/{id}")).await;
    assert_eq!(details["status"], "Completed", "the 409 changed nothing");
}

#[tokio::test]
async fn every_api_route_answers_401_without_credentials() {
    let app = app().await;
    let routes = api::routes(&app.state);
    assert!(routes.len() >= 10, "the route table lists every route");
    for route in routes {
        let path = route
            .path
            .replace("{name}/runs", "exp/runs")
            .replace("{id}", "exp_1700000000_0000abcd")
            .replace("{*path}", "outputs/model.pkl")
            .replace("{hash}", "0123456789abcdef")
            .replace("{framework}", "SKLearn")
            .replace("{link}", "1")
            .replace("{name}", "loss");
        for credentials in [None, Some("Bearer wrong-token"), Some("Basic dGVzdA==")] {
            let mut request = Request::builder().method(route.method.clone()).uri(&path);
            if let Some(value) = credentials {
                request = request.header("Authorization", value);
            }
            let response = api::app(app.state.clone())
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{} {path} with {credentials:?}",
                route.method
            );
        }
    }
    // The token itself in a cookie logs no one in: only a session does.
    let cookie_name = app.state.config.session_cookie();
    let request = Request::get("/api/experiments")
        .header("Cookie", format!("other=1; {cookie_name}={TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_login_sets_the_cookie_and_drops_the_token_from_the_address() {
    let app = app().await;
    let request = Request::get(format!("/runs/x?tab=logs&token={TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = api::app(app.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/runs/x?tab=logs");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let cookie_name = app.state.config.session_cookie();
    assert!(cookie.starts_with(&format!("{cookie_name}=")) && cookie.contains("HttpOnly"));
    assert!(
        !cookie.contains(TOKEN),
        "the cookie holds a session, not the token"
    );
    // The session cookie works like the bearer token.
    let session = cookie.split(';').next().unwrap();
    let request = Request::get("/api/experiments")
        .header("Cookie", format!("other=1; {session}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.0, StatusCode::OK);
    let request = Request::get("/?token=wrong").body(Body::empty()).unwrap();
    let response = api::app(app.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
