//! Admission control: runs wait in Queued while their compute target is full, start
//! in the order they were submitted, keep their place across a `kill -9` of the
//! server, can be cancelled while they wait, and say their place in line.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use runboard_shared::api::{RunDetails, RunList};
use runboard_shared::event::{EventBody, Frame};
use runboard_shared::run::RunStatus;
use serde_json::json;
use tempfile::TempDir;

use crate::support::{RUNBOARD, Server, connect, next_frame, source};

/// A job that stamps its start and end with the machine's clock. It waits for the
/// file `$GATE` to exist when that is set, then holds for `$HOLD` seconds.
const JOB: &str = r#"
import os, time
print('start', repr(time.time()), flush=True)
gate = os.environ.get('GATE')
while gate and not os.path.exists(gate):
    time.sleep(0.02)
time.sleep(float(os.environ.get('HOLD', '0')))
print('end', repr(time.time()), flush=True)
"#;

fn job_source() -> TempDir {
    source(&[("job.py", JOB)])
}

/// Submits `count` runs of the job (user-managed: no environment to build) with the
/// given environment variables, one after the other; their ids in submission order.
async fn submit_jobs(
    server: &Server,
    experiment: &str,
    src: &Path,
    count: usize,
    env: serde_json::Value,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let estimator = json!({
            "entry_script": "job.py",
            "user_managed": true,
            "environment_variables": env,
        });
        let run = server.submit(experiment, src, estimator).await;
        ids.push(run.run_id.to_string());
    }
    ids
}

/// The statuses of an experiment's runs, from the runs list.
async fn statuses(server: &Server, experiment: &str) -> Vec<RunStatus> {
    let response = server
        .get(&format!("/api/runs?experiment={experiment}&limit=100"))
        .await;
    assert_eq!(response.status(), 200);
    let list: RunList = response.json().await.unwrap();
    list.runs.iter().map(|r| r.status).collect()
}

/// What polling the runs list saw: the most runs holding a slot (between Preparing
/// and their end) at once, and the most Running at once.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    most_busy: usize,
    most_running: usize,
}

