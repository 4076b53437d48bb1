//! The server's files area (`/api/files`): list, read, write, delete, the paths that
//! are refused, the sample notebook, and submitting a run from one of its folders.
//! Request-level: the router is called in process.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use runboard_server::api::AppState;
use runboard_server::{Config, api, files};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{RUNBOARD, multipart};

const TOKEN: &str = "test-token";

struct App {
    state: AppState,
    dir: tempfile::TempDir,
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.token = TOKEN.into();
    config.supervisor_exe = RUNBOARD.into();
    App {
        state: AppState::open(config).await.unwrap(),
        dir,
    }
}

impl App {
    fn area(&self) -> std::path::PathBuf {
        files::root(&self.state.config.data_dir)
    }

    async fn send(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("Authorization", format!("Bearer {TOKEN}"))
            .body(Body::from(body))
            .unwrap();
        let response = api::app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    async fn json(&self, method: Method, path: &str, body: &[u8]) -> (StatusCode, Value) {
        let (status, bytes) = self.send(method, path, body.to_vec()).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn the_area_starts_with_the_quickstart_notebook() {
    let app = app().await;
    let (status, body) = app.json(Method::GET, "/api/files", b"").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({
            "files": [{"path": "Quickstart.ipynb", "size": files::QUICKSTART.len()}],
            "folders": [],
        })
    );
    let (status, bytes) = app
        .send(Method::GET, "/api/files/Quickstart.ipynb", vec![])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, files::QUICKSTART.as_bytes());
    // A user's own copy is kept when the server starts again.
    std::fs::write(app.area().join("Quickstart.ipynb"), "{}").unwrap();
    let again = AppState::open(app.state.config.clone()).await.unwrap();
    drop(again);
    assert_eq!(
        std::fs::read_to_string(app.area().join("Quickstart.ipynb")).unwrap(),
        "{}"
    );
}

#[tokio::test]
async fn write_read_list_and_delete() {
    let app = app().await;
    let (status, body) = app
        .json(
            Method::PUT,
            "/api/files/proj/src/train.py",
            b"print('hi')\n",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!({"path": "proj/src/train.py", "size": 12}));
    let (status, _) = app
        .json(Method::PUT, "/api/files/proj/src/train.py", b"print(1)\n")
        .await;
    assert_eq!(status, StatusCode::OK, "a replaced file answers 200");
    let (status, _) = app
        .json(Method::PUT, "/api/files/proj/empty.txt", b"")
        .await;
    assert_eq!(status, StatusCode::CREATED);
    std::fs::create_dir_all(app.area().join("data/empty")).unwrap();

    let (status, bytes) = app
        .send(Method::GET, "/api/files/proj/src/train.py", vec![])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"print(1)\n");

    let (_, all) = app.json(Method::GET, "/api/files", b"").await;
    assert_eq!(
        all,
        json!({
            "files": [
                {"path": "Quickstart.ipynb", "size": files::QUICKSTART.len()},
                {"path": "proj/empty.txt", "size": 0},
                {"path": "proj/src/train.py", "size": 9},
            ],
            "folders": ["data", "data/empty", "proj", "proj/src"],
        })
    );
    let (status, folder) = app.json(Method::GET, "/api/files/proj", b"").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        folder,
        json!({
            "files": [
                {"path": "proj/empty.txt", "size": 0},
                {"path": "proj/src/train.py", "size": 9},
            ],
            "folders": ["proj/src"],
        }),
        "a folder's GET lists it, with paths from the area's root"
    );

    // A file cannot be written over a folder, nor a folder under a file.
    let (status, body) = app.json(Method::PUT, "/api/files/proj/src", b"x").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .json(Method::PUT, "/api/files/proj/empty.txt/x.py", b"x")
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, _) = app
        .send(Method::DELETE, "/api/files/proj/src/train.py", vec![])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!app.area().join("proj/src/train.py").exists());
    let (status, _) = app.send(Method::DELETE, "/api/files/proj", vec![]).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "a folder goes with its files"
    );
    assert!(!app.area().join("proj").exists());

    for method in [Method::GET, Method::DELETE] {
        let (status, body) = app
            .json(method.clone(), "/api/files/proj/nothing", b"")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("'proj/nothing'"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn no_path_leaves_the_area() {
    let app = app().await;
    let outside = app.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(&outside, app.area().join("out")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), app.area().join("leak.txt")).unwrap();

    // (as written in the URL, as the server sees it)
    let bad = [
        ("%2E%2E/outside/secret.txt", "../outside/secret.txt"),
        (
            "a/%2E%2E/%2E%2E/outside/secret.txt",
            "a/../../outside/secret.txt",
        ),
        ("%2Fetc%2Fpasswd", "/etc/passwd"),
        ("out/secret.txt", "out/secret.txt"),
        ("out/new/x.txt", "out/new/x.txt"),
        ("leak.txt", "leak.txt"),
    ];
    for (url, shown) in bad {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            if method == Method::DELETE && shown == "leak.txt" {
                continue; // removing a link removes the link only: checked below
            }
            let (status, body) = app
                .json(method.clone(), &format!("/api/files/{url}"), b"evil")
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {url}: {body}");
            assert_eq!(body["error"]["code"], "invalid_path", "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("'{shown}'")) && message.contains("escapes"),
                "{method} {url}: {message}"
            );
        }
    }
    for url in [".", "./", "proj/.."] {
        let (status, body) = app
            .json(Method::DELETE, &format!("/api/files/{url}"), b"")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "DELETE {url}: {body}");
    }
    assert_eq!(
        std::fs::read_to_string(outside.join("secret.txt")).unwrap(),
        "secret"
    );
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);

    let (_, all) = app.json(Method::GET, "/api/files", b"").await;
    assert_eq!(
        all["files"],
        json!([{"path": "Quickstart.ipynb", "size": files::QUICKSTART.len()}]),
        "links that leave the area are not listed"
    );

    let (status, _) = app
        .send(Method::DELETE, "/api/files/leak.txt", vec![])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(outside.join("secret.txt").exists(), "only the link went");
}

