//! `cargo xtask bench kernel`: the notebook kernel's cost.
//! - Time to parse and evaluate a 200-line cell (`shared/benches/kernel.rs` makes it):
//!   in Chromium by the notebook's kernel, CPython in Pyodide, and by the older Rust
//!   kernel (`?kernel=rust`), each in its Web Worker and timed by the notebook page
//!   (`e2e/bench/kernel.mjs`, which also times opening the notebook cold and warm,
//!   `OPENS` times each, alternating the two kernels, and counts the bytes
//!   downloaded); the Rust kernel natively (release); and CPython's `compile` + `exec`
//!   of the same cell as the baseline, all in this run.
//! - Issue 11's five figures in one table, CPython beside the Rust kernel, with the
//!   targets and the load average at the end of the run.
//! - Gzipped downloads: the kernel worker (target ≤ 800 KB), beside the portal (which
//!   must stay ≤ 400 KB without it) and the notebook pages' app.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// The kernel worker's budget: gzipped wasm + JS, in the stricter reading of KB
/// (1,000 B).
const WORKER_TARGET: u64 = 800 * 1000;
/// The portal's budget: gzipped wasm + JS, in the stricter reading of KB (1,000 B).
const PORTAL_TARGET: u64 = 400 * 1000;
/// Issue 11's targets for the Python kernel: a 200-line cell, and opening a notebook
/// until the kernel is ready, cold (empty cache) and warm.
const CELL_TARGET_MS: f64 = 25.0;
const COLD_TARGET_MS: f64 = 4000.0;
const WARM_TARGET_MS: f64 = 2000.0;

