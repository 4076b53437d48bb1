//! Scenarios 1 (a run page's first paint), 4 (a run with 1,000,000 points) and 5 (a
//! run with a 1 GB log) of the scale issue: the run page in Chromium
//! (`e2e/bench/runpage.mjs`, Playwright), on a `runboard serve` of the built portal
//! (`static/pkg`, `cargo xtask frontend` first).
//!
//! The page starts from `GET /api/runs/{id}/view` (each log's tail, each series'
//! length) and follows the websocket after that event. Its baseline is the page as it
//! was, which replayed every event from `after=0` before its charts and the log's last
//! line settled: measured here as the time to read that replay off the websocket to
//! `caught_up` (a lower bound of the old page, which also had to decode and draw it).
//!
//! Sizes can be made smaller for a quick look: `RUNPAGE_POINTS`, `RUNPAGE_LOG_MB`,
//! `RUNPAGE_RUNS`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use runboard_server::snapshot;
use runboard_shared::event::Frame;
use tokio_tungstenite::tungstenite::Message;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A `runboard serve` of the built portal on a data folder.
struct Portal {
    child: Child,
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Portal {
    fn start(data_dir: &Path) -> Self {
        Self::start_serving(data_dir, &root().join("static/pkg"))
    }

    /// A server of the web app in `static_dir` (an older build, for a baseline).
    fn start_serving(data_dir: &Path, static_dir: &Path) -> Self {
        std::fs::create_dir_all(data_dir).expect("mkdir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_runboard"))
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .arg("--static-dir")
            .arg(static_dir)
            .env("RUNBOARD_CONFIG", data_dir.join("client.json"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("runboard serve");
        let (url, token) = super::common::serving(&mut child);
        Self {
            child,
            url,
            token,
            http: reqwest::Client::new(),
        }
    }

    /// The server's peak and current resident memory, in MiB (`VmHWM`, `VmRSS`).
    fn memory_mib(&self) -> (f64, f64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .unwrap_or(f64::NAN)
                / 1024.0
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    }

    /// Submits `script` as `job.py` and waits until the run has ended.
    async fn run(&self, dir: &Path, script: &str) -> String {
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(dir.join("job.py"), script).expect("job");
        let estimator = serde_json::json!({
            "entry_script": "job.py",
            "user_managed": true,
            "source_directory": dir.display().to_string(),
        });
        let mut archive = Vec::new();
        snapshot::pack(dir, snapshot::DEFAULT_LIMIT, &mut archive).expect("pack");
        let form = reqwest::multipart::Form::new()
            .text("estimator", estimator.to_string())
            .part("snapshot", reqwest::multipart::Part::bytes(archive));
        let answer: serde_json::Value = self
            .http
            .post(format!("{}/api/experiments/runpage/runs", self.url))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("submit")
            .json()
            .await
            .expect("json");
        let id = answer["run_id"].as_str().expect("run_id").to_owned();
        let deadline = Instant::now() + Duration::from_secs(1800);
        loop {
            let details = self.get(&format!("/api/runs/{id}")).await;
            match details["status"].as_str() {
                Some("Completed") => return id,
                Some("Failed" | "Canceled") => panic!("run {id}: {details}"),
                _ => {}
            }
            assert!(Instant::now() < deadline, "run {id} did not end");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The time to read the run's whole replay from `after=0` to `caught_up`, and the
    /// bytes it carried: the old run page's way in.
    async fn replay_from_zero(&self, id: &str) -> (Duration, u64) {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let start = Instant::now();
        let mut request = format!(
            "{}/api/runs/{id}/events?after=0",
            self.url.replacen("http", "ws", 1)
        )
        .into_client_request()
        .expect("request");
        request.headers_mut().insert(
            "Authorization",
            format!("Bearer {}", self.token).parse().expect("header"),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("ws");
        let mut bytes = 0u64;
        while let Some(Ok(message)) = ws.next().await {
            if let Message::Text(text) = message {
                bytes += text.len() as u64;
                if text.contains("\"frame\":\"caught_up\"")
                    && matches!(serde_json::from_str(&text), Ok(Frame::CaughtUp { .. }))
                {
                    return (start.elapsed(), bytes);
                }
            }
        }
        panic!("the replay of {id} ended before caught_up");
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Loads each page in Chromium (cold, `ROUNDS` times) until its state (`ready` with
/// its `arg`, see `e2e/bench/runpage.mjs`) is reached: ms from navigation start, by
/// name.
fn chromium(
    portal: &Portal,
    pages: &[(&str, String, &str, serde_json::Value)],
) -> BTreeMap<String, Vec<u64>> {
    let pages: Vec<serde_json::Value> = pages
        .iter()
        .map(|(name, path, ready, arg)| {
            serde_json::json!({"name": name, "path": path, "ready": ready, "arg": arg})
        })
        .collect();
    chromium_pages(portal, pages)
        .into_iter()
        .map(|(name, times)| (name, reached(&times)))
        .collect()
}

/// The old page (the build in `RUNPAGE_OLD_STATIC`, e.g. main's `static/pkg` before
/// the run view), on the same data, once, within `timeout_ms`: its ms, `None` when it
/// did not get there, or no figure when no old build was given.
fn old_page(
    data_dir: &Path,
    path: String,
    ready: &str,
    arg: serde_json::Value,
    timeout_ms: u64,
) -> Option<Option<u64>> {
    let old = std::env::var_os("RUNPAGE_OLD_STATIC")?;
    let portal = Portal::start_serving(data_dir, Path::new(&old));
    let page = serde_json::json!({
        "name": "old", "path": path, "ready": ready, "arg": arg, "rounds": 1, "timeout": timeout_ms,
    });
    let times = chromium_pages(&portal, vec![page]);
    Some(times["old"].first().copied().flatten())
}

/// [`chromium`] of pages as `e2e/bench/runpage.mjs` takes them.
fn chromium_pages(
    portal: &Portal,
    pages: Vec<serde_json::Value>,
) -> BTreeMap<String, Vec<Option<u64>>> {
    let output = Command::new("node")
        .arg("bench/runpage.mjs")
        .current_dir(root().join("e2e"))
        .env("BENCH_URL", &portal.url)
        .env("BENCH_TOKEN", &portal.token)
        .env("BENCH_PAGES", serde_json::Value::from(pages).to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("node e2e/bench/runpage.mjs (cd e2e && npm ci)");
    assert!(output.status.success(), "e2e/bench/runpage.mjs failed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("e2e/bench/runpage.mjs printed no result:\n{stdout}"))
}

/// The loads that got there.
fn reached(times: &[Option<u64>]) -> Vec<u64> {
    times.iter().flatten().copied().collect()
}

/// The old page's line, when it was measured.
fn print_old(old: &Option<Option<u64>>, state: &str, limit_s: u64) {
    match old {
        Some(Some(ms)) => println!(
            "  {:<58} {ms:>8} ms   (one cold load)",
            format!("baseline: the old page (after=0), {state}")
        ),
        Some(None) => println!(
            "  {:<58} {:>11}   (one cold load)",
            format!("baseline: the old page (after=0), {state}"),
            format!("> {limit_s} s")
        ),
        None => println!("  (old page not measured: set RUNPAGE_OLD_STATIC to its static/pkg)"),
    }
}

fn median(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Scenario 4: a run with `points` points of one metric.
async fn million_points(dir: &Path) {
    let points = env_or("RUNPAGE_POINTS", 1_000_000);
    let portal = Portal::start(&dir.join("data"));
    let id = portal
        .run(&dir.join("src4"), "print('logging points')\n")
        .await;
    let http = reqwest::Client::new();
    let ingest = Instant::now();
    let mut sent = 0;
    while sent < points {
        let n = (points - sent).min(10_000);
        let values: Vec<f64> = (sent..sent + n)
            .map(|i| 1.0 / (1.0 + i as f64 / 1000.0))
            .collect();
        let response = http
            .post(format!("{}/api/runs/{id}/metrics", portal.url))
            .bearer_auth(&portal.token)
            .json(&serde_json::json!({"metrics": [{"name": "loss", "values": values}]}))
            .send()
            .await
            .expect("metrics");
        assert!(response.status().is_success(), "{}", response.status());
        sent += n;
    }
    let ingest = ingest.elapsed();
    let times = chromium(
        &portal,
        &[(
            "charts",
            format!("/runs/{id}?tab=metrics"),
            "charts",
            points.into(),
        )],
    );
    let (replay, bytes) = portal.replay_from_zero(&id).await;
    let (peak, _) = portal.memory_mib();
    drop(portal);
    let old = old_page(
        &dir.join("data"),
        format!("/runs/{id}?tab=metrics"),
        "points",
        points.into(),
        120_000,
    );
    println!(
        "scale, scenario 4: a run with {points} points of one metric (logged in {:.1} s)",
        ingest.as_secs_f64()
    );
    println!(
        "  {:<58} {:>8} ms   goal <= 1000 ms  (each: {:?})",
        "run page, navigation -> chart drawn (median, Chromium)",
        median(&times["charts"]),
        times["charts"]
    );
    print_old(&old, "charts drawn", 120);
    println!(
        "  {:<58} {:>8.0} ms   ({:.1} MB of frames)",
        "baseline: replay from after=0 to caught_up (old page)",
        replay.as_secs_f64() * 1000.0,
        bytes as f64 / 1e6
    );
    println!("  {:<58} {:>8.1} MiB", "server peak RSS", peak);
}

/// Scenario 5: a run whose log is `RUNPAGE_LOG_MB` MiB.
async fn big_log(dir: &Path) {
    let mib = env_or("RUNPAGE_LOG_MB", 1024);
    let portal = Portal::start(&dir.join("data"));
    let script = format!(
        "import sys\nblock = b''.join(b'line %08d %s\\n' % (i, b'.' * 85) for i in range(10486))\n\
         for _ in range({mib}):\n    sys.stdout.buffer.write(block)\nsys.stdout.buffer.flush()\nprint('the last line', flush=True)\n"
    );
    let written = Instant::now();
    let id = portal.run(&dir.join("src5"), &script).await;
    let written = written.elapsed();
    let (peak_ingest, _) = portal.memory_mib();
    let times = chromium(
        &portal,
        &[(
            "logs",
            format!("/runs/{id}?tab=logs"),
            "line",
            "the last line".into(),
        )],
    );
    let (peak_page, rss) = portal.memory_mib();
    let (replay, bytes) = portal.replay_from_zero(&id).await;
    let (peak_replay, _) = portal.memory_mib();
    drop(portal);
    let old = old_page(
        &dir.join("data"),
        format!("/runs/{id}?tab=logs"),
        "line",
        "the last line".into(),
        120_000,
    );
    println!(
        "scale, scenario 5: a run with a {mib} MiB log (written and read in {:.1} s)",
        written.as_secs_f64()
    );
    println!(
        "  {:<58} {:>8} ms   goal <= 1000 ms  (each: {:?})",
        "run page, navigation -> last lines shown (median, Chromium)",
        median(&times["logs"]),
        times["logs"]
    );
    println!(
        "  {:<58} {:>8.1} MiB  after ingest; {peak_page:.1} MiB after the page loads (RSS now {rss:.1} MiB)",
        "server peak RSS", peak_ingest
    );
    print_old(&old, "last lines shown", 120);
    println!(
        "  {:<58} {:>8.0} ms   ({:.1} MB of frames; server peak RSS then {peak_replay:.1} MiB)",
        "baseline: replay from after=0 to caught_up (old page)",
        replay.as_secs_f64() * 1000.0,
        bytes as f64 / 1e6
    );
}

/// Scenario 1's run page: the first paint of a run's page (header, timeline) with
/// `runs` runs in 100 experiments, created through the store's write path.
async fn paint_with(runs: usize) -> u64 {
    let data = tempfile::tempdir().expect("tempdir");
    let store = runboard_server::store::Store::open(&data.path().join("runboard.sqlite"))
        .await
        .expect("store");
    let mut some = None;
    for i in 0..runs {
        let experiment = runboard_shared::run::ExperimentName::new(&format!("exp-{:03}", i % 100))
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
            tags: BTreeMap::new(),
            submitted_by: None,
        };
        store.create_run(&run).await.expect("create");
        for status in [
            runboard_shared::run::RunStatus::Preparing,
            runboard_shared::run::RunStatus::Running,
            runboard_shared::run::RunStatus::Completed,
        ] {
            store
                .set_status(&run.run_id, status, None)
                .await
                .expect("status");
        }
        if i == runs / 2 {
            some = Some(run.run_id.to_string());
        }
    }
    drop(store);
    let portal = Portal::start(data.path());
    let id = some.expect("a run");
    let times = chromium(
        &portal,
        &[("paint", format!("/runs/{id}"), "paint", 3.into())],
    );
    median(&times["paint"])
}

/// Scenarios 1 (run page), 4 and 5.
pub async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    million_points(&dir.path().join("s4")).await;
    big_log(&dir.path().join("s5")).await;
    let runs = usize::try_from(env_or("RUNPAGE_RUNS", 100_000)).unwrap_or(100_000);
    let big = paint_with(runs).await;
    let small = paint_with(1_000).await;
    println!(
        "scale, scenario 1: a run page's first paint (header and timeline), Chromium, median of 3"
    );
    println!(
        "  {:<58} {:>8} ms   goal <= 1000 ms",
        format!("{runs} runs in 100 experiments"),
        big
    );
    println!("  {:<58} {:>8} ms", "baseline: 1,000 runs", small);
}
