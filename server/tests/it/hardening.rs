//! Hostile input against a real `runboard serve`: archives built to escape or exhaust
//! the server, a job that plants links to `/dev/zero` and FIFOs in its run folder,
//! arguments that would be options to installers, and the stated size limits. Each
//! is refused with a clear 400 or 413 that names what was wrong, leaves nothing
//! behind, and leaves the server answering promptly.

use std::io::{Read as _, Write};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use runboard_shared::event::Frame;
use runboard_shared::run::RunStatus;
use serde_json::{Value, json};

use crate::support::{Server, connect, multipart, source};

/// A server whose snapshot limit is 1 MB.
fn server(data: &std::path::Path) -> Server {
    let dir = data.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    Server::start_with(&dir, 0, &["--max-snapshot-mb", "1"])
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw).unwrap();
    gz.finish().unwrap()
}

/// A raw header of `kind` at `path` declaring `size` bytes.
fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_path(path).unwrap();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

fn train_py(b: &mut tar::Builder<Vec<u8>>) {
    b.append(
        &header("train.py", tar::EntryType::Regular, 10),
        &b"print(1)\n\n"[..],
    )
    .unwrap();
}

/// PAX records (`len key=value\n`).
fn pax(key: &str, value: &str) -> Vec<u8> {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while format!("{len}{body}").len() != len {
        len += 1;
    }
    format!("{len}{body}").into_bytes()
}

/// A PAX `size` record that says 10 bytes for a 2 MiB file.
fn pax_size_bomb() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    train_py(&mut b);
    let records = pax("size", "10");
    b.append(
        &header(
            "././@PaxHeader",
            tar::EntryType::XHeader,
            records.len() as u64,
        ),
        records.as_slice(),
    )
    .unwrap();
    b.append(
        &header("data.bin", tar::EntryType::Regular, 2 << 20),
        std::io::repeat(b'x').take(2 << 20),
    )
    .unwrap();
    gzip(&b.into_inner().unwrap())
}

/// `s -> .` then `x -> s/s/s/../../..`: inside lexically, `../..` on disk.
fn symlink_chain() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    train_py(&mut b);
    for (path, target) in [("s", "."), ("x", "s/s/s/../../..")] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, path, target).unwrap();
    }
    gzip(&b.into_inner().unwrap())
}

