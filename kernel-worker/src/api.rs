//! What the worker puts on the wire and how it reads the server's answers, without I/O:
//! the URLs of the REST API and of a run's websocket, the fields of a submission, and
//! the [`HostError`] an error answer becomes.

use runboard_shared::api::ErrorBody;
use runboard_shared::estimator::FieldError;
use runboard_shared::kernel::{HostError, Submission};
use runboard_shared::run::RunId;

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` of its UTF-8 bytes, so a name with a space,
/// `#`, `?`, `%` or `/` reaches the server as that name.
///
/// ```
/// use runboard_kernel_worker::api::encode_segment;
/// assert_eq!(encode_segment("my data #1?.csv"), "my%20data%20%231%3F.csv");
/// assert_eq!(encode_segment("100%"), "100%25");
/// assert_eq!(encode_segment("café"), "caf%C3%A9");
/// ```
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-encodes each `/`-separated segment of a path, keeping the `/`s.
///
/// ```
/// use runboard_kernel_worker::api::encode_path;
/// assert_eq!(encode_path("projects/my model/train.py"), "projects/my%20model/train.py");
/// ```
pub fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// `/api/files/{path}` for a files-area path; the area's root `""` is `/api/files`.
pub fn files_url(path: &str) -> String {
    if path.is_empty() {
        "/api/files".to_owned()
    } else {
        format!("/api/files/{}", encode_path(path))
    }
}

/// `/api/runs/{id}` followed by `rest` (`""`, `/files`, `/metrics`, `/cancel`, `/tags`).
pub fn run_url(run: &RunId, rest: &str) -> String {
    format!("/api/runs/{}{rest}", encode_segment(run.as_str()))
}

/// `/api/runs/{id}/files/{name}` for the run file `name` (`outputs/model.json`).
pub fn run_file_url(run: &RunId, name: &str) -> String {
    run_url(run, &format!("/files/{}", encode_path(name)))
}

/// `/api/experiments/{experiment}/runs`, where a submission goes.
pub fn submit_url(experiment: &str) -> String {
    format!("/api/experiments/{}/runs", encode_segment(experiment))
}

/// `/api/datastores/{name}/upload`.
pub fn datastore_upload_url(datastore: &str) -> String {
    format!("/api/datastores/{}/upload", encode_segment(datastore))
}

/// The run's websocket, `ws(s)://<host>/api/runs/{id}/events?after=N`, on the server
/// the worker was loaded from (`protocol` and `host` are the worker's `location`'s).
///
/// ```
/// use runboard_kernel_worker::api::events_url;
/// use runboard_shared::run::RunId;
/// let run = RunId::parse("mnist_1700000000_0a1b2c3d").unwrap();
/// assert_eq!(
///     events_url("https:", "runboard.lab:8443", &run, 41),
///     "wss://runboard.lab:8443/api/runs/mnist_1700000000_0a1b2c3d/events?after=41"
/// );
/// ```
pub fn events_url(protocol: &str, host: &str, run: &RunId, after: u64) -> String {
    let scheme = if protocol == "https:" { "wss:" } else { "ws:" };
    format!("{scheme}//{host}{}?after={after}", run_url(run, "/events"))
}

/// The folder that holds `path` (`""` for a top-level entry).
pub fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The two text fields of a submission's multipart body: `estimator` (the estimator's
/// JSON with `source_directory` set to the files-area folder, which the server then
/// snapshots itself, since no `snapshot` part is sent) and `tags`.
pub fn submission_fields(submission: &Submission) -> Result<(String, String), HostError> {
    let mut estimator = submission.estimator.clone();
    let Some(object) = estimator.as_object_mut() else {
        return Err(HostError::Other(format!(
            "the estimator to submit is not a JSON object: {estimator}"
        )));
    };
    object.insert(
        "source_directory".to_owned(),
        serde_json::Value::String(submission.source_directory.clone()),
    );
    let tags = serde_json::to_string(&submission.tags)
        .map_err(|e| HostError::Other(format!("the run's tags: {e}")))?;
    Ok((estimator.to_string(), tags))
}

