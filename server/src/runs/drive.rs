//! A run's life on the server: one tokio task, [`drive`], takes a run from
//! `Preparing` to a terminal status. It prepares the working directory and the
//! Python environment, launches the job through the run's
//! [`ComputeTarget`](crate::runner::ComputeTarget), then polls the target, tails the
//! logs and indexes the files until the job has ended, and records how it ended
//! ([`outcome`]). The task holds no state that the run folder and the store do not
//! also hold, so a restarted server simply starts [`drive`] again for every run that
//! has started and is not finished ([`resume_all`]). Runs wait in `Queued` until
//! [`queue::admit`] finds a free slot on their compute target and starts their
//! driver ([`spawn_driver`]).

use std::path::Path;
use std::time::{Duration, Instant};

use runboard_shared::estimator::Estimator;
use runboard_shared::run::{RunId, RunStatus};
use tokio::sync::watch;

use super::definition::Definition;
use crate::runner::control::{self, Exit, ExitReason, Job};
use crate::runner::{
    JobState, Runner, RunnerError, env, launch, log_tail, mpi_failed_rank, queue, wake,
};
use crate::watch::{scan_files, tail_logs};

/// How long a launched job may take to show its supervisor before it counts as lost.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often, at most, files under `outputs/` and `logs/` are indexed.
const SCAN_EVERY: Duration = Duration::from_millis(200);

/// At server start: starts a driver for every run that has started and is not
/// finished, then admits the queued ones, oldest first, as far as each compute
/// target's limit allows (the re-attached runs hold their slots).
pub async fn resume_all(state: &Runner) -> Result<(), RunnerError> {
    for run in state.store.live_runs().await? {
        // Queued runs wait for admission; a sweep's parent is the sweep scheduler's
        // (crate::sweep::resume_all); a run MLflow's client created has no process to
        // re-attach to (it stays Running until `runs/update` ends it).
        if run.summary.status == RunStatus::Queued
            || run.summary.target == crate::sweep::TARGET
            || run.summary.target == crate::mlflow::TARGET
        {
            continue;
        }
        tracing::info!(run_id = %run.summary.run_id, status = %run.summary.status, "re-attaching to run");
        spawn_driver(state, run.summary.run_id);
    }
    queue::admit(state).await
}

/// Starts the driver task of a run that has left `Queued` ([`queue::admit`] moves it
/// to `Preparing`). When the driver ends, the run's slot is free: admission runs
/// again. Does nothing when the run already has a driver (a cancel that found none
/// may race with admission starting one): one run, one driver.
pub fn spawn_driver(state: &Runner, run_id: RunId) {
    let (cancel_tx, cancel_rx) = watch::channel(false);
    if !state.register_driver(&run_id, cancel_tx) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = drive(&state, &run_id, cancel_rx).await {
            tracing::error!(%run_id, error = %e, "run driver failed");
            let message = format!("Runboard failed to run the job: {e}");
            let _ = state
                .set_status(&run_id, RunStatus::Failed, Some(&message))
                .await;
        }
        state.unregister_driver(&run_id);
        queue::admit_or_log(&state).await;
    });
}

