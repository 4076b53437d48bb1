//! Several processes on the local target: Open MPI (with a real `mpirun` and
//! `mpi4py` from PyPI), PyTorch's launch variables, TensorFlow's `TF_CONFIG`.

use std::time::{Duration, Instant};

use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{Server, Tool, skip, source};

pub fn has_mpirun() -> bool {
    std::process::Command::new("mpirun")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mpi4py_job_with_two_processes_reduces_across_both_ranks_with_a_log_per_rank() {
    if !has_mpirun() {
        skip(
            "distributed::an_mpi4py_job_with_two_processes_reduces_across_both_ranks_with_a_log_per_rank",
            Tool::Mpirun,
            "no mpirun on this machine (Debian's openmpi-bin installs it)",
        );
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "from mpi4py import MPI\ncomm = MPI.COMM_WORLD\nrank, size = comm.Get_rank(), comm.Get_size()\ntotal = comm.allreduce(rank + 1)\nprint(f'rank {rank} of {size}: allreduce {total}', flush=True)\n",
    )]);
    let run = server
        .submit(
            "mpi",
            src.path(),
            json!({"entry_script": "train.py", "distributed_backend": "mpi", "process_count_per_node": 2, "pip_packages": ["mpi4py"]}),
        )
        .await;
    let id = run.run_id.as_str();
    let details = server
        .wait_for(id, Duration::from_secs(600), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    assert!(
        server
            .text(id, "user_logs/std_log_process_0.txt")
            .await
            .contains("rank 0 of 2: allreduce 3")
    );
    assert!(
        server
            .text(id, "user_logs/std_log_process_1.txt")
            .await
            .contains("rank 1 of 2: allreduce 3")
    );
    assert!(
        server
            .text(id, "user_logs/std_log.txt")
            .await
            .contains("rank 0 of 2: allreduce 3")
    );
    // Each rank's log is listed among the run's files, as the portal shows them.
    let files: serde_json::Value = server
        .get(&format!("/api/runs/{id}/files"))
        .await
        .json()
        .await
        .unwrap();
    let paths: Vec<&str> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"user_logs/std_log_process_0.txt")
            && paths.contains(&"user_logs/std_log_process_1.txt")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pytorch_style_job_reads_the_torchrun_variables_and_agrees_on_world_size() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    // No torch: rank 0 listens on MASTER_ADDR:MASTER_PORT, every other rank connects
    // and sends what it believes; rank 0 checks that all agree.
    let src = source(&[(
        "train.py",
        r#"
import argparse, os, socket, time
p = argparse.ArgumentParser()
p.add_argument('--dist-url')
a = p.parse_args()
rank, world = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
addr, port = os.environ['MASTER_ADDR'], int(os.environ['MASTER_PORT'])
assert a.dist_url == f'tcp://{addr}:{port}', a.dist_url
assert os.environ['LOCAL_RANK'] == str(rank) and os.environ['AZ_BATCHAI_TASK_INDEX'] == str(rank)
if rank == 0:
    server = socket.create_server((addr, port))
    seen = []
    for _ in range(world - 1):
        conn, _ = server.accept()
        seen.append(conn.recv(100).decode())
    print('rank 0 heard', sorted(seen), 'world', world, flush=True)
    assert all(s.endswith(f'/{world}') for s in seen)
else:
    for _ in range(100):
        try:
            conn = socket.create_connection((addr, port))
            break
        except OSError:
            time.sleep(0.1)
    conn.sendall(f'{rank}/{world}'.encode())
    print(f'rank {rank} sent', flush=True)
"#,
    )]);
    let run = server
        .submit(
            "torch",
            src.path(),
            json!({
                "entry_script": "train.py",
                "distributed_training": {"type": "Gloo"},
                "process_count_per_node": 3,
                "script_params": {"--dist-url": "$AZ_BATCHAI_PYTORCH_INIT_METHOD"}
            }),
        )
        .await;
    let id = run.run_id.as_str();
    let details = server.wait_until_ended(id).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let rank0 = server.text(id, "user_logs/std_log_process_0.txt").await;
    assert!(
        rank0.contains("rank 0 heard ['1/3', '2/3'] world 3"),
        "{rank0}"
    );
    assert!(
        server
            .text(id, "user_logs/std_log_process_2.txt")
            .await
            .contains("rank 2 sent")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_task_of_a_parameter_server_job_sees_a_valid_tf_config() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        r#"
import json, os, time
config = json.loads(os.environ['TF_CONFIG'])
task = config['task']
print('task', task['type'], task['index'], 'cluster', len(config['cluster']['worker']), len(config['cluster']['ps']), flush=True)
if task['type'] == 'ps':
    open('ps-ready', 'w').close()
    time.sleep(600)  # a parameter server serves until the job ends
else:
    # The job ends when the workers do, stopping the parameter server: wait until it has
    # printed, however slowly it started (the tasks share the working folder).
    deadline = time.time() + 120
    while not os.path.exists('ps-ready') and time.time() < deadline:
        time.sleep(0.05)
"#,
    )]);
    let run = server
        .submit(
            "tfps",
            src.path(),
            json!({
                "entry_script": "train.py",
                "framework": "TensorFlow",
                "user_managed": true,
                "distributed_training": {"type": "ParameterServer", "worker_count": 2, "parameter_server_count": 1}
            }),
        )
        .await;
    let id = run.run_id.as_str();
    let details = server.wait_until_ended(id).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    for (rank, expect) in [
        (0, "task worker 0 cluster 2 1"),
        (1, "task worker 1 cluster 2 1"),
        (2, "task ps 0 cluster 2 1"),
    ] {
        let log = server
            .text(id, &format!("user_logs/std_log_process_{rank}.txt"))
            .await;
        assert!(log.contains(expect), "rank {rank}: {log}");
    }
}

