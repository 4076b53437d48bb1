//! `cargo xtask bench metrics` (b)-(d); (a), the tfevents reader, is `benches/tfevents.rs`.
//!
//! (b) live latency from a script's `run.log()` and from a tensorboardX flush to the
//!     point arriving at a websocket client, p50 and p99 over 1,000 points, beside
//!     the same for a printed line (the log path);
//! (c) ingest of 1,000,000 points through the REST batch API, beside MLflow's
//!     tracking server (`log_batch`, SQLite) in a venv made here;
//! (d) a 1,000,000-point series read as 1,000 buckets, beside reading it whole;
//! (e) MLflow's client (`log_batch`, 1,000 points a call) logging into Runboard's
//!     MLflow API, beside the same client and script logging into MLflow's own
//!     tracking server with SQLite, in the same run (goal: 10x the points/s).
//!
//! `RUNBOARD_BENCH_PARTS=ce` runs only some parts (default: all).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, median, ms};
use futures_util::StreamExt;
use runboard_shared::event::{EventBody, Frame};
use tokio_tungstenite::tungstenite::Message;

const POINTS: usize = 1000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Submits a job and collects, for each point it produces, the delay between the
/// time the script stamped on it and its arrival here.
async fn latencies(
    server: &Server,
    src: &std::path::Path,
    estimator: serde_json::Value,
) -> (Vec<f64>, Vec<f64>) {
    let run_id = server.submit("bench", src, estimator).await;
    let mut ws = server.events(&run_id).await;
    let (mut points, mut lines) = (Vec::new(), Vec::new());
    let mut pending_line = String::new();
    while let Some(Ok(Message::Text(text))) = ws.next().await {
        let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
        let Ok(Frame::Event { event }) = serde_json::from_str::<Frame>(&text) else {
            continue;
        };
        match event.body {
            EventBody::Scalars { points: p, .. } => {
                points.extend(p.iter().map(|p| (now - p.wall_time) * 1000.0))
            }
            EventBody::Log { path, text, .. } if path == "user_logs/std_log.txt" => {
                pending_line.push_str(&text);
                while let Some(end) = pending_line.find('\n') {
                    let line: String = pending_line.drain(..=end).collect();
                    if let Some(t) = line
                        .trim()
                        .strip_prefix("T ")
                        .and_then(|t| t.parse::<f64>().ok())
                    {
                        lines.push((now - t) * 1000.0);
                    }
                }
            }
            EventBody::Status { status, .. } if status.is_terminal() => break,
            _ => {}
        }
    }
    points.sort_by(f64::total_cmp);
    lines.sort_by(f64::total_cmp);
    (points, lines)
}

fn report(name: &str, values: &[f64]) {
    if values.is_empty() {
        println!("  {name}: no points arrived");
        return;
    }
    println!(
        "  {name:<46} p50 {:7.1} ms   p99 {:7.1} ms   ({} points)",
        percentile(values, 0.5),
        percentile(values, 0.99),
        values.len()
    );
}

async fn bench_latency(server: &Server) {
    println!("bench metrics (b): live latency, script -> websocket client");
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        src.path().join("log.py"),
        format!(
            "import time\nfrom azureml.core import Run\nrun = Run.get_context()\nfor i in range({POINTS}):\n    run.log('t', time.time())\n    print('T', time.time(), flush=True)\n    time.sleep(0.005)\n"
        ),
    )
    .expect("write");
    std::fs::write(
        src.path().join("tb.py"),
        format!(
            "import time\nfrom tensorboardX import SummaryWriter\nw = SummaryWriter('logs')\nfor i in range({POINTS}):\n    w.add_scalar('t', 0.0, i, walltime=time.time())\n    w.flush()\n    time.sleep(0.005)\nw.close()\n"
        ),
    )
    .expect("write");
    let (points, lines) = latencies(
        server,
        src.path(),
        serde_json::json!({"entry_script": "log.py", "user_managed": true}),
    )
    .await;
    report("printed line -> log event (baseline)", &lines);
    report("run.log() -> scalar event", &points);
    let (tb, _) = latencies(
        server,
        src.path(),
        serde_json::json!({"entry_script": "tb.py", "pip_packages": ["tensorboardX"]}),
    )
    .await;
    report("tensorboardX add_scalar+flush -> scalar event", &tb);
    println!("  targets: p50 <= 100 ms, p99 <= 250 ms");
}

