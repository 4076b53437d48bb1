//! `runboard supervise <run-dir>`: the small process that owns one job.
//!
//! The server starts it in a process group of its own, so it outlives the server. It
//! starts the job's processes in one new process group, each with stdout and stderr
//! on the same file (so a log keeps the order in which lines were written). It stops
//! the group (SIGTERM, a grace period, SIGKILL) on SIGTERM (a cancel), when the run
//! is over its time limit, or when one process fails; and it writes how the job
//! ended into `control/exit.json`.
//!
//! `runboard rank-exec` ([`rank_exec`]) is the other small entry point: the wrapper
//! that `mpirun` starts once per rank, which sends the rank's output to its own log.

use std::fs::OpenOptions;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::control::{self, Exit, ExitReason, Job, Process, Started, SupervisorInfo};

/// How often the supervisor checks on its job.
const TICK: Duration = Duration::from_millis(10);

/// Runs the job of `run_dir` to its end. Errors are for the supervisor's own log
/// (`system_logs/supervisor.txt`); how the job ended is always in `exit.json`.
pub fn supervise(run_dir: &Path) -> anyhow::Result<()> {
    control::write(
        run_dir,
        control::SUPERVISOR,
        &SupervisorInfo::this_process(),
    )?;
    let job: Job = control::read(run_dir, control::JOB)?.ok_or_else(|| {
        anyhow::anyhow!(
            "{} is missing",
            control::path(run_dir, control::JOB).display()
        )
    })?;

    // Orphans of the job become our children rather than init's, so we can reap them.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))?;
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))?;
    // The server's terminal going away must not end the job.
    signal_hook::flag::register(
        signal_hook::consts::SIGHUP,
        Arc::new(AtomicBool::new(false)),
    )?;

    // Every process joins the group of the first one.
    let mut children: Vec<(Child, bool)> = Vec::new();
    let mut group = 0i32;
    for (index, process) in job.processes.iter().enumerate() {
        match spawn(&job, process, group) {
            Ok(child) => {
                if group == 0 {
                    group = i32::try_from(child.id()).unwrap_or(0);
                }
                children.push((child, process.required));
            }
            Err(e) => {
                if group != 0 {
                    let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
                    reap_orphans(Duration::from_secs(5));
                }
                let message = format!(
                    "could not start process {index} ({:?}): {e}",
                    process.argv.first().cloned().unwrap_or_default()
                );
                return finish(
                    run_dir,
                    job.user.as_ref(),
                    ExitReason::SpawnFailed,
                    None,
                    None,
                    Some(message),
                    None,
                );
            }
        }
    }
    control::write(
        run_dir,
        control::STARTED,
        &Started {
            pid: group,
            time: crate::store::now(),
        },
    )?;

    let group = Pid::from_raw(group);
    let started = Instant::now();
    let limit = job.max_run_duration_seconds.map(Duration::from_secs);
    let grace = Duration::from_secs(job.grace_seconds);
    let mut stopping: Option<(ExitReason, Instant)> = None;
    let mut statuses: Vec<Option<ExitStatus>> = vec![None; children.len()];
    let mut failed: Option<usize> = None;
    loop {
        for (i, (child, _)) in children.iter_mut().enumerate() {
            if statuses[i].is_none() {
                statuses[i] = child.try_wait()?;
                if failed.is_none() && statuses[i].is_some_and(|s| !s.success()) {
                    failed = Some(i);
                }
            }
        }
        let required_done = children
            .iter()
            .zip(&statuses)
            .all(|((_, required), status)| !required || status.is_some());
        let all_done = statuses.iter().all(Option::is_some);
        if all_done || (stopping.is_none() && required_done && failed.is_none()) {
            break;
        }
        if stopping.is_none() {
            let reason = if stop.load(Ordering::Relaxed) {
                Some(ExitReason::Canceled)
            } else if limit.is_some_and(|l| started.elapsed() >= l) {
                Some(ExitReason::Timeout)
            } else if failed.is_some() {
                // One process failed: the others are stopped.
                Some(ExitReason::Exited)
            } else {
                None
            };
            if let Some(reason) = reason {
                let _ = killpg(group, Signal::SIGTERM);
                stopping = Some((reason, Instant::now() + grace));
            }
        }
        if let Some((_, deadline)) = stopping
            && Instant::now() >= deadline
        {
            let _ = killpg(group, Signal::SIGKILL);
        }
        std::thread::sleep(TICK);
    }
    // Whatever the job left running in its group goes with it (parameter servers, a
    // script's own children), and is reaped here (the supervisor is their subreaper)
    // so that no process of the group remains.
    let _ = killpg(group, Signal::SIGKILL);
    for (child, _) in &mut children {
        let _ = child.wait();
    }
    reap_orphans(Duration::from_secs(5));

    // The status that speaks for the job: the failed process's, else the first's.
    let decisive = failed.unwrap_or(0);
    let status = statuses[decisive].unwrap_or_else(|| ExitStatus::from_raw(0));
    let failed_process = failed.filter(|_| children.len() > 1);
    let (reason, message) = match stopping {
        Some((ExitReason::Timeout, _)) => (
            ExitReason::Timeout,
            Some(format!(
                "the run exceeded max_run_duration_seconds={} and was stopped",
                job.max_run_duration_seconds.unwrap_or_default()
            )),
        ),
        Some((ExitReason::Canceled, _)) => (ExitReason::Canceled, None),
        _ => (ExitReason::Exited, None),
    };
    finish(
        run_dir,
        job.user.as_ref(),
        reason,
        status.code(),
        status.signal(),
        message,
        failed_process,
    )
}

