//! `runboard notebook run PATH`: runs a notebook's code cells in order with the
//! notebook kernel (the same one the browser runs), against a Runboard server, and
//! writes the outputs back into the `.ipynb` — for CI of notebooks, like papermill.
//!
//! The kernel's [`Host`] here is [`CliHost`]: the server's REST API and websocket over
//! reqwest and tungstenite ([`Api`]), and a files side ([`Files`]) that is one of two:
//!
//! - the server's files area (the default), exactly as the browser's kernel reaches
//!   it: PATH is a path in the area, the notebook's folder there is the cells' working
//!   directory, files are read and written with `/api/files`, a submission sends
//!   `source_directory` as a files-area folder and no snapshot (the server packs it),
//!   and `Datastore.upload` is `POST /api/datastores/{name}/upload`;
//! - with `--local`, the notebook's own folder on this machine: submitting packs
//!   `source_directory` from that folder, as `runboard submit` does, and
//!   `Datastore.upload` sends the folder's files one by one
//!   (`PUT /api/datastores/{name}/files/{*path}`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use futures_util::StreamExt;
use runboard_server::cli::{git_properties, unreachable_cause};
use runboard_server::config::Endpoint;
use runboard_server::runner::snapshot;
use runboard_server::{datastores, files};
use runboard_shared::api::{
    DatastoreUpload, DatastoreUploaded, FilesAreaAction, FilesAreaList, RunDetails, RunFile,
    RunFileList, SubmitResponse, TagsPatch,
};
use runboard_shared::event::{Cursor, RunEvent, Step};
use runboard_shared::kernel::remote::{
    self, cancel_result, encode_path, encode_segment, events_url, files_url, parent_of,
    run_file_url, run_url,
};
use runboard_shared::kernel::{DirEntry, FileKind, Host, HostError, Kernel, Output, Submission};
use runboard_shared::notebook::{Notebook, cell_outputs};
use runboard_shared::run::RunId;
use tokio_tungstenite::tungstenite;

/// The exit status of a command line that cannot be carried out as given (a notebook
/// that is not there, a path that leaves the files area): clap's status for usage
/// errors.
const USAGE: u8 = 2;

/// `runboard notebook …`.
#[derive(Debug, clap::Subcommand)]
pub enum NotebookCommand {
    /// Run every code cell of a notebook in order, and save it with the outputs.
    ///
    /// PATH is a notebook in the server's files area (as the notebook pages show it,
    /// e.g. `projects/mnist/Train.ipynb`); its folder there is the cells' working
    /// directory, as in the browser. With `--local`, PATH is a file on this machine and
    /// its folder is the cells' files area. Exits 1 at the first failing cell, naming
    /// it (the notebook is saved with the error as the cell's output), and 2 when PATH
    /// is not there.
    Run {
        /// The notebook (`.ipynb`, nbformat 4): a files-area path, or with `--local` a
        /// local file.
        path: PathBuf,
        /// Write the executed notebook here instead of over PATH (a files-area path,
        /// or with `--local` a local file).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Run the cells after a failing one too, and exit 0.
        #[arg(long)]
        allow_errors: bool,
        /// Run a notebook file on this machine: its folder is the cells' files area
        /// (submissions pack it here, datastore uploads send its files).
        #[arg(long)]
        local: bool,
        #[command(flatten)]
        remote: crate::Remote,
    },
}

/// Where the notebook is read from and written to.
enum Place {
    Local(PathBuf),
    Area(String),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(path) => write!(f, "{}", path.display()),
            Self::Area(path) => write!(f, "{path}"),
        }
    }
}

/// Says why the command line cannot be carried out, and gives the usage status.
fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(USAGE)
}

/// A files-area path as given on the command line (`/` first allowed, as
/// `os.getcwd()` shows them), normalized; `None` when it leaves the area or is not
/// UTF-8.
fn area_path(path: &Path) -> Option<String> {
    let text = path.to_str()?;
    let normal = files::normalize(text.strip_prefix('/').unwrap_or(text)).ok()?;
    (!normal.is_empty()).then_some(normal)
}

