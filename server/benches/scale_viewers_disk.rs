//! `cargo xtask bench scale`, scenarios 2 and 6 of the scale issue (the others are in
//! `scale.rs`). Give scenario numbers to run only those:
//! `cargo bench -p runboard-server --bench scale_viewers_disk -- 6`.
//!
//! Scenario 2: 1,000 websocket viewers of one run that prints 1,000 lines/s and logs
//! 1,000 points/s (`run.log`, one call a point) for 60 s. Printed: the lag from
//! write to arrival at each viewer of every live frame (a log frame's lag is its
//! oldest line's, from the time in the line's text; a scalars frame's its oldest
//! point's, from its wall time: p50, p99, max over every frame at every viewer),
//! sequence gaps and duplicates at every viewer, reconnections (`resume` frames),
//! the server's peak memory (`VmHWM`) and the CPU share of the server and of the
//! viewers. Every tenth viewer is a probe that also parses each frame whole and
//! checks that every line and point arrives once and in order. The baseline, in the
//! same run: the same job on a fresh server with one viewer. The viewers are one
//! tokio runtime in this process and read each frame without parsing it whole (a
//! few substring searches), so that they cost less than the server does; lags go
//! into shared histograms of 1 ms buckets. `SCALE_VIEWERS` and `SCALE_SECONDS`
//! shrink it for a quick look.
//!
//! Scenario 6: a run that prints 100 MB of log (1,000,000 lines of 100 bytes) and
//! 1,000,000 points posted to it in batches of 1,000, through the real server. Printed: bytes on disk now (the
//! run folder, and the database after a checkpoint and `VACUUM`) beside the layout
//! before the store kept each byte once, measured on a copy of the same database in
//! which every event row holds its body inline as the old store wrote it
//! (`serde_json::to_string(&EventBody)`, the text or the points themselves), bodies
//! read back through `replay::events_after`, then vacuumed the same way. The run
//! folder is the same in both layouts (the old one kept the log file and the series
//! files too).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::Server;
use futures_util::StreamExt;
use runboard_shared::event::{EventBody, Frame};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

// ---- Scenario 2 -------------------------------------------------------------------

/// The job of scenario 2: after `warmup` seconds (the viewers connect meanwhile),
/// 1,000 lines and 1,000 points a second for `seconds` s, written every few ms in
/// the batches that are due; each line carries the time it was made and its index.
fn live_job(warmup: u64, seconds: u64) -> String {
    format!(
        r#"
import sys, time
from azureml.core import Run
run = Run.get_context()
time.sleep({warmup})
RATE, SECONDS = 1000, {seconds}
start = time.time()
end = start + SECONDS
i = 0
while True:
    now = time.time()
    if now >= end:
        break
    due = min(int((now - start) * RATE), RATE * SECONDS)
    if due > i:
        out = []
        while i < due:
            out.append("t=%.6f i=%d\n" % (time.time(), i))
            run.log("p", i, step=i)
            i += 1
        sys.stdout.write("".join(out))
        sys.stdout.flush()
    time.sleep(0.002)
run.flush()
print("done", i, flush=True)
"#
    )
}

/// Lags in 1 ms buckets up to 60 s (the last bucket holds the rest), shared by every
/// viewer.
struct Histogram(Vec<AtomicU64>);

impl Histogram {
    fn new() -> Self {
        Self((0..=60_000).map(|_| AtomicU64::new(0)).collect())
    }

    fn add(&self, seconds: f64) {
        let ms = (seconds * 1000.0).max(0.0) as usize;
        self.0[ms.min(self.0.len() - 1)].fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.0.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The `q` quantile in ms (the bucket's upper edge).
    fn quantile(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return f64::NAN;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (ms, b) in self.0.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                return (ms + 1) as f64;
            }
        }
        self.0.len() as f64
    }

    /// The largest lag in ms (the bucket's upper edge).
    fn max(&self) -> f64 {
        self.0
            .iter()
            .rposition(|b| b.load(Ordering::Relaxed) > 0)
            .map_or(f64::NAN, |ms| (ms + 1) as f64)
    }
}

