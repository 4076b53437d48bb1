//! MLflow's tracking API with the real MLflow client (`mlflow-skinny` from PyPI, in a
//! venv this test makes once under `target/`, keyed by the versions): inside a job
//! (`MLFLOW_*` set by the runner) and outside one (`mlflow.start_run()` against the
//! server), and MLflow's limits and error shapes over plain HTTP.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use runboard_shared::api::RunList;
use runboard_shared::event::{EventBody, Frame};
use runboard_shared::run::RunStatus;
use serde_json::{Value, json};

use crate::support::{RUNBOARD, Server, connect, next_frame, source, text};

/// The client under test and what the jobs need beside it, pinned: the venv is
/// cached by these versions.
const PACKAGES: &[&str] = &[
    "mlflow-skinny==3.18.0",
    "scikit-learn==1.9.1",
    "pandas==3.1.1",
];

static VENV: Mutex<()> = Mutex::new(());

/// The venv's interpreter, made on first use under `target/` (`python3 -m venv`, then
/// uv when it is on `PATH`, else pip). Made from Debian's `/usr/bin/python3` when it
/// exists, so that a root server's job user can run it too.
fn mlflow_python() -> PathBuf {
    let _guard = VENV.lock().unwrap_or_else(|e| e.into_inner());
    let target = Path::new(RUNBOARD)
        .parent()
        .and_then(Path::parent)
        .expect("the runboard binary is in target/<profile>/");
    let key: String = PACKAGES
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let venv = target.join(format!("mlflow-venv-{key}"));
    let python = venv.join("bin/python");
    if python.exists() {
        return python;
    }
    let partial = target.join(format!("mlflow-venv-{key}.partial"));
    let _ = std::fs::remove_dir_all(&partial);
    let base = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "making the MLflow venv failed: {cmd:?}\n{}",
            text(&out)
        );
    };
    run(Command::new(base).args(["-m", "venv"]).arg(&partial));
    let partial_python = partial.join("bin/python");
    let uv = Command::new("uv").arg("--version").output().is_ok();
    if uv {
        run(Command::new("uv")
            .args(["pip", "install", "--python"])
            .arg(&partial_python)
            .args(PACKAGES));
    } else {
        run(Command::new(&partial_python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES));
    }
    // A venv's interpreter is a link to the base one, so the folder can move.
    std::fs::rename(&partial, &venv).unwrap_or_else(|e| {
        assert!(python.exists(), "moving the venv into place: {e}");
    });
    python
}

