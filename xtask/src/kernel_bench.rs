//! `cargo xtask bench kernel`: the notebook kernel's cost, issue 11's five figures,
//! each beside a baseline measured in the same run:
//! - opening a notebook until its kernel is ready, cold (empty cache) and warm (files
//!   cached), in Chromium over loopback against a release server
//!   (`e2e/bench/kernel.mjs`), beside a plain Pyodide start of the same files in the
//!   same browser (`loadPyodide`, no snapshot, no SDK);
//! - a 200-line cell of settings, loops, formatting and estimators ([`cell`]), timed by
//!   the notebook page from posting it to the worker to its end, beside the same kernel
//!   module running the same cell natively (the machine's CPython, no browser, no
//!   server);
//! - the bytes a cold and a warm open download;
//! - the portal's bundle, which must stay ≤ 400,000 B gzipped.
//!
//! The Rust kernel this one replaced was measured beside it in the same runs before it
//! was retired; those figures are in `docs/benchmarks.md`.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The portal's budget: gzipped wasm + JS, in the stricter reading of KB (1,000 B).
const PORTAL_TARGET: u64 = 400 * 1000;
/// Issue 11's targets: a 200-line cell, and opening a notebook until the kernel is
/// ready, cold (empty cache) and warm.
const CELL_TARGET_MS: f64 = 25.0;
const COLD_TARGET_MS: f64 = 4000.0;
const WARM_TARGET_MS: f64 = 2000.0;
/// Times the cell runs natively.
const NATIVE_ROUNDS: usize = 21;

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

/// The benchmark's 200-line cell: an import, then blocks.
fn cell() -> String {
    let mut cell = String::from("from azureml.train.estimator import Estimator\n");
    let mut n = 0;
    while cell.lines().count() < 200 {
        n += 1;
        cell.push_str(&BLOCK.replace("{n}", &n.to_string()));
    }
    cell.lines().take(200).collect::<Vec<_>>().join("\n")
}

/// The cell run by the kernel module natively (`runboard_kernel.Kernel` under the
/// machine's CPython, with the SDK, files in a temporary folder): each round's ms,
/// after one warm-up.
fn native(cell_file: &std::path::Path) -> Result<Vec<f64>> {
    let root = crate::project_root();
    let python_path = std::env::join_paths([root.join("server/python"), root.join("notebook/py")])?;
    let script = format!(
        "import json, sys, tempfile, time\n\
         import runboard_kernel\n\
         src = open(sys.argv[1]).read()\n\
         k = runboard_kernel.Kernel(lambda text: None, root=tempfile.mkdtemp())\n\
         for i in range({}):\n\
         \x20   t = time.perf_counter()\n\
         \x20   done = k.run('bench', src, '')\n\
         \x20   ms = (time.perf_counter() - t) * 1000\n\
         \x20   if done['error']: sys.exit(str(done['error']))\n\
         \x20   if i: print(ms)\n",
        NATIVE_ROUNDS + 1
    );
    let out = Command::new("python3")
        .args(["-c", &script])
        .arg(cell_file)
        .env("PYTHONPATH", python_path)
        .stderr(Stdio::inherit())
        .output()
        .context("running the cell natively with python3")?;
    if !out.status.success() {
        bail!("the cell failed natively ({})", out.status);
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse::<f64>().context("a time in ms"))
        .collect()
}

