//! Each endpoint's [`Request`], built from typed arguments: every path segment and
//! query value is percent-encoded here (as JavaScript's `encodeURIComponent`), so no
//! caller formats a URL of the API.

use runboard_shared::api::{FilesAreaAction, TagsPatch};
use runboard_shared::run::{RunId, RunStatus};
use serde::Serialize;

use crate::{Body, Error, Method, Request};

/// Percent-encodes one URL component (a path segment or a query value) as
/// JavaScript's `encodeURIComponent` does: letters, digits and `-_.!~*'()` stay, every
/// other byte of the UTF-8 becomes `%XX`. (Eight lines rather than the
/// `percent-encoding` crate: its `Display`-based encoder cost the portal's wasm more.)
pub fn encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// A `/`-separated path with each segment encoded.
fn encode_path(path: &str) -> String {
    let segments: Vec<String> = path.split('/').map(encode).collect();
    segments.join("/")
}

fn get(path: String) -> Request {
    Request::new(Method::Get, path)
}

/// A request with a JSON body; the error if the value cannot be written as JSON.
pub fn json_body<B: Serialize>(method: Method, path: String, body: &B) -> Result<Request, Error> {
    let text = serde_json::to_string(body).map_err(|e| Error::Decode(e.to_string()))?;
    let mut request = Request::new(method, path);
    request.body = Some(Body::Json(text));
    Ok(request)
}

/// `GET /api/experiments`: an `ExperimentList`.
pub fn experiments() -> Request {
    get("/api/experiments".to_owned())
}

/// `POST /api/experiments/{name}/runs`: the path of a submission (its multipart body is
/// the transport's: only the CLI submits).
pub fn submit_path(experiment: &str) -> String {
    format!("/api/experiments/{}/runs", encode(experiment))
}

/// What to list with [`runs`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunQuery {
    /// Only this experiment's runs.
    pub experiment: Option<String>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// At most this many runs.
    pub limit: u32,
    /// The page after this cursor (from an earlier answer's `next_cursor`).
    pub cursor: Option<String>,
}

/// `GET /api/runs?limit=&experiment=&status=&cursor=`: a `RunList`, newest first.
pub fn runs(query: &RunQuery) -> Request {
    let mut params = vec![format!("limit={}", query.limit.max(1))];
    if let Some(e) = &query.experiment {
        params.push(format!("experiment={}", encode(e)));
    }
    if let Some(s) = query.status {
        params.push(format!("status={}", s.as_str()));
    }
    if let Some(c) = &query.cursor {
        params.push(format!("cursor={}", encode(c)));
    }
    get(format!("/api/runs?{}", params.join("&")))
}

/// `GET /api/runs/{id}`: its `RunDetails`.
pub fn run(id: &RunId) -> Request {
    get(format!("/api/runs/{id}"))
}

/// `DELETE /api/runs/{id}`: a `RunDeleted`.
pub fn delete_run(id: &RunId) -> Request {
    Request::new(Method::Delete, format!("/api/runs/{id}"))
}

/// `POST /api/runs/{id}/cancel`.
pub fn cancel(id: &RunId) -> Request {
    Request::new(Method::Post, format!("/api/runs/{id}/cancel"))
}

/// `PATCH /api/runs/{id}/tags`: answers the run's whole new tag set.
pub fn patch_tags(id: &RunId, patch: &TagsPatch) -> Result<Request, Error> {
    json_body(Method::Patch, format!("/api/runs/{id}/tags"), patch)
}

/// `GET /api/runs/{id}/view`: where a run page starts (a `runview::ViewStart`).
pub fn view(id: &RunId) -> Request {
    get(format!("/api/runs/{id}/view"))
}

/// `GET /api/runs/{id}/log?path=&end=`: the lines of a log before byte `end` (a
/// `runview::LogRange`).
pub fn log_before(id: &RunId, path: &str, end: u64) -> Request {
    get(format!(
        "/api/runs/{id}/log?path={}&end={end}",
        encode(path)
    ))
}

