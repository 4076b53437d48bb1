//! `runboard notebook run PATH`: runs a notebook's code cells in order with the
//! notebook kernel (the same one the browser runs), against a Runboard server, and
//! writes the outputs back into the `.ipynb` — for CI of notebooks, like papermill.
//!
//! The kernel's [`Host`] here is [`CliHost`]: the server's REST API and websocket over
//! reqwest and tungstenite, and the notebook's own folder on this machine as the files
//! area (its root and the cells' working directory). Submitting packs
//! `source_directory` from that folder, as `runboard submit` does; `Datastore.upload`
//! sends the folder's files one by one (`PUT /api/datastores/{name}/files/{*path}`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use futures_util::StreamExt;
use runboard_server::cli::git_properties;
use runboard_server::config::ClientConfig;
use runboard_server::runner::snapshot;
use runboard_server::{datastores, files};
use runboard_shared::api::{
    DatastoreUploaded, ErrorBody, RunDetails, RunFile, RunFileList, SubmitResponse, TagsPatch,
};
use runboard_shared::estimator::FieldError;
use runboard_shared::event::{Frame, RunEvent};
use runboard_shared::kernel::{DirEntry, FileKind, Host, HostError, Kernel, Output, Submission};
use runboard_shared::notebook::{Notebook, cell_outputs};
use runboard_shared::run::RunId;
use tokio_tungstenite::tungstenite;

/// `runboard notebook …`.
#[derive(Debug, clap::Subcommand)]
pub enum NotebookCommand {
    /// Run every code cell of a notebook in order, and save it with the outputs.
    ///
    /// The notebook's folder is the cells' working directory and their files area.
    /// Exits 1 at the first failing cell, naming it (the notebook is saved with the
    /// error as the cell's output).
    Run {
        /// The notebook (`.ipynb`, nbformat 4).
        path: PathBuf,
        /// Write the executed notebook here instead of over PATH.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Run the cells after a failing one too, and exit 0.
        #[arg(long)]
        allow_errors: bool,
        #[command(flatten)]
        remote: crate::Remote,
    },
}

