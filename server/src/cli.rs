//! The client commands of the `runboard` binary: submit, runs, logs, download, cancel.
//!
//! The server URL and token come from flags, `RUNBOARD_URL` / `RUNBOARD_TOKEN`, or
//! the client config that `runboard serve` writes at start.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use runboard_client::{RunQuery, follow, requests};
use runboard_shared::api::{RunDeleted, RunList, SubmitResponse};
use runboard_shared::event::EventBody;
use runboard_shared::run::{RunId, RunStatus};
use serde_json::{Map, Value};
use tokio_tungstenite::tungstenite;

use crate::config::Endpoint;
use crate::snapshot;

mod transport;

pub use transport::{Http, unreachable_cause};

/// A connection to a Runboard server: the REST client (`runboard-client`) over
/// reqwest ([`transport::Http`]).
#[derive(Debug, Clone)]
pub struct Client {
    http: Http,
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
            http: Http::new(endpoint),
        }
    }

    fn endpoint(&self) -> &Endpoint {
        self.http.endpoint()
    }

    /// Sends a request of the client and decodes its JSON answer.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        request: runboard_client::Request,
    ) -> Result<T> {
        let response = runboard_client::call(&self.http, request)
            .await
            .map_err(failed)?;
        runboard_client::json_text(response)
            .and_then(|text| runboard_client::json(&text))
            .map_err(failed)
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
        // The multipart body is streamed (with its progress): the request is the
        // client's, sent by reqwest directly.
        let request = runboard_client::Request::new(
            runboard_client::Method::Post,
            requests::submit_path(&args.experiment),
        );
        let response = self
            .http
            .start(self.http.builder(request).multipart(form))
            .await;
        bar.finish();
        let response = response.map_err(failed)?;
        let status = response.status();
        let answer = runboard_client::Response {
            status: status.as_u16(),
            status_text: status.canonical_reason().unwrap_or_default().to_owned(),
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: response.bytes().await?.to_vec(),
        };
        runboard_client::check(answer)
            .and_then(runboard_client::json_text)
            .and_then(|text| runboard_client::json(&text))
            .map_err(failed)
    }

    /// One page of runs.
    pub async fn runs(&self, experiment: Option<&str>) -> Result<RunList> {
        self.json(requests::runs(&RunQuery {
            experiment: experiment.map(str::to_owned),
            limit: 1000,
            ..RunQuery::default()
        }))
        .await
    }

    /// Asks the server to cancel a run.
    pub async fn cancel(&self, run_id: &str) -> Result<()> {
        runboard_client::call(&self.http, requests::cancel(&parse_run_id(run_id)?))
            .await
            .map_err(failed)?;
        Ok(())
    }

    /// Deletes a run (the server cancels it first if it has not ended).
    pub async fn delete_run(&self, run_id: &str) -> Result<RunDeleted> {
        self.json(requests::delete_run(&parse_run_id(run_id)?))
            .await
    }

    /// Downloads a run file into `out`, streamed.
    pub async fn download(&self, run_id: &str, path: &str, out: &Path) -> Result<u64> {
        let path = requests::file_path(&parse_run_id(run_id)?, requests::FileArea::Run, path);
        let request = runboard_client::Request::new(runboard_client::Method::Get, path);
        let response = self
            .http
            .start(self.http.builder(request))
            .await
            .map_err(failed)?;
        if !response.status().is_success() {
            let status = response.status();
            let answer = runboard_client::Response {
                status: status.as_u16(),
                status_text: status.canonical_reason().unwrap_or_default().to_owned(),
                headers: Vec::new(),
                body: response.bytes().await.unwrap_or_default().to_vec(),
            };
            return Err(runboard_client::check(answer)
                .err()
                .map_or_else(|| anyhow!("HTTP {status}"), failed));
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
    /// dropped connections (the client's one follower, [`follow::follow`]), and
    /// returns the final status and error.
    pub async fn follow(
        &self,
        run_id: &str,
        out: &mut (dyn Write + Send),
    ) -> Result<(RunStatus, Option<String>)> {
        let id = parse_run_id(run_id)?;
        let mut sockets = Sockets {
            endpoint: self.endpoint(),
            run_id,
            connected: false,
        };
        let end = follow::follow(&mut sockets, &id, 0, |event| match event.body {
            EventBody::Log { path, text, .. } if path == "user_logs/std_log.txt" => {
                match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => ControlFlow::Break(Err(e.into())),
                }
            }
            EventBody::Status { status, error } if status.is_terminal() => {
                ControlFlow::Break(Ok((status, error)))
            }
            _ => ControlFlow::Continue(()),
        })
        .await;
        match end {
            follow::End::Done(result) => result,
            follow::End::Deleted => bail!("run {run_id} was deleted while it was followed"),
            follow::End::Stopped(why) => Err(anyhow!(why)),
        }
    }
}

/// The CLI's sockets for [`follow::follow`] (tokio-tungstenite, the bearer token). A
/// server that never answered is not waited for: it is explained. One that answered
/// before is waited for (up to a minute of attempts), as it may be restarting.
struct Sockets<'a> {
    endpoint: &'a Endpoint,
    run_id: &'a str,
    connected: bool,
}

/// One open websocket of the CLI.
struct Socket(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl follow::Socket for Socket {
    async fn next(&mut self) -> follow::Frame {
        match self.0.next().await {
            Some(Ok(tungstenite::Message::Text(text))) => follow::Frame::Text(text.to_string()),
            Some(Ok(tungstenite::Message::Close(Some(close))))
                if u16::from(close.code) == runboard_shared::event::CLOSE_DELETED =>
            {
                follow::Frame::Deleted
            }
            _ => follow::Frame::Ended,
        }
    }
}

impl follow::Connect for Sockets<'_> {
    type Socket = Socket;

    async fn connect(&mut self, path: &str) -> Result<Socket, follow::Refused> {
        let url = format!(
            "{}{path}",
            self.endpoint
                .url
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        );
        let stop = |e: &dyn std::fmt::Display| follow::Refused::Stop(e.to_string());
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(url)
            .map_err(|e| stop(&e))?;
        let token = format!("Bearer {}", self.endpoint.token)
            .parse()
            .map_err(|e| stop(&e))?;
        request.headers_mut().insert("Authorization", token);
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => {
                self.connected = true;
                Ok(Socket(socket))
            }
            Err(tungstenite::Error::Io(e)) if !self.connected => {
                Err(follow::Refused::Stop(self.endpoint.unreachable(&e)))
            }
            Err(tungstenite::Error::Http(response)) if response.status().is_client_error() => {
                Err(follow::Refused::Stop(format!(
                    "the server refused to stream run {}: HTTP {}",
                    self.run_id,
                    response.status()
                )))
            }
            Err(e) => Err(follow::Refused::Retry(e.to_string())),
        }
    }

    async fn pause(&mut self, attempt: u32) -> Result<(), String> {
        if attempt > 600 {
            return Err(format!("lost the server at {}", self.endpoint.url));
        }
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt.min(10)))).await;
        }
        Ok(())
    }
}

/// A client error as the CLI says it: an unreachable server explained, a refusal with
/// the server's sentence and the HTTP status.
fn failed(error: runboard_client::Error) -> anyhow::Error {
    match error {
        runboard_client::Error::Network(cause) => anyhow!(cause),
        runboard_client::Error::Server { status, message } => {
            anyhow!("{message} (HTTP {status})")
        }
        runboard_client::Error::Decode(cause) => {
            anyhow!("the server's answer was not understood ({cause})")
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