/// Takes a run from wherever it is to a terminal status.
#[tracing::instrument(skip_all, fields(run_id = %run_id))]
async fn drive(
    state: &Runner,
    run_id: &RunId,
    mut cancel: watch::Receiver<bool>,
) -> Result<(), RunnerError> {
    let record = state
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| RunnerError::NoSuchRun(run_id.clone()))?;
    let run_dir = state.run_dir(run_id);
    let target = state.target(&record.summary.target)?;
    let mut status = record.summary.status;

    if matches!(status, RunStatus::Queued | RunStatus::Preparing)
        && target.poll(&run_dir)? == JobState::NotLaunched
    {
        if status == RunStatus::Queued {
            state.set_status(run_id, RunStatus::Preparing, None).await?;
        }
        let dir = run_dir.clone();
        tokio::task::spawn_blocking(move || prepare_dirs(&dir))
            .await
            .map_err(|e| {
                RunnerError::io("preparing the working directory")(std::io::Error::other(e))
            })??;
        let environment =
            match prepare_environment(state, run_id, &record.definition, &run_dir).await {
                Ok(environment) => environment,
                Err(message) => {
                    state.events.tail_logs(run_id, &run_dir, true).await?;
                    state
                        .set_status(run_id, RunStatus::Failed, Some(&message))
                        .await?;
                    return Ok(());
                }
            };
        let job = job_for(state, run_id, &record, environment.as_ref(), &run_dir)?;
        control::write(&run_dir, control::JOB, &job)
            .map_err(RunnerError::io("writing control/job.json"))?;
        if let Some(user) = job.user.clone() {
            let dir = run_dir.clone();
            tokio::task::spawn_blocking(move || crate::jobuser::hand_over(&dir, &user))
                .await
                .map_err(|e| {
                    RunnerError::io("opening the run folder to its job")(std::io::Error::other(e))
                })?
                .map_err(RunnerError::io("opening the run folder to its job"))?;
        }
        if state
            .set_status(run_id, RunStatus::Starting, None)
            .await?
            .is_none()
        {
            // Refused: the run was cancelled while it was being prepared.
            state.set_status(run_id, RunStatus::Canceled, None).await?;
            return Ok(());
        }
        target.launch(&run_dir)?;
        status = RunStatus::Starting;
    } else if status == RunStatus::CancelRequested {
        target.cancel(&run_dir)?;
    }

    let waiting_since = Instant::now();
    let mut wake = {
        let (dir, enabled) = (run_dir.clone(), state.config.watch_run_folders);
        tokio::task::spawn_blocking(move || wake::Wake::new(&dir, enabled))
            .await
            .map_err(|e| RunnerError::io("watching the run folder")(std::io::Error::other(e)))?
    };
    // Watched, the folder is looked at when it changes, at most once per poll
    // interval, and otherwise once per safety poll; unwatched, every poll interval.
    let safety = if wake.is_watching() {
        wake::SAFETY_POLL
    } else {
        state.config.poll_interval
    };
    let mut last_scan = Instant::now();
    let mut event_files = crate::metrics::EventFiles::default();
    let exit = loop {
        tokio::select! {
            () = wake.wait(safety) => {}
            changed = cancel.changed() => {
                if changed.is_ok() && *cancel.borrow_and_update() {
                    target.cancel(&run_dir)?;
                }
            }
        }
        let job = {
            let (target, dir) = (target.clone(), run_dir.clone());
            tokio::task::spawn_blocking(move || target.poll(&dir))
                .await
                .map_err(|e| RunnerError::io("polling the job")(std::io::Error::other(e)))??
        };
        state.events.tail_logs(run_id, &run_dir, false).await?;
        if let Err(e) =
            crate::metrics::tail_event_files(&state.metrics, run_id, &run_dir, &mut event_files)
                .await
        {
            tracing::warn!(%run_id, error = %e, "reading TensorBoard event files failed");
        }
        if last_scan.elapsed() >= SCAN_EVERY {
            state
                .events
                .commit(run_id, scan_files(&state.store, run_id, &run_dir))
                .await?;
            last_scan = Instant::now();
        }
        match job {
            JobState::Exited(exit) => break Ok(exit),
            JobState::Lost(why) => break Err(why),
            JobState::Running if matches!(status, RunStatus::Starting | RunStatus::Preparing) => {
                // Refused when a cancel came first; either way, ask only once.
                state.set_status(run_id, RunStatus::Running, None).await?;
                status = RunStatus::Running;
                state
                    .store
                    .add_properties(run_id, &target.properties(&run_dir))
                    .await?;
            }
            JobState::NotLaunched if waiting_since.elapsed() > LAUNCH_TIMEOUT => {
                break Err("the job's supervisor never started".to_owned());
            }
            _ => {}
        }
        wake.refresh();
        // However busy the folder, look at most once per poll interval.
        tokio::time::sleep(state.config.poll_interval).await;
    };

    let current = state.current_status(run_id).await?;
    if current != RunStatus::CancelRequested {
        state
            .set_status(run_id, RunStatus::Finalizing, None)
            .await?;
    }
    state.events.tail_logs(run_id, &run_dir, true).await?;
    state
        .events
        .commit(run_id, scan_files(&state.store, run_id, &run_dir))
        .await?;

    if let Err(e) =
        crate::metrics::tail_event_files(&state.metrics, run_id, &run_dir, &mut event_files).await
    {
        tracing::warn!(%run_id, error = %e, "reading TensorBoard event files failed");
    }
    crate::metrics::ingest_spools(&state.metrics, run_id, &run_dir).await;
    state
        .store
        .add_properties(run_id, &target.properties(&run_dir))
        .await?;
    let (mut final_status, mut error) = match exit {
        Err(why) => (RunStatus::Failed, Some(why)),
        Ok(exit) => outcome(&exit, &run_dir),
    };
    if final_status == RunStatus::Canceled && current != RunStatus::CancelRequested {
        // Stopped by someone else (an administrator's scancel): not a cancel the user
        // asked for.
        final_status = RunStatus::Failed;
        error = Some("the job was cancelled outside Runboard".to_owned());
    }
    state
        .set_status(run_id, final_status, error.as_deref())
        .await?;
    Ok(())
}