async fn bench_ingest(server: &Server) -> (String, Result<f64, String>) {
    println!("bench metrics (c): ingest of 1,000,000 points through the REST batch API");
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::write(src.path().join("train.py"), "print('first line')\n").expect("write");
    server
        .submit_to_first_line(
            src.path(),
            serde_json::json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let runs: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/runs?limit=1", server.url))
        .bearer_auth(&server.token)
        .send()
        .await
        .expect("runs")
        .json()
        .await
        .expect("json");
    let run_id = runs["runs"][0]["run_id"].as_str().expect("run").to_owned();
    let http = reqwest::Client::new();
    let batches: Vec<String> = (0..10)
        .map(|b| {
            let values: Vec<f64> = (0..100_000)
                .map(|i| ((b * 100_000 + i) as f64).sin())
                .collect();
            serde_json::json!({"metrics": [{"name": "loss", "values": values}]}).to_string()
        })
        .collect();
    let start = Instant::now();
    for body in batches {
        let response = http
            .post(format!("{}/api/runs/{run_id}/metrics", server.url))
            .bearer_auth(&server.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("post");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
    }
    let took = start.elapsed();
    println!(
        "  runboard: 1,000,000 points in 10 batches:    {:8.0} points/s ({:.2} s)",
        1e6 / took.as_secs_f64(),
        took.as_secs_f64()
    );
    let baseline = mlflow_points_per_second();
    match &baseline {
        Ok(rate) => println!(
            "  MLflow tracking server, log_batch, SQLite:  {rate:8.0} points/s   (baseline)"
        ),
        Err(why) => println!("  MLflow baseline not measured: {why}"),
    }
    println!("  target: >= 1,000,000 points/s");
    (run_id, baseline)
}

/// A venv with the full `mlflow` package (its tracking server too) under
/// `target/bench-cache/mlflow/`, made once: with uv when it is on `PATH`, else
/// `python3 -m venv` and pip.
fn mlflow_venv() -> Result<std::path::PathBuf, String> {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-cache/mlflow");
    let python = root.join("venv/bin/python");
    if python.exists() {
        return Ok(python);
    }
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let partial = root.join("venv.partial");
    let _ = std::fs::remove_dir_all(&partial);
    let ok = if Command::new("uv").arg("--version").output().is_ok() {
        Command::new("uv")
            .args(["venv", "--python", "python3"])
            .arg(&partial)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("uv")
                .args(["pip", "install", "--python"])
                .arg(partial.join("bin/python"))
                .arg("mlflow")
                .status()
                .is_ok_and(|s| s.success())
    } else {
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(&partial)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(partial.join("bin/python"))
                .args(["-m", "pip", "install", "--quiet", "mlflow"])
                .status()
                .is_ok_and(|s| s.success())
    };
    if !ok || std::fs::rename(&partial, root.join("venv")).is_err() {
        let _ = std::fs::remove_dir_all(&partial);
        return Err("installing mlflow failed".into());
    }
    Ok(python)
}

/// Points per second of MLflow's client logging 20,000 points with `log_batch`
/// (1,000 a call) into a new run of the default experiment at `uri`.
fn mlflow_client_rate(
    python: &std::path::Path,
    uri: &str,
    token: Option<&str>,
) -> Result<f64, String> {
    let script = format!(
        r#"
import time, mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
mlflow.set_tracking_uri('{uri}')
for _ in range(600):
    try:
        client = MlflowClient(); client.search_experiments(); break
    except Exception:
        time.sleep(0.1)
run = client.create_run('0')
N = 20000
start = time.time()
for b in range(N // 1000):
    now = int(time.time() * 1000)
    client.log_batch(run.info.run_id, metrics=[Metric('loss', float(i), now, b * 1000 + i) for i in range(1000)])
print(N / (time.time() - start))
"#
    );
    let mut command = Command::new(python);
    // No retries: a server that is down fails the measurement instead of stalling it.
    command
        .args(["-c", &script])
        .env_remove("MLFLOW_RUN_ID")
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0");
    match token {
        Some(token) => command.env("MLFLOW_TRACKING_TOKEN", token),
        None => command.env_remove("MLFLOW_TRACKING_TOKEN"),
    };
    let out = command.output().map_err(|e| e.to_string())?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| {
            format!(
                "the MLflow client failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            )
        })
}

/// MLflow's tracking server (SQLite backend) fed by [`mlflow_client_rate`].
fn mlflow_points_per_second() -> Result<f64, String> {
    let python = mlflow_venv()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let store = tempfile::tempdir().map_err(|e| e.to_string())?;
    use std::os::unix::process::CommandExt;
    // Its own process group: `mlflow server` starts uvicorn and worker processes,
    // which must all go when the measurement is done.
    let mut server = Command::new(&python)
        .process_group(0)
        .args([
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--workers",
            "1",
        ])
        .arg("--backend-store-uri")
        .arg(format!("sqlite:///{}/mlflow.db", store.path().display()))
        .arg("--default-artifact-root")
        .arg(store.path().join("artifacts"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let rate = mlflow_client_rate(&python, &format!("http://127.0.0.1:{port}"), None);
    let group = nix::unistd::Pid::from_raw(i32::try_from(server.id()).unwrap_or(0));
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    let _ = server.wait();
    rate
}

/// (e): the same client and script into Runboard, beside MLflow's own server.
async fn bench_mlflow_client(server: &Server, baseline: Result<f64, String>) {
    println!("bench metrics (e): MLflow's client, log_batch of 1,000 points, 20,000 points");
    let python = match mlflow_venv() {
        Ok(python) => python,
        Err(why) => {
            println!("  not measured: {why}");
            return;
        }
    };
    let url = server.url.clone();
    let token = server.token.clone();
    let runboard =
        tokio::task::spawn_blocking(move || mlflow_client_rate(&python, &url, Some(&token)))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
    match &runboard {
        Ok(rate) => println!("  into Runboard's MLflow API:                  {rate:8.0} points/s"),
        Err(why) => println!("  into Runboard: not measured: {why}"),
    }
    match &baseline {
        Ok(rate) => println!(
            "  into MLflow's tracking server, SQLite:        {rate:8.0} points/s   (baseline)"
        ),
        Err(why) => println!("  MLflow baseline not measured: {why}"),
    }
    if let (Ok(r), Ok(b)) = (runboard, baseline) {
        println!("  ratio: {:.1}x   (goal >= 10x)", r / b);
    }
}

async fn bench_buckets(server: &Server, run_id: &str) {
    println!("bench metrics (d): a 1,000,000-point series read back (20 reads each, medians)");
    let http = reqwest::Client::new();
    let get = |query: &'static str| {
        let http = http.clone();
        let url = format!("{}/api/runs/{run_id}/metrics/loss{query}", server.url);
        let token = server.token.clone();
        async move {
            let start = Instant::now();
            let body = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("get")
                .bytes()
                .await
                .expect("body");
            assert!(body.len() > 100);
            start.elapsed()
        }
    };
    let (mut whole, mut buckets) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        buckets.push(get("?buckets=1000").await);
    }
    for _ in 0..20 {
        whole.push(get("").await);
    }
    println!(
        "  the whole series as JSON points:             {:8.1} ms   (baseline)",
        ms(median(whole))
    );
    let b: Duration = median(buckets);
    println!(
        "  1,000 buckets (min, max, last):              {:8.1} ms   (target <= 20 ms)",
        ms(b)
    );
}

#[tokio::main]
async fn main() {
    let parts = std::env::var("RUNBOARD_BENCH_PARTS").unwrap_or_else(|_| "bcde".into());
    let server = Server::start();
    if parts.contains('b') {
        bench_latency(&server).await;
    }
    let (run_id, baseline) = if parts.contains('c') || parts.contains('d') {
        let (run_id, baseline) = bench_ingest(&server).await;
        (Some(run_id), baseline)
    } else {
        (
            None,
            tokio::task::spawn_blocking(mlflow_points_per_second)
                .await
                .unwrap_or_else(|e| Err(e.to_string())),
        )
    };
    if parts.contains('d')
        && let Some(run_id) = run_id
    {
        bench_buckets(&server, &run_id).await;
    }
    if parts.contains('e') {
        bench_mlflow_client(&server, baseline).await;
    }
}
