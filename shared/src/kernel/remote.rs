//! The pure half of a host over the server's API: what a [`Host`] that reaches a
//! Runboard server over HTTP puts on the wire and how it reads the answers, without
//! doing any I/O.
//!
//! Two hosts use it: the browser's (`runboard-kernel-worker`, `fetch` in a Web Worker)
//! and the CLI's files-area host (`runboard notebook run`, reqwest). Each sends the
//! requests its own way; the decisions live here once, so a notebook behaves the same
//! in both:
//!
//! - the URLs of the REST API and of a run's websocket, every path segment
//!   percent-encoded ([`files_url`], [`run_url`], [`events_url`], …);
//! - the [`HostError`] an error answer stands for ([`error_from_response`]);
//! - the files area read from the server's recursive listings: what is at a path
//!   ([`stat_from`]) and what a folder holds directly ([`list_dir_from`]);
//! - the fields of a submission sent without a snapshot ([`submission_fields`]).
//!
//! [`Host`]: super::Host

use std::collections::BTreeMap;

use crate::api::{ErrorBody, FilesAreaList};
use crate::estimator::FieldError;
use crate::run::RunId;

use super::{DirEntry, FileKind, HostError, Submission};

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` of its UTF-8 bytes, so a name with a space,
/// `#`, `?`, `%` or `/` reaches the server as that name.
///
/// A segment `.` or `..` stays as it is: URL parsers (browsers' and the `url` crate's)
/// fold `%2E%2E` exactly like `..`, so encoding it would change nothing.
///
/// ```
/// use runboard_shared::kernel::remote::encode_segment;
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
/// use runboard_shared::kernel::remote::encode_path;
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

/// The run's websocket, `ws(s)://…/api/runs/{id}/events?after=N`, on the server at
/// `origin` (`http://host:port` or `https://host`, as the REST API is reached).
///
/// ```
/// use runboard_shared::kernel::remote::events_url;
/// use runboard_shared::run::RunId;
/// let run = RunId::parse("mnist_1700000000_0a1b2c3d").unwrap();
/// assert_eq!(
///     events_url("https://runboard.lab:8443", &run, 41),
///     "wss://runboard.lab:8443/api/runs/mnist_1700000000_0a1b2c3d/events?after=41"
/// );
/// ```
pub fn events_url(origin: &str, run: &RunId, after: u64) -> String {
    let origin = match (
        origin.strip_prefix("https://"),
        origin.strip_prefix("http://"),
    ) {
        (Some(rest), _) => format!("wss://{rest}"),
        (None, Some(rest)) => format!("ws://{rest}"),
        (None, None) => origin.to_owned(),
    };
    format!("{origin}{}?after={after}", run_url(run, "/events"))
}

/// The folder that holds the files-area path `path` (`""` for a top-level entry).
pub fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The error an answer with a non-2xx `status` stands for. The server's body is an
/// [`ErrorBody`], `{"error": {"code", "message", "details": [{"field", "message"}]}}`:
/// its message is kept, and so is each field's error. A body of another shape (a
/// proxy's page) is quoted, shortened to 300 characters.
///
/// 404 is [`HostError::NotFound`], 409 [`HostError::Exists`], 400 and 422
/// [`HostError::Invalid`], anything else [`HostError::Other`] naming the status.
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
        _ if message.starts_with("HTTP ") => HostError::Other(message),
        _ => HostError::Other(format!("{message} (HTTP {status})")),
    }
}

/// What `POST /api/runs/{id}/cancel` came to: its 409 is "the run has already
/// ended", not a file in the way, so it is [`HostError::Other`].
pub fn cancel_result<T>(answer: Result<T, HostError>) -> Result<(), HostError> {
    match answer {
        Ok(_) => Ok(()),
        Err(HostError::Exists(message)) => Err(HostError::Other(message)),
        Err(e) => Err(e),
    }
}

/// The two text fields of a submission's multipart body when no snapshot is sent:
/// `estimator` (the estimator's JSON with `source_directory` set to the files-area
/// folder, which the server then packs itself) and `tags` ([`tags_field`]).
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
    Ok((estimator.to_string(), tags_field(&submission.tags)?))
}

/// The `tags` field of a submission: the tags as a JSON object.
pub fn tags_field(tags: &BTreeMap<String, String>) -> Result<String, HostError> {
    serde_json::to_string(tags).map_err(|e| HostError::Other(format!("the run's tags: {e}")))
}

/// `folder/`, the prefix of every path under `folder` (`""` for the root).
fn prefix(folder: &str) -> String {
    if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    }
}