/// The terminal status and error message of a job that ended as `exit` says.
fn outcome(exit: &Exit, run_dir: &Path) -> (RunStatus, Option<String>) {
    match exit.reason {
        ExitReason::Canceled => (RunStatus::Canceled, None),
        ExitReason::Exited if exit.code == Some(0) => (RunStatus::Completed, None),
        ExitReason::Exited => {
            let launcher = log_tail(&run_dir.join("system_logs/mpirun.txt"), 200, 16384);
            let who = match (exit.failed_process, mpi_failed_rank(&launcher)) {
                (Some(i), _) => format!("process {i} of the job"),
                (None, Some(rank)) => format!("MPI rank {rank}"),
                (None, None) => "the script".to_owned(),
            };
            let how = match (exit.code, exit.signal) {
                (Some(code), _) => format!("{who} exited with code {code}"),
                (None, Some(signal)) => format!("{who} was killed by signal {signal}"),
                (None, None) => format!("{who} ended abnormally"),
            };
            let (name, tail) = failure_log(exit, run_dir);
            let context = exit
                .message
                .as_ref()
                .map(|m| format!("{m}: "))
                .unwrap_or_default();
            (
                RunStatus::Failed,
                Some(format!("{context}{how}. Last lines of {name}:\n{tail}")),
            )
        }
        ExitReason::Timeout | ExitReason::SpawnFailed => (
            RunStatus::Failed,
            Some(
                exit.message
                    .clone()
                    .unwrap_or_else(|| format!("{:?}", exit.reason)),
            ),
        ),
    }
}

/// The log that best explains a failure, and its last lines: the failed process's,
/// else the first rank log with a Python traceback, else `std_log.txt`, else the
/// launcher's.
fn failure_log(exit: &Exit, run_dir: &Path) -> (String, String) {
    let user_logs = run_dir.join("user_logs");
    let tail = |name: &str| log_tail(&user_logs.join(name), 30, 4096);
    let launcher = log_tail(&run_dir.join("system_logs/mpirun.txt"), 200, 16384);
    if let Some(i) = exit.failed_process.or_else(|| mpi_failed_rank(&launcher)) {
        let name = format!("std_log_process_{i}.txt");
        return (name.clone(), tail(&name));
    }
    let mut ranks: Vec<String> = std::fs::read_dir(&user_logs)
        .map(|d| {
            d.take(crate::limits::MAX_LISTED_FILES)
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with("std_log_process_"))
                .collect()
        })
        .unwrap_or_default();
    ranks.sort_by_key(|n| {
        n.trim_start_matches("std_log_process_")
            .trim_end_matches(".txt")
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    });
    if let Some(name) = ranks.iter().find(|n| tail(n).contains("Traceback")) {
        return (name.clone(), tail(name));
    }
    let main = tail("std_log.txt");
    if !main.is_empty() {
        return ("std_log.txt".to_owned(), main);
    }
    let lines: Vec<&str> = launcher.lines().collect();
    let last = lines[lines.len().saturating_sub(30)..].join("\n");
    ("system_logs/mpirun.txt".to_owned(), last)
}

/// Builds or reuses the run's Python environment, streaming the build log, and
/// returns it (`None` for a `user_managed` run). `Err` holds why the run fails.
async fn prepare_environment(
    state: &Runner,
    run_id: &RunId,
    definition: &serde_json::Value,
    run_dir: &Path,
) -> Result<Option<env::Ready>, String> {
    let log = run_dir.join(crate::watch::ENVIRONMENT_LOG);
    let definition = Definition::read(definition)?;
    let (estimator, environment) = definition.job()?;
    if estimator.use_docker && estimator.custom_docker_image.is_none() {
        let line = if state.docker {
            "use_docker=True without custom_docker_image: running in a virtual environment on the host\n"
        } else {
            "use_docker=True, but this target has no Docker engine: running in a virtual environment instead\n"
        };
        std::fs::write(&log, line).map_err(|e| format!("writing {}: {e}", log.display()))?;
    }
    let Some(spec) = environment.map(|e| &e.spec) else {
        return Ok(None);
    };
    let requirements = estimator
        .pip_requirements_file
        .as_ref()
        .map(|f| run_dir.join("snapshot").join(f));
    let build = state.envs.ensure(spec, requirements.as_deref(), &log);
    tokio::pin!(build);
    // Stream the build log while the environment builds.
    let mut tick = tokio::time::interval(state.config.poll_interval * 5);
    loop {
        tokio::select! {
            result = &mut build => {
                return result.map(Some).map_err(|e| e.to_string());
            }
            _ = tick.tick() => {
                // A failed read is read again at the next tick.
                let _ = state
                    .events
                    .commit(run_id, tail_logs(&state.store, run_id, run_dir, false))
                    .await;
            }
        }
    }
}

