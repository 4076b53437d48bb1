//! The SDK objects: names, defaults, validation, runs, files, magics — and the seed
//! snippets of the issue, verbatim.

use crate::estimator::FieldError;
use crate::run::RunStatus;

use super::super::HostError;
use super::{Session, check_cells};

/// The cell most SDK v1 notebooks start with.
const SETUP: &str = "\
from azureml.core import Workspace, Experiment, Datastore
from azureml.core.compute import ComputeTarget

ws = Workspace.from_config()
compute_target = ComputeTarget(workspace=ws, name='cpu-cluster')
ds = ws.get_default_datastore()
experiment = Experiment(workspace=ws, name='sklearn-mnist')
";

const RUN_ID: &str = "sklearn-mnist_1700000000_00000001";
const PORTAL: &str = "http://runboard.test/runs/sklearn-mnist_1700000000_00000001";

/// A session that ran [`SETUP`].
fn session() -> Session {
    let mut s = Session::new();
    assert_eq!(s.run(SETUP), "");
    s
}

/// A session that submitted the seed's estimator as `run`.
fn submitted() -> Session {
    let mut s = session();
    let out = s.run(
        "from azureml.train.sklearn import SKLearn\n\
         sk_est = SKLearn(source_directory='./my-sklearn-proj', entry_script='train.py')\n\
         run = experiment.submit(sk_est)",
    );
    assert_eq!(out, "");
    s
}

#[test]
fn seed_estimator_cell_with_a_mounted_datastore_runs_verbatim() {
    let mut s = session();
    let out = s.run(
        "from azureml.train.estimator import Estimator

script_params = {
    '--data-folder': ds.as_mount(),
    '--regularization': 0.8
}

est = Estimator(source_directory='./my-sklearn-proj',
                script_params=script_params,
                compute_target=compute_target,
                entry_script='train.py',
                conda_packages=['scikit-learn'])
est",
    );
    assert_eq!(
        out,
        "Out: Estimator(
    source_directory       = './my-sklearn-proj',
    compute_target         = ComputeTarget(workspace=runboard, name=cpu-cluster),
    entry_script           = 'train.py',
    script_params          = {'--data-folder': $AZUREML_DATAREFERENCE_workspaceblobstore, '--regularization': 0.8},
    node_count             = 1,
    process_count_per_node = 1,
    use_gpu                = False,
    use_docker             = True,
    user_managed           = False,
    conda_packages         = ['scikit-learn']
)"
    );
    // The one-line form of the issue, then submitting it: the script gets a real
    // data reference and the float as written.
    let out = s.run(
        "est = Estimator(source_directory='./my-sklearn-proj', script_params={'--data-folder': ds.as_mount(), '--regularization': 0.8}, compute_target=compute_target, entry_script='train.py', conda_packages=['scikit-learn'])
run = experiment.submit(est)
print(run.get_portal_url())",
    );
    assert_eq!(out, PORTAL);
    let sub = &s.host.submissions[0];
    assert_eq!(sub.experiment, "sklearn-mnist");
    assert_eq!(sub.source_directory, "work/my-sklearn-proj");
    let e = &sub.estimator;
    assert_eq!(e["source_directory"], "./my-sklearn-proj");
    assert_eq!(e["compute_target"], "cpu-cluster");
    assert_eq!(e["script_params"]["--regularization"], 0.8);
    assert_eq!(
        e["script_params"]["--data-folder"]["datastore"],
        "workspaceblobstore"
    );
    assert_eq!(e["script_params"]["--data-folder"]["mode"], "mount");
    assert_eq!(e["conda_packages"], serde_json::json!(["scikit-learn"]));
}

#[test]
fn seed_sklearn_submit_and_portal_url_run_verbatim() {
    let mut s = session();
    let out = s.run(
        "from azureml.train.sklearn import SKLearn

script_params = {
    '--kernel': 'linear',
    '--penalty': 1.0,
}

sk_est = SKLearn(source_directory='./my-sklearn-proj',
                 script_params=script_params,
                 compute_target=compute_target,
                 entry_script='train.py',
                 conda_packages=['scikit-learn'])",
    );
    assert_eq!(out, "");
    assert_eq!(s.run("run = experiment.submit(sk_est)"), "");
    assert_eq!(s.run("print(run.get_portal_url())"), PORTAL);
    assert_eq!(
        s.run("run"),
        format!(
            "Out: Run(Experiment: sklearn-mnist,\nId: {RUN_ID},\nType: azureml.scriptrun,\nStatus: Completed)\nPortal: {PORTAL}"
        )
    );
    let e = &s.host.submissions[0].estimator;
    assert_eq!(e["framework"], "SKLearn");
    assert_eq!(
        e["script_params"],
        serde_json::json!({"--kernel": "linear", "--penalty": 1.0})
    );
}