/// The JSON answer of `GET /api/files/{folder}` read as the folder's recursive
/// listing; `None` when it is not one. (A folder answers with its listing and a file
/// with its bytes, so a JSON file could parse as a listing; it would not name only
/// paths under itself, see [`is_listing_of`].)
pub fn listing_from(folder: &str, json: &str) -> Option<FilesAreaList> {
    serde_json::from_str::<FilesAreaList>(json)
        .ok()
        .filter(|l| is_listing_of(l, folder))
}

/// Whether `listing` can be the listing of `folder`: every path in it lies under the
/// folder.
pub fn is_listing_of(listing: &FilesAreaList, folder: &str) -> bool {
    let prefix = prefix(folder);
    listing
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain(listing.folders.iter().map(String::as_str))
        .all(|p| p.starts_with(&prefix) || p == folder)
}

/// What `path` is according to `listing` (a listing of its parent folder): a file, a
/// folder, or nothing. The root `""` is always a folder, and so is a folder the listing
/// names only through what is inside it.
pub fn kind_in(listing: &FilesAreaList, path: &str) -> Option<FileKind> {
    if path.is_empty() || listing.folders.iter().any(|f| f == path) {
        Some(FileKind::Dir)
    } else if listing.files.iter().any(|f| f.path == path) {
        Some(FileKind::File)
    } else {
        let inside = prefix(path);
        let under = |p: &str| p.starts_with(&inside);
        (listing.files.iter().any(|f| under(&f.path)) || listing.folders.iter().any(|f| under(f)))
            .then_some(FileKind::Dir)
    }
}

/// The entries directly inside `folder`, by name, from the recursive `listing` of
/// `folder`. A deeper path counts as its top folder even if the listing left that
/// folder out.
pub fn direct_children(listing: &FilesAreaList, folder: &str) -> Vec<DirEntry> {
    let prefix = prefix(folder);
    let mut children = BTreeMap::new();
    let mut add = |path: &str, kind: FileKind| {
        let Some(rest) = path.strip_prefix(&prefix) else {
            return;
        };
        match rest.split_once('/') {
            Some((name, _)) if !name.is_empty() => {
                children.insert(name.to_owned(), FileKind::Dir);
            }
            None if !rest.is_empty() => {
                children.entry(rest.to_owned()).or_insert(kind);
            }
            _ => {}
        }
    };
    for file in &listing.files {
        add(&file.path, FileKind::File);
    }
    for path in &listing.folders {
        add(path, FileKind::Dir);
    }
    children
        .into_iter()
        .map(|(name, kind)| DirEntry { name, kind })
        .collect()
}

