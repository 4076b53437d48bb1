//! The server-rendered sweep page, `/runs/{id}/sweep`, over HTTP against a real sweep
//! on the local target: viewers only, a sweep's own (404 for another run), no script,
//! reloading itself only while the sweep runs, the children best first. The browser
//! side (it fills live, the stopped children) is `e2e/tests/sweeps.spec.ts`.

use std::path::Path;
use std::time::Duration;

use runboard_server::snapshot;
use serde_json::{Value, json};

use crate::support::{Server, source};

/// Logs `score` = a / 10 three times, 1 s apart.
const TRAIN_PY: &str = r#"
import argparse, time
from azureml.core import Run
parser = argparse.ArgumentParser()
parser.add_argument("--a", type=int)
args = parser.parse_args()
run = Run.get_context()
for step in range(3):
    run.log("score", args.a / 10)
    time.sleep(1)
"#;

async fn post_sweep(server: &Server, src: &Path) -> String {
    let config = json!({
        "run_config": {"source_directory": src.display().to_string(), "entry_script": "train.py"},
        "hyperparameter_sampling": {"sampling": "grid", "parameter_space": {"--a": ["choice", [[2, 7]]]}},
        "primary_metric_name": "score",
        "primary_metric_goal": "minimize",
        "max_total_runs": 2,
        "max_concurrent_runs": 2,
    });
    let mut archive = Vec::new();
    snapshot::pack(src, snapshot::DEFAULT_LIMIT, &mut archive).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("config", config.to_string())
        .part("snapshot", reqwest::multipart::Part::bytes(archive));
    let response = reqwest::Client::new()
        .post(format!("{}/api/experiments/page/sweeps", server.url))
        .bearer_auth(&server.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["run_id"].as_str().unwrap().to_owned()
}

async fn page(server: &Server, path: &str) -> (u16, String, String) {
    let response = server.get(path).await;
    let status = response.status().as_u16();
    let policy = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, policy, response.text().await.unwrap())
}

const REFRESH: &str = "<meta http-equiv=\"refresh\" content=\"2\">";

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_page_is_a_sweeps_own_reloads_while_it_runs_and_lists_children_best_first() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let src = source(&[("train.py", TRAIN_PY)]);
    let parent = post_sweep(&server, src.path()).await;
    let path = format!("/runs/{parent}/sweep");

    // While the sweep runs: the page reloads itself. The status is read after the
    // page, and statuses only move forward, so the page was drawn while it ran.
    let (status, policy, html) = page(&server, &path).await;
    assert_eq!(status, 200, "{html}");
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(!html.contains("<script"), "{html}");
    let running = !server.details(&parent).await.status.is_terminal();
    assert!(running, "the sweep ended before its page was read");
    assert!(html.contains(REFRESH), "{html}");

    // Without credentials: the login page.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = stranger
        .get(format!("{}{path}", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");

    // Ended: no reload, both children, best (lowest: minimize) first, a chart.
    server
        .wait_for(&parent, Duration::from_secs(120), |d| {
            d.status.is_terminal()
        })
        .await;
    let (status, _, html) = page(&server, &path).await;
    assert_eq!(status, 200);
    assert!(!html.contains(REFRESH), "{html}");
    assert!(html.contains("The sweep has ended."), "{html}");
    let low = html.find("<td class=\"num\">0.2</td>").expect(&html);
    let high = html.find("<td class=\"num\">0.7</td>").expect(&html);
    assert!(low < high, "{html}");
    assert!(html.contains("aria-label=\"score against --a\""), "{html}");
    assert_eq!(html.matches("<circle").count(), 2, "{html}");

    // Not a sweep, and not a run: 404 pages that say so.
    let list: Value = server
        .get("/api/runs?experiment=page")
        .await
        .json()
        .await
        .unwrap();
    let child = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["parent_run_id"].is_string())
        .unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, html) = page(&server, &format!("/runs/{child}/sweep")).await;
    assert_eq!(status, 404);
    assert!(html.contains("is not a sweep"), "{html}");
    let (status, _, html) = page(&server, "/runs/page_1_0000000g/sweep").await;
    assert_eq!(status, 404);
    assert!(html.contains("no run with id"), "{html}");
}
