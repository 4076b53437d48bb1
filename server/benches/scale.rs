//! `cargo xtask bench scale`: Runboard under load on one machine.
//!
//! Scenario 3 of the scale issue: 50 runs at once, first idle (sleeping), then each
//! printing a line and logging a metric every 50 ms for 10 s while a websocket follows
//! each one. Printed for the server as it ships (run folders watched, `runner::wake`)
//! beside the same server polling every 20 ms (`[runs] watch = false`, how every run
//! was followed before), in the same run: the server's CPU share while the jobs wait
//! and while they stream, the p99 lag from a line's `print` to its arrival on the
//! websocket, and whether every run's events came gap-free and complete.
//!
//! Scenario 1: 100,000 runs in 100 experiments created through the store's write
//! path, then the experiments page's API and the first page of one experiment's runs,
//! beside the same calls on 1,000 runs.
//!
//! Scenarios 4 and 5, and scenario 1's run page in Chromium: `runpage` (its own
//! module; `SCALE_ONLY=runpage` runs it alone).

mod common;
mod runpage;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::Server;
use futures_util::StreamExt;
use runboard_shared::event::{EventBody, Frame};
use tokio_tungstenite::tungstenite::Message;

const RUNS: usize = 50;
const STREAM_SECONDS: f64 = 10.0;
const IDLE_SECONDS: u64 = 10;

const IDLE_JOB: &str = "import time\ntime.sleep(40)\n";
const STREAMING_JOB: &str = r#"
import time
from azureml.core import Run
run = Run.get_context()
end = time.time() + 10.0
i = 0
while time.time() < end:
    print(f"t={time.time():.6f} i={i}", flush=True)
    run.log("i", i)
    i += 1
    time.sleep(0.05)
print("done", flush=True)
"#;

/// CPU seconds the process `pid` has used (user + system).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(100.0)
}

/// The server's CPU share (1.0 = one core) over `seconds`.
async fn cpu_share(pid: u32, seconds: u64) -> f64 {
    let before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    (cpu_seconds(pid) - before) / seconds as f64
}

async fn submit(server: &Server, experiment: &str, src: &Path) -> String {
    let estimator = serde_json::json!({"entry_script": "job.py", "user_managed": true});
    server.submit(experiment, src, estimator).await
}

async fn status(server: &Server, run_id: &str) -> String {
    let details: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/runs/{run_id}", server.url))
        .bearer_auth(&server.token)
        .send()
        .await
        .expect("details")
        .json()
        .await
        .expect("json");
    details["status"].as_str().unwrap_or_default().to_owned()
}

