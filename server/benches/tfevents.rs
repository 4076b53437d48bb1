//! `cargo bench -p runboard-server --bench tfevents` (part (a) of `cargo xtask bench
//! metrics`): parse a 96 MB event file of 2,000,000 scalar events, checksums on,
//! beside TensorBoard's own Rust data server (`tensorboard-data-server`, the PyPI
//! package TensorBoard ships) loading the same file, in the same run.
//!
//! The file is written by `server/tests/fixtures/tfevents/make_tfevents.py --big 2000000`
//! with tensorboardX, a real writer. Everything Python needs goes into a virtual
//! environment under `target/bench-cache/tfevents/`, made on the first run; the file
//! is cached there too (writing it takes about two minutes once). Without Python or
//! the packages the benchmark says why and stops without failing.
//!
//! The data server runs with `--reload once --checksum`, so it too verifies every data
//! checksum, and its figure is the load time it reports itself in its "Finished load
//! cycle (…)" log line: its start-up is left out. Runs of both alternate, so that a
//! busy machine slows both alike; each side's best run is compared.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runboard_server::tfevents::{EventFileReader, read_file};

const EVENTS: usize = 2_000_000;
const RUNS: usize = 5;
const BASELINE_RUNS: usize = 3;
/// Pinned so the baseline means the same thing from run to run.
const PACKAGES: &[&str] = &["tensorboardX==2.6.5", "tensorboard-data-server==0.7.2"];
const MAKE_TFEVENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tfevents/make_tfevents.py"
);

/// `target/bench-cache/tfevents`, beside this benchmark's own executable.
fn cache_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/tfevents-<hash>
    let target = exe.ancestors().nth(3).expect("target folder");
    target.join("bench-cache").join("tfevents")
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        ))
    }
}

/// A virtual environment with the pinned packages; its `python`.
fn python_env(cache: &Path) -> Result<PathBuf, String> {
    let venv = cache.join("venv");
    let python = venv.join("bin").join("python");
    let stamp = venv.join("runboard-packages.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(&PACKAGES.join("\n")) {
        return Ok(python);
    }
    println!(
        "tfevents: installing {} into {}",
        PACKAGES.join(", "),
        venv.display()
    );
    std::fs::create_dir_all(cache).map_err(|e| e.to_string())?;
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PACKAGES))?;
    std::fs::write(&stamp, PACKAGES.join("\n")).map_err(|e| e.to_string())?;
    Ok(python)
}

/// The 2,000,000-event file, written once by tensorboardX.
fn big_file(cache: &Path, python: &Path) -> Result<PathBuf, String> {
    let logdir = cache.join("logdir");
    let find = || -> Option<PathBuf> {
        std::fs::read_dir(logdir.join("big"))
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains("tfevents"))
    };
    let done = logdir.join("complete");
    if done.exists()
        && let Some(file) = find()
    {
        return Ok(file);
    }
    println!("tfevents: writing {EVENTS} events with tensorboardX (about two minutes, once)");
    let _ = std::fs::remove_dir_all(&logdir);
    run(Command::new(python)
        .arg(MAKE_TFEVENTS)
        .arg(&logdir)
        .args(["--big", &EVENTS.to_string()]))?;
    std::fs::write(&done, "").map_err(|e| e.to_string())?;
    find().ok_or_else(|| format!("no event file under {}", logdir.display()))
}

