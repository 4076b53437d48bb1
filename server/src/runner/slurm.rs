//! The Slurm compute target: a run becomes one batch job (`sbatch`), whose tasks are
//! started by `srun` (per-task logs through srun's `%t` output pattern) or, for MPI,
//! by `srun --mpi=pmix` or `mpirun` as the target's settings say. Its state comes
//! from `squeue` (falling back to `scontrol show job`), mapped onto the run status;
//! cancel is `scancel`. The job id lives in `control/slurm.json`, so a restarted
//! server re-attaches by asking Slurm again.
//!
//! The run folder (and the environment the job uses) must be visible at the same
//! path on the nodes: the data folder on a shared filesystem, or the run's working
//! directory placed under the target's `shared_dir`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::control::{self, Exit, ExitReason, Job};
use super::{ComputeTarget, JobState, RunnerError};
use crate::config::{MpiLauncher, SlurmConfig};

/// The Slurm job of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlurmJob {
    /// The job id `sbatch` gave.
    pub job_id: String,
}

/// A Slurm cluster, reached through its command-line tools on this machine.
#[derive(Debug)]
pub struct SlurmTarget {
    /// The target's settings.
    pub config: SlurmConfig,
    /// The `runboard` binary (for `rank-exec` under `mpirun`).
    pub runboard: PathBuf,
    /// The last answer per run folder, so Slurm is asked at most once a second.
    last: Mutex<BTreeMap<PathBuf, (Instant, JobState)>>,
}

/// How often Slurm is asked about a job.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Pending reasons that mean the job can never start on this cluster.
const HOPELESS: &[&str] = &[
    "PartitionNodeLimit",
    "PartitionConfig",
    "BadConstraints",
    "PartitionTimeLimit",
    "InvalidAccount",
    "InvalidQOS",
    "QOSMaxNodePerJobLimit",
];

impl SlurmTarget {
    /// A target with these settings.
    pub fn new(config: SlurmConfig, runboard: PathBuf) -> Self {
        Self {
            config,
            runboard,
            last: Mutex::default(),
        }
    }

    fn ask(&self, run_dir: &Path, job: &SlurmJob) -> Result<JobState, RunnerError> {
        let limit = read_job(run_dir)?.and_then(|j| j.max_run_duration_seconds);
        let (state, reason, nodes) = match squeue(&job.job_id) {
            Some(answer) => answer,
            None => match scontrol(&job.job_id) {
                Some((state, reason, _, _)) => (state, reason, String::new()),
                None => {
                    return Ok(JobState::Lost(format!(
                        "Slurm no longer knows job {} (neither squeue nor scontrol answer for it)",
                        job.job_id
                    )));
                }
            },
        };
        if !nodes.is_empty() && nodes != "(null)" {
            let _ = control::write(
                run_dir,
                "slurm-nodes.json",
                &serde_json::json!({"nodes": nodes}),
            );
        }
        let exit = |reason: ExitReason,
                    code: Option<i32>,
                    signal: Option<i32>,
                    message: Option<String>| {
            Exit {
                reason,
                code,
                signal,
                message,
                failed_process: None,
                time: crate::store::now(),
            }
        };
        let id = &job.job_id;
        let finished = match state.as_str() {
            "PENDING" if HOPELESS.contains(&reason.as_str()) => {
                let _ = super::stdout_of("scancel", &[id]);
                Some(exit(
                    ExitReason::SpawnFailed,
                    None,
                    None,
                    Some(format!(
                        "Slurm cannot run job {id} on this cluster: it is PENDING with reason {reason} (more nodes or tasks per node than the partition has?)"
                    )),
                ))
            }
            "PENDING" | "CONFIGURING" | "REQUEUED" | "RESIZING" | "SUSPENDED" => {
                return Ok(JobState::Launching);
            }
            "RUNNING" | "COMPLETING" | "STAGE_OUT" => return Ok(JobState::Running),
            "COMPLETED" => Some(exit(ExitReason::Exited, Some(0), None, None)),
            "CANCELLED" => Some(exit(
                ExitReason::Canceled,
                None,
                None,
                Some(format!("Slurm job {id} was CANCELLED")),
            )),
            "TIMEOUT" => Some(exit(
                ExitReason::Timeout,
                None,
                None,
                Some(format!(
                    "Slurm ended job {id} with TIMEOUT: the run exceeded max_run_duration_seconds={}",
                    limit.unwrap_or_default()
                )),
            )),
            other => {
                let (code, signal) =
                    scontrol(id).map_or((None, None), |(_, _, code, signal)| (code, signal));
                Some(exit(
                    ExitReason::Exited,
                    Some(code.filter(|c| *c != 0).unwrap_or(1)),
                    signal.filter(|s| *s != 0),
                    Some(format!("Slurm job {id} ended {other} (reason {reason})")),
                ))
            }
        };
        match finished {
            Some(exit) => {
                control::write(run_dir, control::EXIT, &exit)
                    .map_err(RunnerError::io("writing exit.json"))?;
                Ok(JobState::Exited(exit))
            }
            None => Ok(JobState::Running),
        }
    }
}

