//! How a job's processes are laid out on the local machine: one process, `mpirun`
//! with N ranks, N PyTorch processes with the variables `torchrun` sets, or one
//! process per TensorFlow task with `TF_CONFIG`. Pure: the caller supplies paths,
//! the port and the machine's facts.

use std::collections::BTreeMap;
use std::path::Path;

use runboard_shared::estimator::{DistributedTraining, Estimator, expand_vars};

use super::control::Process;

/// What the plan needs to know besides the estimator.
#[derive(Debug, Clone)]
pub struct LaunchContext<'a> {
    /// The interpreter (in the run's environment).
    pub python: &'a str,
    /// The script's arguments (from `script_params`), before `$VAR` expansion.
    pub args: &'a [String],
    /// The job's environment variables.
    pub env: &'a BTreeMap<String, String>,
    /// `<run>/user_logs`.
    pub user_logs: &'a Path,
    /// `<run>/system_logs`.
    pub system_logs: &'a Path,
    /// The `runboard` binary (for `rank-exec`).
    pub runboard: &'a Path,
    /// A free TCP port on this machine (PyTorch's `MASTER_PORT`, TensorFlow's first).
    pub port: u16,
    /// CPU cores of this machine.
    pub cores: usize,
    /// Whether the job runs as root (Open MPI refuses that unless told).
    pub as_root: bool,
}

/// Why a job cannot be laid out on this target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// The processes of a job on the local machine.
pub fn plan(estimator: &Estimator, ctx: &LaunchContext<'_>) -> Result<Vec<Process>, PlanError> {
    if estimator.node_count > 1 {
        return Err(PlanError(format!(
            "node_count={}: the local compute target is one machine; use a Slurm compute target for several nodes",
            estimator.node_count
        )));
    }
    let script = |env: &BTreeMap<String, String>| -> Vec<String> {
        let mut argv = vec![ctx.python.to_owned(), estimator.entry_script.clone()];
        argv.extend(
            ctx.args
                .iter()
                .map(|a| expand_vars(a, &|k| env.get(k).cloned())),
        );
        argv
    };
    let rank_log = |rank: usize| ctx.user_logs.join(format!("std_log_process_{rank}.txt"));
    let per_node = estimator.process_count_per_node.max(1) as usize;
    match estimator.distribution() {
        None => Ok(vec![Process::new(
            script(ctx.env),
            ctx.user_logs.join("std_log.txt"),
        )]),
        Some(DistributedTraining::Mpi {
            process_count_per_node,
        }) => {
            let n = process_count_per_node.max(1) as usize;
            let mut argv = vec![
                "mpirun".to_owned(),
                "-np".to_owned(),
                n.to_string(),
                "--bind-to".into(),
                "none".into(),
            ];
            if ctx.as_root {
                argv.push("--allow-run-as-root".into());
            }
            if n > ctx.cores {
                argv.push("--oversubscribe".into());
            }
            argv.extend([
                ctx.runboard.display().to_string(),
                "rank-exec".into(),
                "--log-dir".into(),
                ctx.user_logs.display().to_string(),
                "--".into(),
            ]);
            // `$VAR`s in the arguments are left for each rank's shell-less expansion:
            // MPI variables differ per rank, so expand only the job's own here.
            argv.extend(script(ctx.env));
            Ok(vec![Process::new(argv, ctx.system_logs.join("mpirun.txt"))])
        }
        Some(DistributedTraining::Gloo | DistributedTraining::Nccl) => {
            let world = per_node;
            let init = format!("tcp://127.0.0.1:{}", ctx.port);
            Ok((0..world)
                .map(|rank| {
                    let mut env = ctx.env.clone();
                    for (k, v) in [
                        ("MASTER_ADDR", "127.0.0.1".to_owned()),
                        ("MASTER_PORT", ctx.port.to_string()),
                        ("RANK", rank.to_string()),
                        ("WORLD_SIZE", world.to_string()),
                        ("LOCAL_RANK", rank.to_string()),
                        ("LOCAL_WORLD_SIZE", world.to_string()),
                        ("NODE_RANK", "0".to_owned()),
                        ("GROUP_RANK", "0".to_owned()),
                        ("AZ_BATCHAI_PYTORCH_INIT_METHOD", init.clone()),
                        ("AZ_BATCHAI_TASK_INDEX", rank.to_string()),
                    ] {
                        env.insert(k.to_owned(), v);
                    }
                    let argv = script(&env);
                    let only_own = own_env(env, ctx.env);
                    Process {
                        argv,
                        env: only_own,
                        log: rank_log(rank),
                        required: true,
                    }
                })
                .collect())
        }
        Some(DistributedTraining::ParameterServer {
            worker_count,
            parameter_server_count,
        }) => {
            let (workers, servers) = (
                worker_count.max(1) as usize,
                parameter_server_count.max(1) as usize,
            );
            let address = |i: usize| format!("127.0.0.1:{}", u32::from(ctx.port) + i as u32);
            let cluster = serde_json::json!({
                "worker": (0..workers).map(address).collect::<Vec<_>>(),
                "ps": (0..servers).map(|i| address(workers + i)).collect::<Vec<_>>(),
            });
            let tasks = (0..workers)
                .map(|i| ("worker", i, true))
                .chain((0..servers).map(|i| ("ps", i, false)));
            Ok(tasks
                .enumerate()
                .map(|(rank, (kind, index, required))| {
                    let tf_config = serde_json::json!({
                        "cluster": cluster,
                        "task": {"type": kind, "index": index},
                        "environment": "cloud",
                    });
                    let mut env = ctx.env.clone();
                    env.insert("TF_CONFIG".into(), tf_config.to_string());
                    env.insert("AZ_BATCHAI_TASK_INDEX".into(), rank.to_string());
                    let argv = script(&env);
                    let only_own = own_env(env, ctx.env);
                    Process {
                        argv,
                        env: only_own,
                        log: rank_log(rank),
                        required,
                    }
                })
                .collect())
        }
    }
}

