//! Who may call what: every route of `api::routes()` walked by the server token, an
//! admin, an editor, a viewer, a share link's session and no one, against a real
//! server. The expected table is written here, independently of the route table.

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::{Method, StatusCode};
use runboard_server::api::AppState;
use runboard_server::{Config, api};
use serde_json::{Value, json};

use crate::support::{RUNBOARD, Server, source};

/// An HTTP client that does not follow redirects, so tests see `Set-Cookie`.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Runs `runboard user <args> --data-dir <the server's>`.
pub fn user(server: &Server, args: &[&str]) -> std::process::Output {
    Command::new(RUNBOARD)
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .output()
        .unwrap()
}

/// `runboard user add NAME --role ROLE`: the one-time login link it prints.
pub fn add_user(server: &Server, name: &str, role: &str) -> String {
    let out = user(server, &["add", name, "--role", role]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let link = stdout
        .lines()
        .find(|l| l.starts_with("http"))
        .unwrap_or_else(|| panic!("no link in {stdout:?}"))
        .to_owned();
    assert!(
        link.starts_with(&format!("{}/login/", server.url)),
        "{link}"
    );
    link
}

/// The `name=value` of the session cookie a response sets.
pub fn session_cookie(server: &Server, response: &reqwest::Response) -> Option<String> {
    let name = format!("runboard-session-{}=", server.port);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&name) && !v.starts_with(&format!("{name};")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Sets a password through a one-time login link.
pub async fn set_password(link: &str, password: &str) -> reqwest::Response {
    client()
        .post(link)
        .form(&[("password", password)])
        .send()
        .await
        .unwrap()
}

/// Logs in with name and password on `/login`.
pub async fn log_in(server: &Server, name: &str, password: &str) -> reqwest::Response {
    client()
        .post(format!("{}/login", server.url))
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// Adds a person with a password and answers their session cookie.
pub async fn person(server: &Server, name: &str, role: &str) -> String {
    let link = add_user(server, name, role);
    let response = set_password(&link, "a long password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session_cookie(server, &response).unwrap()
}

/// A request with the session cookie.
pub async fn with_cookie(
    server: &Server,
    method: Method,
    path: &str,
    cookie: &str,
) -> reqwest::Response {
    client()
        .request(method, format!("{}{path}", server.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// Opens a share link: the share session's cookie and where it redirects.
pub async fn open_share_link(server: &Server, url: &str) -> (String, String) {
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{url}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    (session_cookie(server, &response).unwrap(), location)
}

/// A completed run to walk the routes against.
pub async fn completed_run(server: &Server, experiment: &str) -> String {
    let src = source(&[("train.py", "print('hello')\n")]);
    let run = server
        .submit(experiment, src.path(), json!({"entry_script": "train.py"}))
        .await;
    server.wait_until_ended(run.run_id.as_str()).await;
    run.run_id.as_str().to_owned()
}

/// The lowest credentials a route needs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Min {
    /// Viewers and up.
    Viewer,
    /// Viewers and up, and a share link of the run in the path.
    RunPage,
    /// Everyone with credentials, share sessions included.
    Anyone,
    /// Editors and up.
    Editor,
    /// Admins.
    Admin,
}

/// Every route with who may call it, as the issue states the roles.
const EXPECTED: &[(&str, &str, Min)] = &[
    ("GET", "/api/openapi.json", Min::Viewer),
    ("GET", "/api/experiments", Min::Viewer),
    ("POST", "/api/experiments/{name}/runs", Min::Editor),
    ("GET", "/api/experiments/{name}/metrics", Min::Viewer),
    ("GET", "/api/runs", Min::Viewer),
    ("GET", "/api/runs/{id}", Min::RunPage),
    ("POST", "/api/runs/{id}/cancel", Min::Editor),
    ("DELETE", "/api/runs/{id}", Min::Editor),
    ("DELETE", "/api/experiments/{name}", Min::Editor),
    ("PATCH", "/api/runs/{id}/tags", Min::Editor),
    ("GET", "/api/runs/{id}/files", Min::RunPage),
    ("GET", "/api/runs/{id}/files/{*path}", Min::RunPage),
    ("GET", "/api/runs/{id}/events", Min::RunPage),
    ("GET", "/api/runs/{id}/snapshot", Min::Viewer),
    ("GET", "/api/runs/{id}/snapshot/{*path}", Min::Viewer),
    ("POST", "/api/runs/{id}/metrics", Min::Editor),
    ("GET", "/api/runs/{id}/metrics", Min::RunPage),
    ("GET", "/api/runs/{id}/metrics/{name}", Min::RunPage),
    ("GET", "/api/runs/{id}/scalars", Min::RunPage),
    ("GET", "/api/runs/{id}/scalars/series", Min::RunPage),
    ("GET", "/api/runs/{id}/view", Min::RunPage),
    ("GET", "/api/runs/{id}/log", Min::RunPage),
    ("GET", "/api/runs/{id}/log/search", Min::RunPage),
    ("GET", "/api/runs/{id}/series", Min::RunPage),
    ("GET", "/api/environments", Min::Viewer),
    ("GET", "/api/frameworks/{framework}/versions", Min::Viewer),
    ("GET", "/api/environments/{hash}", Min::Viewer),
    ("DELETE", "/api/environments/{hash}", Min::Admin),
    ("GET", "/api/compute-targets", Min::Viewer),
    ("GET", "/api/files", Min::Viewer),
    ("GET", "/api/files/{*path}", Min::Viewer),
    ("PUT", "/api/files/{*path}", Min::Editor),
    ("POST", "/api/files/{*path}", Min::Editor),
    ("DELETE", "/api/files/{*path}", Min::Editor),
    ("POST", "/api/models", Min::Editor),
    ("GET", "/api/models", Min::Viewer),
    ("GET", "/api/models/{name}/versions/{version}", Min::Viewer),
    (
        "GET",
        "/api/models/{name}/versions/{version}/download",
        Min::Viewer,
    ),
    (
        "GET",
        "/api/models/{name}/versions/{version}/files/{*path}",
        Min::Viewer,
    ),
    ("GET", "/api/runs/{id}/models", Min::Viewer),
    ("POST", "/api/experiments/{name}/sweeps", Min::Editor),
    ("GET", "/api/runs/{id}/children", Min::Viewer),
    ("POST", "/api/datastores/{name}/upload", Min::Editor),
    ("PUT", "/api/datastores/{name}/files/{*path}", Min::Editor),
    ("GET", "/api/session", Min::Anyone),
    ("POST", "/api/session/logout", Min::Anyone),
    ("GET", "/api/sessions", Min::Viewer),
    ("DELETE", "/api/sessions/{id}", Min::Viewer),
    ("GET", "/api/tokens", Min::Viewer),
    ("POST", "/api/tokens", Min::Viewer),
    ("DELETE", "/api/tokens/{id}", Min::Viewer),
    ("GET", "/api/runs/{id}/share-links", Min::Editor),
    ("POST", "/api/runs/{id}/share-links", Min::Editor),
    ("DELETE", "/api/runs/{id}/share-links/{link}", Min::Editor),
    ("GET", "/api/experiments/{name}/share-links", Min::Editor),
    ("POST", "/api/experiments/{name}/share-links", Min::Editor),
    (
        "DELETE",
        "/api/experiments/{name}/share-links/{link}",
        Min::Editor,
    ), // MLflow's tracking API (a run's own token also reaches its run: tests/it/mlflow.rs).
    (
        "GET",
        "/api/2.0/mlflow/experiments/get-by-name",
        Min::Viewer,
    ),
    ("GET", "/api/2.0/mlflow/experiments/get", Min::Viewer),
    ("POST", "/api/2.0/mlflow/experiments/create", Min::Editor),
    ("POST", "/api/2.0/mlflow/experiments/search", Min::Viewer),
    ("GET", "/api/2.0/mlflow/experiments/search", Min::Viewer),
    ("POST", "/api/2.0/mlflow/runs/create", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/update", Min::Editor),
    ("GET", "/api/2.0/mlflow/runs/get", Min::Viewer),
    ("POST", "/api/2.0/mlflow/runs/search", Min::Viewer),
    ("POST", "/api/2.0/mlflow/runs/delete", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/restore", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/log-metric", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/log-parameter", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/set-tag", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/delete-tag", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/log-batch", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/log-inputs", Min::Editor),
    ("POST", "/api/2.0/mlflow/runs/log-model", Min::Editor),
    ("GET", "/api/2.0/mlflow/metrics/get-history", Min::Viewer),
    ("POST", "/api/2.0/mlflow/logged-models/search", Min::Viewer),
    ("GET", "/api/2.0/mlflow/{*path}", Min::Viewer),
    ("POST", "/api/2.0/mlflow/{*path}", Min::Viewer),
    ("PATCH", "/api/2.0/mlflow/{*path}", Min::Viewer),
    ("DELETE", "/api/2.0/mlflow/{*path}", Min::Viewer),
    ("GET", "/api/3.0/mlflow/{*path}", Min::Viewer),
    ("POST", "/api/3.0/mlflow/{*path}", Min::Viewer),
    ("GET", "/api/2.0/mlflow-artifacts/{*path}", Min::Viewer),
    ("POST", "/api/2.0/mlflow-artifacts/{*path}", Min::Viewer),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts", Min::Viewer),
    (
        "GET",
        "/api/2.0/mlflow-artifacts/artifacts/{*path}",
        Min::Viewer,
    ),
    (
        "PUT",
        "/api/2.0/mlflow-artifacts/artifacts/{*path}",
        Min::Editor,
    ),
];

/// Who calls, in the walk.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    ServerToken,
    Admin,
    Editor,
    Viewer,
    RunShare,
    Nobody,
}

fn allowed(who: Who, min: Min) -> bool {
    match who {
        Who::ServerToken | Who::Admin => true,
        Who::Editor => min != Min::Admin,
        Who::Viewer => matches!(min, Min::Viewer | Min::RunPage | Min::Anyone),
        Who::RunShare => matches!(min, Min::RunPage | Min::Anyone),
        Who::Nobody => false,
    }
}

/// A concrete path for a route pattern.
fn concrete(pattern: &str, run: &str, experiment: &str) -> String {
    let with_ids = if pattern.starts_with("/api/sessions") || pattern.starts_with("/api/tokens") {
        pattern.replace("{id}", "999999")
    } else {
        pattern.replace("{id}", run)
    };
    with_ids
        .replace("/experiments/{name}", &format!("/experiments/{experiment}"))
        .replace("/datastores/{name}", "/datastores/walk")
        .replace("{name}", "loss")
        .replace("{*path}", "outputs/walk.txt")
        .replace("{hash}", "0123456789abcdef")
        .replace("{framework}", "SKLearn")
        .replace("{link}", "999999")
}

/// A personal API token made with a session cookie.
async fn api_token(server: &Server, cookie: &str) -> String {
    let response = client()
        .post(format!("{}/api/tokens", server.url))
        .header("cookie", cookie)
        .json(&json!({"label": "walk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_each_role_as_the_roles_allow() {
    // The expected table names exactly the routes of the route table.
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(
        Config::new(dir.path().join("data"))
            .resolve_paths()
            .unwrap(),
    )
    .await
    .unwrap();
    let table: BTreeSet<(String, String)> = api::routes(&state)
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    let expected: BTreeSet<(String, String)> = EXPECTED
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(table, expected, "every route has its expected access here");

    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("data"));
    let run = completed_run(&server, "walk").await;
    let other_run = completed_run(&server, "other").await;
    let doomed = completed_run(&server, "doomed").await;
    let mut bearer = Vec::new();
    bearer.push((Who::ServerToken, server.token.clone()));
    for (who, name, role) in [
        (Who::Admin, "ada", "admin"),
        (Who::Editor, "ed", "editor"),
        (Who::Viewer, "vi", "viewer"),
    ] {
        let cookie = person(&server, name, role).await;
        bearer.push((who, api_token(&server, &cookie).await));
    }
    let link: Value = server
        .post(&format!("/api/runs/{run}/share-links"))
        .await
        .json()
        .await
        .unwrap();
    let (share_cookie, location) = open_share_link(&server, link["url"].as_str().unwrap()).await;
    assert_eq!(location, format!("/runs/{run}"));

    let http = client();
    let send = |method: &str, path: &str, who: Who| {
        let mut request = http.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", server.url),
        );
        match who {
            Who::RunShare => request = request.header("cookie", &share_cookie),
            Who::Nobody => {}
            _ => {
                let token = &bearer.iter().find(|(w, _)| *w == who).unwrap().1;
                request = request.bearer_auth(token);
            }
        }
        request.send()
    };
    let everyone = [
        Who::ServerToken,
        Who::Admin,
        Who::Editor,
        Who::Viewer,
        Who::RunShare,
        Who::Nobody,
    ];
    // Logout last: it ends the share session.
    let mut walk: Vec<_> = EXPECTED.to_vec();
    walk.sort_by_key(|(_, p, _)| *p == "/api/session/logout");
    for (method, pattern, min) in walk {
        // Deleting the run or experiment would end the share session: those walk
        // their own (the first allowed caller deletes it, the others find it gone).
        let path = if method == "DELETE"
            && (pattern == "/api/runs/{id}" || pattern == "/api/experiments/{name}")
        {
            concrete(pattern, &doomed, "doomed")
        } else {
            concrete(pattern, &run, "walk")
        };
        for who in everyone {
            let status = send(method, &path, who).await.unwrap().status();
            let expect = if who == Who::Nobody {
                "401".to_owned()
            } else if allowed(who, min) {
                "allowed".to_owned()
            } else {
                "403".to_owned()
            };
            let got = match status {
                StatusCode::UNAUTHORIZED => "401".to_owned(),
                StatusCode::FORBIDDEN => "403".to_owned(),
                _ => "allowed".to_owned(),
            };
            assert_eq!(got, expect, "{method} {path} as {who:?}: {status}");
        }
        // A run link shows its run only.
        if min == Min::RunPage {
            let path = concrete(pattern, &other_run, "other");
            let status = send(method, &path, Who::RunShare).await.unwrap().status();
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {path} as a share of {run}"
            );
        }
    }
}