fn read_job(run_dir: &Path) -> Result<Option<Job>, RunnerError> {
    control::read(run_dir, control::JOB).map_err(RunnerError::io("reading job.json"))
}

/// `squeue -h -j ID -t all -o '%T|%r|%N'`: state, reason, nodes.
fn squeue(id: &str) -> Option<(String, String, String)> {
    let out = super::stdout_of("squeue", &["-h", "-j", id, "-t", "all", "-o", "%T|%r|%N"])?;
    let mut parts = out.lines().next()?.split('|');
    Some((
        parts.next()?.trim().to_owned(),
        parts.next().unwrap_or_default().trim().to_owned(),
        parts.next().unwrap_or_default().trim().to_owned(),
    ))
}

/// `scontrol show job -o ID`: state, reason, exit code and signal.
fn scontrol(id: &str) -> Option<(String, String, Option<i32>, Option<i32>)> {
    let out = super::stdout_of("scontrol", &["show", "job", "-o", id])?;
    Some(parse_scontrol(&out))
}

/// The fields of one `scontrol show job -o` line that a run needs.
pub fn parse_scontrol(line: &str) -> (String, String, Option<i32>, Option<i32>) {
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .unwrap_or_default()
            .to_owned()
    };
    let exit_code = field("ExitCode");
    let mut parts = exit_code.split(':');
    let code = parts.next().and_then(|c| c.parse().ok());
    let signal = parts.next().and_then(|s| s.parse().ok());
    (field("JobState"), field("Reason"), code, signal)
}

/// Quotes a script argument for bash so that it means what it means on the local
/// target: everything literal (`$(cmd)`, backticks, `;`, globs, quotes, newlines),
/// except `$NAME` and `${NAME}`, which expand per task when the variable is set and
/// stay as written when it is not, as `runboard_shared::estimator::expand_vars`
/// does locally (the SDK passed script arguments through a shell, so
/// `$AZ_BATCHAI_PYTORCH_INIT_METHOD` works). Literal text is single-quoted
/// (`'` as `'\''`); a variable becomes `"${NAME-\$NAME}"`.
fn bash_word(word: &str) -> String {
    let mut out = String::new();
    let mut literal = String::new();
    let flush = |out: &mut String, literal: &mut String| {
        if !literal.is_empty() {
            out.push_str(&sq(literal));
            literal.clear();
        }
    };
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len, braced) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2, true),
                None => ("", 0, false),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end, false)
            }
        };
        let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid {
            flush(&mut out, &mut literal);
            if braced {
                out.push_str(&format!("\"${{{name}-\\${{{name}\\}}}}\""));
            } else {
                out.push_str(&format!("\"${{{name}-\\${name}}}\""));
            }
            rest = &after[len..];
        } else {
            literal.push('$');
            rest = after;
        }
    }
    literal.push_str(rest);
    flush(&mut out, &mut literal);
    if out.is_empty() {
        out.push_str("''");
    }
    out
}

