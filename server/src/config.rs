//! Server settings, the access token, and the client config file the CLI reads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store, runs and environments live. Absolute (see
    /// [`Config::resolve_paths`]): jobs start in their own run folder, so a relative
    /// path derived from it (an environment's interpreter, the SDK on `PYTHONPATH`)
    /// would point nowhere there.
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
    /// At most how often a running job's folder is looked at (and how often when it
    /// is not watched).
    pub poll_interval: Duration,
    /// Whether run folders are watched for changes ([`crate::runner::wake`]).
    pub watch_run_folders: bool,
    /// Folder of the built web app (index.html and its assets), if any.
    pub static_dir: Option<PathBuf>,
    /// Compute targets besides `local`, from the config file.
    pub compute: std::collections::BTreeMap<String, ComputeTargetConfig>,
    /// How many runs the `local` target runs at once; more wait in `Queued`. At least
    /// 1. Default: [`default_local_limit`].
    pub local_max_concurrent_runs: u32,
    /// Host names admitted in `Host` besides `localhost`, IP addresses and the public
    /// URL's host (`runboard serve --allow-host`; see `api::guard`).
    pub allowed_hosts: Vec<String>,
    /// A browser session idle this long ends (default 30 days).
    pub session_idle: Duration,
    /// The unprivileged user local jobs run as, when the server is root
    /// ([`crate::jobuser`]); `None`: jobs run as the server's user.
    pub job_user: Option<crate::jobuser::JobUser>,
    /// The upstream package index that `/simple/` proxies for projects other than the
    /// SDK's (`[pip] index_url`; default [`DEFAULT_PIP_INDEX`]). Ends with `/`.
    pub pip_index_url: String,
}

/// PyPI's simple index: the default upstream of `/simple/`.
pub const DEFAULT_PIP_INDEX: &str = "https://pypi.org/simple/";

impl Config {
    /// Settings for a data folder with the defaults; `public_url` and `token` still
    /// have to be set.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            public_url: "http://127.0.0.1:8070".into(),
            token: String::new(),
            python: "python3".into(),
            max_snapshot_bytes: crate::snapshot::DEFAULT_LIMIT,
            max_upload_bytes: crate::snapshot::DEFAULT_LIMIT + 16 * 1024 * 1024,
            supervisor_exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runboard")),
            grace_seconds: 3,
            poll_interval: Duration::from_millis(20),
            watch_run_folders: true,
            static_dir: None,
            compute: std::collections::BTreeMap::new(),
            local_max_concurrent_runs: default_local_limit(),
            allowed_hosts: Vec::new(),
            session_idle: Duration::from_secs(30 * 24 * 3600),
            job_user: None,
            pip_index_url: DEFAULT_PIP_INDEX.into(),
        }
    }

    /// How many runs the compute target `target` may run at once (`None`: no limit,
    /// a Slurm target without `max_concurrent_runs`, whose own scheduler queues).
    pub fn max_concurrent_runs(&self, target: &str) -> Option<u32> {
        match self.compute.get(target) {
            Some(ComputeTargetConfig::Slurm(slurm)) => slurm.max_concurrent_runs,
            None if target == "local" => Some(self.local_max_concurrent_runs),
            // A target no longer configured: its runs fail when they start.
            None => None,
        }
    }

    /// Makes every path of the settings absolute against the current directory: the
    /// data folder, the web app's folder, an interpreter given as a path, and the Slurm
    /// targets' shared folders. `runboard serve` calls it once, before anything uses
    /// them; opening the server's state (`api::state`) refuses settings where it was
    /// not called.
    pub fn resolve_paths(mut self) -> std::io::Result<Self> {
        self.data_dir = std::path::absolute(&self.data_dir)?;
        if let Some(dir) = &self.static_dir {
            self.static_dir = Some(std::path::absolute(dir)?);
        }
        self.python = absolute_program(&self.python)?;
        self.supervisor_exe = std::path::absolute(&self.supervisor_exe)?;
        for target in self.compute.values_mut() {
            match target {
                ComputeTargetConfig::Slurm(slurm) => {
                    if let Some(dir) = &slurm.shared_dir {
                        slurm.shared_dir = Some(std::path::absolute(dir)?);
                    }
                    if let Some(python) = &slurm.python {
                        slurm.python = Some(absolute_program(python)?);
                    }
                }
            }
        }
        Ok(self)
    }

    /// The first path of the settings that is relative, if any (see
    /// [`Config::resolve_paths`]).
    pub fn relative_path(&self) -> Option<PathBuf> {
        let slurm = self.compute.values().flat_map(|t| match t {
            ComputeTargetConfig::Slurm(s) => s.shared_dir.iter(),
        });
        std::iter::once(&self.data_dir)
            .chain(self.static_dir.iter())
            .chain(slurm)
            .find(|p| p.is_relative())
            .cloned()
    }
}

