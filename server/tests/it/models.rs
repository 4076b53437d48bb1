//! The model registry against a real server: register from a run, download the same
//! bytes, versions counting up, uploads, `Model.get_model_path` inside a job, the SDK's
//! `run.register_model` and `Model(...).download()`, and bad input changing nothing.

use std::process::Command;

use runboard_shared::api::{ModelList, ModelVersion};
use runboard_shared::run::RunStatus;
use serde_json::{Value, json};

use crate::support::{Server, source};

/// A job that saves a 64 KiB model file and a folder model.
const TRAIN: &str = r#"
import os
os.makedirs("outputs/weights", exist_ok=True)
with open("outputs/model.pkl", "wb") as f:
    f.write(bytes(range(256)) * 256)
for name in ("a.bin", "b.bin"):
    with open("outputs/weights/" + name, "wb") as f:
        f.write(name.encode() * 1000)
print("saved")
"#;

async fn post_json(server: &Server, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/models", server.url))
        .bearer_auth(&server.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn get_json<T: serde::de::DeserializeOwned>(server: &Server, path: &str) -> T {
    let response = server.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Every file under `<data>/models/`, for "nothing was written" checks.
fn model_files(server: &Server) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                walk(&entry.path(), out);
            }
            out.push(entry.path().display().to_string());
        }
    }
    let mut out = Vec::new();
    walk(&server.data_dir.join("models"), &mut out);
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn models_register_from_runs_and_uploads_count_versions_and_download_the_same_bytes() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", TRAIN)]);
    let run = server
        .submit(
            "models",
            src.path(),
            json!({"entry_script": "train.py", "user_managed": true}),
        )
        .await;
    let id = run.run_id.to_string();
    assert_eq!(
        server.wait_until_ended(&id).await.status,
        RunStatus::Completed
    );
    let original = server.file(&id, "outputs/model.pkl").await;

    // Version 1 from the run's file; its bytes come back identical.
    let (status, v1) = post_json(
        &server,
        json!({"name": "mnist", "run_id": id, "path": "outputs/model.pkl",
               "description": "first", "tags": {"stage": "dev"}}),
    )
    .await;
    assert_eq!(status, 201, "{v1}");
    let v1: ModelVersion = serde_json::from_value(v1).unwrap();
    assert_eq!(
        (v1.name.as_str(), v1.version, v1.path.as_str()),
        ("mnist", 1, "model.pkl")
    );
    assert_eq!(v1.run_id.as_deref(), Some(id.as_str()));
    let downloaded = server
        .get("/api/models/mnist/versions/1/files/model.pkl")
        .await;
    assert_eq!(downloaded.headers()["content-disposition"], "attachment");
    assert_eq!(downloaded.bytes().await.unwrap().to_vec(), original);
    let zip = server.get("/api/models/mnist/versions/1/download").await;
    assert_eq!(zip.status(), 200);
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip.bytes().await.unwrap().to_vec())).unwrap();
    let mut inside = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name("model.pkl").unwrap(), &mut inside).unwrap();
    assert_eq!(inside, original);

    // A second registration counts up; a folder registers with its files.
    let (status, v2) = post_json(
        &server,
        json!({"name": "mnist", "run_id": id, "path": "outputs/weights/"}),
    )
    .await;
    assert_eq!(status, 201, "{v2}");
    let v2: ModelVersion = serde_json::from_value(v2).unwrap();
    assert_eq!(v2.version, 2);
    let paths: Vec<&str> = v2.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["weights/a.bin", "weights/b.bin"]);
    let versions: ModelList = get_json(&server, "/api/models?name=mnist").await;
    let numbers: Vec<u32> = versions.models.iter().map(|m| m.version).collect();
    assert_eq!(numbers, [2, 1]);
    let of_run: ModelList = get_json(&server, &format!("/api/runs/{id}/models")).await;
    assert_eq!(of_run.models.len(), 2);
    let latest: ModelVersion = get_json(&server, "/api/models/mnist/versions/latest").await;
    assert_eq!(latest.version, 2);

    // An upload (multipart) is a model too.
    let form = reqwest::multipart::Form::new()
        .text(
            "model",
            json!({"name": "uploaded", "tags": {"from": "laptop"}}).to_string(),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"weights".to_vec()).file_name("tiny.bin"),
        );
    let response = reqwest::Client::new()
        .post(format!("{}/api/models", server.url))
        .bearer_auth(&server.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let uploaded: ModelVersion = response.json().await.unwrap();
    assert_eq!((uploaded.version, uploaded.run_id), (1, None));

    // Bad input: a clear error, nothing written.
    let before = model_files(&server);
    let listed: ModelList = get_json(&server, "/api/models").await;
    for (body, status, code, says) in [
        (
            json!({"name": "mnist", "run_id": id, "path": "outputs/missing.pkl"}),
            400,
            "no_such_file",
            "no file or folder 'outputs/missing.pkl'",
        ),
        (
            json!({"name": "bad name!", "run_id": id, "path": "outputs/model.pkl"}),
            400,
            "invalid_model_name",
            "model name \"bad name!\" is not valid",
        ),
        (
            json!({"name": "mnist", "run_id": id, "path": "outputs/../../../token"}),
            400,
            "invalid_path",
            "is not a file or folder of the run",
        ),
        (
            json!({"name": "mnist", "run_id": "nope_1700000000_0000abcd", "path": "outputs/model.pkl"}),
            400,
            "no_such_run",
            "no run with id",
        ),
        (
            json!({"name": "mnist", "run_id": id, "path": "outputs/model.pkl", "colour": "red"}),
            400,
            "invalid_model",
            "colour",
        ),
    ] {
        let (got, answer) = post_json(&server, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    let missing = server.get("/api/models/mnist/versions/7").await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("its versions are 1 to 2")
    );
    assert_eq!(model_files(&server), before);
    let after: ModelList = get_json(&server, "/api/models").await;
    assert_eq!(after, listed);

    // The registry's pages show the same: every model, one model's versions, a run's.
    let server_ref = &server;
    let page = |path: String| async move {
        let response = server_ref.get(&path).await;
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (status, all) = page("/models".into()).await;
    assert_eq!(status, 200);
    assert!(
        all.contains("<a href=\"/models/mnist\">mnist</a>") && all.contains("uploaded"),
        "{all}"
    );
    let (status, versions) = page("/models/mnist".into()).await;
    assert_eq!(status, 200);
    assert!(
        versions.contains("/api/models/mnist/versions/2/download"),
        "{versions}"
    );
    let (status, of_run) = page(format!("/runs/{id}/models")).await;
    assert_eq!(status, 200);
    assert_eq!(
        of_run.matches("/api/models/mnist/versions/").count(),
        2,
        "{of_run}"
    );
    assert_eq!(page("/models/nope".into()).await.0, 404);

    // Inside a job, Model.get_model_path resolves to the registry's files.
    let job = source(&[(
        "use.py",
        "import hashlib\nfrom azureml.core.model import Model\n\
         p = Model.get_model_path('mnist', version=1)\n\
         print('path', p)\nprint('sha', hashlib.sha256(open(p, 'rb').read()).hexdigest())\n\
         print('latest', Model.get_model_path('mnist'))\n",
    )]);
    let used = server
        .submit(
            "models",
            job.path(),
            json!({"entry_script": "use.py", "user_managed": true}),
        )
        .await;
    let used_id = used.run_id.to_string();
    let details = server.wait_until_ended(&used_id).await;
    let log = server.text(&used_id, "user_logs/std_log.txt").await;
    assert_eq!(details.status, RunStatus::Completed, "{log}");
    let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&original));
    assert!(log.contains(&format!("sha {sha}")), "{log}");
    assert!(log.contains("/models/mnist/1/model.pkl"), "{log}");
    assert!(log.contains("/models/mnist/2/weights"), "{log}");

    // The SDK: run.register_model, Model(ws, name), download, Model.list.
    let out = tempfile::tempdir().unwrap();
    let script = format!(
        "from azureml.core import Workspace, Experiment, Run\nfrom azureml.core.model import Model\n\
         ws = Workspace.from_config()\nrun = Run(Experiment(ws, 'models'), '{id}')\n\
         m = run.register_model(model_name='mnist', model_path='outputs/model.pkl', tags={{'by': 'sdk'}})\n\
         print('registered', m.name, m.version, m.tags)\n\
         path = Model(ws, 'mnist', version=1).download(target_dir='{dir}')\n\
         print('downloaded', path)\n\
         print('versions', [x.version for x in Model.list(ws, name='mnist')])\n\
         try:\n    Model(ws, 'mnist', version=99)\nexcept Exception as e:\n    print('error', type(e).__name__, e)\n",
        dir = out.path().display()
    );
    let sdk = Command::new("python3")
        .args(["-c", &script])
        .env("PYTHONPATH", server.data_dir.join("python"))
        .env("RUNBOARD_URL", &server.url)
        .env("RUNBOARD_TOKEN", &server.token)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&sdk.stdout);
    assert!(
        sdk.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&sdk.stderr)
    );
    assert!(said.contains("registered mnist 3 {'by': 'sdk'}"), "{said}");
    assert_eq!(
        std::fs::read(out.path().join("model.pkl")).unwrap(),
        original
    );
    assert!(said.contains("versions [3, 2, 1]"), "{said}");
    assert!(
        said.contains("error WebserviceException model \"mnist\" has no version 99"),
        "{said}"
    );
}