pub(crate) fn bench() -> Result<()> {
    crate::setup::python()?;
    crate::setup::e2e_setup()?;
    let cell = crate::target_dir().join("bench-kernel-cell.py");
    crate::step("bench kernel: native and CPython");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "bench",
            "--package",
            "runboard-shared",
            "--features",
            "kernel",
            "--bench",
            "kernel",
        ])
        .env("RUNBOARD_BENCH_CELL", &cell)
        .stderr(Stdio::inherit())
        .output()
        .context("running the kernel benchmark")?;
    if !output.status.success() {
        bail!("the kernel benchmark failed ({})", output.status);
    }
    let native = last_json(&output.stdout, "shared/benches/kernel.rs")?;

    crate::frontend::build(true)?;
    crate::cargo(&["build", "--package", "runboard-server"])?;
    crate::step("bench kernel: in Chromium");
    let output = Command::new("node")
        .arg("bench/kernel.mjs")
        .arg(&cell)
        .current_dir(crate::project_root().join("e2e"))
        .env("RUNBOARD_BIN", crate::target_dir().join("debug/runboard"))
        .stderr(Stdio::inherit())
        .output()
        .context("running node e2e/bench/kernel.mjs")?;
    if !output.status.success() {
        bail!("e2e/bench/kernel.mjs failed ({})", output.status);
    }
    let browser = last_json(&output.stdout, "e2e/bench/kernel.mjs")?;
    let python = Figures::read(&browser, "python")?;
    let rust = Figures::read(&browser, "rust")?;
    let number = |v: &serde_json::Value, key: &str| {
        v[key].as_f64().with_context(|| format!("no {key} in {v}"))
    };

    let worker = crate::frontend::wasm_app_size_gzipped("kernel")?;
    let portal = crate::frontend::bundle_size_gzipped()?;
    let notebook = crate::frontend::wasm_app_size_gzipped("notebook")?;
    let kb = |bytes: u64| bytes as f64 / 1000.0;
    let verdict = |ok: bool| if ok { "within target" } else { "OVER TARGET" };
    println!();
    println!("kernel bench: load average {}", load_average());
    println!(
        "issue 11's figures: CPython (Pyodide) beside the Rust kernel, both measured in this run"
    );
    println!(
        "  {:<44} {:>12} {:>12}   target",
        "", "CPython", "Rust kernel"
    );
    let row = |what: &str, py: f64, rs: f64, unit: &str, target: Option<f64>| {
        let target = match target {
            Some(t) => format!("<= {t} {unit}: {}", verdict(py <= t)),
            None => "reported".to_owned(),
        };
        println!("  {what:<44} {py:>9.0} {unit:<2} {rs:>9.0} {unit:<2}  {target}");
    };
    row(
        "cold open to ready, empty cache (median)",
        median(&python.cold_ms),
        median(&rust.cold_ms),
        "ms",
        Some(COLD_TARGET_MS),
    );
    row(
        "warm open to ready, files cached (median)",
        median(&python.warm_ms),
        median(&rust.warm_ms),
        "ms",
        Some(WARM_TARGET_MS),
    );
    println!(
        "  {:<44} {:>12.2} {:>12.2}   <= {CELL_TARGET_MS} ms: {}",
        "a 200-line cell, ms (median)",
        median(&python.cell_ms),
        median(&rust.cell_ms),
        verdict(median(&python.cell_ms) <= CELL_TARGET_MS)
    );
    row(
        "bytes downloaded, cold open (as sent)",
        python.cold_bytes,
        rust.cold_bytes,
        "B",
        None,
    );
    row(
        "bytes downloaded, warm open (as sent)",
        python.warm_bytes,
        rust.warm_bytes,
        "B",
        None,
    );
    println!(
        "  {:<44} {portal:>9} B  (one portal for both kernels)  <= {} B: {}",
        "the portal's bundle, gzipped wasm + JS",
        PORTAL_TARGET,
        verdict(portal <= PORTAL_TARGET)
    );
    for (name, figures) in [("CPython", &python), ("Rust kernel", &rust)] {
        println!("{name}: every measurement (ms)");
        println!("  cold {:?}", figures.cold_ms);
        println!("  warm {:?}", figures.warm_ms);
        println!("  200-line cell {:?}", figures.cell_ms);
        for phase in &figures.phases {
            println!("  {phase}");
        }
    }
    println!("a 200-line cell outside the browser (medians)");
    println!(
        "  native Rust kernel (release){:>14.2} ms",
        number(&native, "native_ms")?
    );
    println!(
        "  baseline: CPython compile + exec{:>10.2} ms",
        number(&native, "cpython_ms")?
    );
    println!("gzipped downloads (wasm + JS; 1 KB = 1,000 B)");
    println!(
        "  Rust kernel worker {:>8.1} KB  {worker:>9} B  (target <= {} KB: {})",
        kb(worker),
        WORKER_TARGET / 1000,
        verdict(worker <= WORKER_TARGET)
    );
    println!(
        "  portal          {:>8.1} KB  {portal:>9} B  (target <= {} KB without the worker: {})",
        kb(portal),
        PORTAL_TARGET / 1000,
        verdict(portal <= PORTAL_TARGET)
    );
    println!(
        "  notebook pages  {:>8.1} KB  {notebook:>9} B  (no target; loaded only at /tree and /notebooks)",
        kb(notebook)
    );
    Ok(())
}

/// One kernel's figures from `e2e/bench/kernel.mjs`.
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
        let list = |key: &str| -> Result<Vec<f64>> {
            let values: Vec<f64> = v[key]
                .as_array()
                .with_context(|| format!("no {kernel}.{key} in the browser's figures"))?
                .iter()
                .filter_map(serde_json::Value::as_f64)
                .collect();
            if values.is_empty() {
                bail!("{kernel}.{key} is empty in the browser's figures");
            }
            Ok(values)
        };
        let number = |key: &str| {
            v[key]
                .as_f64()
                .with_context(|| format!("no {kernel}.{key} in the browser's figures"))
        };
        Ok(Self {
            cell_ms: list("cell_ms")?,
            cold_ms: list("cold_ms")?,
            warm_ms: list("warm_ms")?,
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
