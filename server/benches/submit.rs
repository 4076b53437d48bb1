//! `cargo xtask bench submit`: median time from submit to the first output line of a
//! job, beside the same `python train.py` started directly, in one run.
//!
//! Runboard's figure covers what a user waits for: packing the source folder, the
//! upload, unpacking, the working-directory copy, the (cached) environment, the
//! supervisor, Python's start and the line's trip back over the run's websocket.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, median, ms};

const ITERATIONS: usize = 21;
const TRAIN: &str = "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr', type=float)\na = p.parse_args()\nprint('first line', a.lr, flush=True)\n";

fn direct(python: &str, src: &std::path::Path) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(python)
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

#[tokio::main]
async fn main() {
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::write(src.path().join("train.py"), TRAIN).expect("write");
    let server = Server::start();
    // The interpreter the server runs (the real one, not a wrapper such as a pyenv shim).
    let python = runboard_server::runner::env::resolve_interpreter("python3");
    let estimator = serde_json::json!({"entry_script": "train.py", "script_params": {"--lr": 0.1}});

    // Warm both paths once (page cache, the cached environment), then interleave.
    direct(&python, src.path());
    server
        .submit_to_first_line(src.path(), estimator.clone())
        .await;
    let (mut base, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ITERATIONS {
        base.push(direct(&python, src.path()));
        ours.push(
            server
                .submit_to_first_line(src.path(), estimator.clone())
                .await,
        );
    }
    let (b, o) = (median(base), median(ours));
    println!("bench submit ({ITERATIONS} runs each, medians; interpreter {python}):");
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
