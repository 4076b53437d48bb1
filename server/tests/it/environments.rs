//! Python environments built with the real installer (uv, else venv + pip) from the
//! real package index, cached and reused.

use std::time::Duration;

use runboard_shared::api::RunDetails;
use runboard_shared::run::RunStatus;
use serde_json::json;

use crate::support::{Server, source};

const DIGITS: &str = r#"
import argparse, os, pickle
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
p = argparse.ArgumentParser()
p.add_argument('--regularization', type=float, default=0.01)
a = p.parse_args()
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
clf = LogisticRegression(C=1.0 / a.regularization, max_iter=200).fit(X_train / 16.0, y_train)
print('Accuracy is', clf.score(X_test / 16.0, y_test))
os.makedirs('outputs', exist_ok=True)
with open('outputs/sklearn_digits_model.pkl', 'wb') as f:
    pickle.dump(clf, f)
"#;

async fn environment_log(server: &Server, run_id: &str) -> String {
    server.text(run_id, "system_logs/environment.txt").await
}

/// Waits up to `seconds` for the run to end, checks that it completed (showing its
/// error and build log if not), and returns its details and build log.
async fn completed(server: &Server, run_id: &str, seconds: u64) -> (RunDetails, String) {
    let details = server
        .wait_for(run_id, Duration::from_secs(seconds), |d| {
            d.status.is_terminal()
        })
        .await;
    let env_log = environment_log(server, run_id).await;
    assert_eq!(
        details.status,
        RunStatus::Completed,
        "{:?}\n{env_log}",
        details.error
    );
    (details, env_log)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_sklearn_estimator_trains_on_digits_and_the_second_run_reuses_its_environment() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", DIGITS)]);
    let estimator = json!({
        "entry_script": "train.py",
        "script_params": {"--regularization": 0.8},
        "conda_packages": ["scikit-learn"]
    });
    let first = server
        .submit("sklearn-digits", src.path(), estimator.clone())
        .await;
    let id = first.run_id.as_str();
    let (_, env_log) = completed(&server, id, 600).await;
    assert!(env_log.contains("Building environment"), "{env_log}");
    assert!(
        env_log.contains("conda package 'scikit-learn' is installed from PyPI as 'scikit-learn'"),
        "{env_log}"
    );
    let log = server.text(id, "user_logs/std_log.txt").await;
    let accuracy: f64 = log
        .lines()
        .find_map(|l| l.strip_prefix("Accuracy is "))
        .expect("the script printed its accuracy")
        .parse()
        .unwrap();
    assert!(accuracy > 0.9, "{accuracy}");
    let model = server.file(id, "outputs/sklearn_digits_model.pkl").await;
    assert!(model.len() > 1000);

    let second = server.submit("sklearn-digits", src.path(), estimator).await;
    let id2 = second.run_id.as_str();
    let details = server.wait_until_ended(id2).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let env_log = environment_log(&server, id2).await;
    assert!(env_log.contains("Reusing environment"), "{env_log}");
    assert!(!env_log.contains("Building environment"), "{env_log}");
    let hash = details.run_definition["environment"]["hash"]
        .as_str()
        .unwrap()
        .to_owned();

    // The environment is listed with what is really installed.
    let envs: serde_json::Value = server.get("/api/environments").await.json().await.unwrap();
    let listed = envs["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["hash"] == hash.as_str())
        .expect("the environment is listed");
    assert!(
        listed["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("scikit-learn=="))
    );
    assert!(listed["size_bytes"].as_u64().unwrap() > 1_000_000);
    let packages = listed["packages"].as_array().unwrap();
    assert!(
        packages
            .iter()
            .all(|p| !p.as_str().unwrap().contains('\u{1b}')),
        "no terminal colour codes in the package list: {packages:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_requirements_file_and_a_conda_file_with_a_pip_section_each_build_and_run() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[
        ("requirements.txt", "# pinned for the test\nsix==1.16.0\n"),
        (
            "env.yml",
            "name: project\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pyyaml\n  - pip:\n    - attrs==23.2.0\n",
        ),
        ("req.py", "import six\nprint('six', six.__version__)\n"),
        (
            "conda.py",
            "import attr, yaml\nprint('attrs', attr.__version__, 'yaml', yaml.safe_load('a: 1'))\n",
        ),
    ]);
    let req = server
        .submit(
            "reqfile",
            src.path(),
            json!({"entry_script": "req.py", "pip_requirements_file": "requirements.txt"}),
        )
        .await;
    let conda = server
        .submit(
            "condafile",
            src.path(),
            json!({"entry_script": "conda.py", "conda_dependencies_file": "env.yml"}),
        )
        .await;
    for (id, expect) in [
        (req.run_id.as_str(), "six 1.16.0"),
        (conda.run_id.as_str(), "attrs 23.2.0 yaml {'a': 1}"),
    ] {
        completed(&server, id, 300).await;
        let log = server.text(id, "user_logs/std_log.txt").await;
        assert!(log.contains(expect), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_environment_definition_in_azure_mls_json_form_builds_and_runs() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "job.py",
        "import os, six\nprint('six', six.__version__, os.environ['GREETING'])\n",
    )]);
    // As `Environment.save_to_directory` writes it, Azure ML's default image included.
    let definition = json!({
        "name": "six-env", "version": null,
        "python": {"userManagedDependencies": false, "interpreterPath": "python",
                   "condaDependenciesFile": null, "baseCondaEnvironment": null,
                   "condaDependencies": {"name": "project_environment", "channels": ["conda-forge"],
                                         "dependencies": ["python=3.11", {"pip": ["six==1.16.0"]}]}},
        "environmentVariables": {"GREETING": "hello"},
        "docker": {"enabled": false, "baseImage": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04",
                   "baseDockerfile": null, "sharedVolumes": true, "shmSize": null, "arguments": [],
                   "baseImageRegistry": {"address": null, "username": null, "password": null}},
        "spark": {"repositories": [], "packages": [], "precachePackages": true},
        "r": null, "inferencingStackVersion": null
    });
    let run = server
        .submit(
            "envdef",
            src.path(),
            json!({"entry_script": "job.py", "environment_definition": definition}),
        )
        .await;
    let id = run.run_id.as_str();
    completed(&server, id, 300).await;
    let log = server.text(id, "user_logs/std_log.txt").await;
    assert!(log.contains("six 1.16.0 hello"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_submitted_at_once_with_the_same_new_environment_cause_one_build() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", "import six\nprint('ok', six.__version__)\n")]);
    let estimator = json!({"entry_script": "train.py", "pip_packages": ["six==1.16.0"]});
    let (a, b) = tokio::join!(
        server.submit("together", src.path(), estimator.clone()),
        server.submit("together", src.path(), estimator.clone()),
    );
    let mut builds = 0;
    for id in [a.run_id.as_str(), b.run_id.as_str()] {
        let (_, env_log) = completed(&server, id, 300).await;
        builds += env_log.matches("Building environment").count();
    }
    assert_eq!(
        builds, 1,
        "exactly one of the two runs built the environment"
    );
    let envs = std::fs::read_dir(data.path().join("data/envs"))
        .unwrap()
        .count();
    assert_eq!(envs, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_that_does_not_exist_fails_in_preparing_and_a_fixed_spec_then_works() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", "import six\nprint('fixed')\n")]);
    let bad = server
        .submit(
            "badpkg",
            src.path(),
            json!({"entry_script": "train.py", "pip_packages": ["runboard-no-such-package-4d1f9"]}),
        )
        .await;
    let details = server
        .wait_for(bad.run_id.as_str(), Duration::from_secs(300), |d| {
            d.status.is_terminal()
        })
        .await;
    assert_eq!(details.status, RunStatus::Failed);
    let statuses: Vec<RunStatus> = details.status_history.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [RunStatus::Queued, RunStatus::Preparing, RunStatus::Failed]
    );
    let error = details.error.unwrap();
    assert!(error.contains("runboard-no-such-package-4d1f9"), "{error}");
    assert!(error.contains("building environment"), "{error}");
    // Nothing half-built is kept.
    let leftovers = std::fs::read_dir(data.path().join("data/envs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0);

    let fixed = server
        .submit(
            "badpkg",
            src.path(),
            json!({"entry_script": "train.py", "pip_packages": ["six"]}),
        )
        .await;
    let details = server
        .wait_for(fixed.run_id.as_str(), Duration::from_secs(300), |d| {
            d.status.is_terminal()
        })
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_managed_runs_use_the_target_interpreter_as_it_is() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import sys\nprint('prefix', sys.prefix == sys.base_prefix)\n",
    )]);
    let run = server
        .submit(
            "managed",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let details = server.wait_until_ended(run.run_id.as_str()).await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let log = server
        .text(run.run_id.as_str(), "user_logs/std_log.txt")
        .await;
    assert!(
        log.contains("prefix True"),
        "not in a virtual environment: {log}"
    );
    assert!(details.run_definition["environment"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_docker_image_runs_in_it_when_there_is_an_engine_and_is_refused_when_not() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[(
        "train.py",
        "import os\nprint('in docker', os.path.exists('/.dockerenv'))\n",
    )]);
    let estimator = json!({
        "source_directory": src.path().display().to_string(),
        "entry_script": "train.py",
        "custom_docker_image": "python:3.11-slim"
    });
    let mut archive = Vec::new();
    runboard_server::snapshot::pack(src.path(), u64::MAX, &mut archive).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("estimator", estimator.to_string())
        .part("snapshot", reqwest::multipart::Part::bytes(archive));
    let response = reqwest::Client::new()
        .post(format!("{}/api/experiments/docker/runs", server.url))
        .bearer_auth(&server.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    if !runboard_server::runner::docker_engine_available() {
        crate::support::skip(
            "environments::a_custom_docker_image_runs_in_it_when_there_is_an_engine_and_is_refused_when_not (its in-image half)",
            crate::support::Tool::Docker,
            "no Docker engine on this machine (`docker info` failed)",
        );
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = response.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("custom_docker_image"), "{message}");
        assert!(message.contains("no Docker engine"), "{message}");
        let runs: serde_json::Value = server.get("/api/runs").await.json().await.unwrap();
        assert_eq!(
            runs["runs"],
            json!([]),
            "the refused submission stored nothing"
        );
        return;
    }
    assert_eq!(response.status(), 201);
    let run: serde_json::Value = response.json().await.unwrap();
    let id = run["run_id"].as_str().unwrap();
    let details = server
        .wait_for(id, Duration::from_secs(600), |d| d.status.is_terminal())
        .await;
    assert_eq!(details.status, RunStatus::Completed, "{:?}", details.error);
    let log = server.text(id, "user_logs/std_log.txt").await;
    assert!(log.contains("in docker True"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn supported_framework_versions_come_from_the_package_index() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let response = server.get("/api/frameworks/sklearn/versions").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["framework"], "SKLearn");
    assert_eq!(body["package"], "scikit-learn");
    let versions: Vec<&str> = body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(versions.contains(&"1.3.2"), "{versions:?}");
    let response = server.get("/api/frameworks/caffe/versions").await;
    assert_eq!(response.status(), 404);
}
