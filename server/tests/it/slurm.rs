//! The Slurm compute target against the real two-node cluster of
//! `scripts/local-slurm.sh` (started by `cargo xtask test`).

use std::time::Duration;

use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{Server, Tool, skip, source};

/// The server config naming the cluster: srun with PMIx, and Open MPI told to use TCP
/// over loopback, since both "nodes" are this one host.
const CONFIG: &str = r#"
[compute.cpu-cluster]
kind = "slurm"
partition = "debug"
mpi_launcher = "srun"

[compute.cpu-cluster.env]
OMPI_MCA_btl = "tcp,self"
OMPI_MCA_btl_tcp_if_include = "lo"
"#;

/// A server with the Slurm target, or `None` (`test` skipped, see [`skip`]) when
/// Slurm is not installed. A cluster that is installed but down fails the test.
fn server_with_cluster(test: &str, data: &std::path::Path) -> Option<Server> {
    match std::process::Command::new("sinfo")
        .args(["-h", "-o", "%D %t"])
        .output()
    {
        Err(_) => {
            skip(
                &format!("slurm::{test}"),
                Tool::Slurm,
                "Slurm is not installed (cargo xtask test installs it as root)",
            );
            return None;
        }
        Ok(out) => assert!(
            out.status.success(),
            "the Slurm cluster is not up; start it: scripts/local-slurm.sh start (as root): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
    let data_dir = data.join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    std::fs::write(data_dir.join("runboard.toml"), CONFIG).unwrap();
    Some(Server::start(&data_dir))
}

const MPI_JOB: &str = r#"
import os
from mpi4py import MPI
comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
total = comm.allreduce(rank + 1)
print(f'rank {rank} of {size} on {os.environ.get("SLURMD_NODENAME")}: allreduce {total}', flush=True)
"#;

fn mpi_estimator(nodes: u32, per_node: u32) -> serde_json::Value {
    json!({
        "entry_script": "train.py",
        "compute_target": "cpu-cluster",
        "node_count": nodes,
        "process_count_per_node": per_node,
        "distributed_backend": "mpi",
        "pip_packages": ["mpi4py"]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_distributed_estimator_runs_mpi4py_across_both_nodes() {
    let data = tempfile::tempdir().unwrap();
    let Some(server) = server_with_cluster(
        "the_seed_distributed_estimator_runs_mpi4py_across_both_nodes",
        data.path(),
    ) else {
        return;
    };
    let targets: Vec<String> = server
        .get("/api/compute-targets")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(targets, ["cpu-cluster", "local"]);
    let src = source(&[("train.py", MPI_JOB)]);
    let run = server
        .submit("slurm-mpi", src.path(), mpi_estimator(2, 1))
        .await;
    let id = run.run_id.as_str();
    let details = server
        .wait_for(id, Duration::from_secs(600), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    assert_eq!(
        server
            .text(id, "user_logs/std_log_process_0.txt")
            .await
            .trim(),
        "rank 0 of 2 on n1: allreduce 3"
    );
    assert_eq!(
        server
            .text(id, "user_logs/std_log_process_1.txt")
            .await
            .trim(),
        "rank 1 of 2 on n2: allreduce 3"
    );
    assert!(
        server
            .text(id, "user_logs/std_log.txt")
            .await
            .contains("rank 0 of 2")
    );
    assert!(
        details.properties["slurm.job_id"].parse::<u64>().is_ok(),
        "{:?}",
        details.properties
    );
    assert_eq!(details.properties["slurm.nodes"], "n[1-2]");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_with_two_processes_each_give_four_ranks_with_four_logs() {
    let data = tempfile::tempdir().unwrap();
    let Some(server) = server_with_cluster(
        "two_nodes_with_two_processes_each_give_four_ranks_with_four_logs",
        data.path(),
    ) else {
        return;
    };
    let src = source(&[("train.py", MPI_JOB)]);
    let run = server
        .submit("slurm-mpi4", src.path(), mpi_estimator(2, 2))
        .await;
    let id = run.run_id.as_str();
    let details = server
        .wait_for(id, Duration::from_secs(600), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    for (rank, node) in [(0, "n1"), (1, "n1"), (2, "n2"), (3, "n2")] {
        let text = server
            .text(id, &format!("user_logs/std_log_process_{rank}.txt"))
            .await;
        assert_eq!(
            text.trim(),
            format!("rank {rank} of 4 on {node}: allreduce 10")
        );
    }
}

fn slurm_state(job_id: &str) -> String {
    let out = std::process::Command::new("squeue")
        .args(["-h", "-j", job_id, "-t", "all", "-o", "%T"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_a_run_ends_its_slurm_job() {
    let data = tempfile::tempdir().unwrap();
    let Some(server) = server_with_cluster("cancelling_a_run_ends_its_slurm_job", data.path())
    else {
        return;
    };
    let src = source(&[(
        "train.py",
        "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n",
    )]);
    let run = server
        .submit(
            "slurm-cancel",
            src.path(),
            json!({"entry_script": "train.py", "compute_target": "cpu-cluster"}),
        )
        .await;
    let id = run.run_id.as_str();
    let details = server
        .wait_for(id, Duration::from_secs(300), |d| {
            d.status == RunStatus::Running
        })
        .await;
    let job_id = details.properties["slurm.job_id"].clone();
    assert_eq!(
        server
            .post(&format!("/api/runs/{id}/cancel"))
            .await
            .status(),
        202
    );
    let details = server
        .wait_for(id, Duration::from_secs(30), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Canceled, "{:?}", details.error);
    assert_eq!(slurm_state(&job_id), "CANCELLED");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_over_max_run_duration_ends_failed_with_timeout_named() {
    let data = tempfile::tempdir().unwrap();
    let Some(server) = server_with_cluster(
        "a_job_over_max_run_duration_ends_failed_with_timeout_named",
        data.path(),
    ) else {
        return;
    };
    let src = source(&[(
        "train.py",
        "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n",
    )]);
    let run = server
        .submit(
            "slurm-timeout",
            src.path(),
            json!({"entry_script": "train.py", "compute_target": "cpu-cluster", "max_run_duration_seconds": 30}),
        )
        .await;
    // Slurm counts whole minutes and checks limits about every 30 s.
    let details = server
        .wait_for(run.run_id.as_str(), Duration::from_secs(240), |d| {
            d.status.is_terminal()
        })
        .await;
    assert_eq!(details.status, RunStatus::Failed);
    let error = details.error.unwrap();
    assert!(
        error.contains("TIMEOUT") && error.contains("max_run_duration_seconds=30"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_of_the_server_while_a_slurm_job_runs_then_restart_and_it_completes_with_full_logs()
{
    let data = tempfile::tempdir().unwrap();
    let Some(mut server) = server_with_cluster(
        "kill_9_of_the_server_while_a_slurm_job_runs_then_restart_and_it_completes_with_full_logs",
        data.path(),
    ) else {
        return;
    };
    let src = source(&[(
        "train.py",
        "import time\nfor i in range(40):\n    print(f'step {i}', flush=True)\n    time.sleep(0.1)\n",
    )]);
    let run = server
        .submit(
            "slurm-restart",
            src.path(),
            json!({"entry_script": "train.py", "compute_target": "cpu-cluster"}),
        )
        .await;
    let id = run.run_id.to_string();
    server
        .wait_for(&id, Duration::from_secs(300), |d| {
            d.status == RunStatus::Running
        })
        .await;
    let port = server.port;
    server.kill9();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server = Server::start_on(&data.path().join("data"), port);
    let details = server
        .wait_for(&id, Duration::from_secs(300), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let expected: String = (0..40).map(|i| format!("step {i}\n")).collect();
    assert_eq!(server.text(&id, "user_logs/std_log.txt").await, expected);
}

/// A script parameter reaches the job on Slurm as written, as on the local target:
/// `$(…)`, backticks and quotes are not run by the batch shell.
#[tokio::test(flavor = "multi_thread")]
async fn script_params_reach_a_slurm_job_literally() {
    let data = tempfile::tempdir().unwrap();
    let Some(server) =
        server_with_cluster("script_params_reach_a_slurm_job_literally", data.path())
    else {
        return;
    };
    let marker = data.path().join("pwned");
    let nasty = format!(
        "$(touch {}) `touch {}` 'q' \"d\"",
        marker.display(),
        marker.display()
    );
    let src = source(&[(
        "train.py",
        "import json, sys\nprint(json.dumps(sys.argv[1:]), flush=True)\n",
    )]);
    let run = server
        .submit(
            "slurm-quoting",
            src.path(),
            json!({
                "entry_script": "train.py",
                "compute_target": "cpu-cluster",
                "script_params": {"--arg": nasty},
            }),
        )
        .await;
    let id = run.run_id.as_str();
    let details = server
        .wait_for(id, Duration::from_secs(300), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let log = server.text(id, "user_logs/std_log.txt").await;
    let argv: Vec<String> =
        serde_json::from_str(log.trim()).unwrap_or_else(|e| panic!("{e}: {log}"));
    assert_eq!(argv, ["--arg", nasty.as_str()]);
    assert!(!marker.exists(), "the batch shell ran $(touch …): {log}");
}
