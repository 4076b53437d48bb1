//! Metrics from `Run.get_context().log(...)` (the real shim in a real Python job),
//! the ingest API, downsampling, and TensorBoard event files read as they are written.

use std::time::Duration;

use runboard_shared::event::{EventBody, Frame};
use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{Server, connect, next_frame, source};

const LOGGING: &str = r#"
import time
from azureml.core import Run
from azureml.core.run import Run as SameRun
from azureml.exceptions import UserErrorException
run = Run.get_context()
assert SameRun.get_context() is run
for i in range(50):
    run.log('loss', 1.0 / (i + 1))
    time.sleep(0.02)
run.log('accuracy', 0.93, description='on the test set')
run.log('note', 'first try')
run.log_list('lrs', [0.1, 0.01])
run.log_row('per_class', cls='cat', f1=0.8)
run.log_table('confusion', {'tp': [1, 2], 'fp': [3, 4]})
run.tag('model', 'logreg')
run.add_properties({'dataset': 'digits'})
try:
    run.log('bad', [1, 2])
except UserErrorException as e:
    print('refused:', e)
print('done', flush=True)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn run_log_in_a_loop_reaches_get_metrics_and_streams_live() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", LOGGING)]);
    let run = server
        .submit(
            "metrics",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.as_str();

    // Watch the websocket while the job runs: points arrive before it ends.
    let mut ws = connect(&server, id, 0).await;
    let mut points_while_running = 0;
    let mut ended = false;
    while let Some(frame) = next_frame(&mut ws).await {
        if let Frame::Event { event } = frame {
            match event.body {
                EventBody::Scalars { name, points, .. } if name == "loss" && !ended => {
                    points_while_running += points.len()
                }
                EventBody::Status { status, .. }
                    if status == RunStatus::Finalizing || status.is_terminal() =>
                {
                    ended = true;
                    if status.is_terminal() {
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(
        points_while_running >= 40,
        "only {points_while_running} loss points arrived while the job ran"
    );

    let details = server.wait_until_ended(id).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let log = server.text(id, "user_logs/std_log.txt").await;
    assert!(
        log.contains("refused: run.log takes a single value, not a list"),
        "{log}"
    );

    let metrics: serde_json::Value = server
        .get(&format!("/api/runs/{id}/metrics"))
        .await
        .json()
        .await
        .unwrap();
    let loss = metrics["loss"].as_array().unwrap();
    assert_eq!(loss.len(), 50);
    assert_eq!(loss[0], 1.0);
    assert_eq!(loss[49], 1.0 / 50.0);
    assert_eq!(
        metrics["accuracy"], 0.93,
        "one value is a value, not a list"
    );
    assert_eq!(metrics["note"], "first try");
    assert_eq!(metrics["lrs"], json!([0.1, 0.01]));
    assert_eq!(metrics["per_class"], json!({"cls": "cat", "f1": 0.8}));
    assert_eq!(metrics["confusion"], json!({"tp": [1, 2], "fp": [3, 4]}));
    assert!(metrics.get("bad").is_none());
    assert_eq!(details.tags["model"], "logreg");
    assert_eq!(details.properties["dataset"], "digits");

    let series: serde_json::Value = server
        .get(&format!("/api/runs/{id}/metrics/loss"))
        .await
        .json()
        .await
        .unwrap();
    let steps: Vec<i64> = series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["step"].as_i64().unwrap())
        .collect();
    assert_eq!(
        steps,
        (0..50).collect::<Vec<_>>(),
        "steps count the calls, as in the SDK"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_of_an_experiment_compare_by_their_last_values() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import sys\nfrom azureml.core import Run\nrun = Run.get_context()\n\
         scale = float(sys.argv[2])\n\
         for i in range(5):\n    run.log('loss', scale / (i + 1))\n\
         run.log('accuracy', 1 - scale / 10)\nrun.log('note', 'scale %s' % scale)\n",
    )]);
    let mut ids = Vec::new();
    for scale in [1.0, 2.0] {
        let run = server
            .submit(
                "compare",
                src.path(),
                json!({"entry_script": "train.py", "user_managed": true,
                       "script_params": {"--scale": scale}}),
            )
            .await;
        ids.push(run.run_id.to_string());
    }
    for id in &ids {
        let details = server.wait_until_ended(id).await;
        assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    }
    let other = server
        .submit(
            "elsewhere",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true, "script_params": {"--scale": 3.0}}),
        )
        .await;

    let answer = server
        .get(&format!(
            "/api/experiments/compare/metrics?runs={},{}",
            ids[1], ids[0]
        ))
        .await;
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = answer.json().await.unwrap();
    let brief = |run: usize| {
        body["runs"][run]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| format!("{} {} {} {}", m["name"], m["series"], m["count"], m["last"]))
            .collect::<Vec<_>>()
    };
    // In the order asked; names sorted; a series's last point, a value's last value.
    assert_eq!(body["runs"][0]["run_id"], ids[1].as_str());
    assert_eq!(
        brief(0),
        [
            "\"accuracy\" true 1 0.8",
            "\"loss\" true 5 0.4",
            "\"note\" false 1 \"scale 2.0\"",
        ]
    );
    assert_eq!(brief(1)[1], "\"loss\" true 5 0.2");

    // A run of another experiment, a bad query: refused, naming it.
    let wrong = server
        .get(&format!(
            "/api/experiments/compare/metrics?runs={},{}",
            ids[0], other.run_id
        ))
        .await;
    assert_eq!(wrong.status(), reqwest::StatusCode::NOT_FOUND);
    assert!(wrong.text().await.unwrap().contains(other.run_id.as_str()));
    let bad = server.get("/api/experiments/compare/metrics?run=x").await;
    assert_eq!(bad.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("unknown query parameter 'run'")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_runboard_the_shim_prints_like_the_sdk_offline_run() {
    let shim = concat!(env!("CARGO_MANIFEST_DIR"), "/python");
    let out = std::process::Command::new("python3")
        .args(["-c", "from azureml.core import Run\nr = Run.get_context()\nr.log('loss', 0.5)\nr.log_list('xs', [1, 2])\nprint(r.id)"])
        .env("PYTHONPATH", shim)
        .env_remove("RUNBOARD_RUN_ID")
        .env_remove("RUNBOARD_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Attempted to log scalar metric loss:\n0.5\nAttempted to log list metric xs:\n[1, 2]\nOfflineRun\n"
    );
}

async fn post_metrics(
    server: &Server,
    run_id: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/runs/{run_id}/metrics", server.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_token_writes_its_own_run_only_and_bad_batches_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    // Each script prints its own run token (it has it in its environment).
    let src = source(&[(
        "train.py",
        "import os\nprint('TOKEN', os.environ['RUNBOARD_RUN_TOKEN'])\n",
    )]);
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let run = server
            .submit(
                "tokens",
                src.path(),
                json!({"entry_script": "train.py", "user_managed": true}),
            )
            .await;
        let id = run.run_id.to_string();
        server.wait_until_ended(&id).await;
        let log = server.text(&id, "user_logs/std_log.txt").await;
        tokens.push(log.trim().strip_prefix("TOKEN ").unwrap().to_owned());
        ids.push(id);
    }
    let one = json!({"metrics": [{"name": "loss", "value": 0.5}]});
    assert_eq!(
        post_metrics(&server, &ids[0], &tokens[0], one.clone())
            .await
            .0,
        200
    );
    assert_eq!(
        post_metrics(&server, &ids[1], &tokens[0], one.clone())
            .await
            .0,
        401,
        "run 0's token on run 1"
    );
    assert_eq!(
        post_metrics(&server, &ids[1], "nonsense", one.clone())
            .await
            .0,
        401
    );
    // A run token reads nothing: reading needs the server's token.
    let response = reqwest::Client::new()
        .get(format!("{}/api/runs/{}/metrics", server.url, ids[0]))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let bad = [
        (
            json!({"metrics": [{"name": "", "value": 1}]}),
            "name is empty",
        ),
        (
            json!({"metrics": [{"name": "x", "values": [1, 2], "steps": [1]}]}),
            "steps has 1 entries for 2 values",
        ),
        (
            json!({"metrics": [{"name": "x", "kind": "movie", "value": 1}]}),
            "kind 'movie'",
        ),
        (json!({"metrics": [{"name": "x"}]}), "no value"),
        (
            json!({"metrics": [{"name": "x", "value": 1, "valeu": 2}]}),
            "valeu",
        ),
        (
            json!({"metrics": [{"name": "ok", "value": 1}, {"name": "x", "value": 1, "values": [2]}]}),
            "not both",
        ),
        (
            json!({"metrics": [{"name": "ok", "value": 1}], "batch": "not/an id"}),
            "batch: \"not/an id\" is not a batch id",
        ),
    ];
    for (body, needle) in bad {
        let (status, answer) = post_metrics(&server, &ids[0], &tokens[0], body).await;
        assert_eq!(status, 400, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(needle),
            "{message:?} should name {needle:?}"
        );
    }
    let metrics: serde_json::Value = server
        .get(&format!("/api/runs/{}/metrics", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        metrics,
        json!({"loss": 0.5}),
        "the bad batches stored nothing"
    );

    // A batch sent again under its id (the SDK does, when an answer was lost) is
    // answered alike and stored once; another id is another batch.
    let batch = json!({"metrics": [{"name": "acc", "values": [0.1, 0.2]}], "batch": "b1"});
    for _ in 0..2 {
        let (status, answer) = post_metrics(&server, &ids[0], &tokens[0], batch.clone()).await;
        assert_eq!(status, 200, "{answer}");
    }
    let again = json!({"metrics": [{"name": "acc", "values": [0.3]}], "batch": "b2"});
    assert_eq!(
        post_metrics(&server, &ids[0], &tokens[0], again).await.0,
        200
    );
    let metrics: serde_json::Value = server
        .get(&format!("/api/runs/{}/metrics", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(metrics["acc"], json!([0.1, 0.2, 0.3]));

    // A batch of many `run.log` calls of one metric is one append and one event for
    // the run's viewers, with the points in the order logged.
    let before: runboard_shared::api::EventsPage = server
        .get(&format!("/api/runs/{}/events?after=0", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    let after = before.events.last().map_or(0, |e| e.seq);
    let calls = json!({"metrics": [
        {"name": "f1", "value": 0.5}, {"name": "f1", "value": 0.6}, {"name": "note", "value": "hi"},
        {"name": "f1", "value": 0.7, "steps": [9]}
    ], "batch": "b3"});
    assert_eq!(
        post_metrics(&server, &ids[0], &tokens[0], calls).await.0,
        200
    );
    let page: runboard_shared::api::EventsPage = server
        .get(&format!("/api/runs/{}/events?after={after}", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    let f1: Vec<Vec<(i64, f64)>> = page
        .events
        .iter()
        .filter_map(|e| match &e.body {
            runboard_shared::event::EventBody::Scalars { name, points, .. } if name == "f1" => {
                Some(points.iter().map(|p| (p.step, p.value)).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(f1, [vec![(0, 0.5), (1, 0.6), (9, 0.7)]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_series_reads_as_buckets_that_keep_spikes() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", "print('hi')\n")]);
    let run = server
        .submit(
            "buckets",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.as_str();
    server.wait_until_ended(id).await;
    let mut values: Vec<f64> = (0..100_000).map(|i| (i % 100) as f64 / 100.0).collect();
    values[73_456] = 1000.0;
    let (status, answer) = post_metrics(
        &server,
        id,
        &server.token,
        json!({"metrics": [{"name": "loss", "values": values}]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["stored"], 100_000);

    let body: serde_json::Value = server
        .get(&format!("/api/runs/{id}/metrics/loss?buckets=100"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["count"], 100_000);
    let buckets = body["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 100);
    let spikes: Vec<usize> = (0..100).filter(|i| buckets[*i]["max"] == 1000.0).collect();
    assert_eq!(spikes, [73], "the one spike stays visible, in its bucket");
    assert_eq!(buckets[99]["last"], 0.99);
    let total: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 100_000);

    let wall: serde_json::Value = server
        .get(&format!(
            "/api/runs/{id}/metrics/loss?buckets=10&x=relative"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wall["x"], "relative");
    assert_eq!(
        server
            .get(&format!("/api/runs/{id}/metrics/loss?x=sideways"))
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .get(&format!("/api/runs/{id}/metrics/loss?buckets=0"))
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .get(&format!("/api/runs/{id}/metrics/nothing"))
            .await
            .status(),
        404
    );
}

fn fixtures() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tfevents").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn event_files_written_under_logs_become_scalars_with_the_fixture_counts() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    // The job copies real TensorBoard files into its logs/, some in two halves.
    let src = source(&[(
        "train.py",
        r#"
import os, shutil, sys, time
fx = sys.argv[1]
def copy(folder, dest):
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(os.path.join(fx, folder)):
        shutil.copy(os.path.join(fx, folder, name), os.path.join(dest, name))
copy('nested/train', 'logs/train')
copy('nested/eval', 'logs/eval')
copy('corrupt', 'logs/corrupt')
copy('tensor', 'logs')
# The simple file arrives in two halves, as a writer flushes it.
name = os.listdir(os.path.join(fx, 'simple'))[0]
data = open(os.path.join(fx, 'simple', name), 'rb').read()
os.makedirs('logs/simple', exist_ok=True)
with open(os.path.join('logs/simple', name), 'wb') as f:
    f.write(data[: len(data) // 2]); f.flush(); time.sleep(0.5)
    f.write(data[len(data) // 2 :])
print('copied')
"#,
    )]);
    // The fixtures go in the snapshot: a job user cannot be assumed to reach the
    // checkout (a clean clone in `mktemp -d` is 0700).
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &to.join(entry.file_name()));
            } else {
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
    }
    copy_dir(std::path::Path::new(&fixtures()), &src.path().join("fx"));
    let run = server
        .submit(
            "tfevents",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true, "script_params": {"fx": ""}}),
        )
        .await;
    let id = run.run_id.as_str();
    let details = server.wait_until_ended(id).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let list: serde_json::Value = server
        .get(&format!("/api/runs/{id}/scalars"))
        .await
        .json()
        .await
        .unwrap();
    let count = |run: &str, tag: &str| {
        list["scalars"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["run"] == run && s["tag"] == tag)
            .map(|s| s["count"].as_u64().unwrap())
    };
    assert_eq!(count("train", "loss"), Some(100));
    assert_eq!(count("eval", "loss"), Some(100));
    assert_eq!(
        count("corrupt", "loss"),
        Some(199),
        "only the damaged record is lost"
    );
    assert_eq!(count("corrupt", "accuracy"), Some(200));
    assert_eq!(count(".", "train/loss"), Some(100));
    assert_eq!(count(".", "train/lr"), Some(100));
    assert_eq!(
        count("simple", "loss"),
        Some(200),
        "the file read in two halves gives each point once"
    );
    assert_eq!(count("simple", "accuracy"), Some(200));
    let kinds: Vec<&str> = list["other"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["run"] == "simple")
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"histogram") && kinds.contains(&"text"),
        "{kinds:?}"
    );

    let lr: serde_json::Value = server
        .get(&format!("/api/runs/{id}/scalars/series?run=.&tag=train/lr"))
        .await
        .json()
        .await
        .unwrap();
    let first = &lr["points"][0];
    assert_eq!(
        (first["step"].as_i64(), first["value"].as_f64()),
        (Some(0), Some(0.1))
    );
    let eval: serde_json::Value = server
        .get(&format!(
            "/api/runs/{id}/scalars/series?run=eval&tag=loss&buckets=10"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(eval["buckets"].as_array().unwrap().len(), 10);
    assert_eq!(eval["buckets"][9]["x_end"], 297.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tensorboardx_job_streams_its_scalars_while_it_runs() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import time\nfrom tensorboardX import SummaryWriter\nw = SummaryWriter('logs/run1')\nfor i in range(30):\n    w.add_scalar('loss', 1.0 / (i + 1), i)\n    w.flush()\n    time.sleep(0.05)\nw.close()\n",
    )]);
    let run = server
        .submit(
            "tbx",
            src.path(),
            json!({"entry_script": "train.py", "pip_packages": ["tensorboardX"]}),
        )
        .await;
    let id = run.run_id.as_str();
    let mut ws = connect(&server, id, 0).await;
    let (mut live, mut ended) = (0, false);
    while let Some(frame) = next_frame(&mut ws).await {
        if let Frame::Event { event } = frame {
            match event.body {
                EventBody::Scalars {
                    source,
                    run,
                    name,
                    points,
                } if source == "tensorboard" && !ended => {
                    assert_eq!((run.as_str(), name.as_str()), ("run1", "loss"));
                    live += points.len();
                }
                EventBody::Status { status, .. } => {
                    ended |= status == RunStatus::Finalizing;
                    if status.is_terminal() {
                        assert_eq!(status, RunStatus::Completed);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    assert!(live >= 20, "only {live} points arrived while the job ran");
    let list: serde_json::Value = server
        .get(&format!("/api/runs/{id}/scalars"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["scalars"][0]["count"], 30);
    assert_eq!(list["scalars"][0]["last_step"], 29);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_script_that_logs_while_the_server_is_down_completes_and_its_points_arrive_later() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let mut server = Server::start(&data_dir);
    let src = source(&[(
        "train.py",
        "import os, time\nfrom azureml.core import Run\nrun = Run.get_context()\nwhile not os.path.exists('go'):\n    time.sleep(0.05)\nfor i in range(20):\n    run.log('loss', float(i))\nprint('logged', flush=True)\n",
    )]);
    let run = server
        .submit(
            "away",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.to_string();
    server
        .wait_for(&id, Duration::from_secs(60), |d| {
            d.status == RunStatus::Running
        })
        .await;
    let port = server.port;
    server.kill9();
    // The server is gone: let the script log and finish.
    let run_dir = data_dir.join("runs").join(&id);
    std::fs::write(run_dir.join("wd/go"), "").unwrap();
    let exit = run_dir.join("control/exit.json");
    for _ in 0..300 {
        if exit.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(exit).unwrap()).unwrap();
    assert_eq!(
        exit["code"], 0,
        "the script completed normally without the server"
    );

    let server = Server::start_on(&data_dir, port);
    let details = server.wait_until_ended(&id).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let metrics: serde_json::Value = server
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
    assert_eq!(loss, (0..20).map(f64::from).collect::<Vec<_>>());
}

/// A venv with TensorBoard, made with uv once per test run.
fn python_with_tensorboard(dir: &std::path::Path) -> String {
    let venv = dir.join("tb-venv");
    let uv = |args: &[&str]| {
        let direct = std::process::Command::new("uv").args(args).output();
        let out = match direct {
            Ok(out) => out,
            Err(_) => std::process::Command::new("python3")
                .args(["-m", "uv"])
                .args(args)
                .output()
                .unwrap(),
        };
        assert!(
            out.status.success(),
            "uv {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    uv(&["venv", "--python", "python3", venv.to_str().unwrap()]);
    let python = venv.join("bin/python").display().to_string();
    uv(&["pip", "install", "--python", &python, "tensorboard"]);
    python
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_tensorboard_opens_on_demand_behind_auth_or_says_how_to_get_it() {
    let data = tempfile::tempdir().unwrap();
    let src = source(&[("train.py", "print('hi')\n")]);
    let estimator = json!({"entry_script": "train.py", "user_managed": true});

    // Without TensorBoard: a page that says how to get it.
    let plain = Server::start(&data.path().join("plain"));
    let run = plain.submit("tb", src.path(), estimator.clone()).await;
    let response = plain
        .get(&format!("/runs/{}/tensorboard/", run.run_id))
        .await;
    assert_eq!(response.status(), 424);
    let page = response.text().await.unwrap();
    assert!(page.contains("pip install tensorboard"), "{page}");

    // With it: the real TensorBoard answers through the server, only with credentials.
    let python = python_with_tensorboard(data.path());
    let server = Server::start_with(&data.path().join("tb"), 0, &["--python", &python]);
    let run = server.submit("tb", src.path(), estimator).await;
    let id = run.run_id.as_str();
    let response = reqwest::get(format!("{}/runs/{id}/tensorboard/", server.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "no credentials, no TensorBoard");
    let response = server.get(&format!("/runs/{id}/tensorboard/")).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.to_lowercase().contains("tensorboard"), "{page}");
    let runs = server
        .get(&format!("/runs/{id}/tensorboard/data/runs"))
        .await;
    assert_eq!(runs.status(), 200);
    let runs: serde_json::Value = runs.json().await.unwrap();
    assert!(runs.is_array(), "{runs}");
}
