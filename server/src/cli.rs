//! The client commands of the `runboard` binary: submit, runs, logs, download, cancel.
//!
//! The server URL and token come from flags, `RUNBOARD_URL` / `RUNBOARD_TOKEN`, or
//! the client config that `runboard serve` writes at start.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use runboard_shared::api::{ErrorBody, RunList, SubmitResponse};
use runboard_shared::event::{EventBody, Frame};
use runboard_shared::run::{RunId, RunStatus};
use serde_json::{Map, Value};
use tokio_tungstenite::tungstenite;

use crate::config::Endpoint;
use crate::runner::snapshot;

/// A connection to a Runboard server.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    http: reqwest::Client,
}

/// What `runboard submit` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct SubmitArgs {
    /// Experiment name.
    pub experiment: String,
    /// The source folder.
    pub source_directory: PathBuf,
    /// Entry script, relative to the source folder.
    pub entry_script: Option<String>,
    /// `--flag=value` or `--flag` items.
    pub script_params: Vec<String>,
    /// Compute target name.
    pub compute_target: Option<String>,
    /// A JSON file holding a whole estimator; flags override its fields.
    pub estimator_file: Option<PathBuf>,
    /// `KEY=VALUE` environment variables.
    pub env: Vec<String>,
    /// `KEY=VALUE` tags.
    pub tags: Vec<String>,
    /// Time limit.
    pub max_run_duration_seconds: Option<u64>,
}

impl Client {
    /// A client from explicit values, falling back to the environment and config file.
    pub fn new(url: Option<String>, token: Option<String>) -> Result<Self> {
        Ok(Self::for_endpoint(
            Endpoint::resolve(url, token).map_err(anyhow::Error::msg)?,
        ))
    }

