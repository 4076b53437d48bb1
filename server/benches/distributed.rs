//! `cargo xtask bench distributed`: time from submit to all ranks started, for a
//! local `mpirun` job beside a direct `mpirun` of the same script, and for a Slurm
//! job beside a direct `sbatch` (when a Slurm cluster answers).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, median, ms};

const ITERATIONS: usize = 7;
const RANKS: usize = 2;
const START: &str = "import os\nprint('started', os.environ.get('OMPI_COMM_WORLD_RANK', os.environ.get('SLURM_PROCID')), flush=True)\n";

const CONFIG: &str = r#"
[compute.cpu-cluster]
kind = "slurm"
partition = "debug"

[compute.cpu-cluster.env]
OMPI_MCA_btl = "tcp,self"
OMPI_MCA_btl_tcp_if_include = "lo"
"#;

fn direct_mpirun(python: &str, dir: &std::path::Path) -> Duration {
    let start = Instant::now();
    let mut child = Command::new("mpirun")
        .args([
            "-np",
            &RANKS.to_string(),
            "--bind-to",
            "none",
            "--allow-run-as-root",
            python,
            "start.py",
        ])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mpirun");
    let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut started = 0;
    for line in lines {
        if line.expect("line").starts_with("started") {
            started += 1;
            if started == RANKS {
                break;
            }
        }
    }
    let took = start.elapsed();
    let _ = child.wait();
    took
}

fn direct_sbatch(python: &str, dir: &std::path::Path) -> Duration {
    let script = dir.join("job.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/bash\n#SBATCH --nodes={RANKS}\n#SBATCH --ntasks-per-node=1\n#SBATCH --partition=debug\n#SBATCH --output={}/slurm-%j.txt\nexec srun --output={}/task-%j-%t.txt {python} {}/start.py\n",
            dir.display(),
            dir.display(),
            dir.display()
        ),
    )
    .expect("script");
    let start = Instant::now();
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(&script)
        .output()
        .expect("sbatch");
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    loop {
        let started = (0..RANKS)
            .filter(|t| {
                std::fs::read_to_string(dir.join(format!("task-{id}-{t}.txt")))
                    .is_ok_and(|s| s.contains("started"))
            })
            .count();
        if started == RANKS {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "sbatch job {id} did not start"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A check that says yes once every rank's log has shown "started".
fn all_started() -> impl FnMut(&str, &str) -> bool {
    let mut seen: Vec<String> = Vec::new();
    move |path: &str, text: &str| {
        if path.contains("std_log_process_")
            && text.contains("started")
            && !seen.iter().any(|p| p == path)
        {
            seen.push(path.to_owned());
        }
        seen.len() == RANKS
    }
}

#[tokio::main]
async fn main() {
    let python = runboard_server::runner::env::resolve_interpreter("python3");
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::write(src.path().join("start.py"), START).expect("write");
    let server = Server::start_with_config(CONFIG);

    let local = serde_json::json!({"entry_script": "start.py", "user_managed": true, "distributed_backend": "mpi", "process_count_per_node": RANKS});
    direct_mpirun(&python, src.path());
    server
        .submit_until(src.path(), local.clone(), all_started())
        .await;
    let (mut base, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ITERATIONS {
        base.push(direct_mpirun(&python, src.path()));
        ours.push(
            server
                .submit_until(src.path(), local.clone(), all_started())
                .await,
        );
    }
    println!(
        "bench distributed: submit -> all {RANKS} ranks started ({ITERATIONS} runs each, medians)"
    );
    println!(
        "  local: mpirun -np {RANKS} started directly:        {:8.1} ms   (baseline)",
        ms(median(base))
    );
    println!(
        "  local: runboard run with mpirun -np {RANKS}:        {:8.1} ms",
        ms(median(ours))
    );

    if runboard_server::runner::slurm::cluster_available().is_err() {
        println!("  slurm: skipped, no Slurm cluster answers (scripts/local-slurm.sh start)");
        return;
    }
    let slurm = serde_json::json!({"entry_script": "start.py", "user_managed": true, "compute_target": "cpu-cluster", "node_count": RANKS, "process_count_per_node": 1, "distributed_backend": "mpi"});
    let (mut base, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ITERATIONS {
        base.push(direct_sbatch(&python, src.path()));
        ours.push(
            server
                .submit_until(src.path(), slurm.clone(), all_started())
                .await,
        );
    }
    println!(
        "  slurm: direct sbatch, {RANKS} nodes:               {:8.1} ms   (baseline)",
        ms(median(base))
    );
    println!(
        "  slurm: runboard run on {RANKS} nodes:              {:8.1} ms",
        ms(median(ours))
    );
}