#[tokio::test]
async fn a_run_is_submitted_from_a_files_area_folder() {
    let app = app().await;
    app.send(
        Method::PUT,
        "/api/files/proj/train.py",
        b"print('from the files area')\n".to_vec(),
    )
    .await;
    app.send(
        Method::PUT,
        "/api/files/proj/.amlignore",
        b"*.csv\n".to_vec(),
    )
    .await;
    app.send(Method::PUT, "/api/files/proj/big.csv", b"1,2\n".to_vec())
        .await;

    let submit = |source_directory: &str| {
        let estimator = json!({"source_directory": source_directory, "entry_script": "train.py"});
        let (content_type, body) = multipart(&[("estimator", estimator.to_string().as_bytes())]);
        Request::post("/api/experiments/exp/runs")
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let send = |request: Request<Body>| async {
        let response = api::app(app.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, serde_json::from_slice::<Value>(&bytes).unwrap())
    };

    for bad in ["missing", "proj/train.py", "../proj", "/tmp", ".", "./"] {
        let (status, body) = send(submit(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("source_directory '{bad}'"))
                && message.contains("files area"),
            "{message}"
        );
    }
    let (status, body) = send(submit("./proj")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let run_id = body["run_id"].as_str().unwrap();
    let (status, snapshot) = app
        .json(Method::GET, &format!("/api/runs/{run_id}/snapshot"), b"")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        snapshot["files"],
        json!([
            {"path": ".amlignore", "size": 6},
            {"path": "train.py", "size": 29},
        ]),
        "the folder is packed as the CLI packs one (.amlignore honoured)"
    );
}

#[tokio::test]
async fn rename_and_create_folder() {
    let app = app().await;
    let outside = app.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, app.area().join("out")).unwrap();
    app.send(Method::PUT, "/api/files/a/train.py", b"x = 1\n".to_vec())
        .await;
    app.send(Method::PUT, "/api/files/b.txt", b"b".to_vec())
        .await;

    let post = |path: &'static str, body: Value| {
        let app = &app;
        async move {
            app.json(
                Method::POST,
                &format!("/api/files/{path}"),
                body.to_string().as_bytes(),
            )
            .await
        }
    };
    // (the JSON content type is required: the helper sends none, so build it here)
    let send = |path: &str, body: Value| {
        Request::post(format!("/api/files/{path}"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let call = |request: Request<Body>| async {
        let response = api::app(app.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
        )
    };

    let (status, body) = post("a", json!({"rename_to": "x"})).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no JSON content type: {body}"
    );

    let (status, body) = call(send("a", json!({"rename_to": "proj/a2"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        std::fs::read_to_string(app.area().join("proj/a2/train.py")).unwrap(),
        "x = 1\n"
    );
    assert!(!app.area().join("a").exists());

    let (status, body) = call(send("proj/a2", json!({"rename_to": "b.txt"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "never overwrites: {body}");
    let (status, body) = call(send("proj", json!({"rename_to": "proj/inner"}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "not into itself: {body}");
    let (status, body) = call(send("missing", json!({"rename_to": "m2"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    for (from, to) in [
        ("b.txt", "../b.txt"),
        ("b.txt", "out/b.txt"),
        ("b.txt", "out/new/b.txt"),
        ("b.txt", "/tmp/b.txt"),
        ("out", "out2/x"),
    ] {
        let (status, body) = call(send(from, json!({"rename_to": to}))).await;
        if from == "out" {
            // Moving the link itself stays inside: allowed.
            assert_eq!(status, StatusCode::OK, "{body}");
            continue;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{from} -> {to}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("'{to}'")),
            "{body}"
        );
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(app.area().join("b.txt").exists());

    let (status, body) = call(send("data/raw", json!({"create_folder": {}}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(app.area().join("data/raw").is_dir());
    let (status, _) = call(send("data/raw", json!({"create_folder": {}}))).await;
    assert_eq!(status, StatusCode::OK, "already there");
    let (status, _) = call(send("b.txt", json!({"create_folder": {}}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = call(send("out2/x/evil", json!({"create_folder": {}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(send("b.txt", json!({"delete": true}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_body");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
}