/// Polls the runs list every 20 ms until `done` is set.
async fn watch(server: &Server, experiment: &str, done: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    while !done.load(Ordering::SeqCst) {
        let now = statuses(server, experiment).await;
        let busy = now
            .iter()
            .filter(|s| **s != RunStatus::Queued && !s.is_terminal())
            .count();
        let running = now.iter().filter(|s| **s == RunStatus::Running).count();
        seen.most_busy = seen.most_busy.max(busy);
        seen.most_running = seen.most_running.max(running);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

/// Waits for every run to end, then stops the watcher.
async fn wait_all_ended(server: &Server, ids: &[String], done: &AtomicBool) -> Vec<RunDetails> {
    let mut ended = Vec::new();
    for id in ids {
        ended.push(server.wait_until_ended(id).await);
    }
    done.store(true, Ordering::SeqCst);
    ended
}

/// A job's own start and end stamps (seconds since the epoch).
async fn stamps(server: &Server, id: &str) -> (f64, f64) {
    let log = server.text(id, "user_logs/std_log.txt").await;
    let stamp = |word: &str| -> f64 {
        log.lines()
            .find_map(|l| l.strip_prefix(word))
            .unwrap_or_else(|| panic!("{id} printed no {word:?} line: {log:?}"))
            .trim()
            .parse()
            .unwrap()
    };
    (stamp("start "), stamp("end "))
}

/// Checks, from the runs' details and their jobs' own stamps, that every run
/// completed, that no more than `limit` jobs ever ran at once, and that runs started
/// in submission order: admission (the `Preparing` entry of each history) in order,
/// and each job started after every job two or more places ahead of it in line
/// (neighbours may be admitted in the same instant, and then either process may be
/// first to print).
async fn check_completed_in_order(
    server: &Server,
    ids: &[String],
    ended: &[RunDetails],
    limit: usize,
) {
    for details in ended {
        assert_eq!(
            details.status,
            RunStatus::Completed,
            "{}: {:?}",
            details.run_id,
            details.error
        );
        assert_eq!(details.queue_position, None, "{}", details.run_id);
    }
    let admitted: Vec<String> = ended
        .iter()
        .map(|d| {
            d.status_history
                .iter()
                .find(|c| c.status == RunStatus::Preparing)
                .map(|c| c.time.clone())
                .unwrap_or_else(|| panic!("{} never entered Preparing", d.run_id))
        })
        .collect();
    assert!(
        admitted.is_sorted(),
        "runs were admitted out of submission order: {admitted:?}"
    );
    let mut jobs = Vec::new();
    for id in ids {
        jobs.push(stamps(server, id).await);
    }
    for (i, (start, _)) in jobs.iter().enumerate() {
        let at_once = jobs.iter().filter(|(s, e)| s <= start && start < e).count();
        assert!(
            at_once <= limit,
            "{at_once} jobs were running when job {i} started: {jobs:?}"
        );
        for (j, (earlier, _)) in jobs.iter().enumerate().take(i.saturating_sub(1)) {
            assert!(
                earlier < start,
                "job {i} started before job {j}, submitted earlier: {jobs:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_runs_with_a_limit_of_two_never_run_more_than_two_at_once_and_start_in_order() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &data.path().join("data"),
        0,
        &["--max-concurrent-runs", "2"],
    );
    let src = job_source();
    let done = AtomicBool::new(false);
    let run = async {
        let ids = submit_jobs(&server, "queue-ten", src.path(), 10, json!({"HOLD": "1"})).await;
        let ended = wait_all_ended(&server, &ids, &done).await;
        (ids, ended)
    };
    let (seen, (ids, ended)) = tokio::join!(watch(&server, "queue-ten", &done), run);
    assert!(seen.most_busy <= 2, "{seen:?}");
    assert_eq!(seen.most_running, 2, "two at once, not fewer: {seen:?}");
    check_completed_in_order(&server, &ids, &ended, 2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_queue_and_a_restart_lose_no_run_and_keep_the_order() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    // The limit comes from the data folder's config file, which the restarted server
    // reads too.
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(
        data_dir.join("runboard.toml"),
        "[local]\nmax_concurrent_runs = 2\n",
    )
    .unwrap();
    let mut server = Server::start(&data_dir);
    let src = job_source();
    let done = AtomicBool::new(false);
    let run = async {
        let ids = submit_jobs(&server, "queue-kill", src.path(), 10, json!({"HOLD": "1"})).await;
        server
            .wait_for(&ids[3], Duration::from_secs(60), |d| {
                d.status == RunStatus::Running
            })
            .await;
        done.store(true, Ordering::SeqCst);
        ids
    };
    let (before, ids) = tokio::join!(watch(&server, "queue-kill", &done), run);
    assert!(before.most_busy <= 2, "{before:?}");
    let now = statuses(&server, "queue-kill").await;
    assert!(
        now.iter().filter(|s| **s == RunStatus::Queued).count() >= 4,
        "killed with runs still queued: {now:?}"
    );
    let port = server.port;
    server.kill9();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let server = Server::start_on(&data_dir, port);
    let done = AtomicBool::new(false);
    let (after, ended) = tokio::join!(
        watch(&server, "queue-kill", &done),
        wait_all_ended(&server, &ids, &done)
    );
    assert!(after.most_busy <= 2, "{after:?}");
    assert_eq!(ended.len(), 10);
    check_completed_in_order(&server, &ids, &ended, 2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_run_cancelled_is_canceled_at_once_never_starts_and_the_next_moves_up() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let server = Server::start_with(&data_dir, 0, &["--max-concurrent-runs", "1"]);
    let gate = data.path().join("gate");
    let src = job_source();
    let env = json!({"GATE": gate.display().to_string()});
    let ids = submit_jobs(&server, "queue-cancel", src.path(), 3, env).await;
    let (first, second, third) = (&ids[0], &ids[1], &ids[2]);
    server
        .wait_for(first, Duration::from_secs(30), |d| {
            d.status == RunStatus::Running
        })
        .await;
    assert_eq!(server.details(third).await.queue_position, Some(2));

    let response = server.post(&format!("/api/runs/{second}/cancel")).await;
    assert_eq!(response.status(), 200, "a queued run is cancelled at once");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "Canceled");
    let cancelled = server.details(second).await;
    assert_eq!(cancelled.status, RunStatus::Canceled);
    let history: Vec<RunStatus> = cancelled.status_history.iter().map(|c| c.status).collect();
    assert_eq!(history, [RunStatus::Queued, RunStatus::Canceled]);
    assert_eq!(cancelled.start_time_utc, None);
    assert_eq!(cancelled.queue_position, None);
    assert!(cancelled.end_time_utc.is_some());
    // Nothing was prepared or launched for it: no working directory, no control
    // files, no supervisor.
    let run_dir = data_dir.join("runs").join(second);
    assert!(run_dir.join("snapshot/job.py").is_file());
    for never in ["wd", "control", "user_logs"] {
        assert!(!run_dir.join(never).exists(), "{second} has {never}/");
    }
    // The third moved up at once, and cancelling again is a conflict.
    assert_eq!(server.details(third).await.queue_position, Some(1));
    let again = server.post(&format!("/api/runs/{second}/cancel")).await;
    assert_eq!(again.status(), 409);

    std::fs::write(&gate, "open").unwrap();
    for id in [first, third] {
        let details = server.wait_until_ended(id).await;
        assert_eq!(
            details.status,
            RunStatus::Completed,
            "{id}: {:?}",
            details.error
        );
    }
    assert_eq!(
        server.details(second).await.status,
        RunStatus::Canceled,
        "still Canceled: its slot was never taken"
    );
    assert!(!run_dir.join("wd").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_run_says_its_place_in_line_in_details_list_and_live_events() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &data.path().join("data"),
        0,
        &["--max-concurrent-runs", "1"],
    );
    let gate = data.path().join("gate");
    let src = job_source();
    let env = json!({"GATE": gate.display().to_string()});
    let ids = submit_jobs(&server, "queue-place", src.path(), 5, env).await;
    server
        .wait_for(&ids[0], Duration::from_secs(30), |d| {
            d.status == RunStatus::Running
        })
        .await;

    // The fifth submission waits behind the second, third and fourth.
    let fifth = server.details(&ids[4]).await;
    assert_eq!(fifth.status, RunStatus::Queued);
    assert_eq!(fifth.queue_position, Some(4));
    let response = server.get("/api/runs?experiment=queue-place").await;
    let list: RunList = response.json().await.unwrap();
    let places: Vec<(String, Option<u32>)> = list
        .runs
        .iter()
        .rev()
        .map(|r| (r.run_id.to_string(), r.queue_position))
        .collect();
    let expected: Vec<(String, Option<u32>)> = ids
        .iter()
        .cloned()
        .zip([None, Some(1), Some(2), Some(3), Some(4)])
        .collect();
    assert_eq!(places, expected, "the runs list, oldest first");

    // Its events say each new place as the line moves, until it starts.
    let mut ws = connect(&server, &ids[4], 0).await;
    std::fs::write(&gate, "open").unwrap();
    let mut places = Vec::new();
    loop {
        let Some(frame) = next_frame(&mut ws).await else {
            panic!("the websocket closed; places so far {places:?}")
        };
        let Frame::Event { event } = frame else {
            continue;
        };
        match event.body {
            EventBody::QueuePosition { position } => places.push(position),
            EventBody::Status {
                status: RunStatus::Preparing,
                ..
            } => break,
            _ => {}
        }
    }
    assert_eq!(places, [4, 3, 2, 1]);
    let details = server.wait_until_ended(&ids[4]).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    assert_eq!(details.queue_position, None);
}

#[test]
fn a_limit_of_zero_is_refused_with_what_to_do() {
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(RUNBOARD)
        .args(["serve", "--port", "0", "--max-concurrent-runs", "0"])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--max-concurrent-runs") && stderr.contains("0 is not in 1.."),
        "{stderr}"
    );

    std::fs::write(
        data.path().join("runboard.toml"),
        "[local]\nmax_concurrent_runs = 0\n",
    )
    .unwrap();
    let output = std::process::Command::new(RUNBOARD)
        .args(["serve", "--port", "0"])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUNBOARD_CONFIG", data.path().join("client.json"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[local] max_concurrent_runs = 0 would never start a run"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slurm_target_with_max_concurrent_runs_submits_one_job_at_a_time() {
    const TEST: &str = "queue::a_slurm_target_with_max_concurrent_runs_submits_one_job_at_a_time";
    match std::process::Command::new("sinfo").arg("-h").output() {
        Err(_) => {
            return crate::support::skip(
                TEST,
                crate::support::Tool::Slurm,
                "Slurm is not installed (cargo xtask test installs it as root)",
            );
        }
        Ok(out) => assert!(
            out.status.success(),
            "the Slurm cluster is not up; start it: scripts/local-slurm.sh start (as root)"
        ),
    }
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(
        data_dir.join("runboard.toml"),
        "[compute.cpu-cluster]\nkind = \"slurm\"\npartition = \"debug\"\nmax_concurrent_runs = 1\n",
    )
    .unwrap();
    let server = Server::start(&data_dir);
    let gate = data.path().join("gate");
    let src = job_source();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let estimator = json!({
            "entry_script": "job.py",
            "user_managed": true,
            "compute_target": "cpu-cluster",
            "environment_variables": {"GATE": gate.display().to_string()},
        });
        let run = server.submit("queue-slurm", src.path(), estimator).await;
        ids.push(run.run_id.to_string());
    }
    server
        .wait_for(&ids[0], Duration::from_secs(120), |d| {
            d.status == RunStatus::Running
        })
        .await;
    for (id, place) in ids[1..].iter().zip(1..) {
        let details = server.details(id).await;
        assert_eq!(details.status, RunStatus::Queued, "{id}");
        assert_eq!(details.queue_position, Some(place), "{id}");
        assert!(
            !details.properties.contains_key("slurm.job_id"),
            "{id} waits in Runboard, not in Slurm"
        );
    }
    std::fs::write(&gate, "open").unwrap();
    let mut jobs = Vec::new();
    for id in &ids {
        let details = server.wait_until_ended(id).await;
        assert_eq!(
            details.status,
            RunStatus::Completed,
            "{id}: {:?}",
            details.error
        );
        jobs.push(stamps(&server, id).await);
    }
    for pair in jobs.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "one job at a time, in order: {jobs:?}"
        );
    }
}
