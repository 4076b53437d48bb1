//! Runs survive the server: kill -9 while jobs print, restart, and every run
//! completes with its whole log.

use std::time::{Duration, Instant};

use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{Server, connect, log_text, next_frame, source};

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_while_five_runs_print_then_restart_and_all_complete_with_full_logs() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    // Five at once: above the local target's default limit on a small machine.
    let mut server = Server::start_with(&data_dir, 0, &["--max-concurrent-runs", "5"]);
    let src = source(&[(
        "train.py",
        "import time\nfor i in range(300):\n    print(f'step {i}')\n    time.sleep(0.01)\n",
    )]);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let run = server
            .submit("restart", src.path(), json!({"entry_script": "train.py"}))
            .await;
        ids.push(run.run_id.to_string());
    }
    for id in &ids {
        server
            .wait_for(id, Duration::from_secs(30), |d| {
                d.status == RunStatus::Running
            })
            .await;
    }
    let port = server.port;
    server.kill9();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let server = Server::start_with(&data_dir, port, &["--max-concurrent-runs", "5"]);
    let expected: String = (0..300).map(|i| format!("step {i}\n")).collect();
    for id in &ids {
        let details = server.wait_until_ended(id).await;
        assert_eq!(
            details.status,
            RunStatus::Completed,
            "{id}: {:?}",
            details.error
        );
        let log = server.text(id, "user_logs/std_log.txt").await;
        assert_eq!(log, expected, "{id}: the log file is complete");
        // The event stream holds the whole log exactly once, across the restart.
        let mut ws = connect(&server, id, 0).await;
        let mut frames = Vec::new();
        let start = Instant::now();
        while let Some(frame) = next_frame(&mut ws).await {
            if matches!(frame, runboard_shared::event::Frame::CaughtUp { .. }) {
                break;
            }
            frames.push(frame);
            assert!(start.elapsed() < Duration::from_secs(30));
        }
        assert_eq!(
            log_text(&frames),
            expected,
            "{id}: the streamed log is complete"
        );
    }
}