#[test]
fn seed_distributed_keras_estimators_build_and_validate() {
    let mut s = session();
    // The `distributed_training` form.
    let out = s.run(
        "from azureml.train.dnn import TensorFlow, Mpi

script_params = {
    '--data-folder': ds.as_mount(),
    '--batch-size': 64,
    '--epochs': 10,
}

estimator = TensorFlow(source_directory='./my-sklearn-proj',
                       script_params=script_params,
                       compute_target=compute_target,
                       entry_script='keras_mnist.py',
                       node_count=2,
                       distributed_training=Mpi(process_count_per_node=2),
                       framework_version='2.0',
                       pip_packages=['keras'],
                       use_gpu=True)
estimator.node_count, estimator.distributed_training, estimator.framework_version",
    );
    assert_eq!(
        out,
        "Out: (2, {'type': 'Mpi', 'process_count_per_node': 2}, '2.0')"
    );
    // The older `distributed_backend` form.
    let out = s.run(
        "estimator = TensorFlow(source_directory='./my-sklearn-proj',
                      compute_target=compute_target,
                      script_params=script_params,
                      entry_script='keras_mnist.py',
                      node_count=2,
                      process_count_per_node=1,
                      distributed_backend='mpi',
                      use_gpu=True)",
    );
    assert_eq!(out, "");
    // A server that cannot run it yet answers with a clear error.
    s.host.reject = Some(HostError::Invalid {
        message: "invalid estimator".into(),
        fields: vec![FieldError::new(
            "node_count",
            "the local target runs one node; got 2",
        )],
    });
    let expect = "ValueError: invalid estimator (line 1)\n  node_count: the local target runs one node; got 2";
    assert_eq!(s.run("run = experiment.submit(estimator)"), expect);
    // The server's own message lists the fields already: each is said once.
    s.host.reject = Some(HostError::Invalid {
        message: "invalid estimator: node_count: the local target runs one node; got 2".into(),
        fields: vec![FieldError::new(
            "node_count",
            "the local target runs one node; got 2",
        )],
    });
    assert_eq!(s.run("run = experiment.submit(estimator)"), expect);
}

#[test]
fn seed_download_file_runs_verbatim() {
    let mut s = submitted();
    let out = s.run(
        "run.download_file(name='outputs/sklearn_mnist_model.pkl', output_file_path='outputs/sklearn_mnist_model.pkl')",
    );
    assert_eq!(out, "");
    assert_eq!(
        s.host
            .files
            .get("work/outputs/sklearn_mnist_model.pkl")
            .map(Vec::as_slice),
        Some(&b"contents of outputs/sklearn_mnist_model.pkl"[..])
    );
    // Without a path, the file's name in the notebook's folder; into a folder, the
    // file's name inside it.
    assert_eq!(s.run("run.download_file('outputs/plots/loss.png')"), "");
    assert!(s.host.files.contains_key("work/loss.png"));
    assert_eq!(
        s.run("run.download_file('outputs/plots/loss.png', output_file_path='outputs')"),
        ""
    );
    assert!(s.host.files.contains_key("work/outputs/loss.png"));
    assert_eq!(
        s.run("run.download_file('outputs/missing.txt')"),
        format!(
            "UserErrorException: File with path 'outputs/missing.txt' was not found in run {RUN_ID} (line 1)"
        )
    );
}

#[test]
fn wait_for_completion_streams_the_log_then_the_execution_summary() {
    let mut s = submitted();
    let out = s.run("details = run.wait_for_completion(show_output=True)\ndetails['status']");
    assert_eq!(
        out,
        format!(
            "RunId: {RUN_ID}
Web View: {PORTAL}

Streaming user_logs/std_log.txt
===============================

Loading data
accuracy 0.9

Execution Summary
=================
RunId: {RUN_ID}
Web View: {PORTAL}

Out: 'Completed'"
        )
    );
    // Without show_output it waits silently, returning the details.
    assert_eq!(
        s.run("run.wait_for_completion()['runId']"),
        format!("Out: '{RUN_ID}'")
    );
}