/// A job that uploads a file by path, one from a stream, a folder, and tries two
/// bad uploads (a name outside the run's outputs, a file that is not there).
const UPLOADER: &str = r#"
import io, os
from azureml.core import Run
run = Run.get_context()
os.makedirs("local/tree/sub", exist_ok=True)
with open("local/a.txt", "w") as f:
    f.write("from a path")
with open("local/tree/x.txt", "w") as f:
    f.write("x")
with open("local/tree/sub/y.txt", "w") as f:
    f.write("y")
print("file", run.upload_file("outputs/up/a.txt", "local/a.txt"))
print("stream", run.upload_file("b.bin", io.BytesIO(bytes([0, 1, 2, 255]))))
print("folder", run.upload_folder("outputs/tree", "local/tree"))
for name, source in [("outputs/../../escape.txt", "local/a.txt"), ("outputs/c.txt", "local/missing.txt")]:
    try:
        run.upload_file(name, source)
        print("uploaded", name)
    except Exception as e:
        print("refused", name, type(e).__name__)
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_job_uploads_files_and_folders_into_outputs_and_get_runs_lists_newest_first_with_filters()
{
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let job = source(&[("up.py", UPLOADER)]);
    let estimator = json!({"entry_script": "up.py", "user_managed": true});
    let first = server
        .submit("uploads", job.path(), estimator.clone())
        .await;
    let first = first.run_id.to_string();
    let details = server.wait_until_ended(&first).await;
    let log = server.text(&first, "user_logs/std_log.txt").await;
    assert_eq!(details.status, RunStatus::Completed, "{log}");
    assert!(log.contains("file {'name': 'outputs/up/a.txt'}"), "{log}");
    assert!(log.contains("stream {'name': 'outputs/b.bin'}"), "{log}");
    assert!(
        log.contains("folder ['outputs/tree/x.txt', 'outputs/tree/sub/y.txt']"),
        "{log}"
    );
    assert!(
        log.contains("refused outputs/../../escape.txt UserErrorException"),
        "{log}"
    );
    assert!(
        log.contains("refused outputs/c.txt FileNotFoundError"),
        "{log}"
    );
    assert_eq!(server.text(&first, "outputs/up/a.txt").await, "from a path");
    assert_eq!(server.file(&first, "outputs/b.bin").await, [0, 1, 2, 255]);
    assert_eq!(server.text(&first, "outputs/tree/x.txt").await, "x");
    assert_eq!(server.text(&first, "outputs/tree/sub/y.txt").await, "y");
    // Nothing was written outside the run's outputs.
    assert!(
        !server
            .data_dir
            .join("runs")
            .join(&first)
            .join("escape.txt")
            .exists()
    );
    assert!(!server.data_dir.join("runs").join("escape.txt").exists());
    let files: Value = server
        .get(&format!("/api/runs/{first}/files"))
        .await
        .json()
        .await
        .unwrap();
    let listed = files.to_string();
    for path in [
        "outputs/up/a.txt",
        "outputs/b.bin",
        "outputs/tree/sub/y.txt",
    ] {
        assert!(listed.contains(path), "{path} not in {listed}");
    }

    // exp.get_runs(): newest first, filtered by tags.
    let second = server.submit("uploads", job.path(), estimator).await;
    let second = second.run_id.to_string();
    server.wait_until_ended(&second).await;
    let script = format!(
        "from azureml.core import Workspace, Experiment, Run\n\
         ws = Workspace.from_config()\nexp = Experiment(ws, 'uploads')\n\
         Run(exp, '{first}').tag('keep', 'yes')\n\
         print('all', [r.id for r in exp.get_runs()])\n\
         print('tagged', [r.id for r in exp.get_runs(tags={{'keep': 'yes'}})])\n\
         print('named', [r.id for r in exp.get_runs(tags='keep')])\n\
         print('other', [r.id for r in exp.get_runs(tags={{'keep': 'no'}})])\n"
    );
    let sdk = Command::new("python3")
        .args(["-c", &script])
        .env("PYTHONPATH", server.data_dir.join("python"))
        .env("RUNBOARD_URL", &server.url)
        .env("RUNBOARD_TOKEN", &server.token)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&sdk.stdout);
    assert!(
        sdk.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&sdk.stderr)
    );
    assert!(
        said.contains(&format!("all ['{second}', '{first}']")),
        "{said}"
    );
    assert!(said.contains(&format!("tagged ['{first}']")), "{said}");
    assert!(said.contains(&format!("named ['{first}']")), "{said}");
    assert!(said.contains("other []"), "{said}");
}
