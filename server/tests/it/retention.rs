//! Deleting runs and experiments against a real server: a running run is cancelled
//! and its process gone before its rows and folder are; models registered from a run
//! stay downloadable; the CLI deletes by id; bad ids change nothing.

use std::time::Duration;

use runboard_shared::api::{ExperimentDeleted, ExperimentList, RunDeleted, RunList};
use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{Server, WsStream, connect, source, text};

const SAVES_A_MODEL: &str = r#"
import os
from azureml.core import Run
run = Run.get_context()
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as f:
    f.write(bytes(range(256)) * 64)
for i in range(5):
    run.log("loss", 1.0 / (i + 1))
print("saved")
"#;

const RUNS_FOREVER: &str = r#"
import os, time
print("pid", os.getpid(), flush=True)
while True:
    time.sleep(0.2)
"#;

async fn delete(server: &Server, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .delete(format!("{}{path}", server.url))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap()
}

async fn run_ids(server: &Server) -> Vec<String> {
    let list: RunList = server.get("/api/runs").await.json().await.unwrap();
    list.runs
        .into_iter()
        .map(|r| r.run_id.to_string())
        .collect()
}

/// Waits until the run's log names its process id.
async fn pid_of(server: &Server, run_id: &str) -> i32 {
    for _ in 0..600 {
        let response = server
            .get(&format!("/api/runs/{run_id}/files/user_logs/std_log.txt"))
            .await;
        if response.status() == 200 {
            let log = response.text().await.unwrap();
            if let Some(pid) = log.lines().find_map(|l| l.strip_prefix("pid ")) {
                return pid.trim().parse().unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {run_id} never printed its pid");
}

/// Reads a viewer's socket to its close frame: the code and reason.
async fn closed_with(viewer: &mut WsStream) -> (u16, String) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), viewer.next())
            .await
            .expect("the viewer was not closed within 30 s");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (frame.code.into(), frame.reason.to_string());
            }
            Some(Ok(Message::Close(None))) | None => panic!("closed without a reason"),
            Some(Err(e)) => panic!("the socket failed instead of closing: {e}"),
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_run_is_cancelled_then_gone_with_its_folder_while_its_models_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("data"));
    let estimator = |script: &str| json!({"entry_script": script, "user_managed": true});

    // A finished run with a model registered from it.
    let src = source(&[("train.py", SAVES_A_MODEL), ("forever.py", RUNS_FOREVER)]);
    let done = server
        .submit("keep", src.path(), estimator("train.py"))
        .await
        .run_id
        .to_string();
    assert_eq!(
        server.wait_until_ended(&done).await.status,
        RunStatus::Completed
    );
    let model = server.file(&done, "outputs/model.pkl").await;
    let registered = reqwest::Client::new()
        .post(format!("{}/api/models", server.url))
        .bearer_auth(&server.token)
        .json(&json!({"name": "kept", "run_id": done, "path": "outputs/model.pkl"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        registered.status(),
        201,
        "{}",
        registered.text().await.unwrap()
    );

    // A running run: deleting it stops its process first.
    let running = server
        .submit("keep", src.path(), estimator("forever.py"))
        .await
        .run_id
        .to_string();
    let pid = pid_of(&server, &running).await;
    let folder = server.data_dir.join("runs").join(&running);
    assert!(folder.is_dir());
    let mut viewer = connect(&server, &running, 0).await;
    let response = delete(&server, &format!("/api/runs/{running}")).await;
    assert_eq!(response.status(), 200);
    let deleted: RunDeleted = response.json().await.unwrap();
    assert_eq!(deleted.run_id, running);
    assert!(deleted.freed_bytes > 0, "{deleted:?}");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the run's process {pid} outlived its deletion"
    );
    assert!(!folder.exists(), "{} is still there", folder.display());
    let (code, reason) = closed_with(&mut viewer).await;
    assert_eq!(code, 4404, "{reason}");
    assert_eq!(reason, format!("run {running} was deleted"));
    let gone = server.get(&format!("/api/runs/{running}")).await;
    assert_eq!(gone.status(), 404);
    let said = gone.text().await.unwrap();
    assert!(
        said.contains(&format!("run {running} was deleted (")),
        "{said}"
    );
    assert_eq!(
        server
            .get(&format!("/api/runs/{running}/metrics"))
            .await
            .status(),
        404
    );
    assert!(!run_ids(&server).await.contains(&running));

    // The CLI deletes the finished run; its model stays, byte for byte.
    let out = server
        .cli()
        .args(["runs", "delete", &done])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.starts_with(&format!("Deleted {done} (")) && printed.contains("bytes freed"),
        "{printed}"
    );
    assert_eq!(server.get(&format!("/api/runs/{done}")).await.status(), 404);
    let kept = server
        .get("/api/models/kept/versions/1/files/model.pkl")
        .await;
    assert_eq!(kept.status(), 200);
    assert_eq!(kept.bytes().await.unwrap().to_vec(), model);

    // Deleting again, or an id that is not a run, is named and changes nothing.
    let before = run_ids(&server).await;
    let again = delete(&server, &format!("/api/runs/{done}")).await;
    assert_eq!(again.status(), 404);
    assert!(again.text().await.unwrap().contains(&done));
    let bad = delete(&server, "/api/runs/not-a-run").await;
    assert_eq!(bad.status(), 404);
    assert!(bad.text().await.unwrap().contains("not-a-run"));
    let out = server
        .cli()
        .args(["runs", "delete", "nope_1700000000_0000abcd"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("nope_1700000000_0000abcd"),
        "{}",
        text(&out)
    );
    assert_eq!(run_ids(&server).await, before);

    // A run MLflow's client started (no process) is ended and deleted too.
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/2.0/mlflow/runs/create", server.url))
        .bearer_auth(&server.token)
        .json(&json!({"experiment_id": "keep"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let outside = created["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(server.details(&outside).await.status, RunStatus::Running);
    assert_eq!(
        delete(&server, &format!("/api/runs/{outside}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        server.get(&format!("/api/runs/{outside}")).await.status(),
        404
    );

    // An experiment goes with all its runs.
    let first = server
        .submit("scratch", src.path(), estimator("train.py"))
        .await
        .run_id
        .to_string();
    let second = server
        .submit("scratch", src.path(), estimator("forever.py"))
        .await
        .run_id
        .to_string();
    server.wait_until_ended(&first).await;
    pid_of(&server, &second).await;
    let response = delete(&server, "/api/experiments/scratch").await;
    assert_eq!(response.status(), 200);
    let gone: ExperimentDeleted = response.json().await.unwrap();
    let mut ids: Vec<String> = gone.runs.iter().map(|r| r.run_id.clone()).collect();
    ids.sort();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let experiments: ExperimentList = server.get("/api/experiments").await.json().await.unwrap();
    let names: Vec<&str> = experiments
        .experiments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["keep"]);
    assert!(run_ids(&server).await.is_empty());
    assert_eq!(
        delete(&server, "/api/experiments/scratch").await.status(),
        404
    );

    // A crash between renaming a folder and removing it leaves a name the next
    // start clears.
    server.kill9();
    let leftover = server.data_dir.join("runs/.deleted-crashed");
    std::fs::create_dir_all(leftover.join("wd")).unwrap();
    std::fs::write(leftover.join("wd/big.bin"), vec![0u8; 4096]).unwrap();
    let server = Server::start(&server.data_dir.clone());
    assert!(!leftover.exists());
    assert_eq!(
        server.get("/api/models/kept/versions/1").await.status(),
        200
    );
}
