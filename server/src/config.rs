//! Server settings, the access token, and the client config file the CLI reads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store, runs and environments live.
    pub data_dir: PathBuf,
    /// The URL users reach the server at (portal links, `RUNBOARD_URL`).
    pub public_url: String,
    /// The access token for the API and the portal.
    pub token: String,
    /// The Python interpreter that runs training scripts.
    pub python: String,
    /// Largest snapshot accepted, unpacked, in bytes.
    pub max_snapshot_bytes: u64,
    /// Largest request body accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The `runboard` binary used as the run supervisor.
    pub supervisor_exe: PathBuf,
    /// Seconds between SIGTERM and SIGKILL when a job is stopped.
    pub grace_seconds: u64,
    /// How often running jobs are polled and their logs read.
    pub poll_interval: Duration,
    /// Folder of the built web app (index.html and its assets), if any.
    pub static_dir: Option<PathBuf>,
    /// Compute targets besides `local`, from the config file.
    pub compute: std::collections::BTreeMap<String, ComputeTargetConfig>,
}

impl Config {
    /// Settings for a data folder with the defaults; `public_url` and `token` still
    /// have to be set.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            public_url: "http://127.0.0.1:8070".into(),
            token: String::new(),
            python: "python3".into(),
            max_snapshot_bytes: crate::runner::snapshot::DEFAULT_LIMIT,
            max_upload_bytes: crate::runner::snapshot::DEFAULT_LIMIT + 16 * 1024 * 1024,
            supervisor_exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runboard")),
            grace_seconds: 3,
            poll_interval: Duration::from_millis(20),
            static_dir: None,
            compute: std::collections::BTreeMap::new(),
        }
    }
}

/// A random token: 32 hex digits.
pub fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The server's token, from `<data-dir>/token`, made at first start (mode 0600).
pub fn load_or_create_token(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("token");
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => return Ok(token.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
    let token = new_token();
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    std::io::Write::write_all(&mut file, token.as_bytes())?;
    Ok(token)
}

/// What the CLI needs to reach a server; written by `runboard serve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// The server's URL.
    pub url: String,
    /// The access token.
    pub token: String,
}

/// Where the client config lives: `$RUNBOARD_CONFIG`, else
/// `$XDG_CONFIG_HOME/runboard/client.json`, else `~/.config/runboard/client.json`.
pub fn client_config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RUNBOARD_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("runboard").join("client.json"))
}

impl ClientConfig {
    /// Reads the client config, if there is one.
    pub fn load() -> Option<Self> {
        let text = std::fs::read_to_string(client_config_path()?).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the client config (mode 0600).
    pub fn save(&self) -> std::io::Result<PathBuf> {
        let path = client_config_path()
            .ok_or_else(|| std::io::Error::other("no HOME to write the client config in"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        serde_json::to_writer_pretty(&mut file, self)?;
        Ok(path)
    }
}

/// The server's config file (`--config`, else `<data-dir>/runboard.toml` when it
/// exists). Today it names compute targets besides `local`:
///
/// ```toml
/// [compute.cpu-cluster]
/// kind = "slurm"
/// partition = "debug"
/// mpi_launcher = "srun"   # or "mpirun"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Compute targets by name.
    #[serde(default)]
    pub compute: std::collections::BTreeMap<String, ComputeTargetConfig>,
}

/// One compute target of the config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum ComputeTargetConfig {
    /// A Slurm cluster reached through `sbatch`, `squeue`, `scancel` on this machine.
    Slurm(SlurmConfig),
}

/// Settings of a Slurm compute target.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmConfig {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// A folder shared with the nodes. The run folders must be visible on the nodes at
    /// the same path; when the data folder is not shared, point it here.
    pub shared_dir: Option<PathBuf>,
    /// The Python on the nodes for `user_managed` runs (default: the server's).
    pub python: Option<String>,
    /// How MPI jobs start their ranks.
    #[serde(default)]
    pub mpi_launcher: MpiLauncher,
    /// Extra `mpirun` arguments (for example `--mca btl tcp,self`).
    #[serde(default)]
    pub mpirun_args: Vec<String>,
    /// Extra `#SBATCH` lines (`--gres=gpu:1`).
    #[serde(default)]
    pub sbatch_args: Vec<String>,
    /// Environment variables for every job on this target.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
}

/// How an MPI job's ranks start on a Slurm target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MpiLauncher {
    /// `srun --mpi=pmix`: the usual way on a cluster.
    #[default]
    Srun,
    /// `mpirun` inside the allocation.
    Mpirun,
}

/// Reads the config file at `path`.
pub fn load_file(path: &Path) -> Result<FileConfig, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
