//! Building Python environments on the local target: `<data>/envs/<hash>/`, made
//! with `uv` (or `python -m venv` + pip when uv is missing, or conda/mamba/micromamba
//! for conda packages when one is on PATH), built once per hash and reused.
//!
//! A built environment holds `.runboard-env.json` (its manifest, written last): an
//! environment folder without it is a build that did not finish, and is removed.
//! One build per hash runs at a time; runs that need the same environment wait for
//! it and then reuse it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use runboard_shared::environment::{CondaMode, EnvSpec};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

/// Errors of environment building.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The installer failed; the message ends with the tail of the build log.
    #[error("building environment {hash} failed: {message}")]
    BuildFailed {
        /// The environment's hash.
        hash: String,
        /// What the installer said (the last lines of its output).
        message: String,
    },
    /// Reading or writing the environment folder or the log failed.
    #[error("environment I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The installer used for pip packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installer {
    /// `uv`, run as this program and leading arguments (`["uv"]`, `["python3", "-m", "uv"]`).
    Uv(Vec<String>),
    /// `python -m venv` then the environment's own pip.
    Pip,
}

impl Installer {
    /// The name that goes into the environment hash.
    pub fn name(&self) -> &'static str {
        match self {
            Installer::Uv(_) => "uv",
            Installer::Pip => "pip",
        }
    }
}

/// What the builder knows about the target, found once at server start.
#[derive(Debug)]
pub struct Builder {
    /// `<data>/envs`.
    pub root: PathBuf,
    /// The target's interpreter (`python3`).
    pub python: String,
    /// Its version (`3.11.7`).
    pub python_version: String,
    /// How pip packages are installed.
    pub installer: Installer,
    /// A conda, mamba or micromamba on PATH.
    pub conda: Option<PathBuf>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The manifest of a built environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The environment's hash.
    pub hash: String,
    /// What was asked for.
    pub spec: EnvSpec,
    /// The interpreter's version.
    pub python_version: String,
    /// `uv`, `pip` or `conda`.
    pub installer: String,
    /// When it was built (RFC 3339).
    pub created: String,
    /// `pip freeze` of the environment: what is really installed.
    pub packages: Vec<String>,
}

/// A ready environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    /// The environment's hash.
    pub hash: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Its interpreter.
    pub python: PathBuf,
    /// False when this call built it.
    pub reused: bool,
}

/// The manifest file's name inside an environment folder.
pub const MANIFEST: &str = ".runboard-env.json";

/// The interpreter's real path (`sys.executable`), so that each run skips wrappers
/// such as pyenv's shims (about 200 ms a start here); `python` itself when it cannot
/// be asked.
pub fn resolve_interpreter(python: &str) -> String {
    super::stdout_of(python, &["-c", "import sys; print(sys.executable)"])
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| python.to_owned())
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

impl Builder {
    /// Looks at the target: the interpreter's version, uv, conda.
    pub fn detect(root: PathBuf, python: &str) -> Self {
        let python_version = super::stdout_of(
            python,
            &["-c", "import platform; print(platform.python_version())"],
        )
        .unwrap_or_else(|| "unknown".to_owned());
        let installer = if super::stdout_of("uv", &["--version"]).is_some() {
            Installer::Uv(vec!["uv".into()])
        } else if let Some(host) = [python, "python3"]
            .into_iter()
            .find(|p| super::stdout_of(p, &["-m", "uv", "--version"]).is_some())
        {
            // The server's own `python3` may have uv when the jobs' interpreter
            // (another, for a job user: crate::jobuser) does not.
            Installer::Uv(vec![host.into(), "-m".into(), "uv".into()])
        } else {
            Installer::Pip
        };
        let conda = ["micromamba", "mamba", "conda"]
            .iter()
            .find_map(|p| on_path(p));
        Self {
            root,
            python: python.to_owned(),
            python_version,
            installer,
            conda,
            locks: Mutex::default(),
        }
    }

    /// How `conda_packages` are installed on this target.
    pub fn conda_mode(&self) -> CondaMode {
        if self.conda.is_some() {
            CondaMode::Native
        } else {
            CondaMode::ViaPip
        }
    }

    /// The hash that names the environment of `spec` here.
    pub fn hash(&self, spec: &EnvSpec) -> String {
        let tool = if spec.conda.is_empty() {
            self.installer.name()
        } else {
            "conda"
        };
        spec.hash(&self.python_version, tool)
    }

