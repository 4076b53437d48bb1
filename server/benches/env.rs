//! `cargo xtask bench env`: (1) a cold build of an environment with scikit-learn with
//! uv, beside `python -m venv` + pip, each with an empty package cache, in one run;
//! (2) the warm overhead of a run whose environment is cached (submit → first line),
//! beside a `user_managed` run that uses the interpreter as it is.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, median, ms};

const ITERATIONS: usize = 15;
const TRAIN: &str = "print('first line', flush=True)\n";

fn run(program: &str, args: &[&str], env: &[(&str, &std::path::Path)]) {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn uv_program() -> Vec<String> {
    if Command::new("uv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        vec!["uv".into()]
    } else {
        vec!["python3".into(), "-m".into(), "uv".into()]
    }
}

fn cold_uv() -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = dir.path().join("cache");
    let env = dir.path().join("env");
    let uv = uv_program();
    let (prog, pre) = (
        uv[0].as_str(),
        uv[1..].iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let start = Instant::now();
    let mut args = pre.clone();
    args.extend(["venv", "--python", "python3", env.to_str().expect("utf-8")]);
    run(prog, &args, &[("UV_CACHE_DIR", &cache)]);
    let python = env.join("bin/python");
    let mut args = pre.clone();
    args.extend([
        "pip",
        "install",
        "--python",
        python.to_str().expect("utf-8"),
        "scikit-learn",
    ]);
    run(prog, &args, &[("UV_CACHE_DIR", &cache)]);
    start.elapsed()
}

fn cold_pip() -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = dir.path().join("env");
    let start = Instant::now();
    run(
        "python3",
        &["-m", "venv", env.to_str().expect("utf-8")],
        &[],
    );
    let python = env.join("bin/python");
    run(
        python.to_str().expect("utf-8"),
        &[
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--quiet",
            "scikit-learn",
        ],
        &[],
    );
    start.elapsed()
}

#[tokio::main]
async fn main() {
    println!("bench env (1): cold build of an environment with scikit-learn, empty caches");
    let uv = cold_uv();
    let pip = cold_pip();
    println!(
        "  python -m venv + pip install scikit-learn: {:8.1} s   (baseline)",
        pip.as_secs_f64()
    );
    println!(
        "  uv venv + uv pip install scikit-learn:     {:8.1} s   ({:.1}x faster)",
        uv.as_secs_f64(),
        pip.as_secs_f64() / uv.as_secs_f64()
    );

    let src = tempfile::tempdir().expect("tempdir");
    std::fs::write(src.path().join("train.py"), TRAIN).expect("write");
    let server = Server::start();
    let cached = serde_json::json!({"entry_script": "train.py", "pip_packages": ["scikit-learn"]});
    let managed = serde_json::json!({"entry_script": "train.py", "user_managed": true});
    // The first run builds the environment; the rest reuse it.
    server
        .submit_to_first_line(src.path(), cached.clone())
        .await;
    server
        .submit_to_first_line(src.path(), managed.clone())
        .await;
    let (mut warm, mut base) = (Vec::new(), Vec::new());
    for _ in 0..ITERATIONS {
        base.push(
            server
                .submit_to_first_line(src.path(), managed.clone())
                .await,
        );
        warm.push(
            server
                .submit_to_first_line(src.path(), cached.clone())
                .await,
        );
    }
    let (b, w) = (median(base), median(warm));
    println!("bench env (2): submit -> first line ({ITERATIONS} runs each, medians)");
    println!(
        "  user_managed run (no environment):        {:8.1} ms   (baseline)",
        ms(b)
    );
    println!(
        "  run reusing its cached environment:       {:8.1} ms",
        ms(w)
    );
    let overhead = ms(w) - ms(b);
    println!(
        "  warm overhead: {overhead:+.1} ms (target <= 50 ms): {}",
        if overhead <= 50.0 { "met" } else { "NOT met" }
    );
}