    /// A client of `endpoint`.
    pub fn for_endpoint(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            http: reqwest::Client::new(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.endpoint.url))
            .bearer_auth(&self.endpoint.token)
    }

    /// Sends a request; a server that does not answer is explained
    /// ([`Endpoint::unreachable`]).
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        request
            .send()
            .await
            .map_err(|e| match unreachable_cause(&e) {
                Some(cause) => anyhow!(self.endpoint.unreachable(&cause)),
                None => anyhow::Error::new(e).context(format!("reaching {}", self.endpoint.url)),
            })
    }

    /// Submits a run and returns the server's answer. On a terminal, shows the files
    /// packed, then the bytes sent with the rate; elsewhere prints nothing extra.
    pub async fn submit(&self, args: &SubmitArgs) -> Result<SubmitResponse> {
        let estimator = estimator_json(args)?;
        let src = args.source_directory.clone();
        let archive = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            let bar = progress::packing();
            let mut out = Vec::new();
            snapshot::pack_with(
                &src,
                snapshot::DEFAULT_LIMIT,
                &mut out,
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )
            .with_context(|| format!("packing source_directory {}", src.display()))?;
            bar.finish();
            Ok(out)
        })
        .await??;
        let properties = git_properties(&args.source_directory);
        let tags: Map<String, Value> = args
            .tags
            .iter()
            .map(|t| {
                let (k, v) = t.split_once('=').unwrap_or((t, ""));
                (k.to_owned(), Value::String(v.to_owned()))
            })
            .collect();
        let length = archive.len() as u64;
        let bar = progress::uploading(length);
        let form = reqwest::multipart::Form::new()
            .text("estimator", estimator.to_string())
            .text("properties", serde_json::to_string(&properties)?)
            .text("tags", Value::Object(tags).to_string())
            .part(
                "snapshot",
                reqwest::multipart::Part::stream_with_length(
                    progress::counted_body(archive, bar.clone()),
                    length,
                )
                .file_name("snapshot.tar.gz")
                .mime_str("application/gzip")?,
            );
        let response = self
            .send(
                self.request(
                    reqwest::Method::POST,
                    &format!("/api/experiments/{}/runs", args.experiment),
                )
                .multipart(form),
            )
            .await;
        bar.finish();
        json_or_error(response?).await
    }

    /// One page of runs.
    pub async fn runs(&self, experiment: Option<&str>) -> Result<RunList> {
        let mut query = vec![("limit", "1000".to_owned())];
        if let Some(e) = experiment {
            query.push(("experiment", e.to_owned()));
        }
        let response = self
            .send(
                self.request(reqwest::Method::GET, "/api/runs")
                    .query(&query),
            )
            .await?;
        json_or_error(response).await
    }

    /// Asks the server to cancel a run.
    pub async fn cancel(&self, run_id: &str) -> Result<()> {
        let response = self
            .send(self.request(reqwest::Method::POST, &format!("/api/runs/{run_id}/cancel")))
            .await?;
        json_or_error::<Value>(response).await.map(|_| ())
    }

    /// Deletes a run (the server cancels it first if it has not ended).
    pub async fn delete_run(&self, run_id: &str) -> Result<runboard_shared::api::RunDeleted> {
        let response = self
            .send(self.request(reqwest::Method::DELETE, &format!("/api/runs/{run_id}")))
            .await?;
        json_or_error(response).await
    }

    /// Downloads a run file into `out`.
    pub async fn download(&self, run_id: &str, path: &str, out: &Path) -> Result<u64> {
        let response = self
            .send(self.request(
                reqwest::Method::GET,
                &format!("/api/runs/{run_id}/files/{path}"),
            ))
            .await?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        let tmp_dir = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(tmp_dir)?;
        let mut stream = response.bytes_stream();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            total += chunk.len() as u64;
            tmp.write_all(&chunk)?;
        }
        tmp.persist(out)?;
        Ok(total)
    }

    /// Streams a run's `std_log.txt` to `out` until the run ends, resuming after
    /// dropped connections, and returns the final status and error.
    pub async fn follow(
        &self,
        run_id: &str,
        out: &mut (dyn Write + Send),
    ) -> Result<(RunStatus, Option<String>)> {
        let ws_url = format!(
            "{}/api/runs/{run_id}/events",
            self.endpoint
                .url
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        );
        let mut after = 0u64;
        let mut failures = 0u32;
        let mut connected = false;
        loop {
            let mut request = tungstenite::client::IntoClientRequest::into_client_request(
                format!("{ws_url}?after={after}"),
            )?;
            request.headers_mut().insert(
                "Authorization",
                format!("Bearer {}", self.endpoint.token).parse()?,
            );
            let mut socket = match tokio_tungstenite::connect_async(request).await {
                Ok((socket, _)) => {
                    failures = 0;
                    connected = true;
                    socket
                }
                // A server that never answered is not waited for: it is explained. One
                // that answered before is waited for, as it may be restarting.
                Err(tungstenite::Error::Io(e)) if !connected => {
                    bail!(self.endpoint.unreachable(&e));
                }
                Err(tungstenite::Error::Http(response)) if response.status().is_client_error() => {
                    bail!(
                        "the server refused to stream run {run_id}: HTTP {}",
                        response.status()
                    );
                }
                Err(e) => {
                    failures += 1;
                    if failures > 600 {
                        bail!("lost the server at {}: {e}", self.endpoint.url);
                    }
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(failures.min(10))))
                        .await;
                    continue;
                }
            };
            while let Some(message) = socket.next().await {
                let Ok(tungstenite::Message::Text(text)) = message else {
                    break;
                };
                match serde_json::from_str::<Frame>(&text)? {
                    Frame::Event { event } => {
                        after = event.seq;
                        match event.body {
                            EventBody::Log { path, text, .. }
                                if path == "user_logs/std_log.txt" =>
                            {
                                out.write_all(text.as_bytes())?;
                                out.flush()?;
                            }
                            EventBody::Status { status, error } if status.is_terminal() => {
                                return Ok((status, error));
                            }
                            _ => {}
                        }
                    }
                    Frame::CaughtUp { .. } => {}
                    Frame::Resume { after: a, .. } => {
                        after = a;
                        break;
                    }
                }
            }
        }
    }
}

