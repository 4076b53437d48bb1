//! `cargo xtask bench kernel`: the median time to parse and evaluate a 200-line
//! notebook cell with the notebook kernel (native build), beside CPython compiling and
//! executing the same cell, in one run.
//!
//! With `RUNBOARD_BENCH_CELL=<file>` the cell is also written there, for the
//! in-browser half of the benchmark (`e2e/bench/kernel.mjs`).
//!
//! The cell mixes what SDK notebooks do: dicts and lists of settings, loops and
//! conditions, string formatting, and building (and so validating) estimators. The
//! host answers nothing: the figure is the kernel's own cost, without the network.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::process::Command;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use runboard_shared::api::{RunDetails, RunFile, SubmitResponse, TagsPatch};
use runboard_shared::event::RunEvent;
use runboard_shared::kernel::{DirEntry, FileKind, Host, HostError, Kernel, Output, Submission};
use runboard_shared::run::RunId;

const ITERATIONS: usize = 21;

/// One block of the cell (11 lines); `{n}` numbers its names.
const BLOCK: &str = "\
config_{n} = {'lr': 0.01 * {n}, 'epochs': 10 + {n}, 'layers': [64, 32, {n}]}
total_{n} = 0
for i in range(60):
    if i % 3 == 0:
        total_{n} += i
    elif i % 5 == 0:
        total_{n} -= 1
    else:
        total_{n} += len(str(i))
name_{n} = f'run-{total_{n}:05d}-' + '%s/%d' % (config_{n}['lr'], config_{n}['epochs'])
est_{n} = Estimator(source_directory='src', entry_script='train.py', script_params={'--lr': config_{n}['lr'], '--name': name_{n}}, node_count=1)
";

/// A 200-line cell: an import, then blocks.
fn cell() -> String {
    let mut cell = String::from("from azureml.train.estimator import Estimator\n");
    let mut n = 0;
    while cell.lines().count() < 200 {
        n += 1;
        cell.push_str(&BLOCK.replace("{n}", &n.to_string()));
    }
    cell.lines().take(200).collect::<Vec<_>>().join("\n")
}

/// A host with nothing behind it.
struct NoHost(usize);

fn none<T>() -> Result<T, HostError> {
    Err(HostError::Unsupported("no server in this benchmark".into()))
}

impl Host for NoHost {
    fn cwd(&self) -> String {
        String::new()
    }
    fn output(&mut self, _: Output) {
        self.0 += 1;
    }
    async fn compute_targets(&mut self) -> Result<Vec<String>, HostError> {
        none()
    }
    async fn submit(&mut self, _: Submission) -> Result<SubmitResponse, HostError> {
        none()
    }
    async fn run_details(&mut self, _: &RunId) -> Result<RunDetails, HostError> {
        none()
    }
    async fn next_events(&mut self, _: &RunId, _: u64) -> Result<Vec<RunEvent>, HostError> {
        none()
    }
    async fn run_files(&mut self, _: &RunId) -> Result<Vec<RunFile>, HostError> {
        none()
    }
    async fn download_run_file(&mut self, _: &RunId, _: &str, _: &str) -> Result<u64, HostError> {
        none()
    }
    async fn metrics(
        &mut self,
        _: &RunId,
    ) -> Result<BTreeMap<String, serde_json::Value>, HostError> {
        none()
    }
    async fn cancel_run(&mut self, _: &RunId) -> Result<(), HostError> {
        none()
    }
    async fn patch_tags(&mut self, _: &RunId, _: &TagsPatch) -> Result<(), HostError> {
        none()
    }
    async fn stat(&mut self, _: &str) -> Result<Option<FileKind>, HostError> {
        none()
    }
    async fn list_dir(&mut self, _: &str) -> Result<Vec<DirEntry>, HostError> {
        none()
    }
    async fn write_file(&mut self, _: &str, _: &[u8], _: bool) -> Result<(), HostError> {
        none()
    }
    async fn make_dirs(&mut self, _: &str) -> Result<(), HostError> {
        none()
    }
    async fn read_file(&mut self, _: &str) -> Result<Vec<u8>, HostError> {
        none()
    }
    async fn copy_file(&mut self, _: &str, _: &str) -> Result<(), HostError> {
        none()
    }
    async fn upload_to_datastore(
        &mut self,
        _: &str,
        _: &str,
        _: &str,
        _: bool,
    ) -> Result<Vec<String>, HostError> {
        none()
    }
}

/// Polls a future whose host calls are all ready at once.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn kernel(cell: &str) -> Duration {
    let mut host = NoHost(0);
    let mut kernel = Kernel::new();
    let start = Instant::now();
    let result = block_on(kernel.run_cell(&mut host, cell));
    let took = start.elapsed();
    if let Err(e) = result {
        panic!("the benchmark cell failed: {e}");
    }
    took
}

/// CPython compiling and executing the cell, `ITERATIONS` times in one process (its
/// start is not counted); `Estimator` is a stub there. Returns each time.
fn cpython(cell: &str) -> Vec<Duration> {
    let script = format!(
        "import sys, time\n\
         src = sys.stdin.read().replace('from azureml.train.estimator import Estimator\\n', '')\n\
         for _ in range({ITERATIONS}):\n\
         \x20   g = {{'Estimator': lambda *a, **k: (a, k)}}\n\
         \x20   t = time.perf_counter()\n\
         \x20   exec(compile(src, 'cell', 'exec'), g)\n\
         \x20   print(time.perf_counter() - t)\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), cell.as_bytes())
        .expect("write the cell");
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success(), "python3 failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| Duration::from_secs_f64(l.trim().parse().expect("seconds")))
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let cell = cell();
    assert_eq!(cell.lines().count(), 200);
    // `cargo xtask bench kernel` times the same cell in the browser too.
    if let Some(path) = std::env::var_os("RUNBOARD_BENCH_CELL") {
        std::fs::write(&path, &cell).expect("writing the benchmark cell");
    }
    kernel(&cell);
    let ours = median((0..ITERATIONS).map(|_| kernel(&cell)).collect());
    let base = median(cpython(&cell));
    println!(
        "kernel: parse and evaluate a 200-line cell (median of {ITERATIONS}): \
         Runboard kernel, native {:.2} ms; CPython compile + exec {:.2} ms",
        ours.as_secs_f64() * 1000.0,
        base.as_secs_f64() * 1000.0
    );
    // For `cargo xtask bench kernel`, which prints these beside the browser's figure.
    println!(
        "{{\"native_ms\": {:.3}, \"cpython_ms\": {:.3}}}",
        ours.as_secs_f64() * 1000.0,
        base.as_secs_f64() * 1000.0
    );
}