async fn wait_all(server: &Server, runs: &[String], wanted: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(300);
    for run in runs {
        while !wanted.contains(&status(server, run).await.as_str()) {
            assert!(
                Instant::now() < deadline,
                "run {run} never reached {wanted:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// What one follower saw of its run.
#[derive(Debug, Default)]
struct Seen {
    lags: Vec<f64>,
    gaps: usize,
    lines: usize,
    done: bool,
}

/// Follows `run_id` from the start until its `done` line, measuring each line's lag.
async fn follow(url: String, token: String, run_id: String) -> Seen {
    let mut ws = common::events(&url, &token, &run_id).await;
    let mut seen = Seen::default();
    let mut last = 0;
    let mut live = false;
    while let Some(Ok(Message::Text(text))) = ws.next().await {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        match serde_json::from_str::<Frame>(&text) {
            Ok(Frame::Event { event }) => {
                if event.seq != last + 1 {
                    seen.gaps += 1;
                }
                last = event.seq;
                if let EventBody::Log { path, text, .. } = event.body
                    && path == "user_logs/std_log.txt"
                {
                    for line in text.lines() {
                        if let Some(t) = line
                            .strip_prefix("t=")
                            .and_then(|r| r.split(' ').next())
                            .and_then(|t| t.parse::<f64>().ok())
                        {
                            seen.lines += 1;
                            if live {
                                seen.lags.push(now - t);
                            }
                        }
                        if line == "done" {
                            seen.done = true;
                            return seen;
                        }
                    }
                }
            }
            Ok(Frame::CaughtUp { .. }) => live = true,
            _ => break,
        }
    }
    seen
}

/// Scenario 3 on one server: (idle CPU share, streaming CPU share, p99 lag ms, gaps,
/// runs with every line).
async fn concurrent_runs(server: &Server, dir: &Path) -> (f64, f64, f64, usize, usize) {
    let idle = dir.join("idle");
    let streaming = dir.join("streaming");
    for (folder, job) in [(&idle, IDLE_JOB), (&streaming, STREAMING_JOB)] {
        std::fs::create_dir_all(folder).expect("mkdir");
        std::fs::write(folder.join("job.py"), job).expect("job");
    }
    let pid = server.pid();

    let mut waiting = Vec::new();
    for _ in 0..RUNS {
        waiting.push(submit(server, "idle", &idle).await);
    }
    wait_all(server, &waiting, &["Running"]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_share = cpu_share(pid, IDLE_SECONDS).await;
    for run in &waiting {
        reqwest::Client::new()
            .post(format!("{}/api/runs/{run}/cancel", server.url))
            .bearer_auth(&server.token)
            .send()
            .await
            .expect("cancel");
    }
    wait_all(server, &waiting, &["Canceled"]).await;

    let mut streaming_runs = Vec::new();
    let mut followers = Vec::new();
    for _ in 0..RUNS {
        let run = submit(server, "streaming", &streaming).await;
        followers.push(tokio::spawn(follow(
            server.url.clone(),
            server.token.clone(),
            run.clone(),
        )));
        streaming_runs.push(run);
    }
    wait_all(
        server,
        &streaming_runs,
        &["Running", "Finalizing", "Completed"],
    )
    .await;
    let stream_share = cpu_share(pid, (STREAM_SECONDS as u64) / 2).await;
    let mut lags = Vec::new();
    let (mut gaps, mut complete) = (0, 0);
    for follower in followers {
        let seen = follower.await.expect("follower");
        lags.extend(seen.lags);
        gaps += seen.gaps;
        if seen.done && seen.lines > 0 {
            complete += 1;
        }
    }
    wait_all(server, &streaming_runs, &["Completed"]).await;
    lags.sort_by(f64::total_cmp);
    let p99 = lags
        .get(lags.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or(f64::NAN);
    (idle_share, stream_share, p99 * 1000.0, gaps, complete)
}

/// Times `path` on `server`: the median of 11 GETs, in ms.
async fn time_get(server: &Server, path: &str) -> f64 {
    let http = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..11 {
        let start = Instant::now();
        let response = http
            .get(format!("{}{path}", server.url))
            .bearer_auth(&server.token)
            .send()
            .await
            .expect("get");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.bytes().await.expect("body");
        times.push(start.elapsed());
    }
    common::ms(common::median(times))
}

/// Scenario 1: (experiments page ms, first page of one experiment's runs ms, seconds
/// to create the runs) with `runs` runs in 100 experiments.
async fn many_runs(runs: usize) -> (f64, f64, f64) {
    let data = tempfile::tempdir().expect("tempdir");
    let created = Instant::now();
    {
        let store = runboard_server::store::Store::open(&data.path().join("runboard.sqlite"))
            .await
            .expect("store");
        for i in 0..runs {
            let experiment =
                runboard_shared::run::ExperimentName::new(&format!("exp-{:03}", i % 100))
                    .expect("name");
            let run = runboard_server::store::NewRun {
                run_id: runboard_shared::run::RunId::new(
                    &experiment,
                    1_700_000_000 + i as u64,
                    i as u32,
                ),
                target: "local".into(),
                definition: serde_json::json!({"estimator": {"entry_script": "train.py"}}),
                run_token: format!("{i:064x}"),
                properties: BTreeMap::new(),
                tags: BTreeMap::from([("i".to_owned(), i.to_string())]),
                submitted_by: None,
            };
            store.create_run(&run).await.expect("create");
            let id = &run.run_id;
            for status in [
                runboard_shared::run::RunStatus::Preparing,
                runboard_shared::run::RunStatus::Starting,
                runboard_shared::run::RunStatus::Running,
                runboard_shared::run::RunStatus::Finalizing,
                runboard_shared::run::RunStatus::Completed,
            ] {
                store.set_status(id, status, None).await.expect("status");
            }
        }
    }
    let created = created.elapsed().as_secs_f64();
    let server = Server::start_on(data.path(), "");
    let experiments = time_get(&server, "/api/experiments").await;
    let first_page = time_get(&server, "/api/runs?experiment=exp-042&limit=50").await;
    drop(server);
    drop(data);
    (experiments, first_page, created)
}

#[tokio::main]
async fn main() {
    // Scenarios 1 (run page), 4 and 5: the run page in Chromium (`runpage`).
    // `SCALE_ONLY=runpage` runs only those.
    if std::env::var("SCALE_ONLY").as_deref() == Ok("runpage") {
        return runpage::main().await;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let limit = format!("[local]\nmax_concurrent_runs = {}\n", RUNS + 10);

    let mut rows: BTreeMap<&str, (String, String)> = BTreeMap::new();
    let watched = Server::start_with_config(&limit);
    let new = concurrent_runs(&watched, &dir.path().join("watched")).await;
    drop(watched);
    let polled = Server::start_with_config(&format!("{limit}[runs]\nwatch = false\n"));
    let old = concurrent_runs(&polled, &dir.path().join("polled")).await;
    drop(polled);
    rows.insert(
        "1 server CPU share, 50 runs idle",
        (format!("{:.3}", new.0), format!("{:.3}", old.0)),
    );
    rows.insert(
        "2 server CPU share, 50 runs streaming",
        (format!("{:.3}", new.1), format!("{:.3}", old.1)),
    );
    rows.insert(
        "3 p99 print-to-websocket lag (ms)",
        (format!("{:.1}", new.2), format!("{:.1}", old.2)),
    );
    rows.insert("4 sequence gaps", (new.3.to_string(), old.3.to_string()));
    rows.insert(
        "5 runs with every line and `done`",
        (format!("{}/{RUNS}", new.4), format!("{}/{RUNS}", old.4)),
    );
    println!("scale, scenario 3: {RUNS} concurrent runs (goal: gap-free; p99 lag <= 250 ms)");
    println!(
        "  {:<42} {:>12} {:>14}",
        "figure", "watched", "polled 20 ms"
    );
    for (name, (a, b)) in &rows {
        println!("  {:<42} {:>12} {:>14}", &name[2..], a, b);
    }

    let (big_experiments, big_page, big_created) = many_runs(100_000).await;
    let (small_experiments, small_page, _) = many_runs(1_000).await;
    println!("scale, scenario 1: 100,000 runs in 100 experiments (created in {big_created:.1} s)");
    println!(
        "  {:<42} {:>12} {:>14}",
        "figure (median of 11)", "100,000 runs", "1,000 runs"
    );
    println!(
        "  {:<42} {:>9.1} ms {:>11.1} ms   goal <= 100 ms",
        "GET /api/experiments", big_experiments, small_experiments
    );
    println!(
        "  {:<42} {:>9.1} ms {:>11.1} ms   goal <= 50 ms",
        "first page of one experiment's runs", big_page, small_page
    );
    runpage::main().await;
}
