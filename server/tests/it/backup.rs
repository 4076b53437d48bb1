//! `runboard backup` while runs stream, then a new server on the copy.

use std::process::Command;
use std::time::Duration;

use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{RUNBOARD, Server, connect, next_frame, source};

const QUICK: &str = "from azureml.core import Run\nrun = Run.get_context()\n\
for i in range(5):\n    run.log('x', i)\n    print('quick', i, flush=True)\n";
const STREAMING: &str = "import time\nfrom azureml.core import Run\nrun = Run.get_context()\n\
for i in range(400):\n    run.log('x', i)\n    print('line %04d' % i, flush=True)\n    time.sleep(0.025)\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_runs_stream_restores_into_a_new_server() {
    let data = tempfile::tempdir().unwrap();
    // Room for all five streaming runs at once (the local default is max(cores, 4)).
    let server = Server::start_with(
        &data.path().join("data"),
        0,
        &["--max-concurrent-runs", "8"],
    );
    let quick = source(&[("train.py", QUICK)]);
    let slow = source(&[("train.py", STREAMING)]);
    let estimator = json!({"entry_script": "train.py", "user_managed": true});
    let mut done = Vec::new();
    for _ in 0..2 {
        let id = server
            .submit("done", quick.path(), estimator.clone())
            .await
            .run_id
            .to_string();
        assert_eq!(
            server.wait_until_ended(&id).await.status,
            RunStatus::Completed
        );
        done.push(id);
    }
    let mut going = Vec::new();
    for _ in 0..5 {
        going.push(
            server
                .submit("going", slow.path(), estimator.clone())
                .await
                .run_id
                .to_string(),
        );
    }
    for id in &going {
        server
            .wait_for(id, Duration::from_secs(60), |d| {
                d.status == RunStatus::Running
            })
            .await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The backup, while the five stream.
    let copy = data.path().join("copy");
    let backup = Command::new(RUNBOARD)
        .arg("backup")
        .arg(&copy)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&backup.stdout);
    assert!(
        backup.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(
        said.contains("5 run(s) still going are marked Failed in the copy"),
        "{said}"
    );
    // A second backup into the same folder is refused, and changes nothing there.
    let again = Command::new(RUNBOARD)
        .arg("backup")
        .arg(&copy)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists and is not empty"));

    for id in &going {
        server.wait_until_ended(id).await;
    }
    let restored = Server::start(&copy);
    // Completed runs are identical: details, metrics, log.
    for id in &done {
        let (a, b) = (server.details(id).await, restored.details(id).await);
        assert_eq!(
            (a.status, &a.tags, &a.properties),
            (b.status, &b.tags, &b.properties)
        );
        assert_eq!(
            server.text(id, "user_logs/std_log.txt").await,
            restored.text(id, "user_logs/std_log.txt").await
        );
        let path = format!("/api/runs/{id}/metrics");
        let before: serde_json::Value = server.get(&path).await.json().await.unwrap();
        let after: serde_json::Value = restored.get(&path).await.json().await.unwrap();
        assert_eq!(before, after);
    }
    // Runs that were going: Failed in the copy, saying why, with their log up to then:
    // numbered lines from 0 with no gap, a prefix of the original's.
    for id in &going {
        let details = restored.details(id).await;
        assert_eq!(details.status, RunStatus::Failed);
        assert!(
            details
                .error
                .as_deref()
                .unwrap_or("")
                .contains("`runboard backup`"),
            "{details:?}"
        );
        let log = restored.text(id, "user_logs/std_log.txt").await;
        let full = server.text(id, "user_logs/std_log.txt").await;
        assert!(
            full.starts_with(&log),
            "the copy's log is not a prefix of the original's"
        );
        let lines: Vec<&str> = log.lines().collect();
        assert!(lines.len() >= 10, "{} lines", lines.len());
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(*line, format!("line {i:04}"));
        }
        // Its events replay from the copy's store with no gap.
        let mut ws = connect(&restored, id, 0).await;
        let mut seq = 0;
        while let Some(frame) = next_frame(&mut ws).await {
            match frame {
                runboard_shared::event::Frame::Event { event } => {
                    assert_eq!(event.seq, seq + 1);
                    seq = event.seq;
                }
                runboard_shared::event::Frame::CaughtUp { .. } => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(seq > 3);
    }
}