/// Quotes a word for bash with nothing expanded.
fn sq(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The batch script of a job.
pub fn batch_script(config: &SlurmConfig, runboard: &Path, run_dir: &Path, job: &Job) -> String {
    let user_logs = run_dir.join("user_logs");
    let layout = &job.layout;
    let mut s = String::from("#!/bin/bash\n");
    let directive = |s: &mut String, d: String| {
        s.push_str("#SBATCH ");
        s.push_str(&d);
        s.push('\n');
    };
    directive(
        &mut s,
        format!(
            "--job-name=runboard-{}",
            run_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("run")
        ),
    );
    directive(&mut s, format!("--nodes={}", layout.nodes));
    directive(
        &mut s,
        format!("--ntasks-per-node={}", layout.processes_per_node),
    );
    directive(
        &mut s,
        format!(
            "--output={}",
            run_dir.join("system_logs/slurm-job.txt").display()
        ),
    );
    directive(&mut s, format!("--chdir={}", job.cwd.display()));
    if let Some(p) = &config.partition {
        directive(&mut s, format!("--partition={p}"));
    }
    if let Some(a) = &config.account {
        directive(&mut s, format!("--account={a}"));
    }
    if let Some(secs) = job.max_run_duration_seconds {
        // Slurm counts whole minutes.
        directive(&mut s, format!("--time={}", secs.div_ceil(60).max(1)));
    }
    for extra in &config.sbatch_args {
        directive(&mut s, extra.clone());
    }
    s.push_str("set -u\n");
    for (k, v) in job.env.iter().chain(&config.env) {
        s.push_str(&format!("export {k}={}\n", sq(v)));
    }
    let Some(process) = job.processes.first() else {
        return s;
    };
    let command: Vec<String> = process.argv.iter().map(|a| bash_word(a)).collect();
    let command = command.join(" ");
    let per_task = sq(&format!(
        "--output={}/std_log_process_%t.txt",
        user_logs.display()
    ));
    let tasks = layout.nodes * layout.processes_per_node;
    match layout.backend.as_deref() {
        Some("mpi") => match config.mpi_launcher {
            MpiLauncher::Srun => {
                s.push_str(&format!("exec srun --mpi=pmix {per_task} {command}\n"));
            }
            MpiLauncher::Mpirun => {
                let mut args = vec!["exec mpirun".to_owned()];
                if nix::unistd::geteuid().is_root() {
                    args.push("--allow-run-as-root".into());
                }
                args.extend(config.mpirun_args.iter().map(|a| sq(a)));
                args.push(sq(&runboard.display().to_string()));
                args.push(format!(
                    "rank-exec --log-dir {} --",
                    sq(&user_logs.display().to_string())
                ));
                s.push_str(&format!("{} {command}\n", args.join(" ")));
            }
        },
        Some("gloo" | "nccl") => {
            s.push_str("export MASTER_ADDR=$(hostname)\n");
            s.push_str(&format!("export MASTER_PORT={}\n", layout.port));
            s.push_str(&format!(
                "export AZ_BATCHAI_PYTORCH_INIT_METHOD=tcp://$MASTER_ADDR:$MASTER_PORT WORLD_SIZE={tasks} LOCAL_WORLD_SIZE={}\n",
                layout.processes_per_node
            ));
            let inner = format!(
                "export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID NODE_RANK=$SLURM_NODEID GROUP_RANK=$SLURM_NODEID AZ_BATCHAI_TASK_INDEX=$SLURM_PROCID; exec {command}"
            );
            s.push_str(&format!("exec srun {per_task} bash -c {}\n", sq(&inner)));
        }
        _ if tasks > 1 => {
            s.push_str(&format!("exec srun {per_task} {command}\n"));
        }
        _ => {
            s.push_str(&format!(
                "exec srun --ntasks=1 {} {command}\n",
                sq(&format!("--output={}/std_log.txt", user_logs.display()))
            ));
        }
    }
    s
}

impl ComputeTarget for SlurmTarget {
    fn launch(&self, run_dir: &Path) -> Result<(), RunnerError> {
        let job = read_job(run_dir)?.ok_or_else(|| {
            RunnerError::io("reading job.json")(std::io::Error::other("job.json is missing"))
        })?;
        let script = batch_script(&self.config, &self.runboard, run_dir, &job);
        let script_path = control::path(run_dir, "slurm.sh");
        std::fs::write(&script_path, script)
            .map_err(RunnerError::io("writing control/slurm.sh"))?;
        // Rank 0's log is also std_log.txt, as on the local target.
        if job.layout.nodes * job.layout.processes_per_node > 1 {
            let main = run_dir.join("user_logs/std_log.txt");
            if std::fs::symlink_metadata(&main).is_err() {
                let _ = std::os::unix::fs::symlink("std_log_process_0.txt", &main);
            }
        }
        let out = Command::new("sbatch")
            .arg("--parsable")
            .arg(&script_path)
            .stdin(Stdio::null())
            .output()
            .map_err(RunnerError::io("starting sbatch"))?;
        if !out.status.success() {
            let message = format!(
                "sbatch refused the job: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            let exit = Exit {
                reason: ExitReason::SpawnFailed,
                code: None,
                signal: None,
                message: Some(message),
                failed_process: None,
                time: crate::store::now(),
            };
            return control::write(run_dir, control::EXIT, &exit)
                .map_err(RunnerError::io("writing exit.json"));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let job_id = stdout
            .trim()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        control::write(run_dir, "slurm.json", &SlurmJob { job_id })
            .map_err(RunnerError::io("writing slurm.json"))
    }

    fn cancel(&self, run_dir: &Path) -> Result<(), RunnerError> {
        let job: Option<SlurmJob> =
            control::read(run_dir, "slurm.json").map_err(RunnerError::io("reading slurm.json"))?;
        if let Some(job) = job {
            let _ = super::stdout_of("scancel", &[&job.job_id]);
        }
        Ok(())
    }

    fn poll(&self, run_dir: &Path) -> Result<JobState, RunnerError> {
        let exit: Option<Exit> =
            control::read(run_dir, control::EXIT).map_err(RunnerError::io("reading exit.json"))?;
        if let Some(exit) = exit {
            return Ok(JobState::Exited(exit));
        }
        let job: Option<SlurmJob> =
            control::read(run_dir, "slurm.json").map_err(RunnerError::io("reading slurm.json"))?;
        let Some(job) = job else {
            return Ok(JobState::NotLaunched);
        };
        {
            let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, state)) = last.get(run_dir)
                && at.elapsed() < POLL_EVERY
            {
                return Ok(state.clone());
            }
        }
        let state = self.ask(run_dir, &job)?;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.insert(run_dir.to_owned(), (Instant::now(), state.clone()));
        Ok(state)
    }

    fn lays_out_processes(&self) -> bool {
        false
    }

    fn properties(&self, run_dir: &Path) -> BTreeMap<String, String> {
        let mut props = BTreeMap::new();
        if let Ok(Some(job)) = control::read::<SlurmJob>(run_dir, "slurm.json") {
            props.insert("slurm.job_id".to_owned(), job.job_id);
        }
        if let Ok(Some(nodes)) = control::read::<serde_json::Value>(run_dir, "slurm-nodes.json")
            && let Some(nodes) = nodes["nodes"].as_str()
        {
            props.insert("slurm.nodes".to_owned(), nodes.to_owned());
        }
        props
    }
}