/// Runs `script` with the venv's Python as an MLflow client of `server` (its token as
/// `MLFLOW_TRACKING_TOKEN`); answers the last line of its output as JSON.
fn client(python: &Path, server: &Server, script: &str) -> Value {
    let out = Command::new(python)
        .args(["-c", script])
        .env("MLFLOW_TRACKING_URI", &server.url)
        .env("MLFLOW_TRACKING_TOKEN", &server.token)
        .env_remove("MLFLOW_RUN_ID")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

/// What a job does with MLflow: points of `loss` that the test watches arrive live,
/// a wait until the test tags the run `release` (read back through MLflow), then
/// more points, params, a tag, an artifact and a scikit-learn fit under autolog.
const JOB: &str = r#"
import os, sys, time
import mlflow
from mlflow import MlflowClient

run_id = os.environ["MLFLOW_RUN_ID"]
for i in range(5):
    mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
print("logged the first points", flush=True)
deadline = time.time() + 120
while "release" not in MlflowClient().get_run(run_id).data.tags:
    if time.time() > deadline:
        sys.exit("the test never released the job")
    time.sleep(0.05)
for i in range(5, 10):
    mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
mlflow.log_params({"epochs": 10, "optimizer": "sgd"})
mlflow.set_tag("stage", "test")
os.makedirs("outputs", exist_ok=True)
with open("report.txt", "w") as f:
    f.write("all good\n")
mlflow.log_artifact("report.txt", artifact_path="reports")

import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
mlflow.sklearn.autolog(log_models=False, log_datasets=False)
X, y = load_iris(return_X_y=True)
LogisticRegression(C=0.5, max_iter=300).fit(X, y)
assert mlflow.active_run().info.run_id == run_id, "autolog used another run"
print("done", flush=True)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_job_s_mlflow_logging_streams_live_and_sklearn_autolog_records_params_and_metrics() {
    let python = mlflow_python();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &data.path().join("data"),
        0,
        &["--python", python.to_str().unwrap()],
    );
    let src = source(&[("train.py", JOB)]);
    let run = server
        .submit(
            "mlflow-job",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.as_str().to_owned();

    // The first five points arrive on the run's websocket while the job runs (it
    // waits for the test before it goes on).
    let mut ws = connect(&server, &id, 0).await;
    let mut live = Vec::new();
    while live.len() < 5 {
        match next_frame(&mut ws).await {
            Some(Frame::Event { event }) => match event.body {
                EventBody::Scalars {
                    source,
                    name,
                    points,
                    ..
                } if source == "metric" && name == "loss" => {
                    live.extend(points.iter().map(|p| (p.step, p.value)));
                }
                EventBody::Status { status, error } => {
                    assert!(!status.is_terminal(), "the job ended early: {error:?}")
                }
                _ => {}
            },
            Some(_) => {}
            None => panic!("the websocket closed"),
        }
    }
    let expected: Vec<(i64, f64)> = (0..5).map(|i| (i, 1.0 / (i as f64 + 1.0))).collect();
    assert_eq!(live, expected);
    assert_eq!(server.details(&id).await.status, RunStatus::Running);
    let released = reqwest::Client::new()
        .patch(format!("{}/api/runs/{id}/tags", server.url))
        .bearer_auth(&server.token)
        .json(&json!({"set": {"release": "1"}, "remove": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(released.status(), 200);

    let details = server.wait_until_ended(&id).await;
    let log = server.text(&id, "user_logs/std_log.txt").await;
    assert_eq!(details.status, RunStatus::Completed, "{log}");
    let metrics: Value = server
        .get(&format!("/api/runs/{id}/metrics"))
        .await
        .json()
        .await
        .unwrap();
    let loss: Vec<f64> = metrics["loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(
        loss,
        (0..10).map(|i| 1.0 / (i as f64 + 1.0)).collect::<Vec<_>>()
    );
    // autolog's training metrics, params and tags, in the same run.
    let accuracy = metrics["training_accuracy_score"].as_f64().unwrap();
    assert!(accuracy > 0.9, "{metrics}");
    let summary = server
        .get("/api/runs?experiment=mlflow-job")
        .await
        .json::<RunList>()
        .await
        .unwrap()
        .runs
        .into_iter()
        .find(|r| r.run_id.as_str() == id)
        .unwrap();
    assert_eq!(summary.properties["C"], "0.5", "{:?}", summary.properties);
    assert_eq!(summary.properties["max_iter"], "300");
    assert_eq!(summary.properties["epochs"], "10");
    assert_eq!(summary.properties["optimizer"], "sgd");
    assert_eq!(summary.tags["stage"], "test");
    assert_eq!(summary.tags["estimator_name"], "LogisticRegression");
    assert_eq!(
        server.text(&id, "outputs/reports/report.txt").await,
        "all good\n"
    );

    // Read back from outside with MLflow's own calls.
    let found = client(
        &python,
        &server,
        &format!(
            r#"
import json, mlflow
from mlflow import MlflowClient
runs = mlflow.search_runs(experiment_names=["mlflow-job"], output_format="list")
df = mlflow.search_runs(experiment_names=["mlflow-job"], filter_string="params.C = '0.5'")
history = MlflowClient().get_metric_history("{id}", "loss")
print(json.dumps({{
    "ids": [r.info.run_id for r in runs],
    "status": runs[0].info.status,
    "C": runs[0].data.params.get("C"),
    "frame_ids": list(df["run_id"]),
    "history": [[m.step, m.value] for m in history],
}}))
"#
        ),
    );
    assert_eq!(found["ids"], json!([id]));
    assert_eq!(found["status"], "FINISHED");
    assert_eq!(found["C"], "0.5");
    assert_eq!(found["frame_ids"], json!([id]));
    let history: Vec<(i64, f64)> = found["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_i64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let expected: Vec<(i64, f64)> = (0..10).map(|i| (i, 1.0 / (i as f64 + 1.0))).collect();
    assert_eq!(history, expected);
}

/// An outside script: `start_run()` against the server, a run that the test sees in
/// `GET /api/runs` while it is open, then reading back what it logged.
const OUTSIDE: &str = r#"
import json, sys
import mlflow
from mlflow import MlflowClient

mlflow.set_experiment("mlflow-outside")
with mlflow.start_run(run_name="first try") as run:
    run_id = run.info.run_id
    print("RUN_ID", run_id, flush=True)
    sys.stdin.readline()
    mlflow.log_params({"lr": 0.1, "layers": 3})
    mlflow.set_tag("team", "vision")
    for i in range(1500):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    MlflowClient().log_batch(run_id, metrics=[
        mlflow.entities.Metric("acc", 0.25 * k, 0, k) for k in range(4)])
    with open("notes.txt", "w") as f:
        f.write("hello")
    mlflow.log_artifact("notes.txt")
client = MlflowClient()
history = client.get_metric_history(run_id, "loss")
listed = client.list_artifacts(run_id)
print(json.dumps({
    "steps": [m.step for m in history],
    "values": [m.value for m in history],
    "acc": [[m.step, m.value] for m in client.get_metric_history(run_id, "acc")],
    "artifacts": [[f.path, f.is_dir, f.file_size] for f in listed],
    "status": client.get_run(run_id).info.status,
    "experiment": client.get_experiment_by_name("mlflow-outside").experiment_id,
    "above": len(mlflow.search_runs(experiment_names=["mlflow-outside"],
                                    filter_string="metrics.acc > 0.5", output_format="list")),
    "below": len(mlflow.search_runs(experiment_names=["mlflow-outside"],
                                    filter_string="metrics.acc < 0.5", output_format="list")),
}))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_outside_mlflow_start_run_is_a_runboard_run_and_reads_back_every_point() {
    let python = mlflow_python();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let work = tempfile::tempdir().unwrap();
    let mut child = Command::new(&python)
        .args(["-c", OUTSIDE])
        .current_dir(work.path())
        .env("MLFLOW_TRACKING_URI", &server.url)
        .env("MLFLOW_TRACKING_TOKEN", &server.token)
        .env_remove("MLFLOW_RUN_ID")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let id = line
        .strip_prefix("RUN_ID ")
        .unwrap_or_else(|| panic!("no run id in {line:?}"))
        .trim()
        .to_owned();
    assert!(id.starts_with("mlflow-outside_"), "{id}");

    // While the client holds it open, it is a Running run in the portal's list.
    let list: RunList = server.get("/api/runs").await.json().await.unwrap();
    let run = list
        .runs
        .iter()
        .find(|r| r.run_id.as_str() == id)
        .unwrap_or_else(|| panic!("{id} not in {list:?}"));
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.experiment, "mlflow-outside");
    assert_eq!(run.tags["mlflow.runName"], "first try");

    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{rest}\n{stderr}");
    let result: Value = serde_json::from_str(rest.lines().last().unwrap()).unwrap();

    assert_eq!(result["steps"], json!((0..1500).collect::<Vec<i64>>()));
    let values: Vec<f64> = (0..1500).map(|i| 1.0 / (i as f64 + 1.0)).collect();
    assert_eq!(result["values"], json!(values));
    assert_eq!(
        result["acc"],
        json!([[0, 0.0], [1, 0.25], [2, 0.5], [3, 0.75]])
    );
    assert_eq!(result["artifacts"], json!([["notes.txt", false, 5]]));
    assert_eq!(result["status"], "FINISHED");
    assert_eq!(result["experiment"], "mlflow-outside");
    // The last acc is 0.75: the run is above 0.5, not below.
    assert_eq!(result["above"], 1);
    assert_eq!(result["below"], 0);

    // The same run through Runboard's own API.
    let details = server.details(&id).await;
    assert_eq!(details.status, RunStatus::Completed);
    let metrics: Value = server
        .get(&format!("/api/runs/{id}/metrics"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metrics["loss"].as_array().unwrap().len(), 1500);
    assert_eq!(server.text(&id, "outputs/notes.txt").await, "hello");
}

/// A POST to an MLflow route with the server's token.
async fn mlflow_post(server: &Server, path: &str, body: &Value, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/2.0/mlflow/{path}", server.url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn mlflow_limits_errors_and_unknown_routes_answer_in_mlflow_s_shape_and_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let token = server.token.clone();
    let (status, created) = mlflow_post(&server, "runs/create", &json!({}), &token).await;
    assert_eq!(status, 200, "{created}");
    let id = created["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        id.starts_with("Default_"),
        "the default experiment '0' is Default: {id}"
    );
    assert_eq!(created["run"]["info"]["experiment_id"], "0");
    let (status, _) = mlflow_post(
        &server,
        "runs/log-batch",
        &json!({"run_id": id, "params": [{"key": "lr", "value": "0.1"}],
                "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}]}),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let before = server
        .get(&format!("/api/runs/{id}"))
        .await
        .text()
        .await
        .unwrap();

    let metric =
        |k: usize| json!({"key": format!("m{k}"), "value": 1.0, "timestamp": 1, "step": 0});
    let kv = |k: usize| json!({"key": format!("k{k}"), "value": "v"});
    let bad = [
        (
            json!({"run_id": id, "metrics": (0..1001).map(metric).collect::<Vec<_>>()}),
            "at most 1000 metrics",
        ),
        (
            json!({"run_id": id, "params": (0..101).map(kv).collect::<Vec<_>>()}),
            "at most 100 params",
        ),
        (
            json!({"run_id": id, "tags": (0..101).map(kv).collect::<Vec<_>>()}),
            "at most 100 tags",
        ),
        (
            json!({"run_id": id, "tags": [{"key": "big", "value": "x".repeat(1_000_001)}]}),
            "larger than the limit of 1000000 bytes",
        ),
        (
            json!({"run_id": id, "params": [{"key": "lr", "value": "0.2"}]}),
            "Changing param values is not allowed",
        ),
        (
            json!({"run_id": id, "metrics": [metric(1), {"key": "", "value": 1.0, "timestamp": 1}]}),
            "name",
        ),
        (
            json!({"run_id": id, "metrics": "none"}),
            "malformed request body",
        ),
    ];
    for (body, needle) in bad {
        let (status, answer) = mlflow_post(&server, "runs/log-batch", &body, &token).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error_code"], "INVALID_PARAMETER_VALUE", "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(needle),
            "{needle}: {answer}"
        );
    }
    let after = server
        .get(&format!("/api/runs/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(before, after, "a refused batch changed the run");
    let metrics: Value = server
        .get(&format!("/api/runs/{id}/metrics"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metrics, json!({"m": 1.0}));

    // Routes MLflow has and Runboard does not.
    for (method, path) in [
        ("POST", "/api/2.0/mlflow/registered-models/create"),
        ("GET", "/api/2.0/mlflow/registered-models/get"),
        ("POST", "/api/2.0/mlflow/experiments/delete"),
        ("DELETE", "/api/2.0/mlflow/experiments/x"),
        ("POST", "/api/3.0/mlflow/traces"),
        ("POST", "/api/2.0/mlflow-artifacts/mpu/create"),
    ] {
        let response = reqwest::Client::new()
            .request(method.parse().unwrap(), format!("{}{path}", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error_code"], "ENDPOINT_NOT_FOUND", "{body}");
    }

    // Credentials: none, a wrong one, another run's token, this run's token.
    let (status, body) = mlflow_post(&server, "runs/log-metric", &json!({"run_id": id}), "").await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, body) = mlflow_post(
        &server,
        "runs/log-metric",
        &json!({"run_id": id}),
        "not-a-token",
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let src = source(&[("train.py", "print('x')\n")]);
    let job = server
        .submit("other", src.path(), json!({"entry_script": "train.py"}))
        .await;
    let job_id = job.run_id.as_str().to_owned();
    server.wait_until_ended(&job_id).await;
    let job_token = job_run_token(&server, &job_id);
    let point = json!({"run_id": id, "key": "x", "value": 1.0, "timestamp": 1});
    let (status, body) = mlflow_post(&server, "runs/log-metric", &point, &job_token).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("PERMISSION_DENIED")),
        "{body}"
    );
    let (status, body) = mlflow_post(&server, "runs/create", &json!({}), &job_token).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (403, Some("PERMISSION_DENIED")),
        "{body}"
    );
    let own = json!({"run_id": job_id, "key": "x", "value": 2.0, "timestamp": 1});
    let (status, body) = mlflow_post(&server, "runs/log-metric", &own, &job_token).await;
    assert_eq!(status, 200, "{body}");

    // Unknown runs and experiments.
    let (status, body) = mlflow_post(
        &server,
        "runs/log-metric",
        &json!({"run_id": "nope_1_00000000", "key": "x", "value": 1.0, "timestamp": 1}),
        &token,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("RESOURCE_DOES_NOT_EXIST"))
    );
    let (status, body) = mlflow_post(
        &server,
        "runs/create",
        &json!({"experiment_id": "nope"}),
        &token,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (404, Some("RESOURCE_DOES_NOT_EXIST"))
    );
    let (status, body) = mlflow_post(
        &server,
        "experiments/create",
        &json!({"name": "a b"}),
        &token,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("INVALID_PARAMETER_VALUE"))
    );
    let (status, _) = mlflow_post(
        &server,
        "experiments/create",
        &json!({"name": "made"}),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = mlflow_post(
        &server,
        "experiments/create",
        &json!({"name": "made"}),
        &token,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("RESOURCE_ALREADY_EXISTS"))
    );

    // Ending the process-less run.
    let (status, body) = mlflow_post(
        &server,
        "runs/update",
        &json!({"run_id": id, "status": "FINISHED", "end_time": 5}),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["run_info"]["status"], "FINISHED");
    assert_eq!(server.details(&id).await.status, RunStatus::Completed);

    // A run with no process outlives a kill -9 and a restart, Running (no driver is
    // re-attached to fail it), takes points, and a cancel from the portal ends it.
    let (_, created) = mlflow_post(
        &server,
        "runs/create",
        &json!({"experiment_id": "made"}),
        &token,
    )
    .await;
    let open = created["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let data_dir = server.data_dir.clone();
    let mut server = server;
    server.kill9();
    let server = Server::start(&data_dir);
    let point = json!({"run_id": open, "key": "after", "value": 1.0, "timestamp": 1});
    let (status, body) = mlflow_post(&server, "runs/log-metric", &point, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.details(&open).await.status, RunStatus::Running);
    let cancel = server.post(&format!("/api/runs/{open}/cancel")).await;
    assert_eq!(cancel.status(), 200);
    let details = server.details(&open).await;
    assert_eq!(details.status, RunStatus::Canceled, "{:?}", details.error);
    let (_, body) = mlflow_post(&server, "runs/update", &json!({"run_id": open}), &token).await;
    assert_eq!(body["run_info"]["status"], "KILLED");
}

/// A run's token, as its job was given it (`control/job.json` holds the job's
/// environment).
fn job_run_token(server: &Server, run_id: &str) -> String {
    let job = std::fs::read_to_string(
        server
            .data_dir
            .join("runs")
            .join(run_id)
            .join("control/job.json"),
    )
    .unwrap();
    let job: Value = serde_json::from_str(&job).unwrap();
    assert_eq!(job["env"]["MLFLOW_RUN_ID"], run_id, "{job}");
    assert_eq!(
        job["env"]["MLFLOW_TRACKING_URI"],
        server.url.as_str(),
        "{job}"
    );
    job["env"]["MLFLOW_TRACKING_TOKEN"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sorting, paging, deleting and restoring through the real client: four finished
/// runs (one without `score`, one without `lr`), then deletes.
const ORDER_AND_DELETE: &str = r#"
import json, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

mlflow.set_experiment("mlflow-order")
ids = {}
for name, score, lr in [("a", 0.5, "0.1"), ("b", 0.9, None), ("c", None, "0.01"), ("d", 0.7, "0.3")]:
    with mlflow.start_run(run_name=name) as run:
        if score is not None:
            mlflow.log_metric("score", score)
        if lr is not None:
            mlflow.log_param("lr", lr)
        ids[name] = run.info.run_id
    # Distinct start times, so that ordering by them has no ties to break.
    time.sleep(0.02)

client = MlflowClient()
eid = client.get_experiment_by_name("mlflow-order").experiment_id
names = lambda runs: [r.info.run_name for r in runs]
def error(call):
    try:
        call()
        return None
    except MlflowException as e:
        return [e.error_code, e.message]

out = {"ids": ids}
out["score_desc"] = names(mlflow.search_runs(experiment_names=["mlflow-order"],
                                             order_by=["metrics.score DESC"], output_format="list"))
out["score_asc"] = names(client.search_runs([eid], order_by=["metrics.`score` ASC"]))
out["start_asc"] = names(client.search_runs([eid], order_by=["attributes.start_time ASC"]))
out["start_desc"] = names(client.search_runs([eid], order_by=["start_time DESC"]))
out["lr_desc"] = names(client.search_runs([eid], order_by=["params.lr DESC"]))
out["filtered"] = names(client.search_runs([eid], filter_string="metrics.score > 0.6",
                                           order_by=["metrics.score ASC"]))
first = client.search_runs([eid], order_by=["metrics.score DESC"], max_results=3)
second = client.search_runs([eid], order_by=["metrics.score DESC"], max_results=3,
                            page_token=first.token)
out["pages"] = [names(first), names(second), second.token]
out["bad_order"] = error(lambda: client.search_runs([eid], order_by=["attributes.artifact_uri"]))
out["bad_direction"] = error(lambda: client.search_runs([eid], order_by=["metrics.score sideways"]))

client.delete_run(ids["c"])
out["after_delete"] = names(client.search_runs([eid]))
out["deleted_only"] = names(client.search_runs([eid], run_view_type=ViewType.DELETED_ONLY))
out["get_deleted"] = error(lambda: client.get_run(ids["c"]))
out["restore_deleted"] = error(lambda: client.restore_run(ids["c"]))
client.restore_run(ids["a"])
out["restored_active"] = client.get_run(ids["a"]).info.status
live = client.create_run(eid, run_name="live")
out["live"] = live.info.run_id
client.delete_run(live.info.run_id)
out["live_deleted"] = error(lambda: client.get_run(live.info.run_id))
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn search_runs_orders_and_pages_and_delete_is_runboard_s_delete() {
    let python = mlflow_python();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let out = client(&python, &server, ORDER_AND_DELETE);

    // MLflow's SQL store: a value first, then none, in either direction.
    assert_eq!(out["score_desc"], json!(["b", "d", "a", "c"]), "{out}");
    assert_eq!(out["score_asc"], json!(["a", "d", "b", "c"]), "{out}");
    assert_eq!(out["start_asc"], json!(["a", "b", "c", "d"]), "{out}");
    assert_eq!(out["start_desc"], json!(["d", "c", "b", "a"]), "{out}");
    // Params compare as strings: "0.3" > "0.1" > "0.01".
    assert_eq!(out["lr_desc"], json!(["d", "a", "c", "b"]), "{out}");
    assert_eq!(out["filtered"], json!(["d", "b"]), "{out}");
    assert_eq!(out["pages"], json!([["b", "d", "a"], ["c"], null]), "{out}");
    for (key, needle) in [("bad_order", "artifact_uri"), ("bad_direction", "sideways")] {
        assert_eq!(out[key][0], "INVALID_PARAMETER_VALUE", "{key}: {out}");
        let message = out[key][1].as_str().unwrap();
        assert!(
            message.contains("order_by") && message.contains(needle),
            "{key}: {message}"
        );
    }

    // Deleted for good: gone from searches, the folder gone, the run's URL says so.
    let deleted = out["ids"]["c"].as_str().unwrap();
    assert_eq!(out["after_delete"], json!(["d", "b", "a"]), "{out}");
    assert_eq!(out["deleted_only"], json!([]), "{out}");
    for key in ["get_deleted", "restore_deleted"] {
        assert_eq!(out[key][0], "RESOURCE_DOES_NOT_EXIST", "{key}: {out}");
        let message = out[key][1].as_str().unwrap();
        assert!(
            message.contains(deleted) && message.contains("was deleted at"),
            "{key}: {message}"
        );
    }
    assert_eq!(out["restored_active"], "FINISHED", "{out}");
    assert!(!server.data_dir.join("runs").join(deleted).exists());
    let response = server.get(&format!("/api/runs/{deleted}")).await;
    assert_eq!(response.status().as_u16(), 404);
    let said = response.text().await.unwrap();
    assert!(said.contains("was deleted"), "{said}");

    // A run still open in MLflow (Running in Runboard) is ended, then deleted.
    let live = out["live"].as_str().unwrap();
    assert_eq!(out["live_deleted"][0], "RESOURCE_DOES_NOT_EXIST", "{out}");
    assert!(!server.data_dir.join("runs").join(live).exists());
    let list: RunList = server.get("/api/runs").await.json().await.unwrap();
    let left: Vec<&str> = list.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(
        !left.contains(&deleted) && !left.contains(&live),
        "{left:?}"
    );
}