/// A million folder entries (512 MB of headers, about 1 MB compressed).
fn million_entries() -> Vec<u8> {
    let block = header("d/", tar::EntryType::Directory, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk: Vec<u8> = block.as_bytes().repeat(1000);
    for _ in 0..1000 {
        gz.write_all(&chunk).unwrap();
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}

/// A GNU long name that declares 1 GiB (and holds a few bytes).
fn huge_longname() -> Vec<u8> {
    let mut raw = header("././@LongLink", tar::EntryType::GNULongName, 1 << 30)
        .as_bytes()
        .to_vec();
    raw.extend_from_slice(&[b'a'; 4096]);
    gzip(&raw)
}

/// 64 MiB of zeros in one file, a few kilobytes compressed.
fn gzip_bomb() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    train_py(&mut b);
    b.append(
        &header("zeros.bin", tar::EntryType::Regular, 64 << 20),
        std::io::repeat(0).take(64 << 20),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&b.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A setuid, world-writable file in a folder with the sticky bit.
fn special_modes() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = header("bin/", tar::EntryType::Directory, 0);
    dir.set_mode(0o1777);
    dir.set_cksum();
    b.append(&dir, &[][..]).unwrap();
    let mut tool = header("bin/tool", tar::EntryType::Regular, 1);
    tool.set_mode(0o6777);
    tool.set_cksum();
    b.append(&tool, &b"x"[..]).unwrap();
    train_py(&mut b);
    gzip(&b.into_inner().unwrap())
}

/// Submits `snapshot` with a plain estimator; the status and error body.
async fn submit(server: &Server, snapshot: &[u8]) -> (u16, Value) {
    let estimator =
        json!({"source_directory": ".", "entry_script": "train.py", "user_managed": true});
    let (content_type, body) = multipart(&[
        ("estimator", estimator.to_string().as_bytes()),
        ("snapshot", snapshot),
    ]);
    let response = reqwest::Client::new()
        .post(format!("{}/api/experiments/hostile/runs", server.url))
        .bearer_auth(&server.token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// No run stored, no run folder, no upload left in `incoming/`.
async fn assert_nothing_left(server: &Server, case: &str) {
    let runs: Value = server.get("/api/runs").await.json().await.unwrap();
    assert_eq!(runs["runs"], json!([]), "{case}: a run was stored");
    let count = |dir: &str| {
        std::fs::read_dir(server.data_dir.join(dir))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!(count("runs"), 0, "{case}: a run folder was left behind");
    assert_eq!(count("incoming"), 0, "{case}: an upload was left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_snapshots_are_refused_quickly_and_leave_nothing_behind() {
    let data = tempfile::tempdir().unwrap();
    let server = server(data.path());
    type Case = (
        &'static str,
        fn() -> Vec<u8>,
        u16,
        &'static str,
        &'static str,
    );
    let cases: &[Case] = &[
        (
            "PAX size bomb",
            pax_size_bomb,
            400,
            "invalid_snapshot",
            "PAX size record disagrees",
        ),
        (
            "symlink chain",
            symlink_chain,
            400,
            "invalid_snapshot",
            "\"x\" is a link to \"s/s/s/../../..\", outside the source folder",
        ),
        (
            "1,000,000 entries",
            million_entries,
            413,
            "snapshot_too_many_entries",
            "more than 100000 entries",
        ),
        (
            "huge GNU long name",
            huge_longname,
            413,
            "snapshot_header_too_large",
            "is 1073741824 bytes, more than the limit of 65536",
        ),
        (
            "gzip bomb",
            gzip_bomb,
            413,
            "snapshot_too_large",
            "larger than the limit of 1048576 bytes",
        ),
    ];
    for (case, archive, status, code, needle) in cases {
        let archive = archive();
        let start = Instant::now();
        let (got, body) = submit(&server, &archive).await;
        let took = start.elapsed();
        assert_eq!(got, *status, "{case}: {body}");
        assert_eq!(body["error"]["code"], *code, "{case}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(needle),
            "{case}: {message:?} lacks {needle:?}"
        );
        assert!(took < Duration::from_secs(10), "{case} took {took:?}");
        assert_nothing_left(&server, case).await;
    }

    // Accepted, but without the special bits.
    let (got, body) = submit(&server, &special_modes()).await;
    assert_eq!(got, 201, "{body}");
    let run_id = body["run_id"].as_str().unwrap();
    let snapshot = server.data_dir.join("runs").join(run_id).join("snapshot");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| {
        std::fs::symlink_metadata(snapshot.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!((mode("bin"), mode("bin/tool")), (0o755, 0o755));
    server.wait_until_ended(run_id).await;
}

/// What the job plants: links to `/dev/zero` and out of the run, FIFOs where the
/// server reads (outputs, a metrics spool, a TensorBoard file, a log), and its own
/// log replaced by a link to `/dev/zero`.
const PLANTER: &str = r#"
import os, time
os.makedirs('outputs', exist_ok=True)
os.makedirs('logs', exist_ok=True)
with open('outputs/ok.txt', 'w') as f:
    f.write('fine')
os.symlink('/dev/zero', 'outputs/zero')
os.symlink('/etc/passwd', 'outputs/passwd')
os.mkfifo('outputs/fifo')
os.mkfifo('logs/runboard-metrics-spool-1.jsonl')
os.mkfifo('logs/events.out.tfevents.1.fifo')
os.symlink('/dev/zero', 'logs/events.out.tfevents.2.zero')
os.mkfifo('../user_logs/fifo.txt')
os.symlink('/dev/zero', '../user_logs/zero.txt')
print('planted', flush=True)
time.sleep(1.5)
os.unlink('../user_logs/std_log.txt')
os.symlink('/dev/zero', '../user_logs/std_log.txt')
time.sleep(1.5)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_plants_dev_zero_links_and_fifos_leaves_the_server_responsive() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let server = Server::start(&dir);
    let src = source(&[("train.py", PLANTER)]);
    let run = server
        .submit(
            "planter",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.as_str();
    let files = format!("/api/runs/{id}/files");

    // While the job runs and after it ended, every answer comes promptly.
    let check_prompt = |what: String, took: Duration| {
        assert!(took < Duration::from_secs(2), "{what} took {took:?}");
    };
    let mut rounds = 0;
    let details = loop {
        for path in [format!("/api/runs/{id}"), files.clone()] {
            let start = Instant::now();
            let response = server.get(&path).await;
            assert_eq!(response.status(), 200, "{path}");
            check_prompt(path, start.elapsed());
        }
        let details = server.details(id).await;
        rounds += 1;
        if details.status.is_terminal() {
            break details;
        }
        assert!(rounds < 400, "the run did not end: {:?}", details.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);

    // Downloads: the regular file is served, the rest refused by name.
    let cases: &[(&str, u16, &str)] = &[
        ("outputs/ok.txt", 200, ""),
        ("outputs/zero", 400, "escapes the run folder"),
        ("outputs/passwd", 400, "escapes the run folder"),
        ("outputs/fifo", 400, "is a FIFO, not a regular file"),
        ("logs/events.out.tfevents.1.fifo", 400, "is a FIFO"),
        (
            "logs/events.out.tfevents.2.zero",
            400,
            "escapes the run folder",
        ),
        ("user_logs/fifo.txt", 400, "is a FIFO"),
        ("user_logs/std_log.txt", 400, "escapes the run folder"),
    ];
    for (path, status, needle) in cases {
        let start = Instant::now();
        let response = server.get(&format!("{files}/{path}")).await;
        check_prompt(path.to_string(), start.elapsed());
        assert_eq!(response.status().as_u16(), *status, "{path}");
        let body = response.text().await.unwrap();
        if *status == 200 {
            assert_eq!(body, "fine");
        } else {
            assert!(body.contains(needle), "{path}: {body}");
        }
    }

    // The listing holds the regular file only.
    let listed: Value = server.get(&files).await.json().await.unwrap();
    let paths: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .filter(|p| p.starts_with("outputs/"))
        .collect();
    assert_eq!(paths, ["outputs/ok.txt"]);

    // The websocket replays the run and says it caught up, promptly; the log holds
    // what the job printed before it swapped its log for /dev/zero, and no zeros.
    let start = Instant::now();
    let mut ws = connect(&server, id, 0).await;
    let mut log = String::new();
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(2), crate::support::next_frame(&mut ws))
                .await
                .expect("the websocket answered promptly")
                .expect("a frame");
        match frame {
            Frame::CaughtUp { .. } => break,
            Frame::Event { event } => {
                if let runboard_shared::event::EventBody::Log { text, .. } = event.body {
                    log.push_str(&text);
                }
            }
            Frame::Resume { .. } => panic!("resume on a replay"),
        }
    }
    check_prompt("websocket replay".into(), start.elapsed());
    assert!(log.contains("planted"), "{log:?}");
    assert!(!log.contains('\0'), "zeros were read from /dev/zero");
}

/// A package or image that would be an option to `uv`, `pip`, `conda` or `docker`
/// is refused at submission, naming the field; PEP 508 forms are accepted.
#[tokio::test(flavor = "multi_thread")]
async fn packages_and_images_that_would_be_options_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = server(data.path());
    let cases: &[(Value, &str, &str)] = &[
        (
            json!({"pip_packages": ["--index-url=https://evil.example/simple"]}),
            "pip_packages[0]",
            "starts with '-'",
        ),
        (
            json!({"pip_packages": ["six", "-r/etc/passwd"]}),
            "pip_packages[1]",
            "starts with '-'",
        ),
        (
            json!({"pip_packages": ["numpy --pre"]}),
            "pip_packages[0]",
            "is not a pip requirement",
        ),
        (
            json!({"conda_packages": ["--override-channels"]}),
            "conda_packages[0]",
            "starts with '-'",
        ),
        (
            json!({"use_docker": true, "custom_docker_image": "--privileged"}),
            "custom_docker_image",
            "starts with '-'",
        ),
        (
            json!({"use_docker": true, "custom_docker_image": "ubuntu -v /:/host"}),
            "custom_docker_image",
            "is not a Docker image reference",
        ),
    ];
    for (fields, field, needle) in cases {
        let mut estimator = json!({"source_directory": ".", "entry_script": "train.py"});
        for (k, v) in fields.as_object().unwrap() {
            estimator[k] = v.clone();
        }
        let mut b = tar::Builder::new(Vec::new());
        train_py(&mut b);
        let snapshot = gzip(&b.into_inner().unwrap());
        let (content_type, body) = multipart(&[
            ("estimator", estimator.to_string().as_bytes()),
            ("snapshot", &snapshot),
        ]);
        let response = reqwest::Client::new()
            .post(format!("{}/api/experiments/opts/runs", server.url))
            .bearer_auth(&server.token)
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{fields}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_estimator", "{body}");
        let detail = &body["error"]["details"][0];
        assert_eq!(detail["field"], *field, "{body}");
        assert!(
            detail["message"].as_str().unwrap().contains(needle),
            "{fields}: {body}"
        );
        assert_nothing_left(&server, field).await;
    }
}

/// Bodies, metric batches, names and websocket messages over the stated limits
/// (`runboard_server::limits`) get 413 or 400 naming the limit, and change nothing.
#[tokio::test(flavor = "multi_thread")]
async fn requests_over_the_stated_limits_are_refused_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let server = Server::start(&dir);
    let src = source(&[("train.py", "print('hi')\n")]);
    let run = server
        .submit(
            "limits",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.as_str();
    server.wait_until_ended(id).await;
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Vec<u8>| {
        http.request(method, format!("{}{path}", server.url))
            .bearer_auth(&server.token)
            .header("Content-Type", "application/json")
            .body(body)
    };
    let long_name = "n".repeat(256);
    let too_many = serde_json::to_vec(&json!({"metrics": [
        {"name": "a", "values": vec![1.0; 60_000]},
        {"name": "b", "values": vec![1.0; 40_001]},
    ]}))
    .unwrap();
    let tags = format!("/api/runs/{id}/tags");
    let metrics = format!("/api/runs/{id}/metrics");
    // (method, path, body, status, error code, part of the message)
    type Case<'a> = (reqwest::Method, &'a str, Vec<u8>, u16, &'a str, String);
    let cases: Vec<Case> = vec![
        (
            reqwest::Method::PATCH,
            &tags,
            serde_json::to_vec(&json!({"set": {long_name.clone(): "v"}})).unwrap(),
            400,
            "invalid_tags",
            "256 bytes long, more than the limit of 255".into(),
        ),
        (
            reqwest::Method::PATCH,
            &tags,
            serde_json::to_vec(&json!({"set": {"a\u{1b}[2J": "v"}})).unwrap(),
            400,
            "invalid_tags",
            "control character".into(),
        ),
        (
            reqwest::Method::PATCH,
            &tags,
            serde_json::to_vec(&json!({"set": {"k": "v".repeat(5001)}})).unwrap(),
            400,
            "invalid_tags",
            "value of 5001 bytes, more than the limit of 5000".into(),
        ),
        (
            reqwest::Method::POST,
            &metrics,
            too_many,
            413,
            "metrics_too_large",
            "carries 100001 values, more than the limit of 100000".into(),
        ),
        (
            reqwest::Method::POST,
            &metrics,
            serde_json::to_vec(&json!({"metrics": [{"name": "loss\n", "value": 1}]})).unwrap(),
            400,
            "invalid_metrics",
            "control character".into(),
        ),
        (
            reqwest::Method::POST,
            &metrics,
            serde_json::to_vec(&json!({"metrics": [{"name": long_name, "value": 1}]})).unwrap(),
            400,
            "invalid_metrics",
            "more than the limit of 255".into(),
        ),
        (
            reqwest::Method::POST,
            &metrics,
            serde_json::to_vec(
                &json!({"metrics": [{"name": "ok", "value": 1}], "tags": {"": "x"}}),
            )
            .unwrap(),
            400,
            "invalid_metrics",
            "tag name \"\" is empty".into(),
        ),
    ];
    for (method, path, body, status, code, needle) in cases {
        let response = send(method.clone(), path.to_owned(), body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            status,
            "{method} {path} {needle}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&needle), "{message:?} lacks {needle:?}");
    }
    // A body over 1 MiB is refused once 1 MiB of it was read; the answer comes
    // while the client is still sending (so a plain HTTP client, which reads only
    // after sending, sees the connection closed instead).
    let (status, body) = oversized(&server, "PATCH", &tags, 2 << 20).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "body_too_large", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than this route accepts (1048576 bytes"),
        "{body}"
    );

    // Nothing was stored by any of them.
    let details = server.details(id).await;
    assert!(details.tags.is_empty(), "{:?}", details.tags);
    let stored: Value = server.get(&metrics).await.json().await.unwrap();
    assert_eq!(stored, json!({}));

    // At the limit, a batch is taken.
    let at_limit =
        serde_json::to_vec(&json!({"metrics": [{"name": "a", "values": vec![1.0; 100_000]}]}))
            .unwrap();
    let response = send(reqwest::Method::POST, metrics.clone(), at_limit)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // A websocket message over 64 KiB ends that connection; the server goes on.
    let mut ws = connect(&server, id, 0).await;
    let big = "x".repeat(100 * 1024);
    let _ = ws
        .send(tokio_tungstenite::tungstenite::Message::Text(big.into()))
        .await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(message) = ws.next().await {
            match message {
                Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the oversized message did not end the connection"
    );
    let mut again = connect(&server, id, 0).await;
    let frame = tokio::time::timeout(
        Duration::from_secs(2),
        crate::support::next_frame(&mut again),
    )
    .await
    .expect("a new connection is served");
    assert!(frame.is_some());
}

/// Sends a JSON request declaring `length` bytes of body (spaces) over a plain
/// socket, reading the answer while the body is still being sent: status and JSON
/// body.
async fn oversized(server: &Server, method: &str, path: &str, length: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
        server.token
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let (mut rx, mut tx) = tcp.into_split();
    // The body goes on being sent while the answer is read; the server stops
    // reading once past its limit, so the writer's errors are expected.
    let writer = tokio::spawn(async move {
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < length {
            if tx.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        tx
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = rx.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer in 5 s");
    writer.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}
