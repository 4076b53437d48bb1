//! `runboard notebook run`: notebooks in the server's files area (the Quickstart
//! notebook it seeds, a notebook in a sub-folder using the files area, a missing one),
//! and with `--local` notebooks on this machine; against a real server and real Python
//! jobs, and how a failing cell stops the run.

use std::path::Path;
use std::process::Output;

use runboard_server::{datastores, files};
use runboard_shared::api::FilesAreaList;
use runboard_shared::cell::DISPLAY_MIME;
use runboard_shared::notebook::{self, Cell, CodeCell, Notebook};
use serde_json::Value;

use crate::support::{RUNBOARD, Server, notebook_json};

/// The sample notebook shipped with Runboard.
const QUICKSTART: &str = include_str!("../../../notebooks/Quickstart.ipynb");

fn code_cells(nb: &Notebook) -> Vec<&CodeCell> {
    nb.cells
        .iter()
        .filter_map(|c| match c {
            Cell::Code(code) => Some(code),
            _ => None,
        })
        .collect()
}

/// All the stream text of a cell.
fn stdout(cell: &CodeCell) -> String {
    cell.outputs
        .iter()
        .filter_map(|o| match o {
            notebook::Output::Stream { name, text } if name == "stdout" => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The MIME bundle of a cell's result or display.
fn data(cell: &CodeCell) -> &serde_json::Map<String, Value> {
    cell.outputs
        .iter()
        .find_map(|o| match o {
            notebook::Output::ExecuteResult { data, .. }
            | notebook::Output::DisplayData { data, .. } => Some(data),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no display in {:?}", cell.source))
}

fn text_plain(cell: &CodeCell) -> String {
    data(cell)["text/plain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect()
}

fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write_notebook(dir: &Path, cells: &[&str]) -> std::path::PathBuf {
    let path = dir.join("cells.ipynb");
    std::fs::write(&path, notebook_json(cells)).unwrap();
    path
}

/// Checks the outputs of an executed Quickstart notebook; returns the run's id.
fn check_quickstart(nb: &Notebook, server: &Server) -> String {
    let cells = code_cells(nb);
    assert_eq!(cells.len(), 9);
    for (i, cell) in cells.iter().enumerate() {
        assert_eq!(
            cell.execution_count,
            Some(i as u32 + 1),
            "{:?}",
            cell.source
        );
        assert!(
            !cell
                .outputs
                .iter()
                .any(|o| matches!(o, notebook::Output::Error { .. })),
            "cell {i} failed: {:?}",
            cell.outputs
        );
    }
    let [
        setup,
        folder_cell,
        train,
        estimator,
        submit,
        wait,
        metrics,
        download,
        card,
    ] = cells[..]
    else {
        panic!("nine code cells");
    };
    assert_eq!(stdout(setup), "Compute targets: ['local']\n");
    assert!(folder_cell.outputs.is_empty());
    assert_eq!(stdout(train), "Writing ./quickstart/train.py\n");
    let table = text_plain(estimator);
    assert!(table.starts_with("Estimator(\n"), "{table}");
    assert!(
        table.contains("\n    entry_script     = 'train.py',\n"),
        "{table}"
    );
    assert_eq!(data(estimator)[DISPLAY_MIME]["kind"], "estimator");

    let portal = stdout(submit);
    let prefix = format!("{}/runs/quickstart_", server.url);
    assert!(portal.starts_with(&prefix), "{portal}");
    let run_id = portal.trim().rsplit('/').next().unwrap().to_owned();

    let log = stdout(wait);
    let expected_start = format!(
        "RunId: {run_id}\nWeb View: {}\n\nStreaming user_logs/std_log.txt\n===============================\n\nepoch 1: loss ",
        portal.trim()
    );
    assert!(log.starts_with(&expected_start), "{log}");
    for line in ["\nepoch 20: loss 0.0", "\nsaved outputs/model.json: w="] {
        assert!(log.contains(line), "{line:?} missing from\n{log}");
    }
    assert!(
        log.ends_with(&format!(
            "\nExecution Summary\n=================\nRunId: {run_id}\nWeb View: {}\n\nStatus: Completed\n",
            portal.trim()
        )),
        "{log}"
    );

    let metrics = stdout(metrics);
    assert!(
        metrics.starts_with("epochs logged: 20\nfinal loss: 0.0"),
        "{metrics}"
    );
    assert_eq!(stdout(download), "['model.json']\n");

    let run_card = &data(card)[DISPLAY_MIME];
    assert_eq!(run_card["kind"], "run");
    assert_eq!(run_card["run_id"], run_id.as_str());
    assert_eq!(run_card["status"], "Completed");
    assert!(text_plain(card).contains("Status: Completed)"));
    run_id
}

#[test]
fn quickstart_runs_headless_with_local_files_and_every_output_is_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    let folder = tmp.path().join("notebooks");
    std::fs::create_dir(&folder).unwrap();
    let input = folder.join("Quickstart.ipynb");
    std::fs::write(&input, QUICKSTART).unwrap();
    let executed = folder.join("Quickstart.out.ipynb");

    let out = server
        .cli()
        .args(["notebook", "run", "--local"])
        .arg(&input)
        .arg("-o")
        .arg(&executed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    // The input is left as it was; the outputs go to -o.
    assert_eq!(std::fs::read_to_string(&input).unwrap(), QUICKSTART);

    let nb = Notebook::from_json(&std::fs::read_to_string(&executed).unwrap()).unwrap();
    check_quickstart(&nb, &server);
    assert!(folder.join("quickstart/train.py").is_file());
    let model: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("outputs/model.json")).unwrap())
            .unwrap();
    assert!(model["w"].as_f64().unwrap() > 1.5, "{model}");
    // Nothing went into the server's files area.
    assert!(
        !files::root(&server.data_dir)
            .join("quickstart/train.py")
            .exists()
    );
}

#[test]
fn a_failing_cell_stops_the_notebook_and_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write_notebook(
        tmp.path(),
        &["print('one')", "x = 1\nundefined_name", "print('never')"],
    );
    let run = |extra: &[&str]| {
        std::process::Command::new(RUNBOARD)
            .args([
                "notebook",
                "run",
                "--local",
                "--url",
                "http://127.0.0.1:9",
                "--token",
                "t",
            ])
            .arg(&path)
            .args(extra)
            .env("RUNBOARD_CONFIG", tmp.path().join("client.json"))
            .output()
            .unwrap()
    };

    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: cell 2 failed: NameError: name 'undefined_name' is not defined"),
        "{stderr}"
    );
    // Written in place, with the error as the failing cell's output and the cells
    // after it untouched.
    let nb = Notebook::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cells = code_cells(&nb);
    assert_eq!(stdout(cells[0]), "one\n");
    assert_eq!(
        serde_json::to_value(&cells[1].outputs).unwrap(),
        serde_json::json!([{
            "output_type": "error",
            "ename": "NameError",
            "evalue": "name 'undefined_name' is not defined",
            "traceback": [
                "Traceback (most recent call last):",
                "  File \"<cell-2>\", line 2, in <module>",
                "    undefined_name",
                "NameError: name 'undefined_name' is not defined"
            ]
        }])
    );
    assert_eq!(cells[2].execution_count, None);
    assert!(cells[2].outputs.is_empty());

    let out = run(&["--allow-errors"]);
    assert!(out.status.success(), "{}", show(&out));
    let nb = Notebook::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cells = code_cells(&nb);
    assert_eq!(cells[2].execution_count, Some(3));
    assert_eq!(stdout(cells[2]), "never\n");
}

#[test]
fn a_file_that_is_not_a_notebook_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("old.ipynb");
    std::fs::write(&path, r#"{"nbformat": 3, "worksheets": []}"#).unwrap();
    let out = std::process::Command::new(RUNBOARD)
        .args([
            "notebook",
            "run",
            "--local",
            "--url",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nbformat 3 notebooks are not supported; save it as nbformat 4"),
        "{stderr}"
    );
}

/// A file of the server's files area, or `None` when it is not there.
async fn area_file(server: &Server, path: &str) -> Option<String> {
    let response = server.get(&format!("/api/files/{path}")).await;
    if response.status() == 404 {
        return None;
    }
    assert_eq!(response.status(), 200, "{path}");
    Some(response.text().await.unwrap())
}

/// The whole files area, as `GET /api/files` lists it.
async fn area_listing(server: &Server) -> FilesAreaList {
    let response = server.get("/api/files").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// `PUT /api/files/{path}`.
async fn put_area_file(server: &Server, path: &str, body: impl Into<reqwest::Body>) {
    let response = reqwest::Client::new()
        .put(format!("{}/api/files/{path}", server.url))
        .bearer_auth(&server.token)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "PUT {path}");
}

#[tokio::test]
async fn the_seeded_quickstart_runs_in_the_files_area_and_is_saved_there() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    // The CLI's own folder: nothing may be written here.
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();

    let out = server
        .cli()
        .current_dir(&cwd)
        .args([
            "notebook",
            "run",
            "Quickstart.ipynb",
            "-o",
            "out/Quickstart-run.ipynb",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    // Streams are echoed live.
    let echoed = String::from_utf8_lossy(&out.stdout);
    assert!(echoed.contains("\nepoch 20: loss 0.0"), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("wrote out/Quickstart-run.ipynb in the server's files area"),
        "{stderr}"
    );

    // The input is left as it was; the outputs go to -o, in the area.
    assert_eq!(
        area_file(&server, "Quickstart.ipynb").await.unwrap(),
        files::QUICKSTART
    );
    let text = area_file(&server, "out/Quickstart-run.ipynb")
        .await
        .expect("the executed notebook in the area");
    let nb = Notebook::from_json(&text).unwrap();
    // Jupyter's layout, as the browser writes it.
    assert_eq!(text, nb.to_json());
    check_quickstart(&nb, &server);

    // `%%writefile` wrote into the area, and the submission was packed from there.
    let train = area_file(&server, "quickstart/train.py")
        .await
        .expect("train.py in the area");
    assert!(train.contains("run.log('loss', loss)"), "{train}");
    let model: Value = serde_json::from_str(
        &area_file(&server, "outputs/model.json")
            .await
            .expect("model.json downloaded into the area"),
    )
    .unwrap();
    assert!(model["w"].as_f64().unwrap() > 1.5, "{model}");
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "nothing written on the CLI's machine"
    );
}

#[tokio::test]
async fn a_notebook_in_a_sub_folder_works_in_its_folder_and_stops_at_the_failing_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    put_area_file(&server, "projects/demo/data/a.txt", "hello from the area\n").await;
    put_area_file(&server, "projects/demo/data/sub/b.txt", "deep\n").await;
    let cells = [
        // 1
        "import os, shutil\n\
         from azureml.core import Workspace, Experiment\n\
         from azureml.train.estimator import Estimator\n\
         print(os.getcwd())",
        // 2
        "%%writefile notes.txt\nfirst line",
        // 3
        "%%writefile -a notes.txt\nsecond line",
        // 4
        "os.makedirs('build/deep')\n\
         os.makedirs('build/deep', exist_ok=True)\n\
         os.makedirs('src', exist_ok=True)\n\
         copied = shutil.copy('notes.txt', 'build/deep')\n\
         print(copied)\n\
         print(sorted(os.listdir('.')))\n\
         print(os.listdir('build'), os.listdir('build/deep'))\n\
         print(os.path.isfile('notes.txt'), os.path.isdir('build'), os.path.exists('nope.txt'))",
        // 5
        "ws = Workspace.from_config()\n\
         ds = ws.get_default_datastore()\n\
         ds.upload(src_dir='data', target_path='demo', overwrite=True)\n\
         print(ds.upload(src_dir='data', target_path='demo', show_progress=False))",
        // 6
        "%%writefile src/job.py\n\
         import argparse, os\n\
         p = argparse.ArgumentParser()\n\
         p.add_argument('--data')\n\
         a = p.parse_args()\n\
         print('data:', open(os.path.join(a.data, 'a.txt')).read().strip())\n\
         os.makedirs('outputs', exist_ok=True)\n\
         open('outputs/result.txt', 'w').write('result ' + str(sorted(os.listdir('.'))))",
        // 7
        "est = Estimator(source_directory='src', entry_script='job.py',\n\
         \x20   script_params={'--data': ds.path('demo').as_mount()},\n\
         \x20   compute_target='local', use_docker=False, user_managed=True)\n\
         run = Experiment(ws, 'subfolder').submit(est)\n\
         details = run.wait_for_completion(show_output=True)\n\
         print('status', details['status'])\n\
         run.download_file(name='outputs/result.txt', output_file_path='results/result.txt')",
        // 8
        "print(os.listdir('results'))\nos.listdir('missing')",
        // 9
        "print('never')",
    ];
    put_area_file(&server, "projects/demo/cells.ipynb", notebook_json(&cells)).await;

    let out = server
        .cli()
        .current_dir(&cwd)
        .args(["notebook", "run", "projects/demo/cells.ipynb"])
        .output()
        .unwrap();
    let shown = show(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "error: cell 8 failed: FileNotFoundError: [Errno 2] No such file or directory: \
             'missing'"
        ),
        "{shown}"
    );

    // Written back in place, in the area.
    let nb = Notebook::from_json(
        &area_file(&server, "projects/demo/cells.ipynb")
            .await
            .unwrap(),
    )
    .unwrap();
    let cells = code_cells(&nb);
    // The kernel mirrors the files area in a folder of its own (`/drive` in the
    // browser); the cells work in the notebook's folder there.
    assert!(stdout(cells[0]).ends_with("/projects/demo\n"), "{shown}");
    assert_eq!(stdout(cells[1]), "Writing notes.txt\n", "{shown}");
    assert_eq!(stdout(cells[2]), "Appending to notes.txt\n", "{shown}");
    assert_eq!(
        stdout(cells[3]),
        "build/deep/notes.txt\n\
         ['build', 'cells.ipynb', 'data', 'notes.txt', 'src']\n\
         ['deep'] ['notes.txt']\n\
         True True False\n",
        "{shown}"
    );
    assert_eq!(
        stdout(cells[4]),
        "Uploading an estimated of 2 files\n\
         Uploading data/a.txt\n\
         Uploaded data/a.txt, 1 files out of an estimated total of 2\n\
         Uploading data/sub/b.txt\n\
         Uploaded data/sub/b.txt, 2 files out of an estimated total of 2\n\
         Uploaded 2 files\n\
         $AZUREML_DATAREFERENCE_workspaceblobstore\n",
        "{shown}"
    );
    let log = stdout(cells[6]);
    for line in ["data: hello from the area\n", "status Completed\n"] {
        assert!(log.contains(line), "{line:?} missing from\n{log}\n{shown}");
    }
    assert_eq!(stdout(cells[7]), "['result.txt']\n", "{shown}");
    assert_eq!(
        serde_json::to_value(&cells[7].outputs[1]).unwrap(),
        serde_json::json!({
            "output_type": "error",
            "ename": "FileNotFoundError",
            "evalue": "[Errno 2] No such file or directory: 'missing'",
            "traceback": [
                "Traceback (most recent call last):",
                "  File \"<cell-8>\", line 2, in <module>",
                "    os.listdir('missing')",
                "FileNotFoundError: [Errno 2] No such file or directory: 'missing'"
            ]
        })
    );
    assert_eq!(cells[7].execution_count, Some(8));
    assert_eq!(cells[8].execution_count, None);
    assert!(cells[8].outputs.is_empty());
    for (i, cell) in cells[..7].iter().enumerate() {
        assert_eq!(cell.execution_count, Some(i as u32 + 1));
    }

    // What the cells did, in the area and in the datastore.
    assert_eq!(
        area_file(&server, "projects/demo/notes.txt").await.unwrap(),
        "first line\nsecond line\n"
    );
    assert_eq!(
        area_file(&server, "projects/demo/build/deep/notes.txt")
            .await
            .unwrap(),
        "first line\nsecond line\n"
    );
    // The job ran from the area's `src` folder, packed by the server.
    assert_eq!(
        area_file(&server, "projects/demo/results/result.txt")
            .await
            .unwrap(),
        "result ['job.py', 'logs', 'outputs']"
    );
    let ds = datastores::root(&server.data_dir).join("workspaceblobstore");
    assert_eq!(
        std::fs::read_to_string(ds.join("demo/a.txt")).unwrap(),
        "hello from the area\n"
    );
    assert_eq!(
        std::fs::read_to_string(ds.join("demo/sub/b.txt")).unwrap(),
        "deep\n"
    );
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0);
}