/// A program named by a path (`./venv/bin/python`) made absolute; a bare name
/// (`python3`) is left for `PATH` to find.
fn absolute_program(program: &str) -> std::io::Result<String> {
    if !program.contains('/') {
        return Ok(program.to_owned());
    }
    Ok(std::path::absolute(program)?.display().to_string())
}

/// The `local` target's default limit of runs at once: the machine's cores, and at
/// least 4. Many runs are light (a small script, a job waiting on data or on a GPU),
/// and on a machine with few cores a limit of its core count would queue the second
/// notebook's run behind the first's; a heavy job that uses every core is better
/// limited explicitly (`[local] max_concurrent_runs` or `--max-concurrent-runs`).
pub fn default_local_limit() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    u32::try_from(cores).unwrap_or(u32::MAX).max(4)
}

impl Config {
    /// The session cookie's name: per port, as Jupyter does, so two servers on one
    /// host (cookies ignore ports) do not log each other out.
    pub fn session_cookie(&self) -> String {
        format!("runboard-session-{}", self.public_port())
    }

    /// The port of the public URL (its scheme's default when it names none).
    pub fn public_port(&self) -> u16 {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, r)| r);
        let host = rest.split('/').next().unwrap_or_default();
        host.rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or(if self.secure_cookies() { 443 } else { 80 })
    }

    /// Cookies are `Secure` when users reach the server over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Where `runboard serve` notes its public URL in the data folder, for the links that
/// `runboard user add` prints.
pub fn public_url_file(data_dir: &Path) -> PathBuf {
    data_dir.join("public_url")
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

/// Where the CLI's server URL came from, so that an unreachable server can be
/// explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    /// The `--url` flag.
    Flag,
    /// The `RUNBOARD_URL` variable.
    Env,
    /// The client config file at this path, written by the last `runboard serve`.
    File(PathBuf),
}

/// The server the CLI talks to: its URL and token, and where the URL came from.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The server's URL, without a trailing `/`.
    pub url: String,
    /// The access token.
    pub token: String,
    /// Where `url` came from.
    pub source: UrlSource,
}

impl Endpoint {
    /// The endpoint from the flags (clap fills them from `RUNBOARD_URL` and
    /// `RUNBOARD_TOKEN` too), else from the client config file.
    pub fn resolve(url: Option<String>, token: Option<String>) -> Result<Self, String> {
        let path = client_config_path();
        let saved = ClientConfig::load();
        let (url, source) = match url {
            Some(url) if std::env::var("RUNBOARD_URL").ok().as_ref() == Some(&url) => {
                (url, UrlSource::Env)
            }
            Some(url) => (url, UrlSource::Flag),
            None => match (&saved, path) {
                (Some(saved), Some(path)) => (saved.url.clone(), UrlSource::File(path)),
                _ => {
                    return Err(
                        "no server URL: pass --url, set RUNBOARD_URL, or start `runboard serve` \
                         once (it writes the client config)"
                            .into(),
                    );
                }
            },
        };
        let token = token
            .or_else(|| saved.map(|c| c.token))
            .ok_or("no token: pass --token, set RUNBOARD_TOKEN, or start `runboard serve` once")?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            token,
            source,
        })
    }

    /// What to tell a user whose server did not answer: the URL tried, where it came
    /// from, and how to point the CLI elsewhere.
    pub fn unreachable(&self, error: &dyn std::fmt::Display) -> String {
        let from = match &self.source {
            UrlSource::Flag => "the --url flag".to_owned(),
            UrlSource::Env => "the RUNBOARD_URL environment variable".to_owned(),
            UrlSource::File(path) => format!(
                "the client config {}, written by the last `runboard serve`",
                path.display()
            ),
        };
        format!(
            "could not reach the Runboard server at {url} ({error}).\n\
             That URL came from {from}.\n\
             Start that server again, or point the CLI at another one with --url URL \
             --token TOKEN (or RUNBOARD_URL and RUNBOARD_TOKEN); `runboard token --data-dir \
             DIR` prints the login URL of the server in DIR.",
            url = self.url
        )
    }
}

/// The server's config file (`--config`, else `<data-dir>/runboard.toml` when it
/// exists). It sets the `local` target's limit and names compute targets besides
/// `local`:
///
/// ```toml
/// [local]
/// max_concurrent_runs = 2  # more runs wait in Queued
///
/// [runs]
/// watch = false  # poll run folders every 20 ms instead of inotify (network filesystems)
///
/// [pip]
/// index_url = "https://pypi.org/simple/"  # the index `%pip install` gets pure wheels from
///
/// [compute.cpu-cluster]
/// kind = "slurm"
/// partition = "debug"
/// mpi_launcher = "srun"   # or "mpirun"
/// max_concurrent_runs = 8 # default: no limit (Slurm queues jobs itself)
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The `local` compute target.
    #[serde(default)]
    pub local: LocalConfig,
    /// How running jobs are followed.
    #[serde(default)]
    pub runs: RunsConfig,
    /// Compute targets by name.
    #[serde(default)]
    pub compute: std::collections::BTreeMap<String, ComputeTargetConfig>,
    /// The upstream package index (`[pip]`).
    #[serde(default)]
    pub pip: PipConfig,
}

