//! Sweeps (HyperDrive) run by the server, on the local target, with a deterministic
//! training script: the score of a child is a table lookup of its parameters, logged
//! 10 times, 0.4 s apart.
//!
//! The hand computation, for every test here: the scores are
//! `{1: 0.90, 2: 0.30, 3: 0.80, 4: 0.50}[a] + 0.01 * b` for `b` in 1..=3, so the
//! children with `a` in {1, 3} score 0.81..0.93 and those with `a` in {2, 4} score
//! 0.31..0.53. BanditPolicy(slack_amount=0.15, delay_evaluation=2) stops a child
//! whose best is below the best child's at the same interval minus 0.15: every child
//! with `a` in {2, 4} (0.53 + 0.15 = 0.68 < 0.81, the lowest good score) and none
//! with `a` in {1, 3} (0.81 + 0.15 = 0.96 > 0.93, the highest). The first three
//! children have `a` in {1, 3}, so a good child has logged every interval before
//! any bad child starts. The best child is (a=1, b=3) with 0.93.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use runboard_server::snapshot;
use runboard_shared::api::{ChildList, ChildRun};
use runboard_shared::run::RunStatus;
use runboard_shared::sweep::SweepConfig;
use serde_json::{Value, json};

use crate::support::{Server, run_script, source, text, venv_with_sdk};

const TRAIN_PY: &str = r#"
import argparse, time
from azureml.core import Run
parser = argparse.ArgumentParser()
parser.add_argument("--a", type=int)
parser.add_argument("--b", type=int)
args = parser.parse_args()
score = {1: 0.90, 2: 0.30, 3: 0.80, 4: 0.50}[args.a] + 0.01 * args.b
run = Run.get_context()
for step in range(10):
    run.log("score", score)
    time.sleep(0.4)
print("final score", score, flush=True)
"#;

/// The hand computation's score of a child.
fn score(a: i64, b: i64) -> f64 {
    [0.90, 0.30, 0.80, 0.50][usize::try_from(a - 1).unwrap()] + 0.01 * b as f64
}

/// The hand computation: the policy stops exactly the children with `a` in {2, 4}.
fn must_stop(a: i64) -> bool {
    a == 2 || a == 4
}

/// The sweep configuration of these tests, `sampling` given.
fn config(src: &Path, sampling: Value) -> Value {
    json!({
        "run_config": {"source_directory": src.display().to_string(), "entry_script": "train.py"},
        "hyperparameter_sampling": sampling,
        "policy": {"kind": "bandit", "slack_amount": 0.15, "evaluation_interval": 1, "delay_evaluation": 2},
        "primary_metric_name": "score",
        "primary_metric_goal": "maximize",
        "max_total_runs": 12,
        "max_concurrent_runs": 3,
    })
}

