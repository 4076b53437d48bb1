//! Setting up what the commands need: each function checks for one thing and, when it
//! is missing, installs it (as root, through apt-get or pip) or says the one command
//! that would.

use std::process::Command;

use anyhow::{Result, bail};

/// True when `program --version` (or the given probe) runs.
pub(crate) fn has(program: &str, probe: &[&str]) -> bool {
    Command::new(program)
        .args(probe)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// True when this process runs as root (so apt-get may be used).
pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs Debian packages when run as root, else stops with the command to run.
pub(crate) fn apt_install(packages: &[&str]) -> Result<()> {
    let command = format!("apt-get install -y --no-install-recommends {}", packages.join(" "));
    if !is_root() {
        bail!("missing Debian packages; run: sudo sh -c 'apt-get update && {command}'");
    }
    eprintln!("==> installing {} with apt-get", packages.join(", "));
    let update = Command::new("apt-get").args(["update", "-q"]).status()?;
    if !update.success() {
        bail!("apt-get update failed");
    }
    let status = Command::new("sh")
        .args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {command}")])
        .status()?;
    if !status.success() {
        bail!("`{command}` failed");
    }
    Ok(())
}

/// Python 3 runs the users' training scripts.
pub(crate) fn python() -> Result<()> {
    if has("python3", &["--version"]) {
        return Ok(());
    }
    apt_install(&["python3", "python3-venv", "python3-pip"])
}