/// [`Host::stat`](super::Host::stat) of `path` (not the root) from what asking for
/// the listing of its parent folder, [`parent_of`]`(path)`, came to: `Ok(None)` when
/// the parent is a file, a 404 when it is missing. In both cases nothing is at `path`.
pub fn stat_from(
    path: &str,
    parent: Result<Option<FilesAreaList>, HostError>,
) -> Result<Option<FileKind>, HostError> {
    match parent {
        Ok(Some(listing)) => Ok(kind_in(&listing, path)),
        Ok(None) | Err(HostError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`Host::list_dir`](super::Host::list_dir) of `path` from its listing, `None` when
/// `path` is a file.
pub fn list_dir_from(
    path: &str,
    listing: Option<FilesAreaList>,
) -> Result<Vec<DirEntry>, HostError> {
    match listing {
        Some(listing) => Ok(direct_children(&listing, path)),
        None => Err(HostError::Other(format!("Not a directory: {path}"))),
    }
}

/// The whole file to write back when appending `data` to a file whose current
/// content reading came to `old` (a missing file counts as empty): the files area is
/// written a whole file at a time.
pub fn appended(old: Result<Vec<u8>, HostError>, data: &[u8]) -> Result<Vec<u8>, HostError> {
    let mut whole = match old {
        Ok(old) => old,
        Err(HostError::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    whole.extend_from_slice(data);
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::RunFile;

    fn run() -> RunId {
        RunId::parse("mnist_1700000000_0a1b2c3d").unwrap()
    }

    /// A listing from its paths: folders end with `/`.
    fn listing(paths: &[&str]) -> FilesAreaList {
        let mut listing = FilesAreaList::default();
        for path in paths {
            match path.strip_suffix('/') {
                Some(folder) => listing.folders.push(folder.to_owned()),
                None => listing.files.push(RunFile {
                    path: (*path).to_owned(),
                    size: 1,
                }),
            }
        }
        listing
    }

    /// What `GET /api/files/projects` answers.
    fn projects() -> FilesAreaList {
        listing(&[
            "projects/README.md",
            "projects/mnist/src/train.py",
            "projects/mnist/Train.ipynb",
            "projects/raw/a.csv",
            "projects/empty/",
            "projects/mnist/",
            "projects/mnist/src/",
        ])
    }

    /// A folder's entries as `name` for a file and `name/` for a folder.
    fn names(entries: &[DirEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| match e.kind {
                FileKind::File => e.name.clone(),
                FileKind::Dir => format!("{}/", e.name),
            })
            .collect()
    }

    #[test]
    fn urls_encode_every_segment() {
        let urls = [
            (files_url(""), "/api/files"),
            (files_url("train.py"), "/api/files/train.py"),
            (
                files_url("runs/50% off/#1 notes?.md"),
                "/api/files/runs/50%25%20off/%231%20notes%3F.md",
            ),
            (files_url("a+b/c&d=e"), "/api/files/a%2Bb/c%26d%3De"),
            (run_url(&run(), ""), "/api/runs/mnist_1700000000_0a1b2c3d"),
            (
                run_url(&run(), "/cancel"),
                "/api/runs/mnist_1700000000_0a1b2c3d/cancel",
            ),
            (
                run_file_url(&run(), "outputs/model v2.json"),
                "/api/runs/mnist_1700000000_0a1b2c3d/files/outputs/model%20v2.json",
            ),
            (submit_url("my exp"), "/api/experiments/my%20exp/runs"),
            (
                datastore_upload_url("workspaceblobstore"),
                "/api/datastores/workspaceblobstore/upload",
            ),
            (
                events_url("http://localhost:8080", &run(), 0),
                "ws://localhost:8080/api/runs/mnist_1700000000_0a1b2c3d/events?after=0",
            ),
            (
                events_url("https://example.org", &run(), 7),
                "wss://example.org/api/runs/mnist_1700000000_0a1b2c3d/events?after=7",
            ),
        ];
        for (url, expected) in urls {
            assert_eq!(url, expected);
        }
    }

    #[test]
    fn a_path_s_parent() {
        for (path, parent) in [
            ("train.py", ""),
            ("projects/mnist/train.py", "projects/mnist"),
            ("", ""),
        ] {
            assert_eq!(parent_of(path), parent, "{path}");
        }
    }

    #[test]
    fn error_answers_become_host_errors() {
        let api = |code: &str, message: &str| {
            json!({"error": {"code": code, "message": message}}).to_string()
        };
        let other = |message: &str| HostError::Other(message.into());
        let invalid = |message: &str| HostError::Invalid {
            message: message.into(),
            fields: vec![],
        };
        let answers = [
            (
                404,
                api("not_found", "no run with id x"),
                HostError::NotFound("no run with id x".into()),
            ),
            (
                409,
                api("conflict", "data is a folder"),
                HostError::Exists("data is a folder".into()),
            ),
            (
                400,
                api("invalid_path", "'../x' leaves the files area"),
                invalid("'../x' leaves the files area"),
            ),
            (422, api("invalid", "bad body"), invalid("bad body")),
            (
                500,
                api("internal", "internal error"),
                other("internal error (HTTP 500)"),
            ),
            (
                401,
                api("unauthorized", "missing or wrong credentials"),
                other("missing or wrong credentials (HTTP 401)"),
            ),
            // Not the API's body: quoted, or just the status.
            (
                502,
                "<html>Bad Gateway</html>\n".into(),
                other("HTTP 502: <html>Bad Gateway</html>"),
            ),
            (503, String::new(), other("HTTP 503")),
            (
                404,
                "no such page".into(),
                HostError::NotFound("HTTP 404: no such page".into()),
            ),
        ];
        for (status, body, expected) in answers {
            assert_eq!(
                error_from_response(status, &body),
                expected,
                "{status} {body}"
            );
        }
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
    fn a_long_foreign_body_is_shortened() {
        let HostError::Other(long) = error_from_response(500, &"x".repeat(1000)) else {
            panic!("not Other");
        };
        assert!(long.ends_with("x…") && long.len() < 400, "{long}");
    }

    #[test]
    fn cancelling_a_run_that_has_ended_is_not_a_file_in_the_way() {
        let ended = || HostError::Exists("run x has already ended".into());
        for (answer, expected) in [
            (Ok(()), Ok(())),
            (
                Err(ended()),
                Err(HostError::Other("run x has already ended".into())),
            ),
            (
                Err(HostError::NotFound("no run x".into())),
                Err(HostError::NotFound("no run x".into())),
            ),
        ] {
            assert_eq!(cancel_result(answer), expected);
        }
    }

    #[test]
    fn a_submission_names_its_files_area_folder() {
        let submission = Submission {
            experiment: "mnist".into(),
            estimator: json!({"source_directory": "./src", "entry_script": "train.py"}),
            source_directory: "projects/mnist/src".into(),
            tags: BTreeMap::from([("team".to_owned(), "vision".to_owned())]),
        };
        assert_eq!(
            submission_fields(&submission).unwrap(),
            (
                r#"{"source_directory":"projects/mnist/src","entry_script":"train.py"}"#.into(),
                r#"{"team":"vision"}"#.into()
            )
        );
        let not_an_object = Submission {
            estimator: json!([1]),
            ..submission
        };
        assert_eq!(
            submission_fields(&not_an_object),
            Err(HostError::Other(
                "the estimator to submit is not a JSON object: [1]".into()
            ))
        );
    }

    #[test]
    fn stat_looks_the_path_up_in_its_parent_s_listing() {
        let cases = [
            ("projects/README.md", Some(FileKind::File)),
            ("projects/mnist", Some(FileKind::Dir)),
            ("projects/empty", Some(FileKind::Dir)),
            // Named only through what is inside it.
            ("projects/raw", Some(FileKind::Dir)),
            ("projects/missing.txt", None),
            // A prefix of a name is not the name.
            ("projects/mni", None),
        ];
        for (path, kind) in cases {
            assert_eq!(kind_in(&projects(), path), kind, "{path}");
            assert_eq!(stat_from(path, Ok(Some(projects()))), Ok(kind), "{path}");
        }
        assert_eq!(kind_in(&FilesAreaList::default(), ""), Some(FileKind::Dir));
    }

    #[test]
    fn nothing_is_under_a_file_or_a_missing_folder() {
        let cases = [
            // The parent is a file: its answer was not a listing.
            (Ok(None), Ok(None)),
            (Err(HostError::NotFound("projects".into())), Ok(None)),
            (
                Err(HostError::Other("HTTP 502".into())),
                Err(HostError::Other("HTTP 502".into())),
            ),
        ];
        for (parent, expected) in cases {
            assert_eq!(stat_from("projects/a.txt", parent), expected);
        }
    }

    #[test]
    fn list_dir_keeps_the_direct_children_by_name() {
        let root = listing(&["notes.txt", "projects/", "projects/mnist/"]);
        let only_contents = listing(&["data/raw/a.csv"]);
        let cases = [
            (
                projects(),
                "projects",
                vec!["README.md", "empty/", "mnist/", "raw/"],
            ),
            (projects(), "projects/mnist", vec!["Train.ipynb", "src/"]),
            (projects(), "projects/empty", vec![]),
            (root, "", vec!["notes.txt", "projects/"]),
            (only_contents, "data", vec!["raw/"]),
        ];
        for (listing, folder, expected) in cases {
            let entries = list_dir_from(folder, Some(listing)).unwrap();
            assert_eq!(names(&entries), expected, "{folder}");
        }
        assert_eq!(
            list_dir_from("notes.txt", None),
            Err(HostError::Other("Not a directory: notes.txt".into()))
        );
    }

    #[test]
    fn a_listing_names_only_paths_under_its_folder() {
        let answer = serde_json::to_string(&projects()).unwrap();
        for (folder, json, is_its_listing) in [
            ("projects", answer.as_str(), true),
            ("", answer.as_str(), true),
            ("anything", r#"{"files":[],"folders":[]}"#, true),
            // A JSON file that happens to look like a listing.
            ("projects/mnist", answer.as_str(), false),
            ("projects/config.json", r#"{"lr": 0.1}"#, false),
        ] {
            assert_eq!(
                listing_from(folder, json).is_some(),
                is_its_listing,
                "{folder} {json}"
            );
        }
    }

    #[test]
    fn appending_writes_the_old_content_and_the_new() {
        let cases = [
            (Ok(b"one\n".to_vec()), Ok(b"one\ntwo\n".to_vec())),
            (
                Err(HostError::NotFound("notes.txt".into())),
                Ok(b"two\n".to_vec()),
            ),
            (
                Err(HostError::Other("offline".into())),
                Err(HostError::Other("offline".into())),
            ),
        ];
        for (old, expected) in cases {
            assert_eq!(appended(old, b"two\n"), expected);
        }
    }
}