/// The job of a run: the command line from its estimator (in its environment, or in
/// its Docker image), the environment variables, the limits.
fn job_for(
    state: &Runner,
    run_id: &RunId,
    record: &crate::store::RunRecord,
    environment: Option<&env::Ready>,
    run_dir: &Path,
) -> Result<Job, RunnerError> {
    let definition = Definition::read(&record.definition)
        .map_err(|e| RunnerError::io("reading the run definition")(std::io::Error::other(e)))?;
    let (estimator, _) = definition
        .job()
        .map_err(|e| RunnerError::io("reading the run definition")(std::io::Error::other(e)))?;
    // A root server's local jobs run as the job user (not in Docker, whose container
    // is their boundary), and are given only the datastore paths they name.
    let user =
        state.config.job_user.clone().filter(|_| {
            record.summary.target == "local" && estimator.custom_docker_image.is_none()
        });
    let args = match &user {
        None => state.script_args(estimator),
        Some(_) => granted_args(state, estimator, run_dir)?,
    };
    let mut env = estimator.environment_variables.clone();
    env.extend([
        ("PYTHONUNBUFFERED".to_owned(), "1".to_owned()),
        ("RUNBOARD_URL".to_owned(), state.config.public_url.clone()),
        ("RUNBOARD_RUN_ID".to_owned(), run_id.to_string()),
        ("RUNBOARD_RUN_TOKEN".to_owned(), record.run_token.clone()),
        ("AZUREML_RUN_ID".to_owned(), run_id.to_string()),
        // Where `Model.get_model_path` finds registered models' files.
        (
            "RUNBOARD_MODELS_DIR".to_owned(),
            crate::models::root(&state.config.data_dir)
                .display()
                .to_string(),
        ),
    ]);
    // MLflow's client logs into this same run (`api/mlflow.rs`), unless the job names
    // a tracking server of its own (then it gets none of these, and not the token).
    if !env.contains_key("MLFLOW_TRACKING_URI") {
        env.extend([
            (
                "MLFLOW_TRACKING_URI".to_owned(),
                state.config.public_url.clone(),
            ),
            ("MLFLOW_TRACKING_TOKEN".to_owned(), record.run_token.clone()),
            ("MLFLOW_RUN_ID".to_owned(), run_id.to_string()),
        ]);
    }
    // The azureml.core shim comes first, so `from azureml.core import Run` finds it.
    let shim = state.config.data_dir.join("python").display().to_string();
    let pythonpath = match std::env::var("PYTHONPATH") {
        Ok(old) if !old.is_empty() => format!("{shim}:{old}"),
        _ => shim,
    };
    env.insert("PYTHONPATH".to_owned(), pythonpath);
    let python = match environment {
        Some(ready) => {
            let path = std::env::var("PATH").unwrap_or_default();
            env.insert(
                "PATH".into(),
                format!("{}:{path}", ready.dir.join("bin").display()),
            );
            env.insert("VIRTUAL_ENV".into(), ready.dir.display().to_string());
            ready.python.display().to_string()
        }
        None => state.config.python.clone(),
    };
    let target = state.target(&record.summary.target)?;
    let port = free_port();
    let layout = control::Layout {
        nodes: estimator.node_count.max(1),
        processes_per_node: match estimator.distribution() {
            Some(runboard_shared::estimator::DistributedTraining::Mpi {
                process_count_per_node,
            }) => process_count_per_node.max(1),
            _ => estimator.process_count_per_node.max(1),
        },
        backend: estimator.distribution().map(|d| match d.backend() {
            runboard_shared::estimator::Backend::Mpi => "mpi".to_owned(),
            runboard_shared::estimator::Backend::Gloo => "gloo".to_owned(),
            runboard_shared::estimator::Backend::Nccl => "nccl".to_owned(),
            runboard_shared::estimator::Backend::ParameterServer => "ps".to_owned(),
        }),
        port,
    };
    let processes = match &estimator.custom_docker_image {
        Some(image) => vec![control::Process::new(
            docker_argv(run_id, image, estimator, &env, run_dir, &args),
            run_dir.join("user_logs/std_log.txt"),
        )],
        None if !target.lays_out_processes() => {
            let mut argv = vec![python.clone(), estimator.entry_script.clone()];
            argv.extend(args.iter().cloned());
            vec![control::Process::new(
                argv,
                run_dir.join("user_logs/std_log.txt"),
            )]
        }
        None => {
            let ctx = launch::LaunchContext {
                python: &python,
                args: &args,
                env: &env,
                user_logs: &run_dir.join("user_logs"),
                system_logs: &run_dir.join("system_logs"),
                runboard: &state.config.supervisor_exe,
                port,
                cores: std::thread::available_parallelism().map_or(1, usize::from),
                as_root: nix::unistd::geteuid().is_root() && user.is_none(),
            };
            launch::plan(estimator, &ctx).map_err(|e| {
                RunnerError::io("laying out the job's processes")(std::io::Error::other(e))
            })?
        }
    };
    Ok(Job {
        processes,
        cwd: run_dir.join("wd"),
        env,
        max_run_duration_seconds: estimator.max_run_duration_seconds,
        grace_seconds: state.config.grace_seconds,
        layout,
        user,
    })
}

