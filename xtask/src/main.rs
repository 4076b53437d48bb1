//! `cargo xtask run|test|bench`: the project's two commands and its benchmarks.
//!
//! Each command first sets up what it needs and is missing (see [`setup`]); as root it
//! installs Debian packages with apt-get, otherwise it stops and prints the one
//! command to run.

mod bench;
mod e2e;
mod frontend;
mod fuzz;
mod kernel_bench;
mod portal;
mod pykernel;
mod serve_command;
mod setup;
mod skips;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => {
            let result = test();
            // The last line, pass or fail: which real-component tests did not run.
            eprintln!("\n{}", skips::summary());
            result
        }
        Some("bench") => bench::main(&args[1..]),
        // The API fuzzing step of `test` alone.
        Some("fuzz") => fuzz::test(),
        Some("frontend") => frontend::build(args[1..].iter().any(|a| a == "--release")),
        _ => {
            eprintln!(
                "usage: cargo xtask run [--release]       build everything and start the server\n\
                 \x20      cargo xtask test                  fmt, clippy, unit, integration and browser tests\n\
                 \x20      cargo xtask fuzz                  schemathesis against a real server's /api/openapi.json\n\
                 \x20      cargo xtask bench [NAME]          benchmarks: {}\n\
                 \x20      cargo xtask frontend [--release]  build the browser app into static/pkg/",
                bench::NAMES.join(", ")
            );
            std::process::exit(2)
        }
    }
}

/// `cargo xtask run [--release] [serve flags]`: builds the browser app and the server,
/// and starts the server on a data folder in the checkout.
///
/// A dev build serves the bundle from `static/pkg/` (`--static-dir`), so a rebuilt
/// frontend shows at the next page load. `--release` builds the size-optimised bundle
/// and a release server with the `embed-ui` feature, which carries the bundle inside
/// the binary: that `runboard serve` needs no files beside it.
fn run(args: &[String]) -> Result<()> {
    let release = args.iter().any(|a| a == "--release");
    let extra: Vec<&String> = args.iter().filter(|a| *a != "--release").collect();
    setup::python()?;
    setup::uv()?;
    frontend::build(release)?;
    let bin = if release {
        cargo(&[
            "build",
            "--release",
            "--package",
            "runboard-server",
            "--features",
            "embed-ui",
        ])?;
        target_dir().join("release/runboard")
    } else {
        cargo(&["build", "--package", "runboard-server"])?;
        target_dir().join("debug/runboard")
    };
    let mut cmd = Command::new(bin);
    cmd.args(serve_command::serve_args(serve_command::DATA_DIR, release));
    cmd.args(extra);
    let status = cmd.status().context("starting runboard serve")?;
    if !status.success() {
        bail!("runboard serve exited with {status}");
    }
    Ok(())
}

/// `cargo xtask test`: formatting, lints, then every test.
fn test() -> Result<()> {
    setup::python()?;
    setup::uv()?;
    skips::reset()?;
    step("cargo fmt --check");
    cargo(&["fmt", "--all", "--check"])?;
    step("cargo clippy -D warnings");
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    // The browser tests load the built app in Debian's Chromium.
    frontend::build(false)?;
    // Code that exists only in the browser build (the worker's host, the apps' entry
    // points) is linted for its own target too.
    step("cargo clippy -D warnings (wasm32)");
    cargo(&[
        "clippy",
        "--package",
        "runboard-frontend",
        "--package",
        "runboard-notebook",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ])?;
    setup::e2e_setup()?;
    // The Slurm tests' two-node cluster (scripts/local-slurm.sh); without Slurm's
    // packages (not installable here) those tests skip, saying so.
    setup::slurm()?;
    step("cargo test");
    cargo(&["test", "--workspace"])?;
    fuzz::test()?;
    e2e::test(None)?;
    // The release bundle differs from the dev one (size-optimised, through wasm-opt):
    // the browser tests tagged @release run again on it.
    frontend::build(true)?;
    e2e::test(Some("@release"))?;
    Ok(())
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}

/// Runs cargo with `args`, failing if it fails.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .env("RUNBOARD_SKIP_LOG", skips::log_path())
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The workspace root (the folder above `xtask/`).
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target folder (`CARGO_TARGET_DIR` when set).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("target"))
}
