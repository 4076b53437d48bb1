//! Datastore uploads: `POST /api/datastores/{name}/upload` (from the files area),
//! `PUT /api/datastores/{name}/files/{*path}` (one file), the inputs that are refused
//! without changing anything, and `runboard notebook run` uploading a folder that a
//! run then reads through a data reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use runboard_server::api::AppState;
use runboard_server::{Config, api, datastores, files};
use runboard_shared::notebook::{self, Cell, Notebook};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{RUNBOARD, Server};

const TOKEN: &str = "test-token";

struct App {
    state: AppState,
    dir: tempfile::TempDir,
}

async fn app_with(configure: impl FnOnce(&mut Config)) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.token = TOKEN.into();
    config.supervisor_exe = RUNBOARD.into();
    configure(&mut config);
    App {
        state: AppState::open(config).await.unwrap(),
        dir,
    }
}

async fn app() -> App {
    app_with(|_| {}).await
}

impl App {
    fn area(&self) -> PathBuf {
        files::root(&self.state.config.data_dir)
    }

    fn datastore(&self, name: &str) -> PathBuf {
        datastores::root(&self.state.config.data_dir).join(name)
    }

    /// Writes files into the files area.
    fn put_area(&self, files: &[(&str, &str)]) {
        for (path, text) in files {
            let path = self.area().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = api::app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// `POST /api/datastores/{name}/upload` with a raw JSON body.
    async fn upload_raw(&self, name: &str, body: &str) -> (StatusCode, Value) {
        let request = Request::post(format!("/api/datastores/{name}/upload"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(request).await
    }

    async fn upload(&self, name: &str, body: Value) -> (StatusCode, Value) {
        self.upload_raw(name, &body.to_string()).await
    }

    /// `PUT /api/datastores/{name}/files/{path_and_query}`.
    async fn put(&self, name: &str, path_and_query: &str, data: &[u8]) -> (StatusCode, Value) {
        let request = Request::put(format!("/api/datastores/{name}/files/{path_and_query}"))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .body(Body::from(data.to_vec()))
            .unwrap();
        self.send(request).await
    }
}

/// Every entry under `dir` (links not followed) with a file's bytes or a link's
/// target: what "nothing changed" is checked against.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let shown = path.strip_prefix(dir).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(shown, format!("-> {}", target.display()));
            } else if meta.is_dir() {
                out.insert(shown, "/".into());
                stack.push(path);
            } else {
                out.insert(
                    shown,
                    String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
                );
            }
        }
    }
    out
}