/// The estimator JSON of a submission: the `--estimator` file, then the flags.
pub fn estimator_json(args: &SubmitArgs) -> Result<Value> {
    let mut estimator = match &args.estimator_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            match serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?
            {
                Value::Object(map) => map,
                _ => bail!("{} must hold a JSON object (an estimator)", path.display()),
            }
        }
        None => Map::new(),
    };
    estimator.insert(
        "source_directory".into(),
        Value::String(args.source_directory.display().to_string()),
    );
    if let Some(entry) = &args.entry_script {
        estimator.insert("entry_script".into(), Value::String(entry.clone()));
    }
    if let Some(target) = &args.compute_target {
        estimator.insert("compute_target".into(), Value::String(target.clone()));
    }
    if let Some(secs) = args.max_run_duration_seconds {
        estimator.insert("max_run_duration_seconds".into(), Value::from(secs));
    }
    if !args.script_params.is_empty() {
        let params = estimator
            .entry("script_params")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(params) = params else {
            bail!("script_params in the estimator file must be an object")
        };
        for item in &args.script_params {
            let (flag, value) = item.split_once('=').unwrap_or((item, ""));
            params.insert(flag.to_owned(), Value::String(value.to_owned()));
        }
    }
    if !args.env.is_empty() {
        let env = estimator
            .entry("environment_variables")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(env) = env else {
            bail!("environment_variables in the estimator file must be an object")
        };
        for item in &args.env {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| anyhow!("--env takes KEY=VALUE, got {item:?}"))?;
            env.insert(k.to_owned(), Value::String(v.to_owned()));
        }
    }
    Ok(Value::Object(estimator))
}

/// The git facts of a source folder, under the SDK's and MLflow's property names;
/// empty when the folder is not in a git work tree.
pub fn git_properties(dir: &Path) -> Map<String, Value> {
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let mut props = Map::new();
    if git(&["rev-parse", "--is-inside-work-tree"]).as_deref() != Some("true") {
        return props;
    }
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_default();
    let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_default();
    let repo = git(&["remote", "get-url", "origin"])
        .or_else(|| git(&["rev-parse", "--show-toplevel"]))
        .unwrap_or_default();
    let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    for (key, value) in [
        ("azureml.git.repository_uri", repo.clone()),
        ("azureml.git.branch", branch.clone()),
        ("azureml.git.commit", commit.clone()),
        (
            "azureml.git.dirty",
            if dirty { "True" } else { "False" }.to_owned(),
        ),
        ("mlflow.source.git.repoURL", repo),
        ("mlflow.source.git.branch", branch),
        ("mlflow.source.git.commit", commit),
    ] {
        props.insert(key.to_owned(), Value::String(value));
    }
    props
}

async fn json_or_error<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    if !response.status().is_success() {
        return Err(api_error(response).await);
    }
    Ok(response.json().await?)
}

async fn api_error(response: reqwest::Response) -> anyhow::Error {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => anyhow!("{} (HTTP {status})", body.error.message),
        Err(_) => anyhow!("HTTP {status}: {text}"),
    }
}

/// The innermost cause of a request error when the server could not be reached at
/// all (refused, no route, name not found, timed out); `None` for other errors.
pub fn unreachable_cause(error: &reqwest::Error) -> Option<String> {
    if !(error.is_connect() || error.is_timeout()) {
        return None;
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    Some(cause.to_string())
}

/// Progress on a terminal for `runboard submit` (indicatif); hidden, and so silent,
/// when standard error is not a terminal.
mod progress {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    /// Bytes handed to the HTTP body at a time: small enough that the bar moves.
    const CHUNK: usize = 256 * 1024;

    fn bar(template: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar
    }

    /// The packing step: files packed out of the files to pack.
    pub(super) fn packing() -> ProgressBar {
        bar("packing the source folder: {pos}/{len} files packed")
    }

    /// The upload: bytes sent out of `total`, with the rate.
    pub(super) fn uploading(total: u64) -> ProgressBar {
        let bar = bar("uploading: {bytes}/{total_bytes} sent ({bytes_per_sec}) {wide_bar}");
        bar.set_length(total);
        bar
    }

    /// `data` as a streamed request body that moves `bar` as it is sent.
    pub(super) fn counted_body(data: Vec<u8>, bar: ProgressBar) -> reqwest::Body {
        let data = bytes::Bytes::from(data);
        let chunks: Vec<bytes::Bytes> = (0..data.len())
            .step_by(CHUNK)
            .map(|start| data.slice(start..(start + CHUNK).min(data.len())))
            .collect();
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks.into_iter().map(
            move |chunk| {
                bar.inc(chunk.len() as u64);
                Ok::<_, std::io::Error>(chunk)
            },
        )))
    }
}

/// Checks that a run id has the right shape before asking the server.
pub fn parse_run_id(text: &str) -> Result<RunId> {
    Ok(RunId::parse(text)?)
}
