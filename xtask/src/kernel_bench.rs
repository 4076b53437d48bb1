//! `cargo xtask bench kernel`: the notebook kernel's cost.
//! - Time to parse and evaluate a 200-line cell (`shared/benches/kernel.rs` makes it):
//!   in Chromium by the notebook's kernel, CPython in Pyodide, and by the older Rust
//!   kernel (`?kernel=rust`), each in its Web Worker and timed by the notebook page
//!   (`e2e/bench/kernel.mjs`, which also times opening the notebook cold and warm and
//!   counts the bytes downloaded); the Rust kernel natively (release); and CPython's
//!   `compile` + `exec` of the same cell as the baseline, all in this run.
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
    let browser_ms: Vec<f64> = browser["browser_ms"]
        .as_array()
        .context("no browser_ms")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    let number = |v: &serde_json::Value, key: &str| {
        v[key].as_f64().with_context(|| format!("no {key} in {v}"))
    };

    let ms_list = |key: &str| -> Vec<f64> {
        browser[key]
            .as_array()
            .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
            .unwrap_or_default()
    };
    let rust_ms = ms_list("rust_browser_ms");

    let worker = crate::frontend::wasm_app_size_gzipped("kernel")?;
    let portal = crate::frontend::bundle_size_gzipped()?;
    let notebook = crate::frontend::wasm_app_size_gzipped("notebook")?;
    let kb = |bytes: u64| bytes as f64 / 1000.0;
    let verdict = |ok: bool| if ok { "within target" } else { "OVER TARGET" };
    println!();
    println!("kernel bench: a 200-line cell (medians)");
    let cell_ms = median(&browser_ms);
    println!(
        "  in Chromium, CPython (Pyodide){:>12.2} ms   (target <= {CELL_TARGET_MS} ms: {}; {} runs: {:?})",
        cell_ms,
        verdict(cell_ms <= CELL_TARGET_MS),
        browser_ms.len(),
        browser_ms
    );
    println!(
        "  in Chromium, the Rust kernel (wasm){:>7.2} ms   ({} runs: {:?})",
        median(&rust_ms),
        rust_ms.len(),
        rust_ms
    );
    println!(
        "  native Rust kernel (release){:>14.2} ms",
        number(&native, "native_ms")?
    );
    println!(
        "  baseline: CPython compile + exec{:>10.2} ms",
        number(&native, "cpython_ms")?
    );
    let cold = number(&browser, "load_ms")?;
    let warm = number(&browser, "warm_load_ms")?;
    println!("opening the notebook until the kernel is ready");
    println!(
        "  CPython (Pyodide), cold: {cold} ms (target <= {COLD_TARGET_MS} ms: {}); warm: {warm} ms (target <= {WARM_TARGET_MS} ms: {})",
        verdict(cold <= COLD_TARGET_MS),
        verdict(warm <= WARM_TARGET_MS)
    );
    println!(
        "  the Rust kernel, cold: {} ms",
        number(&browser, "rust_load_ms")?
    );
    println!(
        "bytes downloaded to open the notebook (as sent, compressed): CPython {} B, Rust kernel {} B",
        number(&browser, "downloaded_bytes")?,
        number(&browser, "rust_downloaded_bytes")?
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