/// Checks a rejected request: status, code, and a message holding each needle.
#[track_caller]
fn check(got: (StatusCode, Value), status: StatusCode, code: &str, needles: &[&str]) {
    let (got_status, body) = got;
    assert_eq!(got_status, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    for needle in needles {
        assert!(
            message.contains(needle),
            "message {message:?} should contain {needle:?}"
        );
    }
}

#[tokio::test]
async fn datastore_upload_copies_a_folder_then_skips_or_replaces() {
    let app = app().await;
    app.put_area(&[
        ("proj/data/train.csv", "1,2\n"),
        ("proj/data/test/b.csv", "3,4\n"),
        ("proj/data/test/a.csv", "5,6\n"),
        ("proj/notes.txt", "notes"),
    ]);
    let ds = app.datastore("workspaceblobstore");

    let (status, body) = app
        .upload(
            "workspaceblobstore",
            json!({"src": "proj/data", "target_path": "mnist", "overwrite": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"files": ["test/a.csv", "test/b.csv", "train.csv"], "skipped": []})
    );
    assert_eq!(
        tree(&ds),
        BTreeMap::from([
            ("mnist".into(), "/".into()),
            ("mnist/test".into(), "/".into()),
            ("mnist/test/a.csv".into(), "5,6\n".into()),
            ("mnist/test/b.csv".into(), "3,4\n".into()),
            ("mnist/train.csv".into(), "1,2\n".into()),
        ])
    );

    // Without overwrite (the default), files already there are kept and reported.
    app.put_area(&[
        ("proj/data/train.csv", "new\n"),
        ("proj/data/valid.csv", "7,8\n"),
    ]);
    let (status, body) = app
        .upload(
            "workspaceblobstore",
            json!({"src": "./proj/data/", "target_path": "mnist"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"files": ["valid.csv"], "skipped": ["test/a.csv", "test/b.csv", "train.csv"]})
    );
    assert_eq!(
        std::fs::read_to_string(ds.join("mnist/train.csv")).unwrap(),
        "1,2\n"
    );
    assert_eq!(
        std::fs::read_to_string(ds.join("mnist/valid.csv")).unwrap(),
        "7,8\n"
    );

    // With overwrite, they are replaced.
    let (status, body) = app
        .upload(
            "workspaceblobstore",
            json!({"src": "proj/data", "target_path": "mnist", "overwrite": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["skipped"], json!([]));
    assert_eq!(body["files"].as_array().unwrap().len(), 4);
    assert_eq!(
        std::fs::read_to_string(ds.join("mnist/train.csv")).unwrap(),
        "new\n"
    );

    // A single file goes under its name; no target_path is the datastore's root.
    let (status, body) = app
        .upload("other_1", json!({"src": "proj/notes.txt"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"files": ["notes.txt"], "skipped": []}));
    assert_eq!(
        tree(&app.datastore("other_1")),
        BTreeMap::from([("notes.txt".into(), "notes".into())])
    );
    let (status, body) = app
        .upload(
            "other_1",
            json!({"src": "proj/notes.txt", "target_path": "a/b"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        std::fs::read_to_string(app.datastore("other_1").join("a/b/notes.txt")).unwrap(),
        "notes"
    );

    // A link to a file inside the area is copied; a linked folder is not walked
    // (as the SDK's os.walk); nothing of the area changed.
    std::os::unix::fs::symlink(
        app.area().join("proj/notes.txt"),
        app.area().join("proj/data/notes-link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(app.area().join("proj"), app.area().join("proj/data/loop")).unwrap();
    let (status, body) = app.upload("third", json!({"src": "proj/data"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["files"],
        json!([
            "notes-link.txt",
            "test/a.csv",
            "test/b.csv",
            "train.csv",
            "valid.csv"
        ])
    );
    assert_eq!(
        std::fs::read_to_string(app.datastore("third").join("notes-link.txt")).unwrap(),
        "notes"
    );
    assert!(
        !std::fs::symlink_metadata(app.datastore("third").join("notes-link.txt"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the datastore holds the bytes, not a link"
    );
}

#[tokio::test]
async fn datastore_put_writes_one_file() {
    let app = app().await;
    let ds = app.datastore("ws");
    let (status, body) = app.put("ws", "d1/sub/x.bin", b"\x00\x01bytes").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"files": ["d1/sub/x.bin"], "skipped": []}));
    assert_eq!(
        std::fs::read(ds.join("d1/sub/x.bin")).unwrap(),
        b"\x00\x01bytes"
    );

    let (status, body) = app
        .put("ws", "d1/sub/x.bin?overwrite=false", b"other")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"files": [], "skipped": ["d1/sub/x.bin"]}));
    assert_eq!(
        std::fs::read(ds.join("d1/sub/x.bin")).unwrap(),
        b"\x00\x01bytes"
    );

    // overwrite defaults to true here; an encoded name is decoded.
    let (status, body) = app.put("ws", "d1/sub/x.bin", b"other").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["files"], json!(["d1/sub/x.bin"]));
    assert_eq!(std::fs::read(ds.join("d1/sub/x.bin")).unwrap(), b"other");
    let (status, body) = app
        .put("ws", "d1/with%20space.txt?overwrite=true", b"s")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["files"], json!(["d1/with space.txt"]));
    assert_eq!(
        std::fs::read_to_string(ds.join("d1/with space.txt")).unwrap(),
        "s"
    );
    // Nothing is left beside the files (written beside, then renamed).
    assert_eq!(
        tree(&ds).keys().cloned().collect::<Vec<_>>(),
        ["d1", "d1/sub", "d1/sub/x.bin", "d1/with space.txt"]
    );
}

#[tokio::test]
async fn datastore_bad_input_gets_its_error_and_changes_nothing() {
    let app = app().await;
    app.put_area(&[("proj/data/a.csv", "a"), ("proj/one.txt", "1")]);
    let outside = app.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(&outside, app.area().join("out")).unwrap();
    std::fs::create_dir_all(app.area().join("leaky")).unwrap();
    std::fs::write(app.area().join("leaky/ok.txt"), "ok").unwrap();
    std::os::unix::fs::symlink(
        outside.join("secret.txt"),
        app.area().join("leaky/secret.txt"),
    )
    .unwrap();
    // A datastore with a link out, a file where a folder goes and a folder where a
    // file goes.
    let ds = app.datastore("ws");
    std::fs::create_dir_all(ds.join("d2/a.csv")).unwrap();
    std::fs::write(ds.join("file"), "in the way").unwrap();
    std::os::unix::fs::symlink(&outside, ds.join("evil")).unwrap();
    let stores = datastores::root(&app.state.config.data_dir);
    let snapshot = || (tree(&stores), tree(&app.area()), tree(&outside));
    let before = snapshot();

    // Datastore names: Azure ML's rule, named.
    let rule = "1 to 255 letters, digits and underscores";
    for name in ["a-b", "a.b", "..", "a%2Fb", "%C3%A9", &"x".repeat(256)] {
        let got = app.upload(name, json!({"src": "proj/data"})).await;
        check(
            got,
            StatusCode::BAD_REQUEST,
            "invalid_datastore_name",
            &["invalid datastore name", rule],
        );
        let got = app.put(name, "x.txt", b"x").await;
        check(
            got,
            StatusCode::BAD_REQUEST,
            "invalid_datastore_name",
            &["invalid datastore name", rule],
        );
    }

    // src: absolute, `..`, links out (itself, or one inside the folder) → 400;
    // missing → 404.
    for (src, needles) in [
        ("/etc", &["src '/etc'", "escapes the files area"][..]),
        ("../data", &["src '../data'", "escapes the files area"]),
        ("proj/../../x", &["src 'proj/../../x'", "escapes"]),
        ("out", &["src 'out'", "escapes the files area"]),
        ("out/secret.txt", &["src 'out/secret.txt'", "escapes"]),
        ("out/missing", &["src 'out/missing'", "escapes"]),
        (
            "leaky",
            &[
                "src 'leaky'",
                "'leaky/secret.txt'",
                "leads outside the files area",
            ],
        ),
    ] {
        let got = app
            .upload("ws", json!({"src": src, "overwrite": true}))
            .await;
        check(got, StatusCode::BAD_REQUEST, "invalid_path", needles);
    }
    let got = app.upload("ws", json!({"src": "proj/nothing"})).await;
    check(
        got,
        StatusCode::NOT_FOUND,
        "not_found",
        &["src 'proj/nothing'", "files area"],
    );
    let got = app.upload("new_store", json!({"src": "nothing"})).await;
    check(got, StatusCode::NOT_FOUND, "not_found", &["src 'nothing'"]);

    // target_path: absolute, `..`, through a link out of the datastore.
    for (target, needles) in [
        (
            "/abs",
            &["target_path '/abs'", "escapes the datastore 'ws'"][..],
        ),
        (
            "../up",
            &["target_path '../up'", "escapes the datastore 'ws'"],
        ),
        ("a/../../up", &["target_path 'a/../../up'", "escapes"]),
        (
            "evil",
            &[
                "target_path 'evil'",
                "'evil/a.csv'",
                "escapes the datastore 'ws'",
            ],
        ),
        (
            "evil/new",
            &["target_path 'evil/new'", "escapes the datastore 'ws'"],
        ),
    ] {
        let got = app
            .upload(
                "ws",
                json!({"src": "proj/data", "target_path": target, "overwrite": true}),
            )
            .await;
        check(got, StatusCode::BAD_REQUEST, "invalid_path", needles);
    }
    // The single file's name through the link: evil is the file's destination.
    std::os::unix::fs::symlink(outside.join("secret.txt"), ds.join("one.txt")).unwrap();
    let got = app
        .upload("ws", json!({"src": "proj/one.txt", "overwrite": true}))
        .await;
    check(
        got,
        StatusCode::BAD_REQUEST,
        "invalid_path",
        &["'one.txt'", "escapes the datastore 'ws'"],
    );
    std::fs::remove_file(ds.join("one.txt")).unwrap();

    // Something in the way: a file where a folder goes, a folder where a file goes.
    let got = app
        .upload(
            "ws",
            json!({"src": "proj/data", "target_path": "file", "overwrite": true}),
        )
        .await;
    check(
        got,
        StatusCode::CONFLICT,
        "conflict",
        &[
            "target_path 'file'",
            "'file/a.csv'",
            "a file is where a folder is needed",
        ],
    );
    let got = app
        .upload("ws", json!({"src": "proj/data", "target_path": "d2"}))
        .await;
    check(
        got,
        StatusCode::CONFLICT,
        "conflict",
        &["'d2/a.csv'", "is a folder"],
    );

    // Malformed JSON, unknown or missing fields, a JSON body without its type.
    for (body, needle) in [
        ("{", "EOF"),
        (
            r#"{"src": "proj/data", "overwrit": true}"#,
            "unknown field `overwrit`",
        ),
        (r#"{"target_path": "x"}"#, "missing field `src`"),
        (r#"{"src": 1}"#, "invalid type"),
    ] {
        let got = app.upload_raw("ws", body).await;
        check(got, StatusCode::BAD_REQUEST, "invalid_json", &[needle]);
    }
    let request = Request::post("/api/datastores/ws/upload")
        .header("Authorization", format!("Bearer {TOKEN}"))
        .body(Body::from(json!({"src": "proj/data"}).to_string()))
        .unwrap();
    check(
        app.send(request).await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
        &["Content-Type"],
    );

    // The PUT route: `..`, absolute and encoded tricks, links out, the root itself,
    // things in the way, a bad query.
    for (url, shown) in [
        ("%2E%2E/x.txt", "../x.txt"),
        ("a/%2E%2E/%2E%2E/x.txt", "a/../../x.txt"),
        ("%2Fetc%2Fx.txt", "/etc/x.txt"),
        ("a%2F..%2F..%2Fx.txt", "a/../../x.txt"),
        ("evil/x.txt", "evil/x.txt"),
        ("evil/new/x.txt", "evil/new/x.txt"),
        (".", "."),
    ] {
        let got = app.put("ws", url, b"evil").await;
        check(
            got,
            StatusCode::BAD_REQUEST,
            "invalid_path",
            &[&format!("path '{shown}'"), "datastore 'ws'"],
        );
    }
    check(
        app.put("ws", "file/x.txt", b"x").await,
        StatusCode::CONFLICT,
        "conflict",
        &["path 'file/x.txt'", "a file is where a folder is needed"],
    );
    check(
        app.put("ws", "d2/a.csv?overwrite=false", b"x").await,
        StatusCode::CONFLICT,
        "conflict",
        &["path 'd2/a.csv'", "is a folder"],
    );
    check(
        app.put("ws", "x.txt?overwrite=maybe", b"x").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        &["overwrite"],
    );
    check(
        app.put("ws", "x.txt?overwrit=false", b"x").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
        &["unknown field `overwrit`"],
    );

    assert_eq!(snapshot(), before, "a refused request changed something");
}

#[tokio::test]
async fn datastore_uploads_over_the_size_limit_get_413() {
    let app = app_with(|c| c.max_upload_bytes = 1024).await;
    let stores = datastores::root(&app.state.config.data_dir);
    let before = tree(&stores);
    check(
        app.put("ws", "big.bin", &[7u8; 4096]).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload_too_large",
        &["larger than the server accepts"],
    );
    let long = json!({"src": "x".repeat(4096)}).to_string();
    check(
        app.upload_raw("ws", &long).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload_too_large",
        &["larger than the server accepts"],
    );
    assert_eq!(tree(&stores), before);
    assert!(!stores.exists(), "no datastore folder was made");
    let (status, body) = app.put("ws", "small.bin", &[7u8; 512]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn write_notebook(path: &Path, cells: &[&str]) {
    std::fs::write(path, crate::support::notebook_json(cells)).unwrap();
}

/// The stream text and error messages of a cell.
fn outputs(cell: &Cell) -> String {
    let Cell::Code(cell) = cell else {
        panic!("a code cell")
    };
    cell.outputs
        .iter()
        .map(|o| match o {
            notebook::Output::Stream { text, .. } => text.as_str().to_owned(),
            notebook::Output::Error { ename, evalue, .. } => format!("{ename}: {evalue}\n"),
            _ => String::new(),
        })
        .collect()
}

#[test]
fn datastore_upload_from_a_headless_notebook_feeds_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let folder = tmp.path().join("nb");
    std::fs::create_dir_all(folder.join("data/sub")).unwrap();
    std::fs::write(folder.join("data/hello.txt"), "hello from the datastore\n").unwrap();
    std::fs::write(folder.join("data/sub/deep.txt"), "deep file\n").unwrap();
    // A folder with a link that leads out of the notebook's folder.
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    std::fs::create_dir_all(folder.join("leaky")).unwrap();
    std::fs::write(folder.join("leaky/ok.txt"), "ok").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), folder.join("leaky/secret.txt"))
        .unwrap();
    let path = folder.join("upload.ipynb");
    write_notebook(
        &path,
        &[
            "import os\n\
             from azureml.core import Workspace, Experiment, Datastore\n\
             from azureml.train.estimator import Estimator\n\
             ws = Workspace.from_config()\n\
             ds = ws.get_default_datastore()",
            "ds.upload(src_dir='./data', target_path='d1', overwrite=True)",
            "ds.upload(src_dir='./data', target_path='d1', overwrite=False, show_progress=False)\n\
             print('again')",
            "os.makedirs('src', exist_ok=True)",
            "%%writefile src/read.py\n\
             import argparse, os\n\
             p = argparse.ArgumentParser()\n\
             p.add_argument('--data')\n\
             p.add_argument('--copy')\n\
             a = p.parse_args()\n\
             print('mounted:', open(os.path.join(a.data, 'hello.txt')).read().strip())\n\
             print('deep:', open(os.path.join(a.data, 'sub', 'deep.txt')).read().strip())\n\
             print('downloaded:', open(os.path.join(a.copy, 'hello.txt')).read().strip())",
            "est = Estimator(source_directory='src', entry_script='read.py',\n\
             \x20   script_params={'--data': ds.path('d1').as_mount(),\n\
             \x20                  '--copy': ds.path('d1').as_download()},\n\
             \x20   compute_target='local', use_docker=False, user_managed=True)\n\
             run = Experiment(ws, 'datastore').submit(est)\n\
             details = run.wait_for_completion(show_output=True)\n\
             print('status', details['status'])",
            "ds.upload(src_dir='./leaky', target_path='leaky', overwrite=True)",
            "Datastore.get(ws, 'bad-name').upload(src_dir='./data')",
        ],
    );
    let out = server
        .cli()
        .args(["notebook", "run", "--local", "--allow-errors"])
        .arg(&path)
        .output()
        .unwrap();
    let shown = format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{shown}");

    let nb = Notebook::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cells: Vec<String> = nb.cells.iter().map(outputs).collect();
    assert_eq!(
        cells[1],
        "Uploading an estimated of 2 files\n\
         Uploading ./data/hello.txt\n\
         Uploaded ./data/hello.txt, 1 files out of an estimated total of 2\n\
         Uploading ./data/sub/deep.txt\n\
         Uploaded ./data/sub/deep.txt, 2 files out of an estimated total of 2\n\
         Uploaded 2 files\n",
        "{shown}"
    );
    assert_eq!(cells[2], "again\n", "{shown}");
    let ds = datastores::root(&server.data_dir).join("workspaceblobstore");
    assert_eq!(
        std::fs::read_to_string(ds.join("d1/hello.txt")).unwrap(),
        "hello from the datastore\n"
    );
    assert_eq!(
        std::fs::read_to_string(ds.join("d1/sub/deep.txt")).unwrap(),
        "deep file\n"
    );

    let log = &cells[5];
    for line in [
        "mounted: hello from the datastore\n",
        "deep: deep file\n",
        "downloaded: hello from the datastore\n",
        "status Completed\n",
    ] {
        assert!(log.contains(line), "{line:?} missing from\n{log}\n{shown}");
    }

    assert!(
        cells[6].contains("upload: ./leaky/secret.txt leads outside ./leaky (a link to ")
            && cells[6].contains("nothing was uploaded"),
        "{}",
        cells[6]
    );
    assert!(!ds.join("leaky").exists(), "nothing of leaky/ was sent");
    assert!(
        cells[7].contains("invalid datastore name 'bad-name'")
            && cells[7].contains("1 to 255 letters, digits and underscores"),
        "{}",
        cells[7]
    );
}
