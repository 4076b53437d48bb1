//! `runboard supervise <run-dir>`: the small process that owns one job.
//!
//! The server starts it in a process group of its own, so it outlives the server. It
//! starts the job in a new process group with stdout and stderr on the same file
//! (so the log keeps the order in which lines were written), stops the group on
//! SIGTERM (a cancel) or when the run is over its time limit (SIGTERM, a grace
//! period, SIGKILL), and writes how the job ended into `control/exit.json`.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::control::{self, Exit, ExitReason, Job, Started, SupervisorInfo};

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

    if let Some(parent) = job.log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&job.log)?;
    let spawned = Command::new(job.argv.first().map(String::as_str).unwrap_or("python3"))
        .args(job.argv.iter().skip(1))
        .current_dir(&job.cwd)
        .envs(&job.env)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let message = format!(
                "could not start {:?}: {e}",
                job.argv.first().cloned().unwrap_or_default()
            );
            return finish(run_dir, ExitReason::SpawnFailed, None, None, Some(message));
        }
    };
    let pid = i32::try_from(child.id()).unwrap_or(0);
    control::write(
        run_dir,
        control::STARTED,
        &Started {
            pid,
            time: crate::store::now(),
        },
    )?;

    let group = Pid::from_raw(pid);
    let started = Instant::now();
    let limit = job.max_run_duration_seconds.map(Duration::from_secs);
    let grace = Duration::from_secs(job.grace_seconds);
    let mut stopping: Option<(ExitReason, Instant)> = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if stopping.is_none() {
            let reason = if stop.load(Ordering::Relaxed) {
                Some(ExitReason::Canceled)
            } else if limit.is_some_and(|l| started.elapsed() >= l) {
                Some(ExitReason::Timeout)
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
    };
    // Whatever the job left running in its group goes with it, and is reaped here
    // (the supervisor is their subreaper) so that no zombie of the group remains.
    let _ = killpg(group, Signal::SIGKILL);
    reap_orphans(Duration::from_secs(5));

    use std::os::unix::process::ExitStatusExt;
    let (reason, message) = match stopping {
        Some((ExitReason::Timeout, _)) => (
            ExitReason::Timeout,
            Some(format!(
                "the run exceeded max_run_duration_seconds={} and was stopped",
                job.max_run_duration_seconds.unwrap_or_default()
            )),
        ),
        Some((reason, _)) => (reason, None),
        None => (ExitReason::Exited, None),
    };
    finish(run_dir, reason, status.code(), status.signal(), message)
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
    reason: ExitReason,
    code: Option<i32>,
    signal: Option<i32>,
    message: Option<String>,
) -> anyhow::Result<()> {
    let exit = Exit {
        reason,
        code,
        signal,
        message,
        time: crate::store::now(),
    };
    control::write(run_dir, control::EXIT, &exit)?;
    Ok(())
}
