//! `cargo xtask bench submit`: median time from submit to the first output line of a
//! job, beside the same `python train.py` started directly, in one run.
//!
//! Runboard's figure covers what a user waits for: packing the source folder, the
//! upload, unpacking, the working-directory copy, the supervisor, Python's start and
//! the line's trip back over the run's websocket.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use runboard_server::runner::snapshot;
use runboard_shared::event::{EventBody, Frame};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const ITERATIONS: usize = 21;
const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr', type=float)\na = p.parse_args()\nprint('first line', a.lr, flush=True)\n";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn direct(src: &std::path::Path) -> Duration {
    let start = Instant::now();
    let mut child = Command::new("python3")
        .args(["train.py", "--lr", "0.1"])
        .current_dir(src)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let took = start.elapsed();
    assert!(line.starts_with("first line"), "{line}");
    child.wait().expect("wait");
    took
}

async fn through_runboard(
    url: &str,
    token: &str,
    src: &std::path::Path,
    http: &reqwest::Client,
) -> Duration {
    let start = Instant::now();
    let mut archive = Vec::new();
    snapshot::pack(src, snapshot::DEFAULT_LIMIT, &mut archive).expect("pack");
    let estimator = serde_json::json!({
        "source_directory": src.display().to_string(),
        "entry_script": "train.py",
        "script_params": {"--lr": 0.1}
    });
    let form = reqwest::multipart::Form::new()
        .text("estimator", estimator.to_string())
        .part("snapshot", reqwest::multipart::Part::bytes(archive));
    let response: serde_json::Value = http
        .post(format!("{url}/api/experiments/bench/runs"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("json");
    let run_id = response["run_id"].as_str().expect("run_id");
    let mut request = format!(
        "{}/api/runs/{run_id}/events?after=0",
        url.replacen("http", "ws", 1)
    )
    .into_client_request()
    .expect("request");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("ws");
    while let Some(Ok(Message::Text(text))) = ws.next().await {
        if let Ok(Frame::Event { event }) = serde_json::from_str::<Frame>(&text)
            && let EventBody::Log { text, .. } = event.body
        {
            assert!(text.starts_with("first line"), "{text}");
            return start.elapsed();
        }
    }
    panic!("run {run_id} ended without output");
}

#[tokio::main]
async fn main() {
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::write(src.path().join("train.py"), TRAIN).expect("write");
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_runboard"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(data.path().join("data"))
        .env("RUNBOARD_CONFIG", data.path().join("client.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("runboard serve");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let url = lines
        .next()
        .and_then(Result::ok)
        .and_then(|l| l.strip_prefix("Runboard is serving ").map(str::to_owned))
        .expect("url");
    let token = lines
        .next()
        .and_then(Result::ok)
        .and_then(|l| l.rsplit("token=").next().map(str::to_owned))
        .expect("token");
    let http = reqwest::Client::new();

    // Warm both paths once (page cache, Python's bytecode cache), then interleave.
    direct(src.path());
    through_runboard(&url, &token, src.path(), &http).await;
    let (mut base, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ITERATIONS {
        base.push(direct(src.path()));
        ours.push(through_runboard(&url, &token, src.path(), &http).await);
    }
    let _ = server.kill();
    let _ = server.wait();
    let (b, o) = (median(base), median(ours));
    println!("bench submit ({ITERATIONS} runs each, medians):");
    println!(
        "  python train.py started directly -> first line: {:8.1} ms   (baseline)",
        ms(b)
    );
    println!(
        "  runboard submit -> first line on the websocket: {:8.1} ms",
        ms(o)
    );
    let overhead = ms(o) - ms(b);
    println!(
        "  overhead: {overhead:+.1} ms (target <= 150 ms): {}",
        if overhead <= 150.0 { "met" } else { "NOT met" }
    );
}