pub(crate) fn bench() -> Result<()> {
    crate::setup::python()?;
    crate::setup::e2e_setup()?;
    let cell_file = crate::target_dir().join("bench-kernel-cell.py");
    std::fs::write(&cell_file, cell())?;
    crate::step("bench kernel: the cell natively");
    let native_ms = native(&cell_file)?;

    crate::frontend::build(true)?;
    crate::cargo(&["build", "--release", "--package", "runboard-server"])?;
    crate::step("bench kernel: in Chromium");
    let output = Command::new("node")
        .arg("bench/kernel.mjs")
        .arg(&cell_file)
        .current_dir(crate::project_root().join("e2e"))
        .env("RUNBOARD_BIN", crate::target_dir().join("release/runboard"))
        .stderr(Stdio::inherit())
        .output()
        .context("running node e2e/bench/kernel.mjs")?;
    if !output.status.success() {
        bail!("e2e/bench/kernel.mjs failed ({})", output.status);
    }
    let browser = last_json(&output.stdout, "e2e/bench/kernel.mjs")?;
    let python = Figures::read(&browser, "python")?;
    let plain_cold = list(&browser["plain"], "cold_ms")?;
    let plain_warm = list(&browser["plain"], "warm_ms")?;
    let portal = crate::frontend::bundle_size_gzipped()?;
    let notebook = crate::frontend::wasm_app_size_gzipped("notebook")?;
    let verdict = |ok: bool| if ok { "within target" } else { "OVER TARGET" };

    println!();
    println!("kernel bench: load average {}", load_average());
    println!("issue 11's figures (medians), each beside its baseline from this run");
    let row = |what: &str, figure: f64, unit: &str, target: Option<f64>, baseline: &str| {
        let verdict = match target {
            Some(t) => format!("<= {t} {unit}: {}", verdict(figure <= t)),
            None => "reported".to_owned(),
        };
        println!("  {what:<40} {figure:>10.1} {unit:<2}  {verdict:<28} baseline: {baseline}");
    };
    row(
        "cold open to ready, empty cache",
        median(&python.cold_ms),
        "ms",
        Some(COLD_TARGET_MS),
        &format!("plain loadPyodide {:.0} ms", median(&plain_cold)),
    );
    row(
        "warm open to ready, files cached",
        median(&python.warm_ms),
        "ms",
        Some(WARM_TARGET_MS),
        &format!("plain loadPyodide {:.0} ms", median(&plain_warm)),
    );
    row(
        "a 200-line cell, in the notebook",
        median(&python.cell_ms),
        "ms",
        Some(CELL_TARGET_MS),
        &format!("the same kernel natively {:.1} ms", median(&native_ms)),
    );
    row(
        "bytes downloaded, cold open",
        python.cold_bytes,
        "B",
        None,
        "as received, compressed",
    );
    row(
        "bytes downloaded, warm open",
        python.warm_bytes,
        "B",
        None,
        "a cache hit counts 0",
    );
    row(
        "the portal's bundle, gzipped wasm + JS",
        portal as f64,
        "B",
        Some(PORTAL_TARGET as f64),
        &format!("the notebook pages' {notebook} B"),
    );
    println!("every measurement (ms)");
    println!("  kernel cold {:?}", python.cold_ms);
    println!("  kernel warm {:?}", python.warm_ms);
    println!("  plain loadPyodide cold {plain_cold:?}");
    println!("  plain loadPyodide warm {plain_warm:?}");
    println!("  cell in the notebook {:?}", python.cell_ms);
    println!("  cell natively {native_ms:?}");
    for phase in &python.phases {
        println!("  {phase}");
    }
    Ok(())
}

/// A list of numbers of the browser's figures.
fn list(v: &serde_json::Value, key: &str) -> Result<Vec<f64>> {
    let values: Vec<f64> = v[key]
        .as_array()
        .with_context(|| format!("no {key} in the browser's figures: {v}"))?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    if values.is_empty() {
        bail!("{key} is empty in the browser's figures");
    }
    Ok(values)
}

/// The kernel's figures from `e2e/bench/kernel.mjs`.
struct Figures {
    cell_ms: Vec<f64>,
    cold_ms: Vec<f64>,
    warm_ms: Vec<f64>,
    cold_bytes: f64,
    warm_bytes: f64,
    phases: Vec<String>,
}

impl Figures {
    fn read(all: &serde_json::Value, kernel: &str) -> Result<Self> {
        let v = &all[kernel];
        let number = |key: &str| {
            v[key]
                .as_f64()
                .with_context(|| format!("no {kernel}.{key} in the browser's figures"))
        };
        Ok(Self {
            cell_ms: list(v, "cell_ms")?,
            cold_ms: list(v, "cold_ms")?,
            warm_ms: list(v, "warm_ms")?,
            cold_bytes: number("cold_bytes")?,
            warm_bytes: number("warm_bytes")?,
            phases: v["phases"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// `/proc/loadavg`'s three figures (1, 5 and 15 minutes), to read the times beside.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The last line of `stdout` that is a JSON object.
fn last_json(stdout: &[u8], what: &str) -> Result<serde_json::Value> {
    let text = String::from_utf8_lossy(stdout);
    text.lines()
        .rev()
        .find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .filter(|v| v.is_object())
        })
        .with_context(|| format!("{what} printed no result:\n{text}"))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_benchmark_cell_has_200_lines_and_imports_the_estimator() {
        let cell = super::cell();
        assert_eq!(cell.lines().count(), 200);
        assert!(cell.starts_with("from azureml.train.estimator import Estimator\n"));
    }
}