/// Whether a Slurm cluster answers here (`sinfo`), and why not.
pub fn cluster_available() -> Result<(), String> {
    match Command::new("sinfo").args(["-h", "-o", "%D %t"]).output() {
        Err(_) => Err("sinfo is not installed".to_owned()),
        Ok(out) if !out.status.success() => Err(format!(
            "sinfo failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scontrol_lines_give_state_reason_and_exit_code() {
        let line = "JobId=5 JobName=x UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 ExitCode=3:0";
        assert_eq!(
            parse_scontrol(line),
            ("FAILED".into(), "NonZeroExitCode".into(), Some(3), Some(0))
        );
        let line = "JobId=6 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15";
        assert_eq!(
            parse_scontrol(line),
            ("TIMEOUT".into(), "TimeLimit".into(), Some(0), Some(15))
        );
    }

    /// Each argument, quoted by [`bash_word`], reaches the program as the local
    /// target passes it: run through a real bash with `RANK=3` set.
    #[test]
    fn script_arguments_mean_on_slurm_what_they_mean_locally() {
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("", ""),
            (
                "$(touch /tmp/runboard-pwned)",
                "$(touch /tmp/runboard-pwned)",
            ),
            ("`id`", "`id`"),
            ("a'b", "a'b"),
            ("'", "'"),
            ("\"double\" \\ back", "\"double\" \\ back"),
            ("; rm -rf / #", "; rm -rf / #"),
            ("*", "*"),
            ("two words", "two words"),
            ("line\nbreak", "line\nbreak"),
            ("$((1+2))", "$((1+2))"),
            ("${RANK:-x}", "${RANK:-x}"),
            ("!event", "!event"),
            ("$RANK", "3"),
            ("${RANK}", "3"),
            ("rank-$RANK.log", "rank-3.log"),
            ("${RANK}x", "3x"),
            ("$RANKx", "$RANKx"),
            ("$UNSET_RUNBOARD_VAR", "$UNSET_RUNBOARD_VAR"),
            ("${UNSET_RUNBOARD_VAR}", "${UNSET_RUNBOARD_VAR}"),
            ("cost: 5$", "cost: 5$"),
            ("$", "$"),
            ("${RANK", "${RANK"),
            ("$1", "$1"),
            ("$(echo $RANK)", "$(echo 3)"),
        ];
        // The local target's meaning, for the same environment.
        let local = |arg: &str| {
            runboard_shared::estimator::expand_vars(arg, &|k| (k == "RANK").then(|| "3".to_owned()))
        };
        let words: Vec<String> = cases.iter().map(|(arg, _)| bash_word(arg)).collect();
        let script = format!("printf '%s\\0' {}", words.join(" "));
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .env("RANK", "3")
            .env_remove("UNSET_RUNBOARD_VAR")
            .env_remove("RANKx")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .split_terminator('\0')
            .map(str::to_owned)
            .collect();
        assert_eq!(got.len(), cases.len(), "{script}");
        for ((arg, expect), got) in cases.iter().zip(&got) {
            assert_eq!(got, expect, "argument {arg:?} quoted as {}", bash_word(arg));
            assert_eq!(&local(arg), expect, "local meaning of {arg:?}");
        }
        assert_eq!(sq("it's"), "'it'\\''s'");
    }
}