/// How long `f` takes.
fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// The data server's executable, as the package itself reports it.
fn data_server_binary(python: &Path) -> Result<PathBuf, String> {
    let output = Command::new(python)
        .args([
            "-c",
            "import tensorboard_data_server as t; print(t.server_binary() or '')",
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if path.is_empty() {
        Err("tensorboard-data-server ships no binary for this platform".to_owned())
    } else {
        Ok(PathBuf::from(path))
    }
}

/// The data server's own account of one load of `logdir`, with checksums on.
fn data_server_load(server: &Path, logdir: &Path) -> Result<Duration, String> {
    let mut child = Command::new(server)
        .arg("--logdir")
        .arg(logdir)
        .args(["--reload", "once", "--checksum", "--verbose", "--port", "0"])
        .args(["--host", "127.0.0.1", "--die-after-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", server.display()))?;
    let stderr = child.stderr.take().expect("stderr");
    let mut took = Err("the data server ended before it finished loading".to_owned());
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        // `[time INFO  rustboard_core::cli] Finished load cycle (975.570272ms)`
        if let Some(rest) = line.split("Finished load cycle (").nth(1) {
            took = parse_debug_duration(rest.trim_end_matches(')'))
                .ok_or_else(|| format!("unreadable duration in {line:?}"));
            break;
        }
    }
    // Closing its stdin makes it exit (--die-after-stdin); kill it if it does not.
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();
    took
}

/// A `Duration`'s `Debug` form: `975.570272ms`, `1.2345s`, `850µs`.
fn parse_debug_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_alphabetic() || c == 'µ')?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => number,
        "ms" => number / 1e3,
        "µs" | "us" => number / 1e6,
        "ns" => number / 1e9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn line(label: &str, took: Duration, bytes: usize) -> String {
    let secs = took.as_secs_f64();
    format!(
        "  {label:<58} {:7.3} s {:8.1} MB/s {:6.2} M events/s",
        secs,
        bytes as f64 / 1e6 / secs,
        EVENTS as f64 / 1e6 / secs
    )
}

fn main() {
    let cache = cache_dir();
    let prepared = python_env(&cache).and_then(|python| Ok((big_file(&cache, &python)?, python)));
    let (file, python) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            println!("tfevents: skipped, Python environment unavailable: {e}");
            return;
        }
    };
    let bytes = std::fs::read(&file).expect("read event file");
    let check = |batch: &runboard_server::tfevents::Batch| {
        assert_eq!(batch.point_count(), EVENTS);
        assert_eq!(batch.consumed, bytes.len());
        assert_eq!((batch.skipped_records, batch.garbage_bytes), (0, 0));
    };
    let server = data_server_binary(&python);
    let logdir = file.parent().expect("run folder");

    let (mut in_memory, mut from_disk) = (Duration::MAX, Duration::MAX);
    let mut baseline: Result<Duration, String> = Ok(Duration::MAX);
    for round in 0..RUNS {
        in_memory = in_memory.min(time(|| {
            check(&EventFileReader::new().read_available(&bytes))
        }));
        from_disk = from_disk.min(time(|| {
            check(&read_file(&file, &mut EventFileReader::new()).expect("read_file"))
        }));
        if round < BASELINE_RUNS {
            baseline = baseline.and_then(|best| {
                let server = server.as_ref().map_err(Clone::clone)?;
                Ok(data_server_load(server, logdir)?.min(best))
            });
        }
    }

    let mb = bytes.len() as f64 / 1e6;
    println!(
        "bench tfevents: {mb:.1} MB, {EVENTS} scalar events (tensorboardX), checksums on, best of {RUNS}:"
    );
    println!(
        "{}",
        line(
            "runboard EventFileReader::read_available (in memory)",
            in_memory,
            bytes.len()
        )
    );
    println!(
        "{}",
        line(
            "runboard tfevents::read_file (file in page cache)",
            from_disk,
            bytes.len()
        )
    );
    match baseline {
        Ok(base) => {
            println!(
                "{}   (baseline, best of {BASELINE_RUNS})",
                line(
                    "tensorboard-data-server 0.7.2 --checksum (its load time)",
                    base,
                    bytes.len()
                )
            );
            let ratio = base.as_secs_f64() / from_disk.as_secs_f64();
            println!(
                "  read_file is {ratio:.1}x the data server's throughput (target >= 3x): {}",
                if ratio >= 3.0 { "met" } else { "NOT met" }
            );
        }
        Err(e) => println!("  tensorboard-data-server: not measured: {e}"),
    }
}
