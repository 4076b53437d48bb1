//! `cargo xtask run|test|bench`: the project's two commands and its benchmarks.
//!
//! Each command first sets up what it needs and is missing (see [`setup`]); as root it
//! installs Debian packages with apt-get, otherwise it stops and prints the one
//! command to run.

mod bench;
mod frontend;
mod setup;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench::main(&args[1..]),
        Some("frontend") => frontend::build(args[1..].iter().any(|a| a == "--release")),
        _ => {
            eprintln!(
                "usage: cargo xtask run [-- serve flags]   build everything and start the server\n\
                 \x20      cargo xtask test                  fmt, clippy, unit, integration and browser tests\n\
                 \x20      cargo xtask bench [NAME]          benchmarks: {}\n\
                 \x20      cargo xtask frontend [--release]  build the browser app into static/pkg/",
                bench::NAMES.join(", ")
            );
            std::process::exit(2)
        }
    }
}

/// `cargo xtask run`: builds the browser app and the server, and starts the server on
/// a data folder in the checkout.
fn run(extra: &[String]) -> Result<()> {
    setup::python()?;
    setup::uv()?;
    frontend::build(false)?;
    cargo(&["build", "--package", "runboard-server"])?;
    let bin = target_dir().join("debug/runboard");
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--data-dir", "runboard-data"])
        .args(extra);
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
    setup::e2e_setup()?;
    step("cargo test");
    cargo(&["test", "--workspace"])?;
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