/// The variables of `env` that the job's own environment `job` does not hold: what
/// one process adds (`RANK`, `TF_CONFIG`).
fn own_env(
    env: BTreeMap<String, String>,
    job: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    env.into_iter()
        .filter(|(k, _)| !job.contains_key(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimator(json: serde_json::Value) -> Estimator {
        let mut json = json;
        json["source_directory"] = ".".into();
        json["entry_script"] = "train.py".into();
        Estimator::from_value(&json).unwrap()
    }

    fn plan_of(json: serde_json::Value, cores: usize) -> Result<Vec<Process>, PlanError> {
        let env = BTreeMap::from([("RUNBOARD_RUN_ID".to_owned(), "r".to_owned())]);
        let args = vec![
            "--dist-url".to_owned(),
            "$AZ_BATCHAI_PYTORCH_INIT_METHOD".to_owned(),
        ];
        let ctx = LaunchContext {
            python: "/env/bin/python",
            args: &args,
            env: &env,
            user_logs: Path::new("/run/user_logs"),
            system_logs: Path::new("/run/system_logs"),
            runboard: Path::new("/bin/runboard"),
            port: 29500,
            cores,
            as_root: true,
        };
        plan(&estimator(json), &ctx)
    }

    #[test]
    fn one_process_by_default() {
        let p = plan_of(serde_json::json!({}), 2).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].argv[..2], ["/env/bin/python", "train.py"]);
        assert_eq!(p[0].log, Path::new("/run/user_logs/std_log.txt"));
    }

    #[test]
    fn mpi_runs_mpirun_with_a_rank_wrapper() {
        let p = plan_of(
            serde_json::json!({"distributed_backend": "mpi", "process_count_per_node": 4}),
            2,
        )
        .unwrap();
        assert_eq!(p.len(), 1);
        let argv = p[0].argv.join(" ");
        assert!(
            argv.starts_with("mpirun -np 4 --bind-to none --allow-run-as-root --oversubscribe /bin/runboard rank-exec --log-dir /run/user_logs -- /env/bin/python train.py"),
            "{argv}"
        );
    }

    #[test]
    fn pytorch_processes_get_the_torchrun_variables_and_expand_them() {
        let p = plan_of(
            serde_json::json!({"framework": "PyTorch", "distributed_training": {"type": "Gloo"}, "process_count_per_node": 2}),
            2,
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].env["RANK"], "1");
        assert_eq!(p[1].env["WORLD_SIZE"], "2");
        assert_eq!(p[1].env["MASTER_PORT"], "29500");
        assert_eq!(
            p[1].argv[3], "tcp://127.0.0.1:29500",
            "the SDK's $AZ_BATCHAI_PYTORCH_INIT_METHOD expands"
        );
        assert_eq!(p[1].log, Path::new("/run/user_logs/std_log_process_1.txt"));
        assert!(
            !p[1].env.contains_key("RUNBOARD_RUN_ID"),
            "the job's own variables stay in the job"
        );
    }

    #[test]
    fn parameter_server_tasks_get_tf_config_and_only_workers_are_waited_for() {
        let p = plan_of(
            serde_json::json!({"framework": "TensorFlow", "distributed_training": {"type": "ParameterServer", "worker_count": 2, "parameter_server_count": 1}}),
            2,
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        let config: serde_json::Value = serde_json::from_str(&p[2].env["TF_CONFIG"]).unwrap();
        assert_eq!(
            config["task"],
            serde_json::json!({"type": "ps", "index": 0})
        );
        assert_eq!(
            config["cluster"]["worker"],
            serde_json::json!(["127.0.0.1:29500", "127.0.0.1:29501"])
        );
        assert_eq!(
            config["cluster"]["ps"],
            serde_json::json!(["127.0.0.1:29502"])
        );
        assert_eq!(
            p.iter().map(|p| p.required).collect::<Vec<_>>(),
            [true, true, false]
        );
    }

    #[test]
    fn several_nodes_need_slurm() {
        let err = plan_of(
            serde_json::json!({"distributed_backend": "mpi", "node_count": 2}),
            2,
        )
        .unwrap_err();
        assert!(err.0.contains("use a Slurm compute target"), "{err}");
    }
}
