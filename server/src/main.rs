//! `runboard`: the server (`serve`), a run's supervisor (`supervise`), and the CLI.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use runboard_server::api::AppState;
use runboard_server::cli::{Client, SubmitArgs, parse_run_id};
use runboard_server::config::{self, ClientConfig, Config};
use runboard_server::{api, runner};

mod notebook;
mod user;

#[derive(Debug, Parser)]
#[command(
    name = "runboard",
    version,
    about = "Runboard: run ML training jobs and watch them live"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the CLI finds the server.
#[derive(Debug, clap::Args)]
struct Remote {
    /// Server URL (default: the one `runboard serve` saved).
    #[arg(long, env = "RUNBOARD_URL", global = true)]
    url: Option<String>,
    /// Access token (default: the one `runboard serve` saved).
    #[arg(long, env = "RUNBOARD_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
}

impl Remote {
    fn client(self) -> Result<Client> {
        Client::new(self.url, self.token)
    }
}

/// `runboard runs …`.
#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// Delete runs: their records, logs, metrics and files (a run that has not ended
    /// is cancelled first). Models registered from them stay.
    Delete {
        /// The run ids.
        #[arg(required = true)]
        runs: Vec<String>,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8070)]
        port: u16,
        /// Folder for the store, runs and environments.
        #[arg(long, default_value = "./runboard-data")]
        data_dir: PathBuf,
        /// Python interpreter for training scripts.
        #[arg(long, env = "RUNBOARD_PYTHON", default_value = "python3")]
        python: String,
        /// Largest snapshot accepted, in MB.
        #[arg(long, default_value_t = 300)]
        max_snapshot_mb: u64,
        /// URL users reach the server at (default: http://<host>:<port>).
        #[arg(long)]
        public_url: Option<String>,
        /// Folder of the built web app.
        #[arg(long, env = "RUNBOARD_STATIC_DIR")]
        static_dir: Option<PathBuf>,
        /// Seconds between SIGTERM and SIGKILL when a job is stopped.
        #[arg(long, default_value_t = 3)]
        grace_seconds: u64,
        /// Config file naming compute targets (default: <data-dir>/runboard.toml if it
        /// exists).
        #[arg(long, env = "RUNBOARD_SERVER_CONFIG")]
        config: Option<PathBuf>,
        /// How many runs the local compute target runs at once; more wait in Queued
        /// (default: the config file's [local] max_concurrent_runs, else the number of
        /// cores and at least 4).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_concurrent_runs: Option<u32>,
        /// A host name browsers may reach the server by, besides localhost, IP
        /// addresses and the public URL's host (repeatable). Any other `Host` is
        /// refused, which stops DNS rebinding.
        #[arg(long = "allow-host", value_name = "NAME", value_parser = parse_allowed_host)]
        allow_host: Vec<String>,
        /// A browser session unused this many seconds ends (default: 30 days).
        #[arg(long, default_value_t = 30 * 24 * 3600)]
        session_idle_seconds: u64,
        /// When the server runs as root, local jobs run as this unprivileged user,
        /// created if missing (default: runboard-job; `none`: as root).
        #[arg(long, value_name = "NAME")]
        job_user: Option<String>,
    },
    /// Supervise one run (started by the server; not for people).
    #[command(hide = true)]
    Supervise {
        /// The run folder.
        run_dir: PathBuf,
    },
    /// Run one rank of an MPI job with its output in its own log (started by mpirun;
    /// not for people).
    #[command(hide = true)]
    RankExec {
        /// Folder of the rank logs.
        #[arg(long)]
        log_dir: PathBuf,
        /// The command to run.
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Submit a training script as a run.
    Submit {
        /// Experiment to submit to.
        #[arg(long)]
        experiment: String,
        /// Folder with the training code.
        #[arg(long, default_value = ".")]
        source_directory: PathBuf,
        /// Script to run, relative to the source folder.
        #[arg(long)]
        entry_script: Option<String>,
        /// A script parameter: `--script-param=--lr=0.1`, or `--script-param=--flag`.
        #[arg(long = "script-param", allow_hyphen_values = true)]
        script_params: Vec<String>,
        /// Compute target.
        #[arg(long)]
        compute_target: Option<String>,
        /// A JSON file with a whole estimator; the flags above override it.
        #[arg(long)]
        estimator: Option<PathBuf>,
        /// Environment variable for the script, KEY=VALUE.
        #[arg(long = "env")]
        env: Vec<String>,
        /// Tag, KEY=VALUE.
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Stop the run after this many seconds.
        #[arg(long)]
        max_run_duration_seconds: Option<u64>,
        /// Stream the log; exit 0 only if the run completes.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// List runs, or `runs delete RUN_ID…`.
    #[command(args_conflicts_with_subcommands = true)]
    Runs {
        #[command(subcommand)]
        command: Option<RunsCommand>,
        /// Only this experiment's runs.
        #[arg(long)]
        experiment: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Print a run's log.
    Logs {
        /// The run id.
        run: String,
        /// Keep streaming until the run ends.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Download a run file (e.g. outputs/model.pkl).
    Download {
        /// The run id.
        run: String,
        /// Path of the file in the run.
        path: String,
        /// Where to write it (default: its file name).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Cancel a run.
    Cancel {
        /// The run id.
        run: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Run a notebook's cells with the notebook kernel and save their outputs.
    Notebook {
        #[command(subcommand)]
        command: notebook::NotebookCommand,
    },
    /// Copy a data folder, consistently, while its server serves.
    Backup {
        /// The new folder to copy into; `runboard serve --data-dir DEST` starts from it.
        dest: PathBuf,
        /// The server's data folder.
        #[arg(long, default_value = "./runboard-data")]
        data_dir: PathBuf,
    },
    /// Manage people: add (prints a one-time login link), list, set-role, remove.
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Print the login URL of the server in a data folder.
    Token {
        /// The server's data folder.
        #[arg(long, default_value = "./runboard-data")]
        data_dir: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Supervise { run_dir } = &cli.command {
        // The supervisor stays small and synchronous: no runtime, no logging setup.
        return match runner::supervisor::supervise(run_dir) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("runboard supervise: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    if let Command::RankExec { log_dir, command } = &cli.command {
        let e = runner::supervisor::rank_exec(log_dir, command);
        eprintln!("runboard rank-exec: {e:?}");
        return std::process::ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    match command {
        Command::Serve {
            host,
            port,
            data_dir,
            python,
            max_snapshot_mb,
            public_url,
            static_dir,
            grace_seconds,
            config: config_file,
            max_concurrent_runs,
            allow_host,
            session_idle_seconds,
            job_user,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "runboard_server=info,tower_http=warn".into()),
                )
                .with_writer(std::io::stderr)
                .init();
            let listener = tokio::net::TcpListener::bind((host.as_str(), port))
                .await
                .with_context(|| format!("listening on {host}:{port}"))?;
            let bound = listener.local_addr()?;
            let url = public_url.unwrap_or_else(|| format!("http://{bound}"));
            let mut config = Config::new(data_dir);
            config.public_url = url.trim_end_matches('/').to_owned();
            config.python = python;
            config.max_snapshot_bytes = max_snapshot_mb * 1024 * 1024;
            config.max_upload_bytes = config.max_snapshot_bytes + 16 * 1024 * 1024;
            config.grace_seconds = grace_seconds;
            config.static_dir = static_dir.or_else(default_static_dir);
            config.allowed_hosts = allow_host;
            let config_file = config_file.or_else(|| {
                let default = config.data_dir.join("runboard.toml");
                default.is_file().then_some(default)
            });
            if let Some(path) = config_file {
                let path = std::path::absolute(&path)?;
                let file = config::load_file(&path).map_err(anyhow::Error::msg)?;
                config.compute = file.compute;
                if let Some(limit) = file.local.max_concurrent_runs {
                    config.local_max_concurrent_runs = limit;
                }
                if let Some(watch) = file.runs.watch {
                    config.watch_run_folders = watch;
                }
                if let Some(url) = file.pip.index_url {
                    config.pip_index_url = url;
                }
            }
            if let Some(limit) = max_concurrent_runs {
                config.local_max_concurrent_runs = limit;
            }
            // Once, before anything uses them: every path the server derives from its
            // flags is absolute, so it means the same in a job's run folder.
            let mut config = config
                .resolve_paths()
                .context("making the data folder's path absolute")?;
            let python_is_default = config.python == "python3";
            config.python = runner::env::resolve_interpreter(&config.python);
            std::fs::create_dir_all(config.data_dir.join("runs"))
                .with_context(|| format!("creating {}", config.data_dir.display()))?;
            let jobs = runboard_server::jobuser::decide(
                &runboard_server::jobuser::Request::from_flag(job_user.as_deref()),
                &runboard_server::jobuser::Setup {
                    data_dir: &config.data_dir,
                    python: &config.python,
                    python_is_default,
                    exe: &config.supervisor_exe,
                },
            )
            .map_err(anyhow::Error::msg)?;
            config.job_user = jobs.user;
            if let Some(python) = jobs.python {
                config.python = python;
            }
            if let Some(exe) = jobs.exe {
                config.supervisor_exe = exe;
            }
            let token = config::load_or_create_token(&config.data_dir)
                .with_context(|| format!("reading the token in {}", config.data_dir.display()))?;
            config.token = token.clone();
            config.session_idle = std::time::Duration::from_secs(session_idle_seconds);
            if let Err(e) = std::fs::write(
                config::public_url_file(&config.data_dir),
                &config.public_url,
            ) {
                tracing::warn!(error = %e, "could not note the public URL in the data folder");
            }
            let state = AppState::open(config.clone()).await?;
            runboard_server::runs::drive::resume_all(&state.runner).await?;
            runboard_server::sweep::resume_all(&state.runner).await?;
            let reaper = state.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    reaper
                        .runner
                        .tensorboards
                        .stop_idle(runner::tensorboard::IDLE);
                }
            });
            let client = ClientConfig {
                url: config.public_url.clone(),
                token: token.clone(),
            };
            if let Err(e) = client.save() {
                tracing::warn!(error = %e, "could not save the client config");
            }
            println!("Runboard is serving {}", config.public_url);
            println!("Data: {}", config.data_dir.display());
            println!("{}", jobs.line);
            println!("Log in: {}/?token={token}", config.public_url);
            println!(
                "Sample notebook: {}/notebooks/Quickstart.ipynb?token={token}",
                config.public_url
            );
            std::io::Write::flush(&mut std::io::stdout())?;
            axum::serve(listener, api::app(state))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Supervise { .. } | Command::RankExec { .. } => Ok(ExitCode::FAILURE),
        Command::Submit {
            experiment,
            source_directory,
            entry_script,
            script_params,
            compute_target,
            estimator,
            env,
            tags,
            max_run_duration_seconds,
            follow,
            remote,
        } => {
            let client = remote.client()?;
            let args = SubmitArgs {
                experiment,
                source_directory,
                entry_script,
                script_params,
                compute_target,
                estimator_file: estimator,
                env,
                tags,
                max_run_duration_seconds,
            };
            let submitted = client.submit(&args).await?;
            println!("Run id: {}", submitted.run_id);
            println!("Portal: {}", submitted.portal_url);
            if !follow {
                return Ok(ExitCode::SUCCESS);
            }
            follow_to_end(&client, submitted.run_id.as_str()).await
        }
        Command::Runs {
            command: Some(RunsCommand::Delete { runs, remote }),
            ..
        } => {
            let ids = runs
                .iter()
                .map(|r| parse_run_id(r))
                .collect::<Result<Vec<_>>>()?;
            let client = remote.client()?;
            for id in ids {
                let deleted = client.delete_run(id.as_str()).await?;
                println!(
                    "Deleted {} ({} bytes freed)",
                    deleted.run_id, deleted.freed_bytes
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Runs {
            command: None,
            experiment,
            json,
            remote,
        } => {
            let list = remote.client()?.runs(experiment.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list.runs)?);
            } else {
                println!("{:<50} {:<16} {:<10} CREATED", "RUN ID", "STATUS", "TARGET");
                for r in list.runs {
                    println!(
                        "{:<50} {:<16} {:<10} {}",
                        r.run_id, r.status, r.target, r.created_utc
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Logs {
            run,
            follow,
            remote,
        } => {
            let client = remote.client()?;
            let run = parse_run_id(&run)?;
            if follow {
                return follow_to_end(&client, run.as_str()).await;
            }
            let tmp = tempfile::NamedTempFile::new()?;
            client
                .download(run.as_str(), "user_logs/std_log.txt", tmp.path())
                .await?;
            std::io::copy(
                &mut std::fs::File::open(tmp.path())?,
                &mut std::io::stdout(),
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Download {
            run,
            path,
            output,
            remote,
        } => {
            let client = remote.client()?;
            let run = parse_run_id(&run)?;
            let output = output.unwrap_or_else(|| {
                PathBuf::from(
                    path.rsplit('/')
                        .next()
                        .filter(|n| !n.is_empty())
                        .unwrap_or("download"),
                )
            });
            let bytes = client.download(run.as_str(), &path, &output).await?;
            eprintln!("wrote {bytes} bytes to {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Cancel { run, remote } => {
            let run = parse_run_id(&run)?;
            remote.client()?.cancel(run.as_str()).await?;
            eprintln!("cancel requested for {run}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Notebook { command } => notebook::main(command).await,
        Command::Backup { dest, data_dir } => {
            let report = runboard_server::backup::backup(&data_dir, &dest).await?;
            println!(
                "Backed up {} to {}: {} files, {} bytes{}",
                data_dir.display(),
                dest.display(),
                report.files,
                report.bytes,
                match report.unfinished {
                    0 => String::new(),
                    n => format!(
                        "; {n} run(s) still going are marked Failed in the copy (their data up to now is kept)"
                    ),
                }
            );
            println!(
                "Start a server on it: runboard serve --data-dir {}",
                dest.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User { command } => user::run(command).await,
        Command::Token { data_dir } => {
            let token = std::fs::read_to_string(data_dir.join("token")).with_context(|| {
                format!(
                    "no token in {}: start `runboard serve` there first",
                    data_dir.display()
                )
            })?;
            let url = ClientConfig::load()
                .map(|c| c.url)
                .unwrap_or_else(|| "http://127.0.0.1:8070".into());
            println!("{url}/?token={}", token.trim());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn follow_to_end(client: &Client, run_id: &str) -> Result<std::process::ExitCode> {
    let mut stdout = std::io::stdout();
    let (status, error) = client.follow(run_id, &mut stdout).await?;
    eprintln!("\nRun {run_id} ended: {status}");
    if let Some(error) = error {
        eprintln!("{error}");
    }
    Ok(if status == runboard_shared::run::RunStatus::Completed {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// The web app built by `cargo xtask run`, when running from a checkout. A binary
/// with the bundle embedded (`embed-ui`) serves its own copy unless `--static-dir`
/// says otherwise.
fn default_static_dir() -> Option<PathBuf> {
    if cfg!(feature = "embed-ui") {
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../static/pkg");
    dir.join("index.html").is_file().then_some(dir)
}

/// Checks a `--allow-host` value (`api::guard::check_allowed_host`).
fn parse_allowed_host(name: &str) -> Result<String, String> {
    api::guard::check_allowed_host(name).map(|()| name.to_owned())
}