/// `GET /api/runs/{id}/files`: a `RunFileList` of `outputs/`, `logs/`, `user_logs/`,
/// `system_logs/`.
pub fn files(id: &RunId) -> Request {
    get(format!("/api/runs/{id}/files"))
}

/// `GET /api/runs/{id}/snapshot`: a `RunFileList` of the source files submitted.
pub fn snapshot(id: &RunId) -> Request {
    get(format!("/api/runs/{id}/snapshot"))
}

/// Which of a run's file areas a path is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileArea {
    /// Outputs and logs: `GET /api/runs/{id}/files/{path}`.
    Run,
    /// The source snapshot: `GET /api/runs/{id}/snapshot/{path}`.
    Snapshot,
}

/// The path of a run file, for requests, links, downloads and `<img>`.
pub fn file_path(id: &RunId, area: FileArea, path: &str) -> String {
    let route = match area {
        FileArea::Run => "files",
        FileArea::Snapshot => "snapshot",
    };
    format!("/api/runs/{id}/{route}/{}", encode_path(path))
}

/// The start of a run file, at most `max` bytes (`Range: bytes=0-{max-1}`).
pub fn file_head(path: String, max: u64) -> Request {
    let mut request = get(path);
    request
        .headers
        .push(("Range", format!("bytes=0-{}", max.saturating_sub(1))));
    request
}

/// `GET /api/runs/{id}/scalars`: a `ScalarList` (TensorBoard's scalar series and its
/// other summaries, counted).
pub fn scalars(id: &RunId) -> Request {
    get(format!("/api/runs/{id}/scalars"))
}

/// `GET /api/runs/{id}/series?source=&run=&name=&upto=&slices=`: a series' first
/// `upto` points, sampled into `slices` slices (min, max and last of each).
pub fn series(id: &RunId, source: &str, run: &str, name: &str, upto: u64, slices: u32) -> Request {
    get(format!(
        "/api/runs/{id}/series?source={}&run={}&name={}&upto={upto}&slices={slices}",
        encode(source),
        encode(run),
        encode(name)
    ))
}

/// `GET /api/runs/{id}/metrics/{name}?buckets=N`: a `SeriesBody`, downsampled.
pub fn metric_buckets(id: &RunId, name: &str, buckets: u32) -> Request {
    get(format!(
        "/api/runs/{id}/metrics/{}?buckets={buckets}",
        encode(name)
    ))
}

/// `GET /api/experiments/{name}/metrics?runs=ID,ID`: a `RunsMetrics`.
pub fn experiment_metrics(experiment: &str, runs: &[String]) -> Request {
    let runs: Vec<String> = runs.iter().map(|r| encode(r)).collect();
    get(format!(
        "/api/experiments/{}/metrics?runs={}",
        encode(experiment),
        runs.join(",")
    ))
}

/// `GET /api/runs/{id}/events?after=N`: the run's websocket (the path; the transport
/// adds its scheme and host).
pub fn events_path(id: &RunId, after: u64) -> String {
    format!("/api/runs/{id}/events?after={after}")
}

/// `GET /api/environments`: an `EnvironmentList`.
pub fn environments() -> Request {
    get("/api/environments".to_owned())
}

/// `DELETE /api/environments/{hash}`.
pub fn delete_environment(hash: &str) -> Request {
    Request::new(
        Method::Delete,
        format!("/api/environments/{}", encode(hash)),
    )
}

/// The path of a file or folder of the server's files area (`/api/files/<path>`, each
/// segment encoded; `""` is the area's root).
pub fn files_area_path(path: &str) -> String {
    if path.is_empty() {
        return "/api/files".to_owned();
    }
    format!("/api/files/{}", encode_path(path))
}

/// `GET /api/files/{folder}`: a `FilesAreaList`, recursively.
pub fn files_area_list(folder: &str) -> Request {
    get(files_area_path(folder))
}

/// `GET /api/files/{path}` of a file, never from a cache.
pub fn files_area_read(path: &str) -> Request {
    let mut request = get(files_area_path(path));
    request.fresh = true;
    request
}