/// The script's arguments with each data reference linked into
/// `<run>/datastores/<datastore>/<path>` ([`crate::jobuser::grant_datastore`]) and
/// replaced by that folder.
fn granted_args(
    state: &Runner,
    estimator: &Estimator,
    run_dir: &Path,
) -> Result<Vec<String>, RunnerError> {
    let given = run_dir.join("datastores");
    let wanted = std::cell::RefCell::new(Vec::new());
    let args = estimator.argv(&|d| {
        let relative = Path::new(&d.datastore).join(&d.path_on_datastore);
        wanted.borrow_mut().push(relative.clone());
        given.join(relative).display().to_string()
    });
    if given.exists() {
        std::fs::remove_dir_all(&given).map_err(RunnerError::io("clearing <run>/datastores"))?;
    }
    let root = crate::datastores::root(&state.config.data_dir);
    for relative in wanted.into_inner() {
        let plain = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        let dest = given.join(&relative);
        if !plain || dest.exists() {
            continue;
        }
        let source = root.join(&relative);
        if std::fs::symlink_metadata(&source).is_err() {
            // As without a job user: the script finds nothing at the path it is given.
            continue;
        }
        crate::jobuser::grant_datastore(&source, &dest).map_err(RunnerError::io(format!(
            "giving the job the datastore path {}",
            relative.display()
        )))?;
    }
    Ok(args)
}

/// A TCP port that is free on this machine now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(29500, |a| a.port())
}

/// `docker run` of the entry script in `image`, with the working directory mounted at
/// `/workspace`, the environment variables, `shm_size` and GPUs when `use_gpu`.
fn docker_argv(
    run_id: &RunId,
    image: &str,
    estimator: &Estimator,
    env: &std::collections::BTreeMap<String, String>,
    run_dir: &Path,
    args: &[String],
) -> Vec<String> {
    let mut argv: Vec<String> = vec![
        "docker".into(),
        "run".into(),
        "--rm".into(),
        "--init".into(),
        "--name".into(),
        format!("runboard-{run_id}"),
        "--network".into(),
        "host".into(),
        "-v".into(),
        format!("{}:/workspace", run_dir.join("wd").display()),
        "-w".into(),
        "/workspace".into(),
    ];
    if let Some(shm) = &estimator.shm_size {
        argv.extend(["--shm-size".into(), shm.clone()]);
    }
    if estimator.use_gpu {
        argv.extend(["--gpus".into(), "all".into()]);
    }
    for (k, v) in env {
        argv.extend(["-e".into(), format!("{k}={v}")]);
    }
    argv.extend([
        image.to_owned(),
        "python".into(),
        estimator.entry_script.clone(),
    ]);
    argv.extend(args.iter().cloned());
    argv
}

/// Makes the run folder ready: a fresh working directory copied from the snapshot,
/// and the log folders. Safe to repeat after a crash.
fn prepare_dirs(run_dir: &Path) -> Result<(), RunnerError> {
    let wd = run_dir.join("wd");
    if wd.exists() {
        std::fs::remove_dir_all(&wd).map_err(RunnerError::io("clearing the working directory"))?;
    }
    crate::snapshot::copy_tree(&run_dir.join("snapshot"), &wd).map_err(RunnerError::io(
        "copying the snapshot into the working directory",
    ))?;
    for dir in ["wd/outputs", "wd/logs", "user_logs", "system_logs"] {
        std::fs::create_dir_all(run_dir.join(dir))
            .map_err(RunnerError::io(format!("creating {dir}")))?;
    }
    Ok(())
}