/// Starts one process of the job, in process group `group` (0: a new group).
fn spawn(job: &Job, process: &Process, group: i32) -> std::io::Result<Child> {
    if let Some(parent) = process.log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&process.log)?;
    let program = process
        .argv
        .first()
        .map(String::as_str)
        .unwrap_or("python3");
    let mut command = Command::new(program);
    command
        .args(process.argv.iter().skip(1))
        .current_dir(&job.cwd)
        .envs(&job.env)
        .envs(&process.env)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(group);
    if let Some(user) = &job.user {
        // std drops the supplementary groups too when a root parent sets the uid.
        command
            .uid(user.uid)
            .gid(user.gid)
            .env("USER", &user.name)
            .env("LOGNAME", &user.name);
        if let Some(run_dir) = job.cwd.parent() {
            command.env("HOME", run_dir.join("home"));
        }
    }
    command.spawn()
}

/// Waits for every remaining child (orphans of the job, already sent SIGKILL), for
/// at most `limit`.
fn reap_orphans(limit: Duration) {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(TICK),
            Ok(_) => {}
            Err(_) => return, // ECHILD: none left.
        }
    }
}

fn finish(
    run_dir: &Path,
    user: Option<&crate::jobuser::JobUser>,
    reason: ExitReason,
    code: Option<i32>,
    signal: Option<i32>,
    message: Option<String>,
    failed_process: Option<usize>,
) -> anyhow::Result<()> {
    let exit = Exit {
        reason,
        code,
        signal,
        message,
        failed_process,
        time: crate::store::now(),
    };
    control::write(run_dir, control::EXIT, &exit)?;
    if user.is_some() {
        crate::jobuser::hand_back(run_dir)?;
    }
    Ok(())
}

/// The rank of this process, from the variables MPI launchers and Slurm set.
pub fn rank_from_env() -> Option<u32> {
    [
        "OMPI_COMM_WORLD_RANK",
        "PMIX_RANK",
        "PMI_RANK",
        "SLURM_PROCID",
        "RANK",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok()?.parse().ok())
}

/// `runboard rank-exec --log-dir DIR -- PROGRAM ARGS…`: becomes `PROGRAM ARGS…` with
/// stdout and stderr appended to `DIR/std_log_process_<rank>.txt`; rank 0's log is
/// also `DIR/std_log.txt` (a link). Returns only if the program cannot be started.
pub fn rank_exec(log_dir: &Path, command: &[String]) -> anyhow::Result<()> {
    let rank = rank_from_env().ok_or_else(|| {
        anyhow::anyhow!(
            "no rank in the environment (OMPI_COMM_WORLD_RANK, PMIX_RANK, SLURM_PROCID or RANK)"
        )
    })?;
    std::fs::create_dir_all(log_dir)?;
    let name = format!("std_log_process_{rank}.txt");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_dir.join(&name))?;
    if rank == 0 {
        let main = log_dir.join("std_log.txt");
        if std::fs::symlink_metadata(&main).is_err() {
            let _ = std::os::unix::fs::symlink(&name, &main);
        }
    }
    let program = command
        .first()
        .ok_or_else(|| anyhow::anyhow!("rank-exec needs a command"))?;
    let error = Command::new(program)
        .args(&command[1..])
        .stdout(log.try_clone()?)
        .stderr(log)
        .exec();
    Err(anyhow::anyhow!("could not start {program}: {error}"))
}