#[tokio::test]
async fn a_script_run_config_with_an_environment_from_a_conda_file_installs_its_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    put_area_file(
        &server,
        "envdemo/conda.yml",
        "name: six-env\ndependencies:\n  - python=3.11\n  - pip:\n    - six==1.16.0\n",
    )
    .await;
    let cells = [
        "import os\n\
         from azureml.core import Workspace, Experiment, Environment, ScriptRunConfig\n\
         ws = Workspace.from_config()\n\
         env = Environment.from_conda_specification(name='six-env', file_path='conda.yml')\n\
         env.environment_variables['GREETING'] = 'hello'\n\
         os.makedirs('src', exist_ok=True)\n\
         print(list(env.python.conda_dependencies.pip_packages))",
        "%%writefile src/job.py\n\
         import os, six\n\
         print('six', six.__version__, os.environ['GREETING'])",
        "src = ScriptRunConfig(source_directory='src', script='job.py', compute_target='local', environment=env)\n\
         run = Experiment(ws, 'envdemo').submit(src)\n\
         details = run.wait_for_completion(show_output=True)\n\
         print('status', details['status'])",
    ];
    put_area_file(&server, "envdemo/env.ipynb", notebook_json(&cells)).await;
    let out = server
        .cli()
        .args(["notebook", "run", "envdemo/env.ipynb"])
        .output()
        .unwrap();
    let shown = show(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let nb = Notebook::from_json(&area_file(&server, "envdemo/env.ipynb").await.unwrap()).unwrap();
    let cells = code_cells(&nb);
    assert_eq!(stdout(cells[0]), "['six==1.16.0']\n", "{shown}");
    let wait = stdout(cells[2]);
    assert!(wait.contains("six 1.16.0 hello"), "{wait}");
    assert!(wait.ends_with("status Completed\n"), "{wait}");
}