/// The upstream package index that `/simple/` proxies (`[pip]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipConfig {
    /// A PEP 691 simple index (default [`DEFAULT_PIP_INDEX`]); a `/` is added at its
    /// end when missing.
    pub index_url: Option<String>,
}

/// Settings of the `local` compute target.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    /// How many runs run at once; more wait in `Queued` (default:
    /// [`default_local_limit`]).
    pub max_concurrent_runs: Option<u32>,
}

/// How running jobs are followed (`[runs]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsConfig {
    /// Wake a run's driver on filesystem notification (default `true`); `false` polls
    /// every 20 ms, for data folders on network filesystems whose changes made on
    /// other machines inotify does not see.
    pub watch: Option<bool>,
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
    /// How many of this target's runs Runboard submits at once; more wait in
    /// `Queued` (default: no limit: Slurm queues the jobs itself).
    pub max_concurrent_runs: Option<u32>,
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

/// Reads the config file at `path`. Relative paths in it (a Slurm target's
/// `shared_dir` and `python`) are relative to the file's folder, as in Cargo's and
/// most tools' config files.
pub fn load_file(path: &Path) -> Result<FileConfig, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut file: FileConfig =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let zero = |table: &str| {
        format!(
            "{}: [{table}] max_concurrent_runs = 0 would never start a run; \
             give at least 1, or leave it out for the default",
            path.display()
        )
    };
    if file.local.max_concurrent_runs == Some(0) {
        return Err(zero("local"));
    }
    if let Some(url) = &mut file.pip.index_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "{}: [pip] index_url = {url:?} is not an http:// or https:// URL",
                path.display()
            ));
        }
        if !url.ends_with('/') {
            url.push('/');
        }
    }
    let folder = path.parent().unwrap_or(Path::new(""));
    for (name, target) in &mut file.compute {
        match target {
            ComputeTargetConfig::Slurm(slurm) => {
                if slurm.max_concurrent_runs == Some(0) {
                    return Err(zero(&format!("compute.{name}")));
                }
                if let Some(dir) = &slurm.shared_dir {
                    slurm.shared_dir = Some(folder.join(dir));
                }
                if let Some(python) = slurm.python.as_mut().filter(|p| p.contains('/')) {
                    *python = folder.join(&*python).display().to_string();
                }
            }
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_named_per_port_and_secure_over_https() {
        let check = |url: &str, name: &str, secure: bool| {
            let mut config = Config::new(PathBuf::from("/data"));
            config.public_url = url.into();
            assert_eq!(config.session_cookie(), name, "{url}");
            assert_eq!(config.secure_cookies(), secure, "{url}");
        };
        check("http://127.0.0.1:8070", "runboard-session-8070", false);
        check("http://[::1]:9000/", "runboard-session-9000", false);
        check("https://runs.example.org", "runboard-session-443", true);
        check(
            "https://runs.example.org:8443/board",
            "runboard-session-8443",
            true,
        );
        check(
            "http://runs.example.org/board",
            "runboard-session-80",
            false,
        );
    }

    #[test]
    fn resolve_paths_makes_every_path_absolute_against_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let mut config = Config::new(PathBuf::from("runboard-data"));
        config.static_dir = Some(PathBuf::from("static/pkg"));
        config.python = "venv/bin/python".into();
        config.compute.insert(
            "c".into(),
            ComputeTargetConfig::Slurm(SlurmConfig {
                shared_dir: Some(PathBuf::from("shared")),
                python: Some("python3".into()),
                ..SlurmConfig::default()
            }),
        );
        assert_eq!(config.relative_path(), Some(PathBuf::from("runboard-data")));
        let config = config.resolve_paths().unwrap();
        assert_eq!(config.relative_path(), None);
        assert_eq!(config.data_dir, cwd.join("runboard-data"));
        assert_eq!(config.static_dir, Some(cwd.join("static/pkg")));
        assert_eq!(
            config.python,
            cwd.join("venv/bin/python").display().to_string()
        );
        let ComputeTargetConfig::Slurm(slurm) = &config.compute["c"];
        assert_eq!(slurm.shared_dir, Some(cwd.join("shared")));
        // A bare program name is left for PATH.
        assert_eq!(slurm.python.as_deref(), Some("python3"));
    }

    #[test]
    fn relative_paths_in_the_config_file_are_relative_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runboard.toml");
        std::fs::write(
            &path,
            "[compute.c]\nkind = \"slurm\"\nshared_dir = \"nfs\"\npython = \"env/bin/python\"\n",
        )
        .unwrap();
        let file = load_file(&path).unwrap();
        let ComputeTargetConfig::Slurm(slurm) = &file.compute["c"];
        assert_eq!(slurm.shared_dir, Some(dir.path().join("nfs")));
        let python = dir.path().join("env/bin/python").display().to_string();
        assert_eq!(slurm.python.as_deref(), Some(python.as_str()));
    }

    #[test]
    fn the_pip_index_url_gets_a_trailing_slash_and_must_be_http() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runboard.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            load_file(&path)
        };
        assert_eq!(load("").unwrap().pip.index_url, None);
        assert_eq!(
            load("[pip]\nindex_url = \"http://127.0.0.1:9/simple\"\n")
                .unwrap()
                .pip
                .index_url
                .as_deref(),
            Some("http://127.0.0.1:9/simple/")
        );
        let bad = load("[pip]\nindex_url = \"file:///etc/\"\n").unwrap_err();
        assert!(
            bad.contains("[pip] index_url") && bad.contains("file:///etc/"),
            "{bad}"
        );
        assert!(load("[pip]\nurl = \"x\"\n").is_err());
    }

    #[test]
    fn max_concurrent_runs_is_read_per_target_and_zero_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runboard.toml");
        let load = |text: &str| {
            std::fs::write(&path, text).unwrap();
            load_file(&path)
        };
        let file = load(
            "[local]\nmax_concurrent_runs = 2\n\
             [compute.c]\nkind = \"slurm\"\nmax_concurrent_runs = 8\n\
             [compute.d]\nkind = \"slurm\"\n",
        )
        .unwrap();
        assert_eq!(file.local.max_concurrent_runs, Some(2));
        let mut config = Config::new(PathBuf::from("/data"));
        assert!(
            config.local_max_concurrent_runs >= 4,
            "the default is generous"
        );
        config.local_max_concurrent_runs = file.local.max_concurrent_runs.unwrap();
        config.compute = file.compute;
        assert_eq!(config.max_concurrent_runs("local"), Some(2));
        assert_eq!(config.max_concurrent_runs("c"), Some(8));
        assert_eq!(config.max_concurrent_runs("d"), None, "Slurm queues itself");
        assert_eq!(config.max_concurrent_runs("gone"), None);

        // A file without [local] keeps the default.
        assert_eq!(load("").unwrap().local, LocalConfig::default());
        let zero = load("[local]\nmax_concurrent_runs = 0\n").unwrap_err();
        assert!(
            zero.ends_with("[local] max_concurrent_runs = 0 would never start a run; give at least 1, or leave it out for the default"),
            "{zero}"
        );
        let zero = load("[compute.c]\nkind = \"slurm\"\nmax_concurrent_runs = 0\n").unwrap_err();
        assert!(
            zero.contains("[compute.c] max_concurrent_runs = 0"),
            "{zero}"
        );
        let typo = load("[local]\nmax_concurent_runs = 2\n").unwrap_err();
        assert!(
            typo.contains("unknown field `max_concurent_runs`"),
            "{typo}"
        );
        let negative = load("[local]\nmax_concurrent_runs = -1\n").unwrap_err();
        assert!(negative.contains("max_concurrent_runs"), "{negative}");
    }

    #[test]
    fn an_unreachable_server_is_explained_by_where_its_url_came_from() {
        let endpoint = |source| Endpoint {
            url: "http://127.0.0.1:9000".into(),
            token: "t".into(),
            source,
        };
        let file = endpoint(UrlSource::File(
            "/home/u/.config/runboard/client.json".into(),
        ));
        expect(
            &file.unreachable(&"Connection refused"),
            "could not reach the Runboard server at http://127.0.0.1:9000 (Connection refused).\n\
             That URL came from the client config /home/u/.config/runboard/client.json, written \
             by the last `runboard serve`.\n\
             Start that server again, or point the CLI at another one with --url URL --token \
             TOKEN (or RUNBOARD_URL and RUNBOARD_TOKEN); `runboard token --data-dir DIR` prints \
             the login URL of the server in DIR.",
        );
        assert!(
            endpoint(UrlSource::Env)
                .unreachable(&"x")
                .contains("came from the RUNBOARD_URL environment variable.")
        );
        assert!(
            endpoint(UrlSource::Flag)
                .unreachable(&"x")
                .contains("came from the --url flag.")
        );
    }

    fn expect(actual: &str, expected: &str) {
        assert_eq!(actual, expected);
    }
}