/// `HEAD /api/files/{path}`: its `Last-Modified` and `Content-Length`, never from a
/// cache.
pub fn files_area_stamp(path: &str) -> Request {
    let mut request = Request::new(Method::Head, files_area_path(path));
    request.fresh = true;
    request
}

/// `PUT /api/files/{path}`: writes the whole file.
pub fn files_area_write(path: &str, text: String) -> Request {
    let mut request = Request::new(Method::Put, files_area_path(path));
    request.body = Some(Body::Text(text));
    request
}

/// `DELETE /api/files/{path}`: a file, or a folder with its contents.
pub fn files_area_delete(path: &str) -> Request {
    Request::new(Method::Delete, files_area_path(path))
}

/// `POST /api/files/{path}` with one [`FilesAreaAction`] (rename, create a folder).
pub fn files_area_act(path: &str, action: &FilesAreaAction) -> Result<Request, Error> {
    json_body(Method::Post, files_area_path(path), action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> RunId {
        RunId::parse("exp_1700000000_abcd1234").expect("a run id")
    }

    #[test]
    fn components_are_encoded_as_encode_uri_component_does() {
        for (text, expect) in [
            ("plain-_.!~*'()", "plain-_.!~*'()"),
            ("a b/c#?&=%", "a%20b%2Fc%23%3F%26%3D%25"),
            ("é", "%C3%A9"),
            ("", ""),
        ] {
            assert_eq!(encode(text), expect, "{text:?}");
        }
    }

    #[test]
    fn paths_encode_each_segment_and_keep_the_slashes() {
        assert_eq!(files_area_path(""), "/api/files");
        assert_eq!(
            files_area_path("a b/c#.ipynb"),
            "/api/files/a%20b/c%23.ipynb"
        );
        assert_eq!(
            file_path(&id(), FileArea::Snapshot, "src/train 1.py"),
            format!("/api/runs/{}/snapshot/src/train%201.py", id())
        );
        assert_eq!(submit_path("my exp"), "/api/experiments/my%20exp/runs");
    }

    #[test]
    fn queries_name_each_value_encoded() {
        let query = RunQuery {
            experiment: Some("a&b".to_owned()),
            status: Some(RunStatus::Running),
            limit: 0,
            cursor: Some("x=y".to_owned()),
        };
        assert_eq!(
            runs(&query).path,
            "/api/runs?limit=1&experiment=a%26b&status=Running&cursor=x%3Dy"
        );
        assert_eq!(
            series(&id(), "tensorboard", "train/a", "loss/x y", 7, 1000).path,
            format!(
                "/api/runs/{}/series?source=tensorboard&run=train%2Fa&name=loss%2Fx%20y&upto=7&slices=1000",
                id()
            )
        );
        assert_eq!(
            experiment_metrics("e 1", &["r1".to_owned(), "r,2".to_owned()]).path,
            "/api/experiments/e%201/metrics?runs=r1,r%2C2"
        );
        assert_eq!(
            metric_buckets(&id(), "acc/top 1", 1000).path,
            format!("/api/runs/{}/metrics/acc%2Ftop%201?buckets=1000", id())
        );
    }

    #[test]
    fn bodies_and_headers_are_part_of_the_request() {
        let patch: TagsPatch =
            serde_json::from_str(r#"{"set":{"a":"1"},"remove":[]}"#).expect("a tags patch");
        let request = patch_tags(&id(), &patch).expect("encodable");
        assert_eq!(request.method, Method::Patch);
        assert!(matches!(&request.body, Some(Body::Json(t)) if t.contains(r#""a":"1""#)));
        let head = file_head("/x".to_owned(), 1024);
        assert_eq!(head.headers, vec![("Range", "bytes=0-1023".to_owned())]);
        assert!(files_area_stamp("n.ipynb").fresh);
        assert_eq!(files_area_stamp("n.ipynb").method, Method::Head);
    }
}