#[tokio::test]
async fn a_notebook_that_is_not_in_the_files_area_is_named_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir(&cwd).unwrap();
    // A local file of that name does not count without --local.
    std::fs::create_dir(cwd.join("nope")).unwrap();
    std::fs::write(cwd.join("nope/Missing.ipynb"), notebook_json(&["print(1)"])).unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/api/files/a-folder", server.url))
        .bearer_auth(&server.token)
        .json(&serde_json::json!({"create_folder": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let before = area_listing(&server).await;

    let run = |args: &[&str]| {
        server
            .cli()
            .current_dir(&cwd)
            .args(["notebook", "run"])
            .args(args)
            .output()
            .unwrap()
    };
    for (args, message) in [
        (
            &["nope/Missing.ipynb", "-o", "out/Missing-run.ipynb"][..],
            "error: no notebook nope/Missing.ipynb in the server's files area",
        ),
        (
            &["../Quickstart.ipynb"][..],
            "error: ../Quickstart.ipynb is not a notebook path in the server's files area",
        ),
        (
            &["a-folder"][..],
            "error: a-folder is a folder in the server's files area",
        ),
        (
            &["Quickstart.ipynb", "-o", "a-folder"][..],
            "error: -o a-folder is a folder in the server's files area",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        // No cell ran.
        assert!(!stderr.contains("[1/"), "{args:?}: {stderr}");
    }
    assert_eq!(area_listing(&server).await, before, "nothing written");
    assert_eq!(
        area_file(&server, "Quickstart.ipynb").await.unwrap(),
        files::QUICKSTART
    );

    // With --local, a missing file is named the same way.
    let out = run(&["--local", "nope/Other.ipynb"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: no notebook at nope/Other.ipynb on this machine"),
        "{stderr}"
    );
}

/// The seed's snippets and the SDK v1 how-to and tutorial cells, as teams have them
/// (`e2e/tests/pykernel.spec.ts` runs the same notebook in the browser).
const SDK_V1_CELLS: &str = include_str!("../fixtures/sdk-v1-cells.ipynb");

#[tokio::test]
async fn the_seed_snippets_and_sdk_v1_how_to_cells_run_verbatim_headless() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    put_area_file(&server, "sdk-v1/cells.ipynb", SDK_V1_CELLS).await;
    let out = server
        .cli()
        .args(["notebook", "run", "sdk-v1/cells.ipynb"])
        .output()
        .unwrap();
    let shown = show(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let nb = Notebook::from_json(&area_file(&server, "sdk-v1/cells.ipynb").await.unwrap()).unwrap();
    let cell = |id: &str| {
        code_cells(&nb)
            .into_iter()
            .find(|c| c.id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no cell {id}"))
    };
    for c in code_cells(&nb) {
        assert!(
            !c.outputs
                .iter()
                .any(|o| matches!(o, notebook::Output::Error { .. })),
            "cell {:?} failed: {:?}\n{shown}",
            c.id,
            c.outputs
        );
    }
    assert_eq!(
        stdout(cell("setup")),
        "Runboard provisions no clusters: using compute target 'local' for 'cpu-cluster' \
         (name a Slurm cluster in the server's runboard.toml to use one).\nSucceeded\n"
    );
    assert_eq!(
        stdout(cell("datastore")),
        "workspaceblobstore AzureBlob runboard workspaceblobstore\n"
    );
    let table = text_plain(cell("estimator"));
    assert!(
        table.contains(
            "script_params    = {'--data-folder': $AZUREML_DATAREFERENCE_workspaceblobstore, \
             '--regularization': 0.8},"
        ),
        "{table}"
    );
    assert_eq!(data(cell("estimator"))[DISPLAY_MIME]["kind"], "estimator");
    let portal = stdout(cell("submit"));
    assert!(
        portal.starts_with(&format!("{}/runs/sklearn-mnist_", server.url)),
        "{portal}"
    );
    assert_eq!(data(cell("widget"))[DISPLAY_MIME]["kind"], "run");
    let log = stdout(cell("wait"));
    assert!(
        log.contains("\nkernel linear penalty 1.0 accuracy 0.9\n"),
        "{log}"
    );
    assert!(text_plain(cell("wait")).contains("'status': 'Completed'"));
    assert_eq!(
        stdout(cell("metrics")),
        "{'accuracy': 0.9, 'penalty': 1.0, 'kernel': 'linear'}\n\
         ['outputs/sklearn_mnist_model.pkl', 'system_logs/environment.txt', \
         'system_logs/supervisor.txt', 'user_logs/std_log.txt']\n"
    );
    assert_eq!(text_plain(cell("download")), "True");
    assert!(
        area_file(&server, "sdk-v1/outputs/sklearn_mnist_model.pkl")
            .await
            .is_some()
    );
    assert_eq!(stdout(cell("register")), "sklearn_mnist\t1\n");
    assert_eq!(
        text_plain(cell("dnn")),
        "(2, Mpi(process_count_per_node=2), '2.0')"
    );
    assert_eq!(text_plain(cell("howto")), "'Completed'");
    assert_eq!(
        stdout(cell("details")),
        "{'quality': 'good'}\nCompleted 0.85\n['linear', 'rbf']\nCompleted\n"
    );
}