/// Runs a `runboard notebook` command.
pub async fn main(command: NotebookCommand) -> Result<ExitCode> {
    let NotebookCommand::Run {
        path,
        output,
        allow_errors,
        local,
        remote,
    } = command;
    let endpoint = Endpoint::resolve(remote.url, remote.token).map_err(anyhow::Error::msg)?;
    let url = endpoint.url.clone();
    let api = Api::new(endpoint);

    let (input, out, text, files) = if local {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(usage_error(format_args!(
                    "no notebook at {} on this machine",
                    path.display()
                )));
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let files = Files::Local(LocalFiles::new(&folder)?);
        let out = Place::Local(output.unwrap_or_else(|| path.clone()));
        (Place::Local(path), out, text, files)
    } else {
        let Some(input) = area_path(&path) else {
            return Ok(usage_error(format_args!(
                "{} is not a notebook path in the server's files area: give it relative to \
                 the area's root, without '..' (add --local to run a file on this machine)",
                path.display()
            )));
        };
        let out = match &output {
            None => input.clone(),
            Some(o) => match area_path(o) {
                Some(o) => o,
                None => {
                    return Ok(usage_error(format_args!(
                        "-o {} is not a path in the server's files area: give it relative \
                         to the area's root, without '..'",
                        o.display()
                    )));
                }
            },
        };
        match area::stat(&api, &input)
            .await
            .with_context(|| format!("looking for {input} in the files area of {url}"))?
        {
            Some(FileKind::File) => {}
            Some(FileKind::Dir) => {
                return Ok(usage_error(format_args!(
                    "{input} is a folder in the server's files area ({url}), not a notebook"
                )));
            }
            None => {
                return Ok(usage_error(format_args!(
                    "no notebook {input} in the server's files area ({url}); PATH is a path \
                     in the area, as the notebook pages show it (add --local to run a file \
                     on this machine)"
                )));
            }
        }
        if out != input
            && area::stat(&api, &out)
                .await
                .with_context(|| format!("looking for {out} in the files area of {url}"))?
                == Some(FileKind::Dir)
        {
            return Ok(usage_error(format_args!(
                "-o {out} is a folder in the server's files area ({url})"
            )));
        }
        let bytes = api
            .get_bytes(&files_url(&input))
            .await
            .with_context(|| format!("reading {input} from the files area of {url}"))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow!("reading {input}: the notebook is not UTF-8 text"))?;
        let files = Files::Area {
            cwd: parent_of(&input).to_owned(),
        };
        (Place::Area(input), Place::Area(out), text, files)
    };
    let mut notebook = Notebook::from_json(&text).with_context(|| format!("reading {input}"))?;
    let mut host = CliHost {
        api,
        files,
        outputs: Vec::new(),
        follow: None,
    };
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

    let json = notebook.to_json();
    match &out {
        Place::Local(path) => write_atomically(path, json.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        // The server writes beside the file and renames, so this is atomic too.
        Place::Area(path) => host
            .api
            .put_bytes(&files_url(path), json.into_bytes())
            .await
            .with_context(|| format!("writing {path} into the files area of {url}"))?,
    }
    match &out {
        Place::Local(_) => eprintln!("wrote {out}"),
        Place::Area(_) => eprintln!("wrote {out} in the server's files area"),
    }
    match failure {
        Some((cell, e)) => {
            eprintln!("error: cell {cell} failed: {e}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
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

/// A run's websocket, kept open between [`Host::next_events`] calls while the kernel
/// asks for the events right after the ones it was given.
struct Follow {
    run: RunId,
    /// Where the stream stands: the `after` of the next connection.
    cursor: Cursor,
    /// `None` between a dropped connection and the next one.
    socket: Option<Socket>,
}

/// The server's REST API and websocket, as both files sides use them.
struct Api {
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl Api {
    fn new(endpoint: Endpoint) -> Self {
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

    /// Sends a request; a non-2xx answer becomes the matching [`HostError`].
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, HostError> {
        let response = request
            .send()
            .await
            .map_err(|e| match unreachable_cause(&e) {
                Some(cause) => HostError::Other(self.endpoint.unreachable(&cause)),
                None => HostError::Other(format!("reaching {}: {e}", self.endpoint.url)),
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        Err(remote::error_from_response(status.as_u16(), &text))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, HostError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        response
            .json()
            .await
            .map_err(|e| HostError::Other(format!("reading {path}: {e}")))
    }

    /// `GET path`: the body's bytes.
    async fn get_bytes(&self, path: &str) -> Result<Vec<u8>, HostError> {
        let response = self.send(self.request(reqwest::Method::GET, path)).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| HostError::Other(format!("reading {path}: {e}")))?;
        Ok(bytes.to_vec())
    }

    /// `PUT path` with a raw body.
    async fn put_bytes(&self, path: &str, data: Vec<u8>) -> Result<(), HostError> {
        self.send(self.request(reqwest::Method::PUT, path).body(data))
            .await?;
        Ok(())
    }

    /// `POST /api/experiments/{name}/runs`: the estimator and the tags (as JSON), and
    /// the run's properties and the snapshot when given. Without a snapshot the server
    /// packs `source_directory` from its files area.
    async fn submit(
        &self,
        experiment: &str,
        (estimator, tags): (String, String),
        properties: Option<serde_json::Map<String, serde_json::Value>>,
        snapshot: Option<Vec<u8>>,
    ) -> Result<SubmitResponse, HostError> {
        let mut form = reqwest::multipart::Form::new()
            .text("estimator", estimator)
            .text("tags", tags);
        if let Some(properties) = properties {
            form = form.text(
                "properties",
                serde_json::Value::Object(properties).to_string(),
            );
        }
        if let Some(archive) = snapshot {
            let part = reqwest::multipart::Part::bytes(archive)
                .file_name("snapshot.tar.gz")
                .mime_str("application/gzip")
                .map_err(|e| HostError::Other(e.to_string()))?;
            form = form.part("snapshot", part);
        }
        let response = self
            .send(
                self.request(reqwest::Method::POST, &remote::submit_url(experiment))
                    .multipart(form),
            )
            .await?;
        response
            .json()
            .await
            .map_err(|e| HostError::Other(format!("reading the submit answer: {e}")))
    }

    async fn connect(&self, run: &RunId, after: u64) -> Result<Socket, HostError> {
        let ws_url = events_url(&self.endpoint.url, run, after);
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(ws_url)
            .map_err(|e| HostError::Other(e.to_string()))?;
        let auth = format!("Bearer {}", self.endpoint.token)
            .parse()
            .map_err(|_| HostError::Other("the token is not a valid header value".into()))?;
        request.headers_mut().insert("Authorization", auth);
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(socket),
            Err(tungstenite::Error::Http(response)) if response.status().as_u16() == 404 => {
                Err(HostError::NotFound(runboard_server::no_such_run(&run)))
            }
            Err(e) => Err(HostError::Other(format!("following run {run}: {e}"))),
        }
    }
}

/// Where the cells' files are.
enum Files {
    /// `--local`: a folder on this machine is the files area.
    Local(LocalFiles),
    /// The server's files area, over `/api/files`.
    Area {
        /// The notebook's folder in the area (`""` for the root).
        cwd: String,
    },
}

/// The kernel's host for the CLI.
pub struct CliHost {
    api: Api,
    files: Files,
    /// What the running cell has produced so far.
    outputs: Vec<Output>,
    follow: Option<Follow>,
}

impl std::fmt::Debug for CliHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files = match &self.files {
            Files::Local(local) => format!("local {}", local.root.display()),
            Files::Area { cwd } => format!("files area, in /{cwd}"),
        };
        f.debug_struct("CliHost")
            .field("files", &files)
            .field("url", &self.api.endpoint.url)
            .finish_non_exhaustive()
    }
}

impl CliHost {
    /// The outputs of the cell that just ran.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outputs)
    }
}

impl Host for CliHost {
    fn cwd(&self) -> String {
        match &self.files {
            Files::Local(_) => String::new(),
            Files::Area { cwd } => cwd.clone(),
        }
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
        self.api.get_json("/api/compute-targets").await
    }

    async fn submit(&mut self, submission: Submission) -> Result<SubmitResponse, HostError> {
        match &self.files {
            Files::Local(local) => local.submit(&self.api, submission).await,
            Files::Area { .. } => area::submit(&self.api, submission).await,
        }
    }

    async fn run_details(&mut self, run_id: &RunId) -> Result<RunDetails, HostError> {
        self.api.get_json(&run_url(run_id, "")).await
    }

    async fn next_events(
        &mut self,
        run_id: &RunId,
        after: u64,
    ) -> Result<Vec<RunEvent>, HostError> {
        let reuse = self
            .follow
            .as_ref()
            .is_some_and(|f| f.run == *run_id && f.cursor.last() == after);
        if !reuse {
            self.follow = None;
        }
        let follow = self.follow.get_or_insert_with(|| Follow {
            run: run_id.clone(),
            cursor: Cursor::after(after),
            socket: None,
        });
        let mut failures = 0u32;
        loop {
            let Some(socket) = follow.socket.as_mut() else {
                match self.api.connect(run_id, follow.cursor.last()).await {
                    Ok(socket) => follow.socket = Some(socket),
                    Err(HostError::Other(e)) if failures < 300 => {
                        // The server may be restarting; the websocket resumes after
                        // the last event, so nothing is lost by retrying.
                        failures += 1;
                        tracing::debug!(error = %e, "reconnecting");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => return Err(e),
                }
                continue;
            };
            let ended = match socket.next().await {
                Some(Ok(tungstenite::Message::Text(text))) => match follow.cursor.step(&text) {
                    Step::Deliver(event) => return Ok(vec![event]),
                    Step::Skip | Step::CaughtUp => false,
                    Step::Reconnect(why) => {
                        tracing::debug!(run = %run_id, %why, "reconnecting");
                        true
                    }
                },
                Some(Ok(_)) => false,
                Some(Err(_)) | None => true,
            };
            if ended {
                follow.socket = None;
                failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    async fn run_files(&mut self, run_id: &RunId) -> Result<Vec<RunFile>, HostError> {
        let list: RunFileList = self.api.get_json(&run_url(run_id, "/files")).await?;
        Ok(list.files)
    }

    async fn download_run_file(
        &mut self,
        run_id: &RunId,
        name: &str,
        to: &str,
    ) -> Result<u64, HostError> {
        match &self.files {
            Files::Local(local) => local.download_run_file(&self.api, run_id, name, to).await,
            Files::Area { .. } => area::download_run_file(&self.api, run_id, name, to).await,
        }
    }

    async fn metrics(
        &mut self,
        run_id: &RunId,
    ) -> Result<BTreeMap<String, serde_json::Value>, HostError> {
        let map: serde_json::Map<String, serde_json::Value> =
            self.api.get_json(&run_url(run_id, "/metrics")).await?;
        Ok(map.into_iter().collect())
    }

    async fn cancel_run(&mut self, run_id: &RunId) -> Result<(), HostError> {
        let request = self
            .api
            .request(reqwest::Method::POST, &run_url(run_id, "/cancel"));
        cancel_result(self.api.send(request).await)
    }

    async fn patch_tags(&mut self, run_id: &RunId, patch: &TagsPatch) -> Result<(), HostError> {
        self.api
            .send(
                self.api
                    .request(reqwest::Method::PATCH, &run_url(run_id, "/tags"))
                    .json(patch),
            )
            .await?;
        Ok(())
    }

    async fn stat(&mut self, path: &str) -> Result<Option<FileKind>, HostError> {
        match &self.files {
            Files::Local(local) => local.stat(path),
            Files::Area { .. } => area::stat(&self.api, path).await,
        }
    }

    async fn list_dir(&mut self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        match &self.files {
            Files::Local(local) => local.list_dir(path),
            Files::Area { .. } => area::list_dir(&self.api, path).await,
        }
    }

    async fn write_file(&mut self, path: &str, data: &[u8], append: bool) -> Result<(), HostError> {
        match &self.files {
            Files::Local(local) => local.write_file(path, data, append),
            Files::Area { .. } => area::write_file(&self.api, path, data, append).await,
        }
    }

    async fn make_dirs(&mut self, path: &str) -> Result<(), HostError> {
        match &self.files {
            Files::Local(local) => local.make_dirs(path),
            Files::Area { .. } => area::make_dirs(&self.api, path).await,
        }
    }

    async fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
        match &self.files {
            Files::Local(local) => local.read_file(path),
            Files::Area { .. } => self.api.get_bytes(&files_url(path)).await,
        }
    }

    async fn copy_file(&mut self, from: &str, to: &str) -> Result<(), HostError> {
        match &self.files {
            Files::Local(local) => local.copy_file(from, to),
            Files::Area { .. } => area::copy_file(&self.api, from, to).await,
        }
    }

    async fn upload_to_datastore(
        &mut self,
        datastore: &str,
        src: &str,
        target_path: &str,
        overwrite: bool,
    ) -> Result<Vec<String>, HostError> {
        match &self.files {
            Files::Local(local) => {
                local
                    .upload_to_datastore(&self.api, datastore, src, target_path, overwrite)
                    .await
            }
            Files::Area { .. } => {
                area::upload_to_datastore(&self.api, datastore, src, target_path, overwrite).await
            }
        }
    }
}

/// The server's files area as the browser's kernel host reaches it.
mod area {
    use super::*;

    /// `GET /api/files/{folder}` as a listing (recursive, paths from the area's root);
    /// `None` when `folder` is a file.
    async fn listing(api: &Api, folder: &str) -> Result<Option<FilesAreaList>, HostError> {
        let response = api
            .send(api.request(reqwest::Method::GET, &files_url(folder)))
            .await?;
        let json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|t| t.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
        if !json {
            return Ok(None);
        }
        let text = response
            .text()
            .await
            .map_err(|e| HostError::Other(format!("reading the listing of {folder}: {e}")))?;
        Ok(remote::listing_from(folder, &text))
    }

    /// What is at `path`: looked up in the listing of its parent folder.
    pub(super) async fn stat(api: &Api, path: &str) -> Result<Option<FileKind>, HostError> {
        if path.is_empty() {
            return Ok(Some(FileKind::Dir));
        }
        remote::stat_from(path, listing(api, parent_of(path)).await)
    }

    pub(super) async fn list_dir(api: &Api, path: &str) -> Result<Vec<DirEntry>, HostError> {
        remote::list_dir_from(path, listing(api, path).await?)
    }

    pub(super) async fn write_file(
        api: &Api,
        path: &str,
        data: &[u8],
        append: bool,
    ) -> Result<(), HostError> {
        let whole = if append {
            remote::appended(api.get_bytes(&files_url(path)).await, data)?
        } else {
            data.to_vec()
        };
        api.put_bytes(&files_url(path), whole).await
    }

    pub(super) async fn make_dirs(api: &Api, path: &str) -> Result<(), HostError> {
        if path.is_empty() {
            return Ok(());
        }
        api.send(
            api.request(reqwest::Method::POST, &files_url(path))
                .json(&FilesAreaAction::CreateFolder {}),
        )
        .await?;
        Ok(())
    }

    pub(super) async fn copy_file(api: &Api, from: &str, to: &str) -> Result<(), HostError> {
        let data = api.get_bytes(&files_url(from)).await?;
        api.put_bytes(&files_url(to), data).await
    }

    pub(super) async fn download_run_file(
        api: &Api,
        run_id: &RunId,
        name: &str,
        to: &str,
    ) -> Result<u64, HostError> {
        let data = api.get_bytes(&run_file_url(run_id, name)).await?;
        let size = data.len() as u64;
        api.put_bytes(&files_url(to), data).await?;
        Ok(size)
    }

    /// Sends the estimator with `source_directory` set to its files-area folder and no
    /// snapshot: the server packs that folder from its area.
    pub(super) async fn submit(
        api: &Api,
        submission: Submission,
    ) -> Result<SubmitResponse, HostError> {
        let fields = remote::submission_fields(&submission)?;
        api.submit(&submission.experiment, fields, None, None).await
    }

    pub(super) async fn upload_to_datastore(
        api: &Api,
        datastore: &str,
        src: &str,
        target_path: &str,
        overwrite: bool,
    ) -> Result<Vec<String>, HostError> {
        let body = DatastoreUpload {
            src: src.to_owned(),
            target_path: target_path.to_owned(),
            overwrite,
        };
        let url = remote::datastore_upload_url(datastore);
        let answer: DatastoreUploaded = api
            .send(api.request(reqwest::Method::POST, &url).json(&body))
            .await?
            .json()
            .await
            .map_err(|e| HostError::Other(format!("reading the answer to uploading {src}: {e}")))?;
        Ok(answer.files)
    }
}

/// `--local`: the notebook's folder on this machine is the files area.
struct LocalFiles {
    /// The notebook's folder, canonical.
    root: PathBuf,
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

impl LocalFiles {
    fn new(folder: &Path) -> Result<Self> {
        Ok(Self {
            root: folder
                .canonicalize()
                .with_context(|| format!("opening {}", folder.display()))?,
        })
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

    /// Packs `source_directory` here, as `runboard submit` does, with the git
    /// properties of its work tree.
    async fn submit(&self, api: &Api, submission: Submission) -> Result<SubmitResponse, HostError> {
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
        let fields = (
            submission.estimator.to_string(),
            remote::tags_field(&submission.tags)?,
        );
        api.submit(
            &submission.experiment,
            fields,
            Some(git_properties(&dir)),
            Some(archive),
        )
        .await
    }

    async fn download_run_file(
        &self,
        api: &Api,
        run_id: &RunId,
        name: &str,
        to: &str,
    ) -> Result<u64, HostError> {
        let target = self.local(to)?;
        let mut response = api
            .send(api.request(reqwest::Method::GET, &run_file_url(run_id, name)))
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

    fn stat(&self, path: &str) -> Result<Option<FileKind>, HostError> {
        let local = self.local(path)?;
        match std::fs::metadata(&local) {
            Ok(m) if m.is_dir() => Ok(Some(FileKind::Dir)),
            Ok(_) => Ok(Some(FileKind::File)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&e, path)),
        }
    }

    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, HostError> {
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

    fn write_file(&self, path: &str, data: &[u8], append: bool) -> Result<(), HostError> {
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

    fn make_dirs(&self, path: &str) -> Result<(), HostError> {
        let local = self.local(path)?;
        std::fs::create_dir_all(&local).map_err(|e| io_error(&e, path))
    }

    fn read_file(&self, path: &str) -> Result<Vec<u8>, HostError> {
        std::fs::read(self.local(path)?).map_err(|e| io_error(&e, path))
    }

    fn copy_file(&self, from: &str, to: &str) -> Result<(), HostError> {
        let (src, dst) = (self.local(from)?, self.local(to)?);
        std::fs::copy(&src, &dst)
            .map(|_| ())
            .map_err(|e| io_error(&e, from))
    }

    /// Sends the files under `src` one by one (`PUT /api/datastores/{name}/files/…`).
    async fn upload_to_datastore(
        &self,
        api: &Api,
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
                encode_path(&dest),
            );
            let answer: DatastoreUploaded = api
                .send(api.request(reqwest::Method::PUT, &url).body(data))
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

#[cfg(test)]
mod tests {
    use futures_util::SinkExt;

    use super::*;

    /// A server that answers one websocket connection per script, in order: it sends
    /// the script's frames and keeps the connection open. Answers the `after=` each
    /// connection asked with, and the open connections.
    async fn fake_events_server(
        scripts: Vec<Vec<String>>,
    ) -> (String, tokio::task::JoinHandle<(Vec<String>, Vec<Socket>)>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut afters, mut open) = (Vec::new(), Vec::new());
            for frames in scripts {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut query = String::new();
                #[expect(
                    clippy::result_large_err,
                    reason = "the handshake callback's type is tungstenite's"
                )]
                let ask = |request: &tungstenite::handshake::server::Request, response| {
                    query = request.uri().query().unwrap_or_default().to_owned();
                    Ok(response)
                };
                let tcp = tokio_tungstenite::MaybeTlsStream::Plain(tcp);
                let mut socket = tokio_tungstenite::accept_hdr_async(tcp, ask).await.unwrap();
                afters.push(query);
                for frame in frames {
                    socket
                        .send(tungstenite::Message::text(frame))
                        .await
                        .unwrap();
                }
                open.push(socket);
            }
            (afters, open)
        });
        (url, server)
    }

    #[tokio::test]
    async fn the_kernel_gets_each_event_once_past_unknown_kinds_gaps_and_resumes() {
        let log = |seq: u64| {
            format!(
                r#"{{"frame":"event","event":{{"seq":{seq},"time":"t","type":"log","path":"user_logs/std_log.txt","text":"line {seq}\n"}}}}"#
            )
        };
        let hologram =
            r#"{"frame":"event","event":{"seq":2,"time":"t","type":"hologram"}}"#.to_owned();
        let resume = r#"{"frame":"resume","after":4,"reason":"client too slow"}"#.to_owned();
        let caught_up = r#"{"frame":"caught_up","seq":5}"#.to_owned();
        let (url, server) = fake_events_server(vec![
            // Event 2 is of a kind this version does not know; 4 went missing.
            vec![log(1), hologram, log(3), log(5)],
            // The replay overlaps what was seen; then the server sends the client away.
            vec![log(3), log(4), resume],
            vec![log(5), caught_up],
        ])
        .await;
        let mut host = CliHost {
            api: Api::new(Endpoint {
                url,
                token: "token".into(),
                source: runboard_server::config::UrlSource::Flag,
            }),
            files: Files::Area { cwd: String::new() },
            outputs: Vec::new(),
            follow: None,
        };
        let run = RunId::parse("exp_1700000000_0000abcd").unwrap();
        let mut seen = Vec::new();
        let mut after = 0;
        while after < 5 {
            let next = host.next_events(&run, after);
            let events = tokio::time::timeout(Duration::from_secs(20), next)
                .await
                .expect("the next event came")
                .unwrap();
            after = events.last().unwrap().seq;
            seen.extend(events.into_iter().map(|e| e.seq));
        }
        assert_eq!(seen, [1, 3, 4, 5]);
        let (afters, _open) = server.await.unwrap();
        assert_eq!(afters, ["after=0", "after=3", "after=4"]);
    }

    #[test]
    fn command_line_paths_are_files_area_paths() {
        for (given, area) in [
            ("a/b.ipynb", Some("a/b.ipynb")),
            ("/a/./b.ipynb", Some("a/b.ipynb")),
            ("../b.ipynb", None),
            ("", None),
            ("/", None),
        ] {
            assert_eq!(area_path(Path::new(given)).as_deref(), area, "{given}");
        }
    }
}
