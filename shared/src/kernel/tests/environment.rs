//! `Environment` and `CondaDependencies`: the SDK v1 way of naming a run's packages,
//! with `ScriptRunConfig(environment=env)` and `Estimator(environment_definition=env)`.

use super::{Session, check_cells};

const SETUP: &str = "\
from azureml.core import Workspace, Experiment, Environment, ScriptRunConfig
from azureml.core.conda_dependencies import CondaDependencies
from azureml.core.compute import ComputeTarget

ws = Workspace.from_config()
compute_target = ComputeTarget(workspace=ws, name='cpu-cluster')
experiment = Experiment(workspace=ws, name='sklearn-env')
";

fn session() -> Session {
    let mut s = Session::new();
    assert_eq!(s.run(SETUP), "");
    s
}

#[test]
fn a_script_run_config_with_an_environment_submits_its_packages() {
    let mut s = session();
    let out = s.run(
        "env = Environment('sklearn-env')
conda = CondaDependencies.create(pip_packages=['scikit-learn'], python_version='3.11')
env.python.conda_dependencies = conda
conda.add_pip_package('six')
env.environment_variables['OMP_NUM_THREADS'] = '1'
src = ScriptRunConfig(source_directory='./my-sklearn-proj', script='train.py',
                      arguments=['--regularization', 0.8],
                      compute_target=compute_target, environment=env)
run = experiment.submit(src)
print(env.python.conda_dependencies.pip_packages, env.docker.enabled)",
    );
    assert_eq!(out, "['scikit-learn', 'six'] False");
    let e = &s.host.submissions[0].estimator;
    assert_eq!(
        e["pip_packages"],
        serde_json::json!(["scikit-learn", "six"])
    );
    assert_eq!(e["conda_packages"], serde_json::json!(["python=3.11"]));
    assert_eq!(e["environment_variables"]["OMP_NUM_THREADS"], "1");
    assert_eq!(e["use_docker"], false);
    assert_eq!(e["entry_script"], "train.py");
}

#[test]
fn an_environment_from_a_conda_file_or_requirements_is_read_from_the_files_area() {
    let mut s = session();
    s.host.files.insert(
        "work/conda.yml".into(),
        b"name: sk\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - numpy\n  - pip:\n    - scikit-learn==1.5.2\n".to_vec(),
    );
    s.host.files.insert(
        "work/requirements.txt".into(),
        b"# pinned\nsix==1.16.0\n\nrequests  # http\n".to_vec(),
    );
    let out = s.run(
        "env = Environment.from_conda_specification(name='sk', file_path='conda.yml')
print(env.name, env.python.conda_dependencies.conda_packages, env.python.conda_dependencies.pip_packages)
reqs = Environment.from_pip_requirements('reqs', './requirements.txt')
print(reqs.python.conda_dependencies.pip_packages)
from azureml.train.estimator import Estimator
est = Estimator(source_directory='./my-sklearn-proj', entry_script='train.py', environment_definition=env)
run = experiment.submit(est)",
    );
    assert_eq!(
        out,
        "sk ['python=3.11', 'numpy'] ['scikit-learn==1.5.2']\n['six==1.16.0', 'requests']"
    );
    let e = &s.host.submissions[0].estimator;
    assert_eq!(
        e["pip_packages"],
        serde_json::json!(["scikit-learn==1.5.2"])
    );
    assert_eq!(
        e["conda_packages"],
        serde_json::json!(["python=3.11", "numpy"])
    );

    assert_eq!(
        s.run("Environment.from_conda_specification('x', 'missing.yml')"),
        "FileNotFoundError: [Errno 2] No such file or directory: 'missing.yml' (line 1)"
    );
}

#[test]
fn environment_sections_are_views_and_a_user_managed_environment_installs_nothing() {
    check_cells(&[
        (SETUP, ""),
        (
            "env = Environment(name='mine')
env.python.user_managed_dependencies = True
env.docker.base_image = 'python:3.11-slim'
env.docker.enabled = True
print(env.python.user_managed_dependencies, env.docker.base_image, env.version)",
            "True python:3.11-slim None",
        ),
        (
            "env.python = None",
            "AttributeError: 'Environment' object attribute 'python' cannot be set (line 1)",
        ),
        (
            "env.docker.enabled = 'yes'",
            "TypeError: enabled must be True or False, not str (line 1)",
        ),
        (
            "ws.name = 'other'",
            "NotImplementedError: setting attributes (`….name = …`) is not supported in Runboard notebooks (line 1)",
        ),
        ("env.register(ws).name", "Out: 'mine'"),
    ]);
}

#[test]
fn what_runboard_cannot_do_with_environments_is_said() {
    check_cells(&[
        (SETUP, ""),
        (
            "Environment.get(ws, 'AzureML-sklearn-1.0-ubuntu20.04-py38-cpu')",
            "NotImplementedError: `Environment.get()` (registered and curated environments) is not supported in Runboard notebooks: Runboard keeps no registered environments: build one with Environment(name), Environment.from_conda_specification(name, file_path) or Environment.from_pip_requirements(name, file_path) (line 1)",
        ),
        (
            "env = Environment('e')
env.python.conda_dependencies = CondaDependencies.create(pip_packages=['x'])
from azureml.train.estimator import Estimator
Estimator(source_directory='./my-sklearn-proj', entry_script='train.py', environment_definition=env, pip_packages=['y'])",
            "ValueError: Estimator() got 1 invalid argument: (line 4)\n  environment_definition: cannot be combined with pip_packages: the Environment describes the whole environment, so put them in it",
        ),
        (
            "env.docker.base_dockerfile = 'FROM ubuntu'
ScriptRunConfig(source_directory='./my-sklearn-proj', script='train.py', environment=env)",
            "ValueError: ScriptRunConfig() got 1 invalid argument: (line 2)\n  environment.docker.baseDockerfile: is not supported by Runboard: build the image and give it as baseImage",
        ),
        (
            "CondaDependencies.create(pip_packages=['x'], pip_indexurl='https://pkgs.example/simple')",
            "NotImplementedError: `CondaDependencies.create(pip_indexurl=…)` (another package index) is not supported in Runboard notebooks: environments are built from the server's package index (line 1)",
        ),
        (
            "CondaDependencies(conda_dependencies_file_path='env.yml')",
            "NotImplementedError: `CondaDependencies(conda_dependencies_file_path=…)` is not supported in Runboard notebooks: read the file with Environment.from_conda_specification(name, file_path) (line 1)",
        ),
        (
            "ScriptRunConfig(source_directory='./my-sklearn-proj', script='train.py', environment='sklearn-env')",
            "ValueError: ScriptRunConfig() got 1 invalid argument: (line 1)\n  environment: expected an Environment, got str",
        ),
    ]);
}
