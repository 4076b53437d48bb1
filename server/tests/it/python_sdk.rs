//! Runboard's SDK v1 package from any Python: a fresh virtual environment installs it
//! from the server's own package index (PEP 503), then an unmodified SDK v1
//! `submit.py` submits, follows, reads metrics and downloads an output.

use std::time::{Duration, Instant};

use crate::support::{Server, run_script, source, text, venv_with_sdk};

/// An SDK v1 script as teams have them: compute target lookup with the provisioning
/// fallback, a ScriptRunConfig, submit, wait with the log, metrics, a download.
const SUBMIT_PY: &str = r#"
from azureml.core import Workspace, Experiment, ScriptRunConfig
from azureml.core.compute import ComputeTarget, AmlCompute
from azureml.core.compute_target import ComputeTargetException

ws = Workspace.from_config()
cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
    print("Found existing compute target")
except ComputeTargetException:
    compute_config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
    compute_target.wait_for_completion(show_output=True)

exp = Experiment(workspace=ws, name="sdk-from-index")
config = ScriptRunConfig(source_directory="./src", script="train.py",
                         arguments=["--epochs", 5], compute_target=compute_target)
run = exp.submit(config)
details = run.wait_for_completion(show_output=True)
print("Status:", details["status"])
metrics = run.get_metrics()
print("losses logged:", len(metrics["loss"]))
run.download_file(name="outputs/model.txt", output_file_path="model.txt")
print("model file:", open("model.txt").read().strip())
"#;

const TRAIN_PY: &str = r#"
import argparse, os
from azureml.core import Run
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
args = parser.parse_args()
run = Run.get_context()
for epoch in range(args.epochs):
    run.log("loss", 1.0 / (epoch + 1))
    print(f"epoch {epoch} done", flush=True)
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.txt", "w") as f:
    f.write("weights for %d epochs\n" % args.epochs)
"#;

#[test]
fn an_unmodified_sdk_v1_submit_py_runs_with_the_package_from_the_server_s_index() {
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(&data.path().join("data"));
    let project = source(&[("src/train.py", TRAIN_PY), ("submit.py", SUBMIT_PY)]);
    let python = venv_with_sdk(project.path(), &server);

    // The package came from the index, not from anywhere on PYTHONPATH.
    let origin = run_script(
        &python,
        project.path(),
        &server,
        "import azureml.core; print(azureml.core.__file__)",
    );
    assert!(
        String::from_utf8_lossy(&origin.stdout).contains("/venv/lib/"),
        "{}",
        text(&origin)
    );

    let out = run_script(&python, project.path(), &server, SUBMIT_PY);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", text(&out));
    for expected in [
        "Runboard provisions no clusters: using compute target 'local' for 'cpu-cluster'",
        "Streaming user_logs/std_log.txt\n=============================",
        "epoch 0 done\n",
        "epoch 4 done\n",
        "Execution Summary\n=================\nRunId: sdk-from-index_",
        "Status: Completed",
        "losses logged: 5",
        "model file: weights for 5 epochs",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            text(&out)
        );
    }
    // Each log line once, in order.
    let epochs: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(
        epochs,
        (0..5)
            .map(|e| format!("epoch {e} done"))
            .collect::<Vec<_>>()
    );

    // Bad input: every wrong field named in one exception, and no run created.
    let before = runs_of(&server, "sdk-bad");
    let bad = run_script(
        &python,
        project.path(),
        &server,
        "from azureml.core import Workspace, Experiment\n\
         from azureml.train.estimator import Estimator\n\
         est = Estimator(source_directory='./src', entry_script='train.py', node_count=0,\n\
         \x20               distributed_backend='carrier-pigeon', max_run_duration_seconds=-5)\n\
         Experiment(Workspace.from_config(), 'sdk-bad').submit(est)\n",
    );
    let said = String::from_utf8_lossy(&bad.stderr).into_owned();
    assert!(!bad.status.success(), "{}", text(&bad));
    assert!(
        said.contains("azureml.exceptions.UserErrorException"),
        "{said}"
    );
    for field in [
        "node_count",
        "distributed_backend",
        "max_run_duration_seconds",
    ] {
        assert!(said.contains(field), "{field} not named in:\n{said}");
    }
    assert_eq!(runs_of(&server, "sdk-bad"), before);

    // A source folder that does not exist.
    let missing = run_script(
        &python,
        project.path(),
        &server,
        "from azureml.core import Workspace, Experiment, ScriptRunConfig\n\
         Experiment(Workspace.from_config(), 'sdk-bad').submit(\n\
         \x20   ScriptRunConfig(source_directory='./no-such-folder', script='train.py'))\n",
    );
    let said = String::from_utf8_lossy(&missing.stderr).into_owned();
    assert!(said.contains("SnapshotException"), "{said}");
    assert!(
        said.contains("source_directory './no-such-folder' does not exist"),
        "{said}"
    );

    // A server that is down: a clear connection error, at once.
    let url = server.url.clone();
    server.kill9();
    let started = Instant::now();
    let down = run_script(
        &python,
        project.path(),
        &server,
        "from azureml.core import Workspace\nprint(Workspace.from_config().compute_targets)\n",
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let said = String::from_utf8_lossy(&down.stderr).into_owned();
    assert!(said.contains("RunboardConnectionError"), "{said}");
    assert!(
        said.contains(&format!("Could not reach the Runboard server at {url}")),
        "{said}"
    );
    assert!(
        said.contains("That URL came from the client config"),
        "{said}"
    );
}

fn runs_of(server: &Server, experiment: &str) -> usize {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let list: serde_json::Value = server
            .get(&format!("/api/runs?experiment={experiment}"))
            .await
            .json()
            .await
            .unwrap();
        list["runs"].as_array().map_or(0, Vec::len)
    })
}