/// Waits for `pattern` in a run file and returns the first line holding it.
async fn wait_for_line(server: &Server, id: &str, path: &str, pattern: &str) -> String {
    let start = Instant::now();
    loop {
        let response = server.get(&format!("/api/runs/{id}/files/{path}")).await;
        if response.status() == 200 {
            let body = response.text().await.unwrap();
            if let Some(line) = body.lines().find(|l| l.contains(pattern)) {
                return line.to_owned();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{pattern:?} never appeared in {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn group_is_gone(pgid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(-pgid), None) == Err(nix::errno::Errno::ESRCH)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_failing_rank_fails_the_run_within_10s_and_leaves_no_process() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let script = r#"
import os, sys, time
rank = int(os.environ.get('RANK', os.environ.get('OMPI_COMM_WORLD_RANK', '0')))
print('PGID', os.getpgid(0), flush=True)
if rank == 1:
    time.sleep(1)
    raise SystemExit('rank 1 gives up')
time.sleep(600)
"#;
    let src = source(&[("train.py", script)]);
    let mut cases =
        vec![json!({"distributed_training": {"type": "Gloo"}, "process_count_per_node": 2})];
    if has_mpirun() {
        cases.push(json!({"distributed_backend": "mpi", "process_count_per_node": 2}));
    } else {
        skip(
            "distributed::one_failing_rank_fails_the_run_within_10s_and_leaves_no_process (its mpirun case)",
            Tool::Mpirun,
            "no mpirun on this machine (Debian's openmpi-bin installs it)",
        );
    }
    for mut estimator in cases {
        estimator["entry_script"] = json!("train.py");
        estimator["user_managed"] = json!(true);
        let run = server
            .submit("failing-rank", src.path(), estimator.clone())
            .await;
        let id = run.run_id.as_str();
        let line = wait_for_line(&server, id, "user_logs/std_log_process_1.txt", "PGID").await;
        let pgid: i32 = line.split(' ').nth(1).unwrap().parse().unwrap();
        // Rank 1 fails a second after printing; the run must fail within 10 s of that.
        let failed_at = Instant::now() + Duration::from_secs(1);
        let details = server
            .wait_for(id, Duration::from_secs(12), |d| d.status.is_terminal())
            .await;
        let took = Instant::now().saturating_duration_since(failed_at);
        assert_eq!(details.status, RunStatus::Failed, "{estimator}");
        assert!(
            took <= Duration::from_secs(10),
            "{estimator}: took {took:?}"
        );
        let error = details.error.unwrap();
        assert!(error.contains("rank 1 gives up"), "{estimator}: {error}");
        assert!(
            group_is_gone(pgid),
            "{estimator}: a process of group {pgid} is left"
        );
    }
}