    /// The manifests of every built environment, with their folder sizes in bytes.
    pub fn list(&self) -> Vec<(Manifest, u64, std::time::SystemTime)> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let manifest_path = entry.path().join(MANIFEST);
            let Ok(text) = std::fs::read_to_string(&manifest_path) else {
                continue;
            };
            let Ok(manifest) = serde_json::from_str::<Manifest>(&text) else {
                continue;
            };
            let used = std::fs::metadata(&manifest_path)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            out.push((manifest, dir_size(&entry.path()), used));
        }
        out.sort_by(|a, b| a.0.hash.cmp(&b.0.hash));
        out
    }

    /// Makes sure the environment of `spec` exists, building it if needed. The build's
    /// output is appended to `log`; `snapshot` holds the files the spec names.
    pub async fn ensure(
        &self,
        spec: &EnvSpec,
        requirements_file: Option<&Path>,
        log: &Path,
    ) -> Result<Ready, EnvError> {
        let hash = self.hash(spec);
        let dir = self.root.join(&hash);
        let ready = |reused| Ready {
            hash: hash.clone(),
            python: dir.join("bin/python"),
            dir: dir.clone(),
            reused,
        };
        let mut log_file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .await?;
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(locks.entry(hash.clone()).or_default())
        };
        let _guard = match lock.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                log_file
                    .write_all(
                        format!("Waiting for environment {hash}: another run is building it\n")
                            .as_bytes(),
                    )
                    .await?;
                lock.lock().await
            }
        };
        let manifest_path = dir.join(MANIFEST);
        if manifest_path.is_file() {
            // Record the use, for the environments page.
            if let Ok(file) = std::fs::File::options().append(true).open(&manifest_path) {
                let _ = file.set_modified(std::time::SystemTime::now());
            }
            log_file
                .write_all(format!("Reusing environment {hash} ({})\n", spec.describe()).as_bytes())
                .await?;
            return Ok(ready(true));
        }
        if dir.exists() {
            tokio::fs::remove_dir_all(&dir).await?;
        }
        tokio::fs::create_dir_all(&self.root).await?;
        let mut header = format!(
            "Building environment {hash} with {} for Python {} ({})\n",
            if spec.conda.is_empty() {
                self.installer.name()
            } else {
                "conda"
            },
            self.python_version,
            spec.describe()
        );
        for warning in &spec.warnings {
            header.push_str(warning);
            header.push('\n');
        }
        log_file.write_all(header.as_bytes()).await?;
        drop(log_file);

        let result = self.build(spec, requirements_file, &dir, log).await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_dir_all(&dir).await;
            let tail = super::log_tail(log, 20, 4000);
            return Err(EnvError::BuildFailed {
                hash,
                message: format!("{e}\n{tail}"),
            });
        }
        let packages = self.freeze(&dir).await;
        let mut footer = format!(
            "Environment {hash} is ready: {} packages installed\n",
            packages.len()
        );
        if let Some(name) = &spec.unpinned_framework
            && let Some(installed) = packages
                .iter()
                .find(|p| p.to_ascii_lowercase().starts_with(&format!("{name}==")))
        {
            footer.push_str(&format!(
                "warning: framework_version was not given, so the newest {name} the package index offers for Python {} was installed: {installed}; set framework_version to pin it\n",
                self.python_version
            ));
        }
        append(log, &footer).await?;
        let manifest = Manifest {
            hash: hash.clone(),
            spec: spec.clone(),
            python_version: self.python_version.clone(),
            installer: if spec.conda.is_empty() {
                self.installer.name()
            } else {
                "conda"
            }
            .to_owned(),
            created: crate::store::now(),
            packages,
        };
        let tmp = dir.join(".runboard-env.json.tmp");
        tokio::fs::write(
            &tmp,
            serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?,
        )
        .await?;
        tokio::fs::rename(&tmp, &manifest_path).await?;
        Ok(ready(false))
    }

    async fn build(
        &self,
        spec: &EnvSpec,
        requirements_file: Option<&Path>,
        dir: &Path,
        log: &Path,
    ) -> Result<(), String> {
        let dir_s = dir.display().to_string();
        let env_python = dir.join("bin/python").display().to_string();
        // 1. The interpreter: a conda environment or a virtual environment.
        if !spec.conda.is_empty() {
            let conda = self
                .conda
                .as_ref()
                .ok_or("conda packages need conda on the target")?;
            let mut args: Vec<String> = vec![
                "create".into(),
                "--yes".into(),
                "--prefix".into(),
                dir_s.clone(),
            ];
            for channel in &spec.channels {
                args.extend(["-c".into(), channel.clone()]);
            }
            if !spec.conda.iter().any(|p| p.starts_with("python")) {
                args.push(format!("python={}", self.python_version));
            }
            args.push("pip".into());
            args.extend(spec.conda.iter().cloned());
            run_logged(&conda.display().to_string(), &args, log).await?;
        } else {
            match &self.installer {
                Installer::Uv(uv) => {
                    let mut args: Vec<String> = uv[1..].to_vec();
                    args.extend([
                        "venv".into(),
                        "--python".into(),
                        self.python.clone(),
                        dir_s.clone(),
                    ]);
                    run_logged(&uv[0], &args, log).await?;
                }
                Installer::Pip => {
                    run_logged(
                        &self.python,
                        &["-m".into(), "venv".into(), dir_s.clone()],
                        log,
                    )
                    .await?;
                }
            }
        }
        // 2. The pip packages and the requirements file.
        // Options first (the requirements file), then `--`, then the packages: a
        // package is never read as an option (their grammar already forbids a
        // leading '-': runboard_shared::grammar).
        let mut packages: Vec<String> = Vec::new();
        if let Some(file) = requirements_file {
            packages.extend(["-r".into(), file.display().to_string()]);
        }
        if spec.pip.is_empty() && packages.is_empty() {
            return Ok(());
        }
        if !spec.pip.is_empty() {
            packages.push("--".into());
            packages.extend(spec.pip.iter().cloned());
        }
        match (&self.installer, spec.conda.is_empty()) {
            (Installer::Uv(uv), _) => {
                let mut args: Vec<String> = uv[1..].to_vec();
                args.extend([
                    "pip".into(),
                    "install".into(),
                    "--python".into(),
                    env_python,
                ]);
                args.extend(packages);
                run_logged(&uv[0], &args, log).await
            }
            (Installer::Pip, _) => {
                let mut args: Vec<String> = vec![
                    "-m".into(),
                    "pip".into(),
                    "install".into(),
                    "--disable-pip-version-check".into(),
                ];
                args.extend(packages);
                run_logged(&env_python, &args, log).await
            }
        }
    }

    async fn freeze(&self, dir: &Path) -> Vec<String> {
        let env_python = dir.join("bin/python").display().to_string();
        let out = match &self.installer {
            Installer::Uv(uv) => {
                let mut args: Vec<String> = uv[1..].to_vec();
                args.extend([
                    "pip".into(),
                    "freeze".into(),
                    "--color".into(),
                    "never".into(),
                    "--python".into(),
                    env_python,
                ]);
                tokio::process::Command::new(&uv[0])
                    .args(args)
                    .env("NO_COLOR", "1")
                    .output()
                    .await
            }
            Installer::Pip => {
                tokio::process::Command::new(env_python)
                    .args(["-m", "pip", "freeze", "--disable-pip-version-check"])
                    .output()
                    .await
            }
        };
        out.map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default()
    }

    /// Removes a built environment. False when there is none with that hash.
    pub fn remove(&self, hash: &str) -> std::io::Result<bool> {
        if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let dir = self.root.join(hash);
        if !dir.join(MANIFEST).is_file() {
            return Ok(false);
        }
        std::fs::remove_dir_all(dir)?;
        Ok(true)
    }
}

/// The versions of `package` that the package index offers for the target's Python,
/// newest first (`pip index versions`), as the SDK's `get_supported_versions()`.
pub async fn available_versions(python: &str, package: &str) -> Result<Vec<String>, EnvError> {
    let out = tokio::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "index",
            "versions",
            package,
            "--disable-pip-version-check",
        ])
        .stdin(Stdio::null())
        .output()
        .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let versions = text
        .lines()
        .find_map(|l| l.strip_prefix("Available versions:"))
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !out.status.success() {
        return Err(EnvError::BuildFailed {
            hash: String::new(),
            message: format!(
                "the package index did not answer for {package}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(versions)
}

async fn append(log: &Path, text: &str) -> std::io::Result<()> {
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .await?;
    file.write_all(text.as_bytes()).await
}

/// Runs a command with its output appended to `log`, as it is written.
async fn run_logged(program: &str, args: &[String], log: &Path) -> Result<(), String> {
    let _ = append(log, &format!("$ {program} {}\n", args.join(" "))).await;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| e.to_string())?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .env("NO_COLOR", "1")
        .env("PIP_PROGRESS_BAR", "off")
        .status()
        .await
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` failed ({status})",
            args.first().map(String::as_str).unwrap_or("")
        ))
    }
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