/// The error an answer with a non-2xx `status` stands for. The server's body is
/// `{"error": {"code", "message", "details": [{"field", "message"}]}}`; its message is
/// kept (and a body that is not that shape is quoted, shortened).
pub fn error_from_response(status: u16, body: &str) -> HostError {
    let (message, fields) = match serde_json::from_str::<ErrorBody>(body) {
        Ok(body) => (
            body.error.message,
            body.error
                .details
                .into_iter()
                .map(|d| FieldError::new(&d.field, d.message))
                .collect(),
        ),
        Err(_) => {
            let text = body.trim();
            let message = if text.is_empty() {
                format!("HTTP {status}")
            } else {
                let short: String = text.chars().take(300).collect();
                let more = if short.len() < text.len() { "…" } else { "" };
                format!("HTTP {status}: {short}{more}")
            };
            (message, Vec::new())
        }
    };
    match status {
        404 => HostError::NotFound(message),
        409 => HostError::Exists(message),
        400 | 422 => HostError::Invalid { message, fields },
        401 => HostError::Other(
            "not logged in: the portal's session has ended; reload the page to log in again, \
             then rerun the cell"
                .to_owned(),
        ),
        _ if message.starts_with("HTTP ") => HostError::Other(message),
        _ => HostError::Other(format!("{message} (HTTP {status})")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn run() -> RunId {
        RunId::parse("mnist_1700000000_0a1b2c3d").unwrap()
    }

    #[test]
    fn paths_are_encoded_segment_by_segment() {
        assert_eq!(files_url(""), "/api/files");
        assert_eq!(files_url("train.py"), "/api/files/train.py");
        assert_eq!(
            files_url("runs/50% off/#1 notes?.md"),
            "/api/files/runs/50%25%20off/%231%20notes%3F.md"
        );
        assert_eq!(files_url("a+b/c&d=e"), "/api/files/a%2Bb/c%26d%3De");
        assert_eq!(
            run_file_url(&run(), "outputs/model v2.json"),
            "/api/runs/mnist_1700000000_0a1b2c3d/files/outputs/model%20v2.json"
        );
        assert_eq!(
            run_url(&run(), "/cancel"),
            "/api/runs/mnist_1700000000_0a1b2c3d/cancel"
        );
        assert_eq!(submit_url("my exp"), "/api/experiments/my%20exp/runs");
        assert_eq!(
            datastore_upload_url("workspaceblobstore"),
            "/api/datastores/workspaceblobstore/upload"
        );
    }

    #[test]
    fn the_websocket_follows_the_page_scheme() {
        assert_eq!(
            events_url("http:", "localhost:8080", &run(), 0),
            "ws://localhost:8080/api/runs/mnist_1700000000_0a1b2c3d/events?after=0"
        );
        assert_eq!(
            events_url("https:", "example.org", &run(), 7),
            "wss://example.org/api/runs/mnist_1700000000_0a1b2c3d/events?after=7"
        );
    }

    #[test]
    fn parents() {
        assert_eq!(parent_of("train.py"), "");
        assert_eq!(parent_of("projects/mnist/train.py"), "projects/mnist");
        assert_eq!(parent_of(""), "");
    }

    #[test]
    fn a_submission_names_its_files_area_folder() {
        let submission = Submission {
            experiment: "mnist".into(),
            estimator: serde_json::json!({"source_directory": "./src", "entry_script": "train.py"}),
            source_directory: "projects/mnist/src".into(),
            tags: BTreeMap::from([("team".to_owned(), "vision".to_owned())]),
        };
        let (estimator, tags) = submission_fields(&submission).unwrap();
        assert_eq!(
            estimator,
            r#"{"source_directory":"projects/mnist/src","entry_script":"train.py"}"#
        );
        assert_eq!(tags, r#"{"team":"vision"}"#);

        let not_an_object = Submission {
            estimator: serde_json::json!([1]),
            ..submission
        };
        assert!(matches!(
            submission_fields(&not_an_object),
            Err(HostError::Other(_))
        ));
    }

    #[test]
    fn error_answers_become_host_errors() {
        let body = |code: &str, message: &str| {
            format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#)
        };
        assert_eq!(
            error_from_response(404, &body("not_found", "no run with id x")),
            HostError::NotFound("no run with id x".into())
        );
        assert_eq!(
            error_from_response(409, &body("conflict", "data is a folder")),
            HostError::Exists("data is a folder".into())
        );
        assert_eq!(
            error_from_response(400, &body("invalid_path", "'../x' leaves the files area")),
            HostError::Invalid {
                message: "'../x' leaves the files area".into(),
                fields: vec![]
            }
        );
        assert_eq!(
            error_from_response(500, &body("internal", "internal error")),
            HostError::Other("internal error (HTTP 500)".into())
        );
        let HostError::Other(login) = error_from_response(401, &body("unauthorized", "…")) else {
            panic!("401 is not Other");
        };
        assert!(login.starts_with("not logged in"), "{login}");
    }

    #[test]
    fn field_errors_are_kept_one_by_one() {
        let body = r#"{"error":{"code":"invalid_estimator",
            "message":"invalid estimator: entry_script: required; node_count: must be at least 1",
            "details":[{"field":"entry_script","message":"required"},
                       {"field":"node_count","message":"must be at least 1"}]}}"#;
        assert_eq!(
            error_from_response(400, body),
            HostError::Invalid {
                message:
                    "invalid estimator: entry_script: required; node_count: must be at least 1"
                        .into(),
                fields: vec![
                    FieldError::new("entry_script", "required"),
                    FieldError::new("node_count", "must be at least 1"),
                ],
            }
        );
    }

    #[test]
    fn a_body_that_is_not_the_api_s_is_quoted() {
        assert_eq!(
            error_from_response(502, "<html>Bad Gateway</html>\n"),
            HostError::Other("HTTP 502: <html>Bad Gateway</html>".into())
        );
        assert_eq!(
            error_from_response(503, ""),
            HostError::Other("HTTP 503".into())
        );
        let HostError::Other(long) = error_from_response(500, &"x".repeat(1000)) else {
            panic!("not Other");
        };
        assert!(long.ends_with("x…") && long.len() < 400, "{long}");
    }
}
