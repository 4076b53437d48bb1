//! `runboard notebook run`: the sample Quickstart notebook against a real server and a
//! real Python job, and how a failing cell stops the run.

use std::path::Path;
use std::process::Output;

use runboard_shared::kernel::DISPLAY_MIME;
use runboard_shared::notebook::{self, Cell, CodeCell, Notebook};
use serde_json::Value;

use crate::support::{RUNBOARD, Server};

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
    let mut nb = Notebook::new();
    for source in cells {
        nb.cells.push(Cell::Code(CodeCell {
            id: None,
            metadata: serde_json::Map::new(),
            source: (*source).into(),
            execution_count: None,
            outputs: Vec::new(),
        }));
    }
    let path = dir.join("cells.ipynb");
    std::fs::write(&path, nb.to_json()).unwrap();
    path
}

#[test]
fn quickstart_runs_headless_and_every_output_is_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    let folder = tmp.path().join("notebooks");
    std::fs::create_dir(&folder).unwrap();
    let input = folder.join("Quickstart.ipynb");
    std::fs::write(&input, QUICKSTART).unwrap();
    let executed = folder.join("Quickstart.out.ipynb");

    let out = server
        .cli()
        .args(["notebook", "run"])
        .arg(&input)
        .arg("-o")
        .arg(&executed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    // The input is left as it was; the outputs go to -o.
    assert_eq!(std::fs::read_to_string(&input).unwrap(), QUICKSTART);

    let nb = Notebook::from_json(&std::fs::read_to_string(&executed).unwrap()).unwrap();
    let cells = code_cells(&nb);
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
    assert!(folder.join("quickstart/train.py").is_file());
    let table = text_plain(estimator);
    assert!(table.starts_with("Estimator(\n"), "{table}");
    assert!(
        table.contains("entry_script           = 'train.py'"),
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
    let model: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("outputs/model.json")).unwrap())
            .unwrap();
    assert!(model["w"].as_f64().unwrap() > 1.5, "{model}");

    let run_card = &data(card)[DISPLAY_MIME];
    assert_eq!(run_card["kind"], "run");
    assert_eq!(run_card["run_id"], run_id.as_str());
    assert_eq!(run_card["status"], "Completed");
    assert!(text_plain(card).contains("Status: Completed)"));
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
        stderr.contains(
            "error: cell 2 failed: NameError: name 'undefined_name' is not defined (line 2)"
        ),
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
            "evalue": "name 'undefined_name' is not defined (line 2)",
            "traceback": ["NameError: name 'undefined_name' is not defined (line 2)"]
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