#[test]
fn a_reloaded_page_attaches_to_the_run_a_cell_waited_on_and_sees_the_whole_log() {
    let mut s = submitted();
    s.run("also = run");
    let first = s.run("run.wait_for_completion(show_output=True);");
    // The cell said which run it waited on, and which variables name it.
    let [waiting] = s.host.waiting.as_slice() else {
        panic!("expected one wait, got {:?}", s.host.waiting)
    };
    assert_eq!(waiting.run_id, RUN_ID);
    assert_eq!(waiting.names, ["also", "run"]);
    assert!(waiting.show_output);
    let waiting = waiting.clone();

    // A new session (the reloaded page's worker) follows the same run from its first
    // line: the same text as the cell printed, and the variables name the run again.
    let mut kernel = super::Kernel::new();
    super::block_on(kernel.attach(&mut s.host, &waiting)).unwrap();
    let attached = super::transcript(&std::mem::take(&mut s.host.outputs), &Ok(None));
    assert_eq!(attached, first);
    s.kernel = kernel;
    assert_eq!(
        s.run("run.get_status(), also.id"),
        format!("Out: ('Completed', '{RUN_ID}')")
    );
}

#[test]
fn a_failed_run_raises_after_the_summary_unless_told_not_to() {
    let mut s = session();
    s.host.script.log = vec!["Traceback (most recent call last):\n", "ValueError: boom"];
    s.host.script.status = RunStatus::Failed;
    s.host.script.error = Some("ValueError: boom");
    s.run("from azureml.train.estimator import Estimator\nrun = experiment.submit(Estimator('my-sklearn-proj', entry_script='train.py'))");
    let out = s.run("run.wait_for_completion(show_output=True)");
    assert!(
        out.ends_with(&format!(
            "ValueError: boom\n\nExecution Summary\n=================\nRunId: {RUN_ID}\nWeb View: {PORTAL}\n\nActivityFailedException: Activity Failed: run {RUN_ID} failed: ValueError: boom (line 1)"
        )),
        "{out}"
    );
    assert_eq!(
        s.run("run.wait_for_completion(raise_on_error=False)['status'], run.get_status()"),
        "Out: ('Failed', 'Failed')"
    );
}

