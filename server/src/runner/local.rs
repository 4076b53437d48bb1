//! The local compute target: each job runs on this machine under a
//! `runboard supervise <run-dir>` process (see [`super::supervisor`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::control::{self, Exit, Started, SupervisorInfo};
use super::{ComputeTarget, JobState, RunnerError};

/// Runs jobs on this machine.
#[derive(Debug, Clone)]
pub struct LocalTarget {
    /// The `runboard` binary, which has the `supervise` subcommand.
    pub supervisor_exe: PathBuf,
}

impl ComputeTarget for LocalTarget {
    fn launch(&self, run_dir: &Path) -> Result<(), RunnerError> {
        let log_path = run_dir.join("system_logs/supervisor.txt");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(RunnerError::io(format!("opening {}", log_path.display())))?;
        let stderr = log
            .try_clone()
            .map_err(RunnerError::io("duplicating the supervisor log handle"))?;
        use std::os::unix::process::CommandExt;
        let mut child = Command::new(&self.supervisor_exe)
            .arg("supervise")
            .arg(run_dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            // Its own process group: a Ctrl-C or kill of the server's group spares it.
            .process_group(0)
            .spawn()
            .map_err(RunnerError::io(format!(
                "starting the supervisor {}",
                self.supervisor_exe.display()
            )))?;
        // Reap it when it ends so that it does not linger as a zombie of the server.
        std::thread::spawn(move || child.wait());
        Ok(())
    }

    fn cancel(&self, run_dir: &Path) -> Result<(), RunnerError> {
        let info: Option<SupervisorInfo> = control::read(run_dir, control::SUPERVISOR)
            .map_err(RunnerError::io("reading supervisor.json"))?;
        match info {
            Some(info) if info.is_alive() => {
                // The supervisor turns SIGTERM into: SIGTERM to the job's group, a grace
                // period, SIGKILL, then exit.json with reason "canceled".
                let _ = kill(Pid::from_raw(info.pid), Signal::SIGTERM);
            }
            _ => {
                // No supervisor: stop whatever is left of the job's group directly.
                let started: Option<Started> =
                    control::read(run_dir, control::STARTED).unwrap_or(None);
                if let Some(started) = started {
                    let _ = nix::sys::signal::killpg(Pid::from_raw(started.pid), Signal::SIGKILL);
                }
            }
        }
        Ok(())
    }

    fn poll(&self, run_dir: &Path) -> Result<JobState, RunnerError> {
        let read_exit = || -> Result<Option<Exit>, RunnerError> {
            control::read(run_dir, control::EXIT).map_err(RunnerError::io("reading exit.json"))
        };
        if let Some(exit) = read_exit()? {
            return Ok(JobState::Exited(exit));
        }
        let info: Option<SupervisorInfo> = control::read(run_dir, control::SUPERVISOR)
            .map_err(RunnerError::io("reading supervisor.json"))?;
        let Some(info) = info else {
            return Ok(JobState::NotLaunched);
        };
        if info.is_alive() {
            let started = control::path(run_dir, control::STARTED).exists();
            return Ok(if started {
                JobState::Running
            } else {
                JobState::Launching
            });
        }
        // It may have written exit.json just before ending: look once more.
        if let Some(exit) = read_exit()? {
            return Ok(JobState::Exited(exit));
        }
        Ok(JobState::Lost(format!(
            "the run's supervisor (pid {}) ended without recording how the job ended; see system_logs/supervisor.txt",
            info.pid
        )))
    }
}
