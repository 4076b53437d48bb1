//! The files through which the server and a run's supervisor talk, under
//! `<run>/control/`. Each is written once, atomically (temporary file, fsync,
//! rename), so a reader never sees half of one, even after a crash.
//!
//! - `job.json` ([`Job`]): written by the server before launch: what to run.
//! - `supervisor.json` ([`SupervisorInfo`]): written by the supervisor when it starts.
//! - `started.json` ([`Started`]): written when the job's process is running.
//! - `exit.json` ([`Exit`]): written when the job has ended and its process group
//!   is gone. Its presence is the only proof of how a job ended.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// What the supervisor runs: one or more processes, in one process group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The processes, rank 0 first. At least one.
    pub processes: Vec<Process>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Environment variables added to the supervisor's own, for every process.
    pub env: BTreeMap<String, String>,
    /// Stop the job after this many seconds.
    pub max_run_duration_seconds: Option<u64>,
    /// Seconds between SIGTERM and SIGKILL when stopping the job.
    pub grace_seconds: u64,
    /// How many nodes and processes the job asked for, for targets that lay out
    /// processes themselves (Slurm).
    #[serde(default)]
    pub layout: Layout,
    /// The unprivileged user the processes run as (a root server's local jobs);
    /// `None`: the supervisor's own user.
    #[serde(default)]
    pub user: Option<crate::jobuser::JobUser>,
}

/// The shape of a distributed job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// Nodes.
    pub nodes: u32,
    /// Processes on each node.
    pub processes_per_node: u32,
    /// `mpi`, `gloo`, `nccl`, `ps`, or none.
    pub backend: Option<String>,
    /// A port for the job's rendezvous (PyTorch's `MASTER_PORT`).
    pub port: u16,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            nodes: 1,
            processes_per_node: 1,
            backend: None,
            port: 29500,
        }
    }
}

/// One process of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    /// Program and arguments (`python3 train.py --lr 0.1`).
    pub argv: Vec<String>,
    /// Environment variables of this process only (`RANK`), over the job's.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// File that receives its stdout and stderr, in the order written.
    pub log: PathBuf,
    /// Whether the job waits for it: a job is done when every required process has
    /// exited 0 (TensorFlow parameter servers never exit, so they are not required).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

impl Process {
    /// A required process with no environment of its own.
    pub fn new(argv: Vec<String>, log: PathBuf) -> Self {
        Self {
            argv,
            env: BTreeMap::new(),
            log,
            required: true,
        }
    }
}

/// Who supervises the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupervisorInfo {
    /// The supervisor's process id.
    pub pid: i32,
    /// Its start time in clock ticks since boot (`/proc/<pid>/stat` field 22), which
    /// tells it apart from a later process that reuses the pid.
    pub start_ticks: u64,
}

/// The job's process is running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    /// The job's process id, also its process group id.
    pub pid: i32,
    /// When it started (RFC 3339).
    pub time: String,
}

/// Why the job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The process ended on its own.
    Exited,
    /// Stopped because a cancel was requested.
    Canceled,
    /// Stopped because it ran longer than `max_run_duration_seconds`.
    Timeout,
    /// The process could not be started.
    SpawnFailed,
}

/// How the job ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exit {
    /// Why it ended.
    pub reason: ExitReason,
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal number, when a signal ended it.
    pub signal: Option<i32>,
    /// A sentence for people (the spawn error, the timeout).
    pub message: Option<String>,
    /// The index of the process whose failure ended the job, for several processes.
    #[serde(default)]
    pub failed_process: Option<usize>,
    /// When (RFC 3339).
    pub time: String,
}

/// Names of the control files.
pub const JOB: &str = "job.json";
/// See [`SupervisorInfo`].
pub const SUPERVISOR: &str = "supervisor.json";
/// See [`Started`].
pub const STARTED: &str = "started.json";
/// See [`Exit`].
pub const EXIT: &str = "exit.json";

/// `<run>/control/<name>`.
pub fn path(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join("control").join(name)
}

/// Writes a control file atomically.
pub fn write<T: Serialize>(run_dir: &Path, name: &str, value: &T) -> std::io::Result<()> {
    let dir = run_dir.join("control");
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    serde_json::to_writer_pretty(&mut tmp, value)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

/// Reads a control file; `None` when it does not exist (yet).
/// The job can write its run folder, so the file is read as
/// [`crate::confined::read_capped`] does: a regular file inside the run folder of at
/// most [`MAX_CONTROL_BYTES`].
pub fn read<T: DeserializeOwned>(run_dir: &Path, name: &str) -> std::io::Result<Option<T>> {
    use crate::confined::{ConfinedError, read_capped};
    let rel = Path::new("control").join(name);
    match read_capped(run_dir, &rel, MAX_CONTROL_BYTES) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(std::io::Error::other),
        Err(ConfinedError::NotFound) => Ok(None),
        Err(ConfinedError::Io(e)) => Err(e),
        Err(e) => Err(std::io::Error::other(format!("control/{name}: {e}"))),
    }
}

/// The largest control file read (they hold a few hundred bytes of JSON).
pub const MAX_CONTROL_BYTES: u64 = 1024 * 1024;

/// The start time of process `pid` in clock ticks since boot, or `None` when there is
/// no such process or it is a zombie.
pub fn process_start_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_comm.split(' ').collect();
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

impl SupervisorInfo {
    /// The current process, as a supervisor.
    pub fn this_process() -> Self {
        let pid = i32::try_from(std::process::id()).unwrap_or(0);
        Self {
            pid,
            start_ticks: process_start_ticks(pid).unwrap_or(0),
        }
    }

    /// Whether this supervisor is still running (same pid and start time, not a zombie).
    pub fn is_alive(&self) -> bool {
        process_start_ticks(self.pid) == Some(self.start_ticks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_files_round_trip_and_absent_ones_read_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read::<Exit>(dir.path(), EXIT).unwrap(), None);
        let exit = Exit {
            reason: ExitReason::Timeout,
            code: None,
            signal: Some(15),
            message: Some("ran longer than 2 s".into()),
            failed_process: None,
            time: "2026-11-27T00:00:00Z".into(),
        };
        write(dir.path(), EXIT, &exit).unwrap();
        assert_eq!(read::<Exit>(dir.path(), EXIT).unwrap(), Some(exit));
    }

    #[test]
    fn this_process_is_alive_and_a_changed_start_time_is_not() {
        let me = SupervisorInfo::this_process();
        assert!(me.is_alive());
        let impostor = SupervisorInfo {
            start_ticks: me.start_ticks + 1,
            ..me
        };
        assert!(!impostor.is_alive());
    }
}
