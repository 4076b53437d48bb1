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
    let command = format!(
        "apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
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

/// The browser tests (`e2e/`) need Debian's Chromium and Playwright's npm packages.
/// Playwright drives `/usr/bin/chromium` (`e2e/playwright.config.ts`): its own browser
/// downloads cannot be used here.
pub(crate) fn e2e_setup() -> Result<()> {
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        apt_install(&["chromium"])?;
    }
    let e2e = crate::project_root().join("e2e");
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = modified(&e2e.join("package-lock.json"));
    // npm writes this file on every install: its age is the age of node_modules.
    let installed = modified(&e2e.join("node_modules/.package-lock.json"));
    if installed.is_some() && installed >= lock {
        return Ok(());
    }
    if !has("npm", &["--version"]) {
        apt_install(&["nodejs", "npm"])?;
    }
    eprintln!("==> npm ci in e2e/");
    let status = Command::new("npm").arg("ci").current_dir(&e2e).status()?;
    if !status.success() {
        bail!("`npm ci` in {} failed ({status})", e2e.display());
    }
    Ok(())
}

/// `uv` builds the runs' Python environments (the server falls back to venv + pip
/// without it, much slower). Installed from PyPI with pip when missing.
pub(crate) fn uv() -> Result<()> {
    if has("uv", &["--version"]) || has("python3", &["-m", "uv", "--version"]) {
        return Ok(());
    }
    eprintln!("==> installing uv from PyPI");
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "uv"])
        .status()?;
    if !status.success() {
        bail!("`python3 -m pip install uv` failed; run it by hand and try again");
    }
    Ok(())
}

/// Debian's packages for the local Slurm cluster and MPI across its nodes.
const SLURM_PACKAGES: [&str; 6] = [
    "slurmctld",
    "slurmd",
    "slurm-client",
    "munge",
    "openmpi-bin",
    "libpmix-dev",
];

/// True when dpkg reports the Debian package installed.
fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.ends_with(b" installed"))
}

/// True when `sinfo` reports both nodes of the local cluster answering.
fn slurm_up() -> bool {
    Command::new("sinfo")
        .args(["-h", "-N", "-o", "%t"])
        .stderr(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| {
            let states = String::from_utf8_lossy(&o.stdout);
            let up = states
                .lines()
                .filter(|s| matches!(s.trim(), "idle" | "mix" | "alloc"))
                .count();
            o.status.success() && up == 2
        })
}

/// The local two-node Slurm cluster (`scripts/local-slurm.sh`) for the Slurm tests:
/// installs the packages when missing (as root), then starts the cluster. `Ok(false)`,
/// having said why, when the packages are missing and cannot be installed here (not
/// root, or no apt-get): the tests that need it then skip. With the packages present, a
/// cluster that is not up (and cannot be started: not root, or the script fails) is an
/// error, as the tests would fail.
pub(crate) fn slurm() -> Result<bool> {
    let missing: Vec<&str> = SLURM_PACKAGES
        .into_iter()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if !missing.is_empty() {
        let command = format!(
            "apt-get install -y --no-install-recommends {}",
            missing.join(" ")
        );
        if !is_root() || !has("apt-get", &["--version"]) {
            eprintln!(
                "==> Slurm packages missing ({}): the Slurm tests will skip; \
                 to run them: sudo sh -c 'apt-get update && {command}'",
                missing.join(", ")
            );
            return Ok(false);
        }
        apt_install(&missing)?;
    }
    if !is_root() {
        if slurm_up() {
            return Ok(true);
        }
        bail!(
            "the local Slurm cluster is not running and starting it needs root; \
             run: sudo scripts/local-slurm.sh start"
        );
    }
    eprintln!("==> starting the local Slurm cluster (scripts/local-slurm.sh start)");
    let script = crate::project_root().join("scripts/local-slurm.sh");
    let status = Command::new("bash").arg(&script).arg("start").status()?;
    if !status.success() {
        bail!("`{} start` failed ({status})", script.display());
    }
    Ok(true)
}