async fn post_sweep(
    server: &Server,
    experiment: &str,
    src: &Path,
    config: &Value,
) -> reqwest::Response {
    let mut archive = Vec::new();
    snapshot::pack(src, snapshot::DEFAULT_LIMIT, &mut archive).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("config", config.to_string())
        .part("snapshot", reqwest::multipart::Part::bytes(archive));
    reqwest::Client::new()
        .post(format!(
            "{}/api/experiments/{experiment}/sweeps",
            server.url
        ))
        .bearer_auth(&server.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn children(server: &Server, id: &str) -> ChildList {
    let response = server.get(&format!("/api/runs/{id}/children")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn param(child: &ChildRun, name: &str) -> i64 {
    child.parameters.as_ref().unwrap()[name].as_i64().unwrap()
}

fn time(text: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap()
}

/// The most children running at one instant, from their recorded start and end
/// times (a child cancelled before it started has no start).
fn most_at_once(children: &[ChildRun]) -> usize {
    let spans: Vec<_> = children
        .iter()
        .filter_map(|c| {
            let start = time(c.run.start_time_utc.as_deref()?);
            Some((start, time(c.run.end_time_utc.as_deref().unwrap())))
        })
        .collect();
    spans
        .iter()
        .map(|(t, _)| spans.iter().filter(|(s, e)| s <= t && t < e).count())
        .max()
        .unwrap_or(0)
}

/// Checks a finished sweep against the hand computation: 12 children, never more
/// than 3 at once, exactly the `must_stop` children stopped by the policy (with why,
/// in their property and the parent's log), the others completed with their score.
async fn check_finished(server: &Server, parent: &str) -> ChildList {
    let details = server
        .wait_for(parent, Duration::from_secs(240), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let list = children(server, parent).await;
    assert_eq!(list.children.len(), 12);
    let most = most_at_once(&list.children);
    assert!(most <= 3, "{most} children ran at once");
    assert!(most >= 2, "the children ran one at a time");
    let log = server.text(parent, "user_logs/std_log.txt").await;
    let mut best: Option<(f64, String)> = None;
    for child in &list.children {
        let (a, b) = (param(child, "--a"), param(child, "--b"));
        let id = child.run.run_id.to_string();
        assert_eq!(child.run.parent_run_id.as_ref().unwrap().as_str(), parent);
        if must_stop(a) {
            assert_eq!(child.run.status, RunStatus::Canceled, "{id} a={a} b={b}");
            let why = child.stopped.as_deref().unwrap_or_default();
            assert!(
                why.starts_with("BanditPolicy at interval "),
                "{id}: {why:?}"
            );
            assert_eq!(
                child
                    .run
                    .properties
                    .get("hyperdrive_stopped")
                    .map(String::as_str),
                Some(why)
            );
            assert!(log.contains(&format!("({id}): {why}")), "{log}");
        } else {
            assert_eq!(
                child.run.status,
                RunStatus::Completed,
                "{id} a={a} b={b}: {:?}",
                child.stopped
            );
            assert_eq!(child.stopped, None);
            let metric = child.primary_metric.unwrap();
            assert!((metric - score(a, b)).abs() < 1e-9, "{id}: {metric}");
            if best.as_ref().is_none_or(|(s, _)| score(a, b) > *s) {
                best = Some((score(a, b), id.clone()));
            }
        }
    }
    let stopped_lines = log
        .lines()
        .filter(|l| l.contains("Stopping child "))
        .count();
    let expected = list
        .children
        .iter()
        .filter(|c| must_stop(param(c, "--a")))
        .count();
    assert_eq!(stopped_lines, expected, "{log}");
    let (_, best_id) = best.unwrap();
    assert!(log.contains(&format!("({best_id}) with score = ")), "{log}");
    let parent_details = server.details(parent).await;
    assert_eq!(
        parent_details.properties.get("best_child_run_id"),
        Some(&best_id)
    );
    list
}

/// An SDK v1 sweep script: Bayesian refused, then a grid sweep with a Bandit policy,
/// its best child and its children sorted.
const SWEEP_PY: &str = r#"
from azureml.core import Workspace, Experiment, ScriptRunConfig
from azureml.exceptions import UserErrorException
from azureml.train.hyperdrive import (
    BanditPolicy, BayesianParameterSampling, GridParameterSampling, HyperDriveConfig,
    PrimaryMetricGoal, choice,
)

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="sweep-sdk")
src = ScriptRunConfig(source_directory="./src", script="train.py")

try:
    HyperDriveConfig(run_config=src, hyperparameter_sampling=GridParameterSampling({"--a": choice(1)}),
                     primary_metric_name="score", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                     max_total_runs=1, max_concurent_runs=1)
except TypeError as e:
    print("TYPO REFUSED:", e)

bayes = HyperDriveConfig(run_config=src,
                         hyperparameter_sampling=BayesianParameterSampling({"--a": choice(1, 2)}),
                         primary_metric_name="score", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                         max_total_runs=4)
try:
    exp.submit(bayes)
except UserErrorException as e:
    print("BAYESIAN REFUSED:", e)

hd = HyperDriveConfig(run_config=src,
                      hyperparameter_sampling=GridParameterSampling({"--a": choice(1, 2, 3, 4), "--b": choice([1, 2, 3])}),
                      policy=BanditPolicy(slack_amount=0.15, evaluation_interval=1, delay_evaluation=2),
                      primary_metric_name="score", primary_metric_goal=PrimaryMetricGoal.MAXIMIZE,
                      max_total_runs=12, max_concurrent_runs=3)
run = exp.submit(hd)
print("SWEEP", run.id, flush=True)
run.wait_for_completion()
best = run.get_best_run_by_primary_metric()
print("BEST", best.id)
print("BEST METRIC", best.get_metrics()["score"][-1])
rows = run.get_children_sorted_by_primary_metric(top=3)
print("TOP3", [r["best_primary_metric"] for r in rows])
print("CHILDREN", len(list(run.get_children())))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_grid_sweep_through_the_sdk_runs_12_children_3_at_a_time_and_bandit_stops_the_hand_computed_ones()
 {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let project = source(&[("src/train.py", TRAIN_PY)]);
    let python = venv_with_sdk(project.path(), &server);
    let out = run_script(&python, project.path(), &server, SWEEP_PY);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout.contains("TYPO REFUSED:") && stdout.contains("max_concurent_runs"),
        "{stdout}"
    );
    assert!(
        stdout.contains("BAYESIAN REFUSED:")
            && stdout.contains("hyperparameter_sampling.sampling")
            && stdout.contains("use random sampling (RandomParameterSampling)"),
        "{stdout}"
    );
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"))
            .trim()
            .to_owned()
    };
    let parent = line("SWEEP ");
    let list = check_finished(&server, &parent).await;

    // Grid: every combination exactly once, in the grid's order (b turns fastest).
    let seen: Vec<(i64, i64)> = list
        .children
        .iter()
        .map(|c| (param(c, "--a"), param(c, "--b")))
        .collect();
    let grid: Vec<(i64, i64)> = (1..=4).flat_map(|a| (1..=3).map(move |b| (a, b))).collect();
    assert_eq!(seen, grid);
    // The child's arguments are its parameters.
    let first = server
        .details(&list.children[0].run.run_id.to_string())
        .await;
    assert_eq!(
        first.run_definition["arguments"],
        json!(["--a", "1", "--b", "1"])
    );

    // The SDK's best child: (a=1, b=3), 0.93, by hand.
    let best = list
        .children
        .iter()
        .find(|c| param(c, "--a") == 1 && param(c, "--b") == 3)
        .unwrap();
    assert_eq!(line("BEST "), best.run.run_id.to_string(), "{stdout}");
    assert_eq!(line("BEST METRIC "), "0.93");
    assert_eq!(line("TOP3 "), "[0.93, 0.92, 0.91]");
    assert_eq!(line("CHILDREN "), "12");
    // Only the one sweep exists besides its children: the refused Bayesian one made nothing.
    let runs: Value = server
        .get("/api/runs?experiment=sweep-sdk")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs["runs"].as_array().unwrap().len(), 13);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_random_sweep_killed_with_kill_9_midway_finishes_after_a_restart_with_the_same_decisions()
{
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let mut server = Server::start(&data_dir);
    let project = source(&[("train.py", TRAIN_PY)]);
    let space = json!({"--a": ["choice", [[1, 2, 3, 4]]], "--b": ["choice", [[1, 2, 3]]]});
    // A seed whose first three children are good and which stops at least three: found
    // with the same sampling the server uses (child k depends on the seed and k only).
    let (seed, expected) = (0..1000u64)
        .find_map(|seed| {
            let cfg = config(
                project.path(),
                json!({"sampling": "random", "seed": seed, "parameter_space": space}),
            );
            let (parsed, _) = SweepConfig::parse(&cfg.to_string()).unwrap();
            let all: Vec<(i64, i64)> = (0..12)
                .map(|k| {
                    let p = parsed.child_parameters(k).unwrap();
                    (p[0].1.as_i64().unwrap(), p[1].1.as_i64().unwrap())
                })
                .collect();
            let good_start = all[..3].iter().all(|(a, _)| !must_stop(*a));
            let stops_early = all[3..8].iter().any(|(a, _)| must_stop(*a));
            let stops_late = all[9..].iter().any(|(a, _)| must_stop(*a));
            (good_start && stops_early && stops_late).then_some((seed, all))
        })
        .unwrap();
    let cfg = config(
        project.path(),
        json!({"sampling": "random", "seed": seed, "parameter_space": space}),
    );
    let response = post_sweep(&server, "sweep-restart", project.path(), &cfg).await;
    assert_eq!(response.status(), 201);
    let parent = response.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Kill the server once the policy has stopped a child, with children left to
    // make and to decide on after the restart (the seed has bad ones late).
    let start = Instant::now();
    while !children(&server, &parent)
        .await
        .children
        .iter()
        .any(|c| c.stopped.is_some())
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the policy stopped no child"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = children(&server, &parent).await;
    let port = server.port;
    server.kill9();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = Server::start_on(&data_dir, port);

    let list = check_finished(&server, &parent).await;
    let seen: Vec<(i64, i64)> = list
        .children
        .iter()
        .map(|c| (param(c, "--a"), param(c, "--b")))
        .collect();
    assert_eq!(
        seen, expected,
        "child k has the parameters of (seed, k), across the restart"
    );
    // The children made before the kill are the same runs after it.
    assert!(
        before.children.len() < 12,
        "the kill came before the last child"
    );
    for (old, new) in before.children.iter().zip(&list.children) {
        assert_eq!(old.run.run_id, new.run.run_id);
        if old.stopped.is_some() {
            assert_eq!(
                old.stopped, new.stopped,
                "a decision made before the kill stands"
            );
        }
    }
    let log = server.text(&parent, "user_logs/std_log.txt").await;
    assert!(
        log.contains("Sweep resumed after a server restart"),
        "{log}"
    );
    let started: BTreeSet<&str> = log
        .lines()
        .filter_map(|l| l.split("Started child ").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(started.len(), 12, "each child started once: {log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_sweep_gets_a_400_naming_each_wrong_field_and_creates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let project = source(&[("train.py", TRAIN_PY)]);
    let mut bad = config(
        project.path(),
        json!({"sampling": "grid", "parameter_space": {"--a": ["uniform", [0, 1]], "--b": ["choice", [[]]]}}),
    );
    bad["policy"]["slack_factor"] = json!(0.1);
    bad["primary_metric_goal"] = json!("up");
    bad["max_concurrent_runs"] = json!(0);
    let response = post_sweep(&server, "sweep-bad", project.path(), &bad).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_sweep");
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "hyperparameter_sampling.parameter_space['--a']",
            "hyperparameter_sampling.parameter_space['--b']",
            "policy.slack_factor",
            "primary_metric_goal",
            "max_concurrent_runs",
        ],
        "{body}"
    );
    // Once the configuration is right, the entry script is checked against the snapshot.
    let mut missing = config(
        project.path(),
        json!({"sampling": "grid", "parameter_space": {"--a": ["choice", [[1]]]}}),
    );
    missing["run_config"]["entry_script"] = json!("missing.py");
    let response = post_sweep(&server, "sweep-bad", project.path(), &missing).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["details"][0]["field"], "run_config.entry_script",
        "{body}"
    );

    let runs: Value = server
        .get("/api/runs?experiment=sweep-bad")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(runs["runs"], json!([]));
    let run_dirs: Vec<_> = std::fs::read_dir(data.path().join("data/runs"))
        .unwrap()
        .collect();
    assert!(run_dirs.is_empty(), "{run_dirs:?}");
    let experiments: Value = server.get("/api/experiments").await.json().await.unwrap();
    assert_eq!(experiments["experiments"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_sweep_cancels_its_running_children_and_starts_no_more() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let project = source(&[("train.py", TRAIN_PY)]);
    let mut cfg = config(
        project.path(),
        json!({"sampling": "grid", "parameter_space": {"--a": ["choice", [[1, 3]]], "--b": ["choice", [[1, 2, 3]]]}}),
    );
    cfg["policy"] = Value::Null;
    cfg["max_concurrent_runs"] = json!(2);
    let response = post_sweep(&server, "sweep-cancel", project.path(), &cfg).await;
    assert_eq!(response.status(), 201);
    let parent = response.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = Instant::now();
    while !children(&server, &parent)
        .await
        .children
        .iter()
        .any(|c| c.run.status == RunStatus::Running)
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no child started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        server
            .post(&format!("/api/runs/{parent}/cancel"))
            .await
            .status(),
        202
    );
    let details = server
        .wait_for(&parent, Duration::from_secs(60), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Canceled);
    let list = children(&server, &parent).await;
    assert_eq!(list.children.len(), 2, "no child started after the cancel");
    for child in &list.children {
        assert_eq!(
            child.run.status,
            RunStatus::Canceled,
            "{}",
            child.run.run_id
        );
        assert_eq!(child.stopped.as_deref(), Some("the sweep was cancelled"));
        assert_eq!(
            child
                .run
                .properties
                .get("hyperdrive_stopped")
                .map(String::as_str),
            Some("the sweep was cancelled")
        );
    }
    let log = server.text(&parent, "user_logs/std_log.txt").await;
    assert!(log.contains("Sweep cancelled"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_sweep_is_deleted_with_its_children_but_a_child_alone_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let project = source(&[("train.py", TRAIN_PY)]);
    let mut cfg = config(
        project.path(),
        json!({"sampling": "grid", "parameter_space": {"--a": ["choice", [[1, 3]]], "--b": ["choice", [[1, 2, 3]]]}}),
    );
    cfg["policy"] = Value::Null;
    cfg["max_concurrent_runs"] = json!(2);
    let response = post_sweep(&server, "sweep-delete", project.path(), &cfg).await;
    assert_eq!(response.status(), 201);
    let parent = response.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = Instant::now();
    let running = loop {
        let list = children(&server, &parent).await;
        if let Some(child) = list
            .children
            .iter()
            .find(|c| c.run.status == RunStatus::Running)
        {
            break child.run.run_id.to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no child started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let http = reqwest::Client::new();
    let delete = |id: String| {
        http.delete(format!("{}/api/runs/{id}", server.url))
            .bearer_auth(&server.token)
            .send()
    };

    // A child alone would leave a hole in the sweep: refused, and it goes on.
    let refused = delete(running.clone()).await.unwrap();
    assert_eq!(refused.status(), 409);
    let said = refused.text().await.unwrap();
    assert!(said.contains(&parent) && said.contains(&running), "{said}");
    assert_eq!(
        server.get(&format!("/api/runs/{running}")).await.status(),
        200
    );

    // The sweep goes with every child it had.
    let response = delete(parent.clone()).await.unwrap();
    assert_eq!(response.status(), 200);
    let deleted: runboard_shared::api::RunDeleted = response.json().await.unwrap();
    assert_eq!(deleted.run_id, parent);
    assert!(
        deleted.children.iter().any(|c| c.run_id == running),
        "{deleted:?}"
    );
    for id in std::iter::once(&parent).chain(deleted.children.iter().map(|c| &c.run_id)) {
        assert_eq!(
            server.get(&format!("/api/runs/{id}")).await.status(),
            404,
            "{id}"
        );
        assert!(!server.data_dir.join("runs").join(id).exists(), "{id}");
    }
    let left: Value = server
        .get("/api/runs?experiment=sweep-delete")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(left["runs"], json!([]), "no child outlives its sweep");
}

/// A child that logs its score once, then runs far longer than the sweep may.
const SLOW_PY: &str = r#"
import argparse, time
from azureml.core import Run
parser = argparse.ArgumentParser()
parser.add_argument("--a", type=int)
parser.add_argument("--b", type=int)
args = parser.parse_args()
run = Run.get_context()
run.log("score", args.a + 0.1 * args.b)
run.flush()
print("logged; sleeping", flush=True)
time.sleep(600)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_sweep_past_max_duration_minutes_cancels_its_running_children_and_starts_no_more() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let project = source(&[("train.py", SLOW_PY)]);
    let mut cfg = config(
        project.path(),
        json!({"sampling": "grid", "parameter_space": {"--a": ["choice", [[1, 3]]], "--b": ["choice", [[1, 2, 3]]]}}),
    );
    cfg["policy"] = Value::Null;
    cfg["max_total_runs"] = json!(6);
    cfg["max_concurrent_runs"] = json!(2);
    // The smallest the SDK allows: the test takes a minute.
    cfg["max_duration_minutes"] = json!(1);
    let response = post_sweep(&server, "sweep-deadline", project.path(), &cfg).await;
    assert_eq!(response.status(), 201);
    let parent = response.json::<Value>().await.unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let details = server
        .wait_for(&parent, Duration::from_secs(240), |d| {
            d.status.is_terminal()
        })
        .await;
    let log = server.text(&parent, "user_logs/std_log.txt").await;
    assert_eq!(details.status, RunStatus::Completed, "{log}");
    // The deadline is a minute after the sweep started, not earlier.
    let started = time(details.start_time_utc.as_deref().unwrap());
    let ended = time(details.end_time_utc.as_deref().unwrap());
    assert!(ended - started >= chrono::Duration::minutes(1), "{log}");
    assert!(
        log.contains(
            "max_duration_minutes (1) reached: starting no more children and cancelling those that run"
        ),
        "{log}"
    );
    // Only the first two children ever started; both were cancelled, saying why, and
    // the best of them is still named from what they logged.
    let list = children(&server, &parent).await;
    assert_eq!(list.children.len(), 2, "{log}");
    for child in &list.children {
        assert_eq!(
            child.run.status,
            RunStatus::Canceled,
            "{}",
            child.run.run_id
        );
        assert_eq!(
            child.stopped.as_deref(),
            Some("max_duration_minutes (1) reached")
        );
    }
    assert!(log.contains("Best child: "), "{log}");
}