/// What every viewer together saw.
#[derive(Default)]
struct Totals {
    gaps: AtomicU64,
    duplicates: AtomicU64,
    /// Lines not seen (or seen out of order) by a viewer, by their index.
    missing_lines: AtomicU64,
    /// Points not seen (or out of order) by a viewer, by their step.
    missing_points: AtomicU64,
    resumes: AtomicU64,
    /// Viewers that saw `done`.
    complete: AtomicU64,
    /// Viewers caught up before the job's first line was written.
    ready: AtomicU64,
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

/// The run's events websocket after `after`.
async fn connect(url: &str, token: &str, run_id: &str, after: u64) -> common::Ws {
    let mut request = format!(
        "{}/api/runs/{run_id}/events?after={after}",
        url.replacen("http", "ws", 1)
    )
    .into_client_request()
    .expect("request");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("ws")
        .0
}

/// Every this many viewers, one is a probe (parses every frame whole).
const PROBE_EVERY: usize = 10;

/// The number after `key` in `text` (`"seq":12` → 12).
fn number_after<T: std::str::FromStr>(text: &str, key: &str) -> Option<T> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// What one frame is, read without parsing the whole of it: every viewer does this,
/// so that 1,000 viewers cost this process less than they cost the server.
enum Scanned {
    /// An event: its sequence number and the time its oldest line or point was made
    /// (the first `t=` of a log event's text, the first `wall_time` of a scalars
    /// event), so the frame's lag is that of its oldest item, the largest in it.
    Event {
        seq: u64,
        /// Whether it is a log event (else scalars), and when its oldest item was made.
        made: Option<(bool, f64)>,
        done: bool,
    },
    CaughtUp,
    Resume(u64),
    Other,
}

fn scan(text: &str) -> Scanned {
    if text.starts_with(r#"{"frame":"event""#) {
        let Some(seq) = number_after(text, r#""seq":"#) else {
            return Scanned::Other;
        };
        let made = if text.contains(r#""type":"log""#)
            && text.contains(r#""path":"user_logs/std_log.txt""#)
        {
            number_after(text, "t=").map(|t| (true, t))
        } else if text.contains(r#""type":"scalars""#) && text.contains(r#""name":"p""#) {
            number_after(text, r#""wall_time":"#).map(|t| (false, t))
        } else {
            None
        };
        let done = text.contains(r#"\ndone "#) || text.contains(r#""text":"done "#);
        Scanned::Event { seq, made, done }
    } else if text.starts_with(r#"{"frame":"caught_up""#) {
        Scanned::CaughtUp
    } else if text.starts_with(r#"{"frame":"resume""#) {
        number_after(text, r#""after":"#).map_or(Scanned::Other, Scanned::Resume)
    } else {
        Scanned::Other
    }
}

/// A probe viewer's check of every line and point: each arrives once and in order.
#[derive(Default)]
struct Probe {
    next_line: i64,
    next_step: i64,
    partial: String,
}

impl Probe {
    fn check(&mut self, text: &str, totals: &Totals) {
        let Ok(Frame::Event { event }) = serde_json::from_str::<Frame>(text) else {
            return;
        };
        match event.body {
            EventBody::Log { path, text, .. } if path == "user_logs/std_log.txt" => {
                self.partial.push_str(&text);
                let complete = self.partial.rfind('\n').map_or(0, |n| n + 1);
                for line in self.partial[..complete].lines() {
                    let Some(i) = line
                        .split_once(" i=")
                        .and_then(|(_, i)| i.parse::<i64>().ok())
                    else {
                        continue;
                    };
                    if i != self.next_line {
                        totals.missing_lines.fetch_add(1, Ordering::Relaxed);
                    }
                    self.next_line = i + 1;
                }
                self.partial.drain(..complete);
            }
            EventBody::Scalars { name, points, .. } if name == "p" => {
                for p in points {
                    if p.step != self.next_step {
                        totals.missing_points.fetch_add(1, Ordering::Relaxed);
                    }
                    self.next_step = p.step + 1;
                }
            }
            _ => {}
        }
    }
}

/// One viewer: follows the run from the start to `done`, reconnecting after a
/// `resume` frame as the portal does. Every viewer checks sequence numbers and times
/// each frame; a `probe` viewer also parses each frame whole and checks that every
/// line and point arrives once and in order.
#[allow(clippy::too_many_arguments)]
async fn viewer(
    url: Arc<str>,
    token: Arc<str>,
    run_id: Arc<str>,
    lines: Arc<Histogram>,
    points: Arc<Histogram>,
    probe: bool,
    totals: Arc<Totals>,
    first_line_written: Arc<AtomicU64>,
    connected: tokio::sync::mpsc::Sender<()>,
) {
    let (mut after, mut live) = (0u64, false);
    let mut probe = probe.then(Probe::default);
    let mut connected = Some(connected);
    loop {
        let mut ws = connect(&url, &token, &run_id, after).await;
        if let Some(c) = connected.take() {
            let _ = c.send(()).await;
        }
        let mut resumed = false;
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            match scan(&text) {
                Scanned::Event { seq, made, done } => {
                    if seq <= after {
                        totals.duplicates.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if seq != after + 1 {
                        totals.gaps.fetch_add(1, Ordering::Relaxed);
                    }
                    after = seq;
                    if live && let Some((is_log, made)) = made {
                        let lag = unix_now() - made;
                        if is_log {
                            lines.add(lag)
                        } else {
                            points.add(lag)
                        }
                    }
                    if let Some(probe) = &mut probe {
                        probe.check(&text, &totals);
                    }
                    if done {
                        totals.complete.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
                Scanned::CaughtUp => {
                    if !live && first_line_written.load(Ordering::Relaxed) == 0 {
                        totals.ready.fetch_add(1, Ordering::Relaxed);
                    }
                    live = true;
                }
                Scanned::Resume(from) => {
                    totals.resumes.fetch_add(1, Ordering::Relaxed);
                    after = from;
                    resumed = true;
                    break;
                }
                Scanned::Other => {}
            }
        }
        if !resumed {
            return;
        }
    }
}

/// CPU seconds the process `pid` has used (user + system), at 100 ticks a second
/// (Linux's `USER_HZ`).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    (fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime")) / 100.0
}

/// The server's peak resident memory (`VmHWM`) in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Figures of one scenario 2 run.
struct Live {
    viewers: usize,
    ready: u64,
    line_p50: f64,
    line_p99: f64,
    line_max: f64,
    point_p50: f64,
    point_p99: f64,
    point_max: f64,
    frames: u64,
    gaps: u64,
    duplicates: u64,
    missing_lines: u64,
    missing_points: u64,
    resumes: u64,
    complete: u64,
    peak_mb: f64,
    /// CPU share (1.0 = one core) of the server and of the viewers (this process)
    /// from the first viewer's connection to the last one's `done`.
    server_cpu: f64,
    viewers_cpu: f64,
}

/// Scenario 2 with `viewers` viewers on a fresh server.
async fn live_viewers(dir: &Path, viewers: usize, seconds: u64) -> Live {
    let server = Server::start();
    let src = dir.join(format!("viewers-{viewers}"));
    std::fs::create_dir_all(&src).expect("mkdir");
    let warmup = 5 + (viewers as u64) / 100;
    std::fs::write(src.join("job.py"), live_job(warmup, seconds)).expect("job");
    let estimator = serde_json::json!({"entry_script": "job.py", "user_managed": true});
    let run_id: Arc<str> = server.submit("scale-viewers", &src, estimator).await.into();
    let (url, token): (Arc<str>, Arc<str>) =
        (server.url.as_str().into(), server.token.as_str().into());
    let (lines, points) = (Arc::new(Histogram::new()), Arc::new(Histogram::new()));
    let totals = Arc::new(Totals::default());
    let first_line_written = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::channel(viewers);
    let mut tasks = Vec::new();
    // A viewer that never sees `done` (the run ended without it) gives up here.
    let give_up = Duration::from_secs(warmup + seconds + 180);
    let timed_out = Arc::new(AtomicU64::new(0));
    for i in 0..viewers {
        let watching = viewer(
            url.clone(),
            token.clone(),
            run_id.clone(),
            lines.clone(),
            points.clone(),
            i % PROBE_EVERY == 0,
            totals.clone(),
            first_line_written.clone(),
            tx.clone(),
        );
        let timed_out = timed_out.clone();
        tasks.push(tokio::spawn(async move {
            if tokio::time::timeout(give_up, watching).await.is_err() {
                timed_out.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    drop(tx);
    let (server_cpu0, viewers_cpu0) = (cpu_seconds(server.pid()), cpu_seconds(std::process::id()));
    let connecting = Instant::now();
    for _ in 0..viewers {
        rx.recv().await.expect("a viewer connected");
    }
    let connect_s = connecting.elapsed().as_secs_f64();
    // The job writes its first line `warmup` s after it starts; mark when that is due
    // so viewers that caught up later are not counted as ready (an upper bound: the
    // job started after the submit, so the mark is early, never late).
    let first = {
        let first_line_written = first_line_written.clone();
        let submitted = Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(warmup).saturating_sub(submitted.elapsed()))
                .await;
            first_line_written.store(1, Ordering::Relaxed);
        })
    };
    println!("  {viewers} viewers connected in {connect_s:.1} s");
    for task in tasks {
        task.await.expect("viewer");
    }
    first.abort();
    let wall = connecting.elapsed().as_secs_f64();
    let server_cpu = (cpu_seconds(server.pid()) - server_cpu0) / wall;
    let viewers_cpu = (cpu_seconds(std::process::id()) - viewers_cpu0) / wall;
    let timed_out = timed_out.load(Ordering::Relaxed);
    if timed_out > 0 {
        println!(
            "  {timed_out} viewers gave up after {} s without `done`",
            give_up.as_secs()
        );
    }
    let peak_mb = peak_rss_mb(server.pid());
    drop(server);
    Live {
        viewers,
        ready: totals.ready.load(Ordering::Relaxed),
        line_p50: lines.quantile(0.50),
        line_p99: lines.quantile(0.99),
        line_max: lines.max(),
        point_p50: points.quantile(0.50),
        point_p99: points.quantile(0.99),
        point_max: points.max(),
        frames: lines.count() + points.count(),
        gaps: totals.gaps.load(Ordering::Relaxed),
        duplicates: totals.duplicates.load(Ordering::Relaxed),
        missing_lines: totals.missing_lines.load(Ordering::Relaxed),
        missing_points: totals.missing_points.load(Ordering::Relaxed),
        resumes: totals.resumes.load(Ordering::Relaxed),
        complete: totals.complete.load(Ordering::Relaxed),
        peak_mb,
        server_cpu,
        viewers_cpu,
    }
}

async fn scenario_2(dir: &Path) {
    let viewers: usize = std::env::var("SCALE_VIEWERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let seconds: u64 = std::env::var("SCALE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    println!(
        "scale, scenario 2: {viewers} websocket viewers of one run printing 1,000 lines/s and \
         logging 1,000 points/s for {seconds} s (goal: p99 lag <= 250 ms; 0 gaps; 0 duplicates)"
    );
    let many = live_viewers(dir, viewers, seconds).await;
    let one = live_viewers(dir, 1, seconds).await;
    println!(
        "  {:<44} {:>14} {:>14}",
        "figure",
        format!("{} viewers", many.viewers),
        "1 viewer"
    );
    let row = |name: &str, a: String, b: String| println!("  {name:<44} {a:>14} {b:>14}");
    row(
        "viewers caught up before the first line",
        format!("{}/{}", many.ready, many.viewers),
        format!("{}/{}", one.ready, one.viewers),
    );
    for (name, f) in [
        (
            "log frame lag p50 (ms)",
            (|l: &Live| l.line_p50) as fn(&Live) -> f64,
        ),
        ("log frame lag p99 (ms)", |l| l.line_p99),
        ("log frame lag max (ms)", |l| l.line_max),
        ("scalars frame lag p50 (ms)", |l| l.point_p50),
        ("scalars frame lag p99 (ms)", |l| l.point_p99),
        ("scalars frame lag max (ms)", |l| l.point_max),
    ] {
        row(name, format!("{:.0}", f(&many)), format!("{:.0}", f(&one)));
    }
    for (name, f) in [
        (
            "live frames timed (log + scalars)",
            (|l: &Live| l.frames) as fn(&Live) -> u64,
        ),
        ("sequence gaps", |l| l.gaps),
        ("duplicates", |l| l.duplicates),
        ("probes: lines repeated or skipped", |l| l.missing_lines),
        ("probes: points repeated or skipped", |l| l.missing_points),
        ("reconnections (resume frames)", |l| l.resumes),
        ("viewers that saw `done`", |l| l.complete),
    ] {
        row(name, f(&many).to_string(), f(&one).to_string());
    }
    row(
        "CPU share: server, viewers (1.0 = one core)",
        format!("{:.2}, {:.2}", many.server_cpu, many.viewers_cpu),
        format!("{:.2}, {:.2}", one.server_cpu, one.viewers_cpu),
    );
    row(
        "server peak memory (VmHWM, MB)",
        format!("{:.0}", many.peak_mb),
        format!("{:.0}", one.peak_mb),
    );
}

// ---- Scenario 6 -------------------------------------------------------------------

/// The job of scenario 6: 1,000 writes of 1,000 log lines of 100 bytes: 100,000,000
/// bytes of log. Its 1,000,000 points are posted by the bench (below).
const BIG_JOB: &str = r#"
import sys
PAD = "x" * 86
for k in range(1000):
    sys.stdout.write("".join("step %07d %s\n" % (k * 1000 + j, PAD) for j in range(1000)))
sys.stdout.flush()
"#;

/// Posts 1,000,000 points of `loss` to the run, 1,000 a request (a training loop that
/// sends every 1,000 steps): `POST /api/runs/{id}/metrics`, as the SDK's `run.log`
/// batches do. (Through the SDK itself one `run.log` per point took minutes here.)
async fn post_points(server: &Server, run_id: &str) {
    let http = reqwest::Client::new();
    for k in 0..1000u64 {
        let steps: Vec<u64> = (k * 1000..(k + 1) * 1000).collect();
        let values: Vec<f64> = steps.iter().map(|s| 1.0 / (*s as f64 + 1.0)).collect();
        let body =
            serde_json::json!({"metrics": [{"name": "loss", "values": values, "steps": steps}]});
        let response = http
            .post(format!("{}/api/runs/{run_id}/metrics", server.url))
            .bearer_auth(&server.token)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap_or_default()
        );
    }
}

/// Bytes of the regular files under `dir`, not following links, each file counted
/// once (`kept/` holds hard links to the user logs: the same bytes on disk).
fn size_of(dir: &Path) -> u64 {
    fn walk(dir: &Path, seen: &mut std::collections::HashSet<(u64, u64)>) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|entry| match entry.file_type() {
                Ok(t) if t.is_dir() => walk(&entry.path(), seen),
                Ok(t) if t.is_file() => match entry.metadata() {
                    Ok(m) if seen.insert((m.dev(), m.ino())) => m.len(),
                    _ => 0,
                },
                _ => 0,
            })
            .sum()
    }
    walk(dir, &mut std::collections::HashSet::new())
}

/// Copies the database files (`runboard.sqlite` and its WAL, if any) of `data` into
/// `to`; the copy's path.
fn copy_db(data: &Path, to: &Path) -> PathBuf {
    std::fs::create_dir_all(to).expect("mkdir");
    for suffix in ["", "-wal", "-shm"] {
        let from = data.join(format!("runboard.sqlite{suffix}"));
        if from.exists() {
            std::fs::copy(&from, to.join(format!("runboard.sqlite{suffix}"))).expect("copy");
        }
    }
    to.join("runboard.sqlite")
}

async fn pool(db: &Path) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
    sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open")
}

/// Checkpoints and vacuums the database at `db`; (its size in bytes, the bytes of
/// the `events` table's bodies).
async fn compact(db: &Path) -> (u64, u64) {
    let pool = pool(db).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .expect("checkpoint");
    sqlx::query("VACUUM").execute(&pool).await.expect("vacuum");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .expect("checkpoint");
    let bodies: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM events")
        .fetch_one(&pool)
        .await
        .expect("sum");
    pool.close().await;
    let size = std::fs::metadata(db).expect("db").len()
        + std::fs::metadata(db.with_extension("sqlite-wal")).map_or(0, |m| m.len());
    (size, u64::try_from(bodies).unwrap_or(0))
}

async fn scenario_6(dir: &Path) {
    println!(
        "scale, scenario 6: 1,000,000 points and 100 MB of logs in one run, bytes on disk \
         before and after storing each byte once"
    );
    let data = dir.join("disk-data");
    std::fs::create_dir_all(&data).expect("mkdir");
    let server = Server::start_on(&data, "");
    let src = dir.join("disk-job");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("job.py"), BIG_JOB).expect("job");
    let estimator = serde_json::json!({"entry_script": "job.py", "user_managed": true});
    let started = Instant::now();
    let run_id = server.submit("scale-disk", &src, estimator).await;
    let http = reqwest::Client::new();
    loop {
        let details: serde_json::Value = http
            .get(format!("{}/api/runs/{run_id}", server.url))
            .bearer_auth(&server.token)
            .send()
            .await
            .expect("details")
            .json()
            .await
            .expect("json");
        match details["status"].as_str().unwrap_or_default() {
            "Completed" => break,
            "Failed" | "Canceled" => panic!("the job ended {}: {details}", details["status"]),
            _ => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
    post_points(&server, &run_id).await;
    let ran = started.elapsed().as_secs_f64();
    drop(server);

    let run = runboard_shared::run::RunId::parse(&run_id).expect("run id");
    let run_dir = data.join("runs").join(&run_id);
    let log_bytes = std::fs::metadata(run_dir.join("user_logs/std_log.txt")).map_or(0, |m| m.len());
    let folder = size_of(&run_dir);
    let now_db = copy_db(&data, &dir.join("db-now"));
    let old_db = copy_db(&data, &dir.join("db-old"));

    // Every event's body as the old store wrote it, read back from where it is now.
    let mut inline: Vec<(u64, String)> = Vec::new();
    let (mut points, mut log_text) = (0usize, 0usize);
    {
        let store = runboard_server::store::Store::open(&now_db)
            .await
            .expect("store");
        let mut after = 0;
        loop {
            let page = runboard_server::replay::events_after(&store, &run_dir, &run, after, 1000)
                .await
                .expect("events");
            let Some(last) = page.last() else { break };
            after = last.seq;
            for event in page {
                match &event.body {
                    EventBody::Scalars { points: p, .. } => points += p.len(),
                    EventBody::Log { path, text, .. } if path == "user_logs/std_log.txt" => {
                        log_text += text.len()
                    }
                    _ => {}
                }
                let json = serde_json::to_string(&event.body).expect("json");
                inline.push((event.seq, json));
            }
        }
    }
    assert_eq!(points, 1_000_000, "every point replays");
    assert_eq!(log_text as u64, log_bytes, "every log byte replays");
    let events = inline.len();
    {
        let pool = pool(&old_db).await;
        let mut tx = pool.begin().await.expect("begin");
        for (seq, body) in &inline {
            sqlx::query("UPDATE events SET body = ? WHERE run_id = ? AND seq = ?")
                .bind(body)
                .bind(run_id.as_str())
                .bind(i64::try_from(*seq).expect("seq"))
                .execute(&mut *tx)
                .await
                .expect("update");
        }
        tx.commit().await.expect("commit");
        pool.close().await;
    }
    drop(inline);
    let (now_size, now_bodies) = compact(&now_db).await;
    let (old_size, old_bodies) = compact(&old_db).await;
    let mb = |b: u64| b as f64 / 1e6;
    println!("  written in {ran:.0} s: {log_bytes} bytes of log, {points} points, {events} events");
    println!(
        "  {:<44} {:>14} {:>18}",
        "bytes on disk (MB)", "stored once", "before (inline)"
    );
    let row = |name: &str, a: u64, b: u64| {
        println!("  {name:<44} {:>14.1} {:>18.1}", mb(a), mb(b));
    };
    row("run folder (kept/ hard links counted once)", folder, folder);
    let mut parts: Vec<(String, u64)> = std::fs::read_dir(&run_dir)
        .expect("run folder")
        .flatten()
        .map(|e| {
            let size = if e.file_type().is_ok_and(|t| t.is_dir()) {
                size_of(&e.path())
            } else {
                e.metadata().map_or(0, |m| m.len())
            };
            (e.file_name().to_string_lossy().into_owned(), size)
        })
        .filter(|(name, size)| *size >= 100_000 && name != "kept")
        .collect();
    parts.sort();
    for (name, size) in parts {
        row(&format!("  of which {name}/"), size, size);
    }
    row("database, checkpointed and vacuumed", now_size, old_size);
    row("  of which event bodies", now_bodies, old_bodies);
    row("total", folder + now_size, folder + old_size);
    println!(
        "  {:<44} {:>14.2} {:>18.2}",
        "total / (log bytes + 24 B per point)",
        (folder + now_size) as f64 / (log_bytes + 24 * points as u64) as f64,
        (folder + old_size) as f64 / (log_bytes + 24 * points as u64) as f64,
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; numbers choose scenarios.
    let chosen: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let wanted = |n: u32| chosen.is_empty() || chosen.contains(&n);
    let dir = tempfile::tempdir().expect("tempdir");
    if wanted(6) {
        scenario_6(dir.path()).await;
    }
    if wanted(2) {
        scenario_2(dir.path()).await;
    }
}