#[test]
fn run_methods_reach_the_server() {
    let mut s = submitted();
    for (cell, expect) in [
        ("run.id", format!("Out: '{RUN_ID}'")),
        ("run.experiment.name", "Out: 'sklearn-mnist'".to_owned()),
        ("run.get_status(), run.status", "Out: ('Completed', 'Completed')".to_owned()),
        ("run.get_metrics()", "Out: {'accuracy': 0.9, 'loss': [0.5, 0.25]}".to_owned()),
        ("run.get_metrics(name='loss')", "Out: {'loss': [0.5, 0.25]}".to_owned()),
        (
            "run.get_file_names()",
            "Out: ['outputs/sklearn_mnist_model.pkl', 'outputs/plots/loss.png', 'user_logs/std_log.txt']"
                .to_owned(),
        ),
        (
            "d = run.get_details()\nd['runId'] == run.id, d['target'], d['status'], d['properties']",
            "Out: (True, 'local', 'Completed', {'azureml.git.dirty': 'False'})".to_owned(),
        ),
        ("run.tag('reviewed')\nrun.tag('owner', 'me')\nrun.get_tags()", "Out: {'owner': 'me', 'reviewed': ''}".to_owned()),
        ("run.cancel()", String::new()),
        ("run.get_portal_url(1)", "TypeError: Run.get_portal_url() takes 0 positional arguments but 1 were given (line 1)".to_owned()),
        ("run.register_model('m')", "AttributeError: 'Run' object has no attribute 'register_model' (line 1)".to_owned()),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
    assert_eq!(s.host.canceled, vec![RUN_ID.to_owned()]);
}

#[test]
fn download_files_keeps_the_folder_structure() {
    let mut s = submitted();
    assert_eq!(
        s.run("run.download_files(prefix='outputs', output_directory='results')"),
        ""
    );
    assert!(
        s.host
            .files
            .contains_key("work/results/outputs/sklearn_mnist_model.pkl")
    );
    assert!(
        s.host
            .files
            .contains_key("work/results/outputs/plots/loss.png")
    );
    assert!(
        !s.host
            .files
            .contains_key("work/results/user_logs/std_log.txt")
    );
    assert_eq!(
        s.run("run.download_files(prefix='outputs/', append_prefix=False)"),
        ""
    );
    assert!(s.host.files.contains_key("work/plots/loss.png"));
}

#[test]
fn run_details_show_displays_a_live_run_card() {
    let mut s = submitted();
    assert_eq!(
        s.run("from azureml.widgets import RunDetails\nRunDetails(run).show()"),
        format!(
            "[display]\nRun(Experiment: sklearn-mnist,\nId: {RUN_ID},\nType: azureml.scriptrun,\nStatus: Completed)\nPortal: {PORTAL}"
        )
    );
}

#[test]
fn a_run_can_be_attached_by_id() {
    let mut s = submitted();
    assert_eq!(
        s.run(&format!(
            "from azureml.core import Run\nagain = Run(experiment, '{RUN_ID}')\nagain.get_portal_url() == run.get_portal_url()"
        )),
        "Out: True"
    );
    assert_eq!(
        s.run("Run(experiment, 'nope_1700000000_00000009')"),
        "FileNotFoundError: no run with id nope_1700000000_00000009 (line 1)"
    );
    assert_eq!(
        s.run("Run.get_context()"),
        "NotImplementedError: `Run.get_context()` belongs in the training script; in a notebook it is not supported in Runboard notebooks (line 1)"
    );
}

#[test]
fn workspace_and_compute_targets_have_the_sdk_names_and_defaults() {
    let mut s = session();
    for (cell, expect) in [
        ("ws.name, ws.location", "Out: ('runboard', 'local')"),
        (
            "list(ws.compute_targets.keys())",
            "Out: ['local', 'cpu-cluster']",
        ),
        (
            "for name, ct in ws.compute_targets.items():\n    print(name, ct.type)",
            "local Runboard\ncpu-cluster Runboard",
        ),
        ("compute_target.name", "Out: 'cpu-cluster'"),
        (
            "ds.name, ws.datastores['workspaceblobstore'].name",
            "Out: ('workspaceblobstore', 'workspaceblobstore')",
        ),
        ("Datastore.get(ws, 'images').name", "Out: 'images'"),
        (
            "experiment.name, experiment.workspace.name",
            "Out: ('sklearn-mnist', 'runboard')",
        ),
        (
            "ComputeTarget(workspace=ws, name='gpu-cluster')",
            "ComputeTargetException: ComputeTargetNotFound: Compute Target with name gpu-cluster not found in provided workspace (this server has: local, cpu-cluster) (line 1)",
        ),
        (
            "Experiment(ws, 'bad name!')",
            "ValueError: invalid experiment name \"bad name!\": it may hold only letters, digits, '_' and '-' (pattern ^[a-zA-Z0-9][\\w\\-]{0,254}$) (line 1)",
        ),
        (
            "Experiment(ws)",
            "TypeError: Experiment() missing 1 required argument: 'name' (line 1)",
        ),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
}

#[test]
fn estimators_have_the_sdk_defaults() {
    let mut s = session();
    s.run("from azureml.train.estimator import Estimator\nfrom azureml.train.sklearn import SKLearn\nfrom azureml.train.dnn import PyTorch, TensorFlow, Chainer, Mpi, Gloo, Nccl, ParameterServer");
    for (cell, expect) in [
        (
            "e = Estimator('src', entry_script='train.py')\ne.use_docker, e.node_count, e.process_count_per_node, e.use_gpu, e.user_managed, e.compute_target, e.script_params",
            "Out: (True, 1, 1, False, False, None, {})",
        ),
        (
            "e = SKLearn('src', entry_script='train.py')\ne",
            "Out: SKLearn(\n    source_directory       = 'src',\n    entry_script           = 'train.py',\n    node_count             = 1,\n    process_count_per_node = 1,\n    use_gpu                = False,\n    use_docker             = True,\n    user_managed           = False\n)",
        ),
        (
            "isinstance(e, Estimator), isinstance(e, SKLearn), isinstance(e, PyTorch)",
            "Out: (True, True, False)",
        ),
        (
            "Mpi(), Mpi(process_count_per_node=4), Gloo(), Nccl()",
            "Out: (Mpi(process_count_per_node=1), Mpi(process_count_per_node=4), Gloo(), Nccl())",
        ),
        (
            "ParameterServer(worker_count=2)",
            "Out: ParameterServer(worker_count=2, parameter_server_count=1)",
        ),
        (
            "Mpi(process_count_per_node=0)",
            "ValueError: process_count_per_node must be at least 1, got 0 (line 1)",
        ),
        (
            "PyTorch('src', entry_script='t.py', node_count=2, distributed_training=Nccl(), use_gpu=True).distributed_training",
            "Out: {'type': 'Nccl'}",
        ),
        (
            "ds.path('mnist/raw').as_download(path_on_compute='/tmp/x').mode",
            "Out: 'download'",
        ),
        (
            "ds.as_mount().path_on_datastore, ds.path('a').path_on_datastore",
            "Out: (None, 'a')",
        ),
        (
            "print(ds.as_mount())",
            "$AZUREML_DATAREFERENCE_workspaceblobstore",
        ),
        (
            "Estimator()",
            "TypeError: Estimator() missing 1 required positional argument: 'source_directory' (line 1)",
        ),
        (
            "Estimator('a', 'b')",
            "TypeError: Estimator() takes 1 positional argument but 2 were given (line 1)",
        ),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
}

#[test]
fn estimator_arguments_are_validated_when_the_cell_runs_every_error_at_once() {
    let mut s = session();
    s.run("from azureml.train.sklearn import SKLearn\nfrom azureml.train.estimator import Estimator, Mpi");
    let out = s.run(
        "print('before')\nest = SKLearn(source_directory='./src', entry_script='../train.py', node_count=2,\n             script_prams={'--x': 1}, use_gpu=True)",
    );
    assert_eq!(
        out,
        "before
ValueError: SKLearn() got 4 invalid arguments: (line 2)
  script_prams: unexpected keyword argument; did you mean 'script_params'?
  entry_script: must be a relative path inside source_directory, got '../train.py'
  node_count: SKLearn does not support node_count > 1, got 2
  use_gpu: SKLearn does not support GPUs"
    );
    for (cell, expect) in [
        (
            "Estimator('src', entry_script='t.py', node_count='2')",
            "ValueError: Estimator() got 1 invalid argument: (line 1)\n  node_count: expected an integer, got the string \"2\"",
        ),
        (
            "Estimator('src', entry_script='t.py', script_params={'--w': ws})",
            "ValueError: Estimator() got 1 invalid argument: (line 1)\n  script_params: a Workspace cannot be used here",
        ),
        (
            "Estimator('src', entry_script='t.py', framework='PyTorch')",
            "ValueError: Estimator() got 1 invalid argument: (line 1)\n  framework: unexpected keyword argument",
        ),
        (
            "Estimator('src', entry_script='t.py', distributed_training=Mpi(), distributed_backend='gloo')",
            "ValueError: Estimator() got 2 invalid arguments: (line 1)\n  distributed_backend: Estimator does not support 'gloo'; it supports mpi\n  distributed_training: Mpi conflicts with distributed_backend 'gloo'; give only distributed_training",
        ),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
}

#[test]
fn script_run_config_becomes_an_estimator_with_its_arguments_in_order() {
    let mut s = session();
    let out = s.run(
        "from azureml.core import ScriptRunConfig
from azureml.train.estimator import Mpi
src = ScriptRunConfig(source_directory='my-sklearn-proj', script='train.py',
                      arguments=['--lr', 0.01, '--data', ds.path('mnist').as_download(), '--verbose'],
                      compute_target='local', distributed_job_config=Mpi(process_count_per_node=2))
run = experiment.submit(config=src, tags={'kind': 'src', 'n': 1})
run.get_tags()",
    );
    assert_eq!(out, "Out: {'kind': 'src', 'n': '1'}");
    let e = &s.host.submissions[0].estimator;
    assert_eq!(e["entry_script"], "train.py");
    assert_eq!(e["script_params"]["--lr"], 0.01);
    assert_eq!(e["script_params"]["--data"]["path_on_datastore"], "mnist");
    assert_eq!(e["script_params"]["--data"]["mode"], "download");
    assert_eq!(e["script_params"]["--verbose"], "");
    assert_eq!(e["distributed_training"]["process_count_per_node"], 2);
    for (cell, expect) in [
        (
            "ScriptRunConfig('my-sklearn-proj', 'train.py', run_config='rc')",
            "NotImplementedError: `ScriptRunConfig(run_config=…)` is not supported in Runboard notebooks: describe the environment with environment=Environment(…), and the script's arguments with arguments=[…] (line 1)",
        ),
        (
            "ScriptRunConfig('my-sklearn-proj', arguments=[ds.as_mount()])",
            "ValueError: ScriptRunConfig() got 2 invalid arguments: (line 1)\n  arguments[0]: a data reference must follow a flag such as '--data-folder'\n  script: is required",
        ),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
}

#[test]
fn submit_checks_its_config_and_the_source_folder() {
    let mut s = session();
    s.run("from azureml.train.estimator import Estimator");
    for (cell, expect) in [
        (
            "experiment.submit(Estimator('no-such-folder', entry_script='t.py'))",
            "UserErrorException: source_directory 'no-such-folder' is not a folder (it is resolved against the notebook's folder, /work) (line 1)",
        ),
        (
            "experiment.submit(ws)",
            "TypeError: submit() takes an Estimator or a ScriptRunConfig, not Workspace (line 1)",
        ),
        (
            "experiment.submit(Estimator('/work/my-sklearn-proj', entry_script='train.py')).get_status()",
            "Out: 'Completed'",
        ),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
    assert_eq!(
        s.host.submissions[0].source_directory,
        "work/my-sklearn-proj"
    );
}

#[test]
fn datastore_upload_prints_the_sdk_progress_and_returns_a_reference() {
    let mut s = session();
    s.host.dirs.insert("work/data".into());
    s.host.dirs.insert("work/data/sub".into());
    s.host.files.insert("work/data/a.csv".into(), b"1".to_vec());
    s.host
        .files
        .insert("work/data/sub/b.csv".into(), b"2".to_vec());
    let out = s.run("ref = ds.upload(src_dir='./data', target_path='mnist', overwrite=True)\nref.path_on_datastore");
    assert_eq!(
        out,
        "Uploading an estimated of 2 files
Uploading ./data/a.csv
Uploaded ./data/a.csv, 1 files out of an estimated total of 2
Uploading ./data/sub/b.csv
Uploaded ./data/sub/b.csv, 2 files out of an estimated total of 2
Uploaded 2 files
Out: 'mnist'"
    );
    assert_eq!(
        s.host.uploads,
        vec![(
            "workspaceblobstore".into(),
            "work/data".into(),
            "mnist".into()
        )]
    );
    assert_eq!(
        s.run("ds.upload('./missing', show_progress=False)"),
        "FileNotFoundError: [Errno 2] No such file or directory: './missing' (line 1)"
    );
}

#[test]
fn os_and_shutil_work_on_the_files_area() {
    check_cells(&[
        ("import os, shutil", ""),
        (
            "os.getcwd(), os.path.abspath('x/../y')",
            "Out: ('/work', '/work/y')",
        ),
        (
            "os.makedirs('./my-proj/data', exist_ok=True)\nos.path.isdir('my-proj/data'), os.path.exists('nope')",
            "Out: (True, False)",
        ),
        ("os.makedirs('my-proj/data', exist_ok=True)", ""),
        (
            "os.makedirs('my-proj')",
            "FileExistsError: [Errno 17] File exists: 'my-proj' (line 1)",
        ),
        (
            "sorted(os.listdir('.')), os.listdir()",
            "Out: (['my-proj', 'my-sklearn-proj'], ['my-proj', 'my-sklearn-proj'])",
        ),
        (
            "shutil.copy('my-sklearn-proj/train.py', 'my-proj')",
            "Out: 'my-proj/train.py'",
        ),
        (
            "shutil.copy('my-sklearn-proj/train.py', 'my-proj/copy.py')\nos.listdir('my-proj')",
            "Out: ['copy.py', 'data', 'train.py']",
        ),
        ("os.path.isfile('/work/my-proj/copy.py')", "Out: True"),
        (
            "shutil.copy('nope.py', 'x.py')",
            "FileNotFoundError: [Errno 2] No such file or directory: 'nope.py' (line 1)",
        ),
        (
            "os.listdir('my-sklearn-proj/train.py')",
            "NotADirectoryError: [Errno 20] Not a directory: 'my-sklearn-proj/train.py' (line 1)",
        ),
        (
            "os.listdir('../..')",
            "PermissionError: '../..' is outside the files area of this notebook (line 1)",
        ),
        ("os.path.exists('../../etc/passwd')", "Out: False"),
        (
            "os.path.join(os.getcwd(), 'sklearn-mnist')",
            "Out: '/work/sklearn-mnist'",
        ),
    ]);
}

#[test]
fn writefile_writes_into_the_files_area_like_ipython() {
    let mut s = session();
    for (cell, expect) in [
        (
            "%%writefile my-sklearn-proj/train.py\nimport sys\nprint('hi')",
            "Overwriting my-sklearn-proj/train.py",
        ),
        ("%%writefile notes.txt\nfirst", "Writing notes.txt"),
        (
            "%%writefile -a notes.txt\nsecond\n",
            "Appending to notes.txt",
        ),
        ("script_folder = './my-sklearn-proj'", ""),
        (
            "%%writefile $script_folder/util.py\nx = 1",
            "Writing ./my-sklearn-proj/util.py",
        ),
        (
            "%%writefile {script_folder + '/other.py'}\n",
            "Writing ./my-sklearn-proj/other.py",
        ),
        ("%%writefile cost$$.txt\n5", "Writing cost$.txt"),
        (
            "%%writefile \"with space.txt\"\nx",
            "Writing with space.txt",
        ),
        ("\n%%writefile late.txt\nx", "Writing late.txt"),
        (
            "%%writefile $undefined/x.py\nx",
            "FileNotFoundError: [Errno 2] No such file or directory: '$undefined/x.py' (line 1)",
        ),
        (
            "%%writefile missing-folder/x.py\nx",
            "FileNotFoundError: [Errno 2] No such file or directory: 'missing-folder/x.py' (line 1)",
        ),
        (
            "%%writefile\nx",
            "UsageError: the following arguments are required: filename (line 1)",
        ),
        (
            "%%bash\nls",
            "NotImplementedError: the `%%bash` cell magic is not supported in Runboard notebooks: the only cell magic is %%writefile (line 1)",
        ),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
    let file = |p: &str| String::from_utf8(s.host.files[p].clone()).unwrap_or_default();
    assert_eq!(
        file("work/my-sklearn-proj/train.py"),
        "import sys\nprint('hi')\n"
    );
    assert_eq!(file("work/notes.txt"), "first\nsecond\n");
    assert_eq!(file("work/my-sklearn-proj/util.py"), "x = 1\n");
    assert_eq!(file("work/my-sklearn-proj/other.py"), "\n");
    assert_eq!(file("work/cost$.txt"), "5\n");
    assert_eq!(file("work/with space.txt"), "x\n");
}

#[test]
fn an_interrupted_loop_raises_keyboard_interrupt() {
    let mut s = Session::new();
    s.host.interrupt_after = Some(100);
    assert_eq!(
        s.run("n = 0\nwhile True:\n    n += 1"),
        "KeyboardInterrupt: interrupted by the user (line 2)"
    );
    assert_eq!(s.run("n"), "Out: 100");
}

#[test]
fn quickstart_style_notebook_runs_end_to_end() {
    let mut s = Session::new();
    for (cell, expect) in [
        (
            "import os\nfrom azureml.core import Workspace, Experiment\nfrom azureml.train.estimator import Estimator",
            String::new(),
        ),
        ("os.makedirs('quickstart', exist_ok=True)", String::new()),
        (
            "%%writefile quickstart/train.py\nprint('training')",
            "Writing quickstart/train.py".to_owned(),
        ),
        (
            "ws = Workspace.from_config()\nexp = Experiment(ws, 'quickstart')\nest = Estimator(source_directory='quickstart', entry_script='train.py', compute_target='local', user_managed=True)\nrun = exp.submit(est)\nrun.wait_for_completion(show_output=False)['status']",
            "Out: 'Completed'".to_owned(),
        ),
        ("print(run.get_metrics()['accuracy'])", "0.9".to_owned()),
    ] {
        assert_eq!(s.run(cell), expect, "{cell}");
    }
}
