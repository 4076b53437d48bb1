//! Real training scripts, run by a real server, end to end.

use std::time::{Duration, Instant};

use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{Server, source};

const SEED_TRAIN: &str = r#"
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument('--data-folder', type=str, dest='data_folder')
parser.add_argument('--regularization', type=float, default=0.01)
args = parser.parse_args()
print('Data folder:', args.data_folder)
print('Regularization rate:', args.regularization)
os.makedirs('outputs', exist_ok=True)
os.makedirs('logs', exist_ok=True)
for epoch in range(20):
    print(f'epoch {epoch} loss {1.0 / (epoch + 1):.4f}')
with open('outputs/model.txt', 'wb') as f:
    f.write(bytes(range(256)) * 4 + f'reg={args.regularization}\n'.encode())
with open('logs/train.log', 'w') as f:
    f.write('training done\n')
print('done')
"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_single_node_run_completes_with_its_log_outputs_and_follow() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", SEED_TRAIN)]);

    let out = server
        .cli()
        .args([
            "submit",
            "--experiment",
            "sklearn-seed",
            "--entry-script",
            "train.py",
        ])
        .arg("--source-directory")
        .arg(src.path())
        .args([
            "--script-param=--data-folder=/tmp/data",
            "--script-param=--regularization=0.8",
            "--follow",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "--follow must exit 0: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Run id: "))
        .unwrap()
        .to_owned();
    assert!(stdout.contains(&format!("Portal: {}/runs/{run_id}", server.url)));

    let expected_lines: Vec<String> = [
        "Data folder: /tmp/data".to_owned(),
        "Regularization rate: 0.8".to_owned(),
    ]
    .into_iter()
    .chain((0..20).map(|e| format!("epoch {e} loss {:.4}", 1.0 / (e as f64 + 1.0))))
    .chain(["done".to_owned()])
    .collect();
    let followed: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Data folder"))
        .collect();
    assert_eq!(
        followed, expected_lines,
        "--follow streams the log in order"
    );

    let details = server.details(&run_id).await;
    assert_eq!(details.status, RunStatus::Completed);
    assert!(details.start_time_utc.is_some() && details.end_time_utc.is_some());
    let statuses: Vec<RunStatus> = details.status_history.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Queued,
            RunStatus::Preparing,
            RunStatus::Starting,
            RunStatus::Running,
            RunStatus::Finalizing,
            RunStatus::Completed
        ]
    );
    assert!(details.log_files.contains_key("user_logs/std_log.txt"));

    let log = server.text(&run_id, "user_logs/std_log.txt").await;
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        expected_lines,
        "std_log.txt holds every line in order"
    );

    let files: serde_json::Value = server
        .get(&format!("/api/runs/{run_id}/files"))
        .await
        .json()
        .await
        .unwrap();
    let paths: Vec<&str> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"outputs/model.txt") && paths.contains(&"logs/train.log"),
        "{paths:?}"
    );

    let downloaded = data.path().join("model.txt");
    let out = server
        .cli()
        .args(["download", &run_id, "outputs/model.txt", "-o"])
        .arg(&downloaded)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected = (0..=255u8).collect::<Vec<u8>>().repeat(4);
    expected.extend_from_slice(b"reg=0.8\n");
    assert_eq!(
        std::fs::read(&downloaded).unwrap(),
        expected,
        "byte-identical download"
    );

    // HTTP Range on the same file.
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/runs/{run_id}/files/outputs/model.txt",
            server.url
        ))
        .bearer_auth(&server.token)
        .header("Range", "bytes=256-259")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.bytes().await.unwrap().as_ref(), &[0, 1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread")]
async fn script_params_reach_argparse_with_the_sdk_rules() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        r#"
import argparse, sys
p = argparse.ArgumentParser()
p.add_argument('--numbers-in-sequence', type=int)
p.add_argument('--my_bool_var', action='store_true')
p.add_argument('--lr', type=float)
p.add_argument('--flag-true')
p.add_argument('--dropped')
a = p.parse_args()
print('ARGV', sys.argv[1:])
print('PARSED', a.numbers_in_sequence, a.my_bool_var, a.lr, a.flag_true, a.dropped)
"#,
    )]);
    let estimator = json!({
        "entry_script": "train.py",
        "script_params": {
            "--numbers-in-sequence": 10,
            "--my_bool_var": "",
            "--lr": 0.8,
            "--flag-true": true,
            "--dropped": null
        }
    });
    let run = server.submit("params", src.path(), estimator).await;
    let details = server.wait_until_ended(run.run_id.as_str()).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let log = server
        .text(run.run_id.as_str(), "user_logs/std_log.txt")
        .await;
    assert!(
        log.contains("ARGV ['--numbers-in-sequence', '10', '--my_bool_var', '--lr', '0.8', '--flag-true', 'True']"),
        "{log}"
    );
    assert!(log.contains("PARSED 10 True 0.8 True None"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_script_fails_with_its_traceback_tail() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "print('starting')\ndef load():\n    raise ValueError('the data folder is empty')\nload()\n",
    )]);
    let run = server
        .submit("failing", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let details = server.wait_until_ended(run.run_id.as_str()).await;
    assert_eq!(details.status, RunStatus::Failed);
    let error = details.error.unwrap();
    assert!(error.contains("exited with code 1"), "{error}");
    assert!(
        error.contains("Traceback (most recent call last)"),
        "{error}"
    );
    assert!(
        error.contains("ValueError: the data folder is empty"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_sleeping_script_is_canceled_within_5s_with_no_process_left() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    // The script starts a grandchild that ignores SIGTERM: it must go too.
    let src = source(&[(
        "train.py",
        r#"
import os, signal, subprocess, time
child = subprocess.Popen(['python3', '-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])
print('PGID', os.getpgid(0), 'CHILD', child.pid, flush=True)
time.sleep(600)
"#,
    )]);
    let run = server
        .submit("cancel", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let id = run.run_id.as_str();
    let mut pgid = 0;
    let start = Instant::now();
    while pgid == 0 {
        let response = server
            .get(&format!("/api/runs/{id}/files/user_logs/std_log.txt"))
            .await;
        let log = response.text().await.unwrap_or_default();
        if let Some(line) = log.lines().find(|l| l.starts_with("PGID")) {
            pgid = line.split(' ').nth(1).unwrap().parse().unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the script never printed its group"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let asked = Instant::now();
    let response = server.post(&format!("/api/runs/{id}/cancel")).await;
    assert_eq!(response.status(), 202);
    let details = server
        .wait_for(id, Duration::from_secs(5), |d| d.status.is_terminal())
        .await;
    let took = asked.elapsed();
    assert_eq!(details.status, RunStatus::Canceled);
    assert!(took <= Duration::from_secs(5), "took {took:?}");
    let statuses: Vec<RunStatus> = details.status_history.iter().map(|s| s.status).collect();
    assert!(
        statuses.ends_with(&[RunStatus::CancelRequested, RunStatus::Canceled]),
        "{statuses:?}"
    );
    let group = nix::unistd::Pid::from_raw(-pgid);
    assert_eq!(
        nix::sys::signal::kill(group, None),
        Err(nix::errno::Errno::ESRCH),
        "a process of group {pgid} is still alive"
    );

    // Cancelling it again is a conflict, and changes nothing.
    let again = server.post(&format!("/api/runs/{id}/cancel")).await;
    assert_eq!(again.status(), 409);
    let body: serde_json::Value = again.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already ended (Canceled)")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn max_run_duration_seconds_stops_the_run_and_says_so() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n",
    )]);
    let run = server
        .submit(
            "timeout",
            src.path(),
            json!({"entry_script": "train.py", "max_run_duration_seconds": 1}),
        )
        .await;
    let details = server.wait_until_ended(run.run_id.as_str()).await;
    assert_eq!(details.status, RunStatus::Failed);
    let error = details.error.unwrap();
    assert!(error.contains("max_run_duration_seconds=1"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_variables_and_the_run_context_reach_the_script() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import os\nfor k in ['MY_SETTING', 'AZUREML_RUN_ID', 'RUNBOARD_RUN_ID', 'RUNBOARD_URL']:\n    print(k, os.environ.get(k))\nprint('TOKEN', len(os.environ.get('RUNBOARD_RUN_TOKEN', '')))\n",
    )]);
    let run = server
        .submit(
            "env",
            src.path(),
            json!({"entry_script": "train.py", "environment_variables": {"MY_SETTING": "42"}}),
        )
        .await;
    let id = run.run_id.as_str();
    assert_eq!(
        server.wait_until_ended(id).await.status,
        RunStatus::Completed
    );
    let log = server.text(id, "user_logs/std_log.txt").await;
    assert!(log.contains("MY_SETTING 42"), "{log}");
    assert!(log.contains(&format!("AZUREML_RUN_ID {id}")), "{log}");
    assert!(log.contains(&format!("RUNBOARD_RUN_ID {id}")), "{log}");
    assert!(
        log.contains(&format!("RUNBOARD_URL {}", server.url)),
        "{log}"
    );
    assert!(log.contains("TOKEN 32"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn git_properties_are_recorded_when_the_source_is_a_work_tree() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", "print('hi')\n")]);
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(src.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://example.com/team/model.git",
    ]);
    git(&["add", "."]);
    git(&["commit", "-qm", "first"]);
    let out = server
        .cli()
        .args([
            "submit",
            "--experiment",
            "git",
            "--entry-script",
            "train.py",
            "--follow",
        ])
        .arg("--source-directory")
        .arg(src.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Run id: "))
        .unwrap();
    let props = server.details(run_id).await.properties;
    assert_eq!(
        props["azureml.git.repository_uri"],
        "https://example.com/team/model.git"
    );
    assert_eq!(props["azureml.git.branch"], "main");
    assert_eq!(props["azureml.git.commit"].len(), 40);
    assert_eq!(props["azureml.git.dirty"], "False");
    assert_eq!(
        props["mlflow.source.git.commit"],
        props["azureml.git.commit"]
    );
    assert_eq!(props["mlflow.source.git.branch"], "main");
    assert_eq!(
        props["mlflow.source.git.repoURL"],
        props["azureml.git.repository_uri"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_lists_runs_prints_logs_and_cancels() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import time\nprint('hello from the job', flush=True)\ntime.sleep(600)\n",
    )]);
    let run = server
        .submit(
            "cli",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.to_string();
    server
        .wait_for(&id, Duration::from_secs(30), |d| {
            d.status == RunStatus::Running
        })
        .await;

    let out = server
        .cli()
        .args(["runs", "--experiment", "cli", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs[0]["run_id"], id.as_str());
    let table = server.cli().args(["runs"]).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains(&id));

    let start = Instant::now();
    loop {
        let logs = server.cli().args(["logs", &id]).output().unwrap();
        if String::from_utf8_lossy(&logs.stdout).contains("hello from the job") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the log never showed the line"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let cancel = server.cli().args(["cancel", &id]).output().unwrap();
    assert!(
        cancel.status.success(),
        "{}",
        String::from_utf8_lossy(&cancel.stderr)
    );
    let follow = server
        .cli()
        .args(["logs", &id, "--follow"])
        .output()
        .unwrap();
    assert!(
        !follow.status.success(),
        "--follow exits non-zero for a run that did not complete"
    );
    assert!(String::from_utf8_lossy(&follow.stderr).contains("Canceled"));
    let bad = server.cli().args(["cancel", "not-a-run"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid run id"));
}
