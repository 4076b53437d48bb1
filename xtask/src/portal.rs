//! `cargo xtask bench portal`: what the run portal costs a user, beside a plain HTML
//! page that shows the same log (`static/bench/baseline.html`):
//! - the gzipped download: the app's wasm + JS, against the baseline page;
//! - in Chromium, navigation start → first log line on screen on a running job's
//!   page, median of cold loads, against the baseline page on the same server and
//!   job, measured alternately in the same run (`e2e/bench/portal.mjs`).

use std::process::Command;

use anyhow::{Context, Result, bail};

/// The portal's budget: gzipped wasm + JS, in the stricter reading of KB (1,000 B).
const SIZE_TARGET: u64 = 400 * 1000;
/// The portal's budget: navigation start → first log line, on loopback.
const FIRST_LINE_TARGET_MS: u64 = 1000;

pub(crate) fn bench() -> Result<()> {
    crate::setup::python()?;
    crate::setup::e2e_setup()?;
    // What users download: the size-optimised bundle.
    crate::frontend::build(true)?;
    crate::cargo(&["build", "--package", "runboard-server"])?;
    let portal_size = crate::frontend::bundle_size_gzipped()?;
    let baseline_size = crate::frontend::gzipped_size_of("bench/baseline.html")?;

    crate::step("bench portal: navigation start → first log line, in Chromium");
    let root = crate::project_root();
    let output = Command::new("node")
        .arg("bench/portal.mjs")
        .current_dir(root.join("e2e"))
        .env("RUNBOARD_BIN", crate::target_dir().join("debug/runboard"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running node e2e/bench/portal.mjs")?;
    if !output.status.success() {
        bail!("e2e/bench/portal.mjs failed ({})", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .with_context(|| format!("e2e/bench/portal.mjs printed no result:\n{stdout}"))?;
    let times = |key: &str| -> Result<Vec<u64>> {
        result[key]
            .as_array()
            .with_context(|| format!("no {key} in {result}"))?
            .iter()
            .map(|v| {
                v.as_u64()
                    .with_context(|| format!("{key}: {v} is not a time"))
            })
            .collect()
    };
    let (portal, baseline) = (times("portal_ms")?, times("baseline_ms")?);

    println!();
    println!("{:<52}{:>12}{:>14}", "portal bench", "portal", "baseline");
    println!(
        "{:<52}{:>9.1} KB{:>11.1} KB",
        format!("gzipped wasm + js (target <= {} KB)", SIZE_TARGET / 1000),
        portal_size as f64 / 1000.0,
        baseline_size as f64 / 1000.0
    );
    println!(
        "{:<52}{:>9} ms{:>11} ms",
        format!("navigation -> first log line, median (<= {FIRST_LINE_TARGET_MS} ms)"),
        median(&portal),
        median(&baseline)
    );
    println!("  baseline: a plain HTML page on the same server (static/bench/baseline.html)");
    println!(
        "  gzipped sizes: portal {portal_size} B, baseline {baseline_size} B (1 KB = 1,000 B)"
    );
    println!("  each cold load, ms: portal {portal:?}, baseline {baseline:?}");
    let verdict = |ok: bool| if ok { "within target" } else { "OVER TARGET" };
    println!(
        "  size {}; first line {}",
        verdict(portal_size <= SIZE_TARGET),
        verdict(median(&portal) <= FIRST_LINE_TARGET_MS)
    );
    Ok(())
}

fn median(values: &[u64]) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[5, 1, 3]), 3);
        assert_eq!(median(&[4, 1, 3, 2]), 3);
        assert_eq!(median(&[]), 0);
    }
}