/// Runs a `runboard notebook` command.
pub async fn main(command: NotebookCommand) -> Result<std::process::ExitCode> {
    let NotebookCommand::Run {
        path,
        output,
        allow_errors,
        remote,
    } = command;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut notebook =
        Notebook::from_json(&text).with_context(|| format!("reading {}", path.display()))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let saved = ClientConfig::load();
    let url = remote
        .url
        .or_else(|| saved.as_ref().map(|c| c.url.clone()))
        .ok_or_else(|| {
            anyhow!("no server URL: pass --url, set RUNBOARD_URL, or start `runboard serve` once")
        })?;
    let token = remote
        .token
        .or_else(|| saved.as_ref().map(|c| c.token.clone()))
        .ok_or_else(|| {
            anyhow!("no token: pass --token, set RUNBOARD_TOKEN, or start `runboard serve` once")
        })?;
    let mut host = CliHost::new(&folder, &url, &token)?;
    let mut kernel = Kernel::new();

    let total = notebook.code_cells_mut().count();
    let mut failure = None;
    for (n, (index, cell)) in notebook.code_cells_mut().enumerate() {
        eprintln!("[{}/{total}] cell {}", n + 1, index + 1);
        let result = kernel.run_cell(&mut host, cell.source.as_str()).await;
        let count = kernel.execution_count();
        match &result {
            Ok(Some(display)) => println!("Out[{count}]: {}", display.text_plain()),
            Ok(None) => {}
            Err(e) => eprintln!("{e}"),
        }
        cell.outputs = cell_outputs(host.take_outputs(), &result, count);
        cell.execution_count = Some(count);
        if let Err(e) = result
            && !allow_errors
        {
            failure = Some((index + 1, e));
            break;
        }
    }

    let out = output.unwrap_or(path);
    write_atomically(&out, notebook.to_json().as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    match failure {
        Some((cell, e)) => {
            eprintln!("error: cell {cell} failed: {e}");
            Ok(std::process::ExitCode::FAILURE)
        }
        None => Ok(std::process::ExitCode::SUCCESS),
    }
}

fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A run's websocket, kept open between [`Host::next_events`] calls.
struct Follow {
    run: RunId,
    /// The last `seq` this socket delivered (or the `after` it was opened with).
    last: u64,
    socket: Socket,
}

/// The kernel's host for the CLI.
pub struct CliHost {
    /// The files area: the notebook's folder, canonical.
    root: PathBuf,
    url: String,
    token: String,
    http: reqwest::Client,
    /// What the running cell has produced so far.
    outputs: Vec<Output>,
    follow: Option<Follow>,
}

impl std::fmt::Debug for CliHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CliHost")
            .field("root", &self.root)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn io_error(e: &std::io::Error, path: &str) -> HostError {
    match e.kind() {
        std::io::ErrorKind::NotFound => HostError::NotFound(path.to_owned()),
        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory => {
            HostError::Exists(path.to_owned())
        }
        _ => HostError::Other(format!("{path}: {e}")),
    }
}

impl CliHost {
    /// A host whose files area is `folder`, talking to the server at `url`.
    pub fn new(folder: &Path, url: &str, token: &str) -> Result<Self> {
        Ok(Self {
            root: folder
                .canonicalize()
                .with_context(|| format!("opening {}", folder.display()))?,
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: reqwest::Client::new(),
            outputs: Vec::new(),
            follow: None,
        })
    }

    /// The outputs of the cell that just ran.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outputs)
    }

    /// The local path of an area path, refusing one that a symlink leads out of the
    /// area. The path need not exist; its deepest existing ancestor is checked.
    fn local(&self, path: &str) -> Result<PathBuf, HostError> {
        let full = self.root.join(path);
        let mut existing = full.as_path();
        while !existing.exists() {
            existing = match existing.parent() {
                Some(p) => p,
                None => break,
            };
        }
        let canonical = existing.canonicalize().map_err(|e| io_error(&e, path))?;
        if !canonical.starts_with(&self.root) {
            return Err(HostError::Other(format!(
                "{path} leads outside the notebook's folder"
            )));
        }
        Ok(full)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    /// Sends a request; a non-2xx answer becomes the matching [`HostError`].
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, HostError> {
        let response = request
            .send()
            .await
            .map_err(|e| HostError::Other(format!("reaching {}: {e}", self.url)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let (message, fields) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => (
                body.error.message,
                body.error
                    .details
                    .into_iter()
                    .map(|d| FieldError::new(&d.field, d.message))
                    .collect::<Vec<_>>(),
            ),
            Err(_) => (format!("HTTP {status}: {text}"), Vec::new()),
        };
        Err(match status {
            reqwest::StatusCode::NOT_FOUND => HostError::NotFound(message),
            s if s.is_client_error() && s != reqwest::StatusCode::UNAUTHORIZED => {
                HostError::Invalid { message, fields }
            }
            _ => HostError::Other(format!("{message} (HTTP {status})")),
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, HostError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        response
            .json()
            .await
            .map_err(|e| HostError::Other(format!("reading {path}: {e}")))
    }

    async fn connect(&self, run: &RunId, after: u64) -> Result<Socket, HostError> {
        let ws_url = format!(
            "{}/api/runs/{run}/events?after={after}",
            self.url
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        );
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(ws_url)
            .map_err(|e| HostError::Other(e.to_string()))?;
        let auth = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| HostError::Other("the token is not a valid header value".into()))?;
        request.headers_mut().insert("Authorization", auth);
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(tungstenite::Error::Http(response)) if response.status().as_u16() == 404 => {
                Err(HostError::NotFound(format!("no run with id {run}")))
            }
            Err(e) => Err(HostError::Other(format!("following run {run}: {e}"))),
        }
    }
}

impl Host for CliHost {
    fn cwd(&self) -> String {
        String::new()
    }

    fn output(&mut self, output: Output) {
        // Echo as it happens, so a CI log shows a run's output live.
        match &output {
            Output::Stdout { text } => {
                let mut out = std::io::stdout();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            Output::Stderr { text } => eprint!("{text}"),
            Output::Display { display } => println!("{}", display.text_plain()),
        }
        self.outputs.push(output);
    }

    async fn compute_targets(&mut self) -> Result<Vec<String>, HostError> {
        self.get_json("/api/compute-targets").await
    }

    async fn submit(&mut self, submission: Submission) -> Result<SubmitResponse, HostError> {
        let dir = self.local(&submission.source_directory)?;
        let packed = dir.clone();
        let archive = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
            let mut out = Vec::new();
            snapshot::pack(&packed, snapshot::DEFAULT_LIMIT, &mut out)
                .map_err(|e| format!("{e:#}"))?;
            Ok(out)
        })
        .await
        .map_err(|e| HostError::Other(e.to_string()))?
        .map_err(|e| {
            HostError::Other(format!(
                "packing source_directory {}: {e}",
                submission.source_directory
            ))
        })?;
        let properties = git_properties(&dir);
        let part = reqwest::multipart::Part::bytes(archive)
            .file_name("snapshot.tar.gz")
            .mime_str("application/gzip")
            .map_err(|e| HostError::Other(e.to_string()))?;
        let form = reqwest::multipart::Form::new()
            .text("estimator", submission.estimator.to_string())
            .text(
                "properties",
                serde_json::Value::Object(properties).to_string(),
            )
            .text(
                "tags",
                serde_json::to_string(&submission.tags).unwrap_or_else(|_| "{}".into()),
            )
            .part("snapshot", part);
        let path = format!("/api/experiments/{}/runs", submission.experiment);
        let response = self
            .send(self.request(reqwest::Method::POST, &path).multipart(form))
            .await?;
        response
            .json()
            .await
            .map_err(|e| HostError::Other(format!("reading the submit answer: {e}")))
    }

    async fn run_details(&mut self, run_id: &RunId) -> Result<RunDetails, HostError> {
        self.get_json(&format!("/api/runs/{run_id}")).await
    }

    async fn next_events(
        &mut self,
        run_id: &RunId,
        after: u64,
    ) -> Result<Vec<RunEvent>, HostError> {
        let mut failures = 0u32;
        loop {
            let reuse = self
                .follow
                .as_ref()
                .is_some_and(|f| f.run == *run_id && f.last == after);
            if !reuse {
                match self.connect(run_id, after).await {
                    Ok(socket) => {
                        self.follow = Some(Follow {
                            run: run_id.clone(),
                            last: after,
                            socket,
                        });
                    }
                    Err(HostError::Other(e)) if failures < 300 => {
                        // The server may be restarting; the websocket resumes after
                        // `after`, so nothing is lost by retrying.
                        failures += 1;
                        tracing::debug!(error = %e, "reconnecting");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let Some(follow) = self.follow.as_mut() else {
                continue;
            };
            match follow.socket.next().await {
                Some(Ok(tungstenite::Message::Text(text))) => {
                    match serde_json::from_str::<Frame>(&text) {
                        Ok(Frame::Event { event }) if event.seq > follow.last => {
                            follow.last = event.seq;
                            return Ok(vec![event]);
                        }
                        Ok(Frame::Event { .. } | Frame::CaughtUp { .. }) => {}
                        Ok(Frame::Resume { .. }) | Err(_) => self.follow = None,
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    self.follow = None;
                    failures += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn run_files(&mut self, run_id: &RunId) -> Result<Vec<RunFile>, HostError> {
        let list: RunFileList = self.get_json(&format!("/api/runs/{run_id}/files")).await?;
        Ok(list.files)
    }

    async fn download_run_file(
        &mut self,
        run_id: &RunId,
        name: &str,
        to: &str,
    ) -> Result<u64, HostError> {
        let target = self.local(to)?;
        let mut response = self
            .send(self.request(
                reqwest::Method::GET,
                &format!("/api/runs/{run_id}/files/{name}"),
            ))
            .await?;
        let dir = target.parent().unwrap_or(&self.root).to_owned();
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io_error(&e, to))?;
        let mut size = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| HostError::Other(format!("downloading {name}: {e}")))?
        {
            size += chunk.len() as u64;
            tmp.write_all(&chunk).map_err(|e| io_error(&e, to))?;
        }
        tmp.persist(&target).map_err(|e| io_error(&e.error, to))?;
        Ok(size)
    }

    async fn metrics(
        &mut self,
        run_id: &RunId,
    ) -> Result<BTreeMap<String, serde_json::Value>, HostError> {
        let map: serde_json::Map<String, serde_json::Value> = self
            .get_json(&format!("/api/runs/{run_id}/metrics"))
            .await?;
        Ok(map.into_iter().collect())
    }

    async fn cancel_run(&mut self, run_id: &RunId) -> Result<(), HostError> {
        self.send(self.request(reqwest::Method::POST, &format!("/api/runs/{run_id}/cancel")))
            .await?;
        Ok(())
    }

    async fn patch_tags(&mut self, run_id: &RunId, patch: &TagsPatch) -> Result<(), HostError> {
        self.send(
            self.request(reqwest::Method::PATCH, &format!("/api/runs/{run_id}/tags"))
                .json(patch),
        )
        .await?;
        Ok(())
    }

    async fn stat(&mut self, path: &str) -> Result<Option<FileKind>, HostError> {
        let local = self.local(path)?;
        match std::fs::metadata(&local) {
            Ok(m) if m.is_dir() => Ok(Some(FileKind::Dir)),
            Ok(_) => Ok(Some(FileKind::File)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&e, path)),
        }
    }

    async fn list_dir(&mut self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        let local = self.local(path)?;
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&local).map_err(|e| io_error(&e, path))? {
            let entry = entry.map_err(|e| io_error(&e, path))?;
            let is_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
            entries.push(DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                kind: if is_dir {
                    FileKind::Dir
                } else {
                    FileKind::File
                },
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    async fn write_file(&mut self, path: &str, data: &[u8], append: bool) -> Result<(), HostError> {
        let local = self.local(path)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&local)
            .map_err(|e| io_error(&e, path))?;
        file.write_all(data).map_err(|e| io_error(&e, path))
    }

    async fn make_dirs(&mut self, path: &str) -> Result<(), HostError> {
        let local = self.local(path)?;
        std::fs::create_dir_all(&local).map_err(|e| io_error(&e, path))
    }

    async fn copy_file(&mut self, from: &str, to: &str) -> Result<(), HostError> {
        let (src, dst) = (self.local(from)?, self.local(to)?);
        std::fs::copy(&src, &dst)
            .map(|_| ())
            .map_err(|e| io_error(&e, from))
    }

    async fn upload_to_datastore(
        &mut self,
        datastore: &str,
        src: &str,
        target_path: &str,
        overwrite: bool,
    ) -> Result<Vec<String>, HostError> {
        let invalid = |message: String| HostError::Invalid {
            message,
            fields: Vec::new(),
        };
        // The server checks these too; checking first refuses them even when `src`
        // holds no file, with the server's words.
        datastores::check_name(datastore).map_err(|e| invalid(e.to_string()))?;
        let target = files::normalize(target_path).map_err(|_| {
            invalid(format!(
                "target_path '{target_path}' escapes the datastore '{datastore}': give a \
                 relative path without '..', such as mnist/train"
            ))
        })?;
        let sources = self.files_under(src)?;
        let mut copied = Vec::with_capacity(sources.len());
        for (rel, path) in sources {
            let shown = join_path(src, &rel);
            let data = tokio::fs::read(&path)
                .await
                .map_err(|e| io_error(&e, &shown))?;
            let dest = join_path(&target, &rel);
            let url = format!(
                "/api/datastores/{}/files/{}?overwrite={overwrite}",
                encode_segment(datastore),
                dest.split('/')
                    .map(encode_segment)
                    .collect::<Vec<_>>()
                    .join("/"),
            );
            let answer: DatastoreUploaded = self
                .send(self.request(reqwest::Method::PUT, &url).body(data))
                .await?
                .json()
                .await
                .map_err(|e| {
                    HostError::Other(format!("reading the answer to uploading {shown}: {e}"))
                })?;
            if !answer.files.is_empty() {
                copied.push(rel);
            }
        }
        Ok(copied)
    }
}

impl CliHost {
    /// The regular files of the area path `src`, each as (its path relative to `src`,
    /// its local path), sorted: a folder's files recursively, or the file itself under
    /// its name. As the server's files area: a link to a file is taken, a link to a
    /// folder is not walked, a link to nothing is passed over, and a link that leads
    /// outside the notebook's folder is refused before anything is sent.
    fn files_under(&self, src: &str) -> Result<Vec<(String, PathBuf)>, HostError> {
        let local = self.local(src)?;
        let meta = std::fs::metadata(&local).map_err(|e| io_error(&e, src))?;
        if !meta.is_dir() {
            let name = src.rsplit('/').find(|p| !p.is_empty()).unwrap_or(src);
            return Ok(vec![(name.to_owned(), local)]);
        }
        let mut out = Vec::new();
        let mut stack = vec![(String::new(), local)];
        while let Some((prefix, dir)) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&e, src))?;
            for entry in entries {
                let entry = entry.map_err(|e| io_error(&e, src))?;
                let rel = join_path(&prefix, &entry.file_name().to_string_lossy());
                let kind = entry.file_type().map_err(|e| io_error(&e, &rel))?;
                let path = entry.path();
                if kind.is_dir() {
                    stack.push((rel, path));
                } else if kind.is_file() {
                    out.push((rel, path));
                } else if kind.is_symlink() {
                    let Ok(real) = path.canonicalize() else {
                        continue;
                    };
                    if !real.starts_with(&self.root) {
                        return Err(HostError::Other(format!(
                            "{} leads outside the notebook's folder",
                            join_path(src, &rel)
                        )));
                    }
                    if real.is_file() {
                        out.push((rel, real));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// `a/b`, or `b` when `a` is empty.
fn join_path(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{}/{b}", a.trim_end_matches('/'))
    }
}

/// One path segment, percent-encoded for a URL (`.` and `..` too, so no client or
/// server folds them away).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let dots_only = segment == "." || segment == "..";
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-_~".contains(&b) || (b == b'.' && !dots_only) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
