//! [`BrowserHost`]: the kernel's [`Host`] in the worker, over same-origin `fetch` (the
//! session cookie goes along) and the run's websocket.

use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

use futures_util::future::{Either, poll_fn, select};
use futures_util::{FutureExt, StreamExt};
use gloo_net::http::{Request, RequestBuilder, Response};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use runboard_shared::api::{
    DatastoreUpload, DatastoreUploaded, FilesAreaAction, FilesAreaList, RunDetails, RunFile,
    RunFileList, SubmitResponse, TagsPatch,
};
use runboard_shared::cell::worker::{FromWorker, WaitingRun};
use runboard_shared::event::{Cursor, RunEvent, Step};
use runboard_shared::kernel::remote::{
    appended, cancel_result, datastore_upload_url, events_url, files_url, list_dir_from,
    listing_from, parent_of, run_file_url, run_url, stat_from, submission_fields, submit_url,
};
use runboard_shared::kernel::{DirEntry, FileKind, Host, HostError, Output, Submission};
use runboard_shared::run::RunId;
use wasm_bindgen::JsValue;
use web_sys::{RequestCache, RequestCredentials};

use crate::api::error_from_response;
use crate::worker::{Shared, sleep, warn};
use runboard_shared::event::backoff_ms;

/// A run's websocket, kept open between [`Host::next_events`] calls while the kernel
/// asks for the events right after the ones it was given.
struct Follow {
    run: RunId,
    cursor: Cursor,
    /// The `seq` of the last event handed to the kernel (or the `after` it first asked
    /// with): the `after` of its next call when it goes on with this run.
    handed: u64,
    socket: Option<WebSocket>,
    /// Whether the open socket has sent a frame.
    heard: bool,
    /// Connections ended since the last frame: sets the next wait.
    retries: u32,
    /// How long to wait before the next connection.
    wait_ms: Option<u32>,
    /// Whether to ask the REST API why the last connection failed.
    probe: bool,
    /// The `offline` events seen when the socket opened.
    offline_seen: u64,
}

impl Follow {
    fn new(run: RunId, after: u64) -> Self {
        Self {
            run,
            cursor: Cursor::after(after),
            handed: after,
            socket: None,
            heard: false,
            retries: 0,
            wait_ms: None,
            probe: false,
            offline_seen: 0,
        }
    }

    /// Handles one item of the socket; returns the event to hand on, if any.
    fn handle(&mut self, item: Option<Result<Message, WebSocketError>>) -> Option<RunEvent> {
        match item {
            Some(Ok(Message::Text(text))) => {
                self.heard = true;
                self.retries = 0;
                match self.cursor.step(&text) {
                    Step::Deliver(event) => return Some(event),
                    Step::Skip | Step::CaughtUp => {}
                    Step::Reconnect(why) => {
                        warn(&format!("run {}: {why}; reconnecting", self.run));
                        self.end_connection();
                    }
                }
            }
            Some(Ok(Message::Bytes(_))) => {}
            Some(Err(_)) | None => self.end_connection(),
        }
        None
    }

    /// Drops the socket (which closes it) and schedules the next connection.
    fn end_connection(&mut self) {
        self.socket = None;
        self.probe = !self.heard;
        self.wait_ms = Some(backoff_ms(self.retries));
        self.retries = self.retries.saturating_add(1);
    }
}

/// The kernel's host in the browser worker. One lives as long as the worker; each cell
/// sets its id and folder with [`BrowserHost::start_cell`].
pub struct BrowserHost {
    shared: Rc<Shared>,
    cell: String,
    cwd: String,
    /// Interrupt requests before the running cell started: messages, and the
    /// shared counter.
    interrupts_seen: u64,
    shared_interrupts_seen: i32,
    follow: Option<Follow>,
}

impl std::fmt::Debug for BrowserHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserHost")
            .field("cell", &self.cell)
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

fn js_error(e: JsValue) -> HostError {
    HostError::Other(format!("{e:?}"))
}

/// Every request: same-origin credentials (the session cookie) and no HTTP cache, so
/// a file read after a write is the written one.
fn request(builder: RequestBuilder) -> RequestBuilder {
    builder
        .credentials(RequestCredentials::SameOrigin)
        .cache(RequestCache::NoStore)
}

/// Sends a request; an answer other than 2xx becomes its [`HostError`].
async fn send(request: Result<Request, gloo_net::Error>) -> Result<Response, HostError> {
    let request = request.map_err(|e| HostError::Other(format!("building a request: {e}")))?;
    let response = request
        .send()
        .await
        .map_err(|e| HostError::Other(format!("cannot reach the Runboard server: {e}")))?;
    if response.ok() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(error_from_response(response.status(), &body))
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: Response,
    what: &str,
) -> Result<T, HostError> {
    response
        .json()
        .await
        .map_err(|e| HostError::Other(format!("reading {what}: {e}")))
}

async fn get_json<T: serde::de::DeserializeOwned>(url: &str) -> Result<T, HostError> {
    let response = send(request(Request::get(url)).build()).await?;
    read_json(response, url).await
}

/// `GET /api/files/{path}`: the file's bytes.
async fn read_file(path: &str) -> Result<Vec<u8>, HostError> {
    let response = send(request(Request::get(&files_url(path))).build()).await?;
    response
        .binary()
        .await
        .map_err(|e| HostError::Other(format!("reading {path}: {e}")))
}

/// `PUT /api/files/{path}`: writes the whole file (its folders are created).
async fn put_file(path: &str, data: &[u8]) -> Result<(), HostError> {
    let body = js_sys::Uint8Array::from(data);
    send(
        request(Request::put(&files_url(path)))
            .header("Content-Type", "application/octet-stream")
            .body(body),
    )
    .await?;
    Ok(())
}

/// `GET /api/files/{folder}` as a listing; `None` when `folder` is a file.
async fn listing(folder: &str) -> Result<Option<FilesAreaList>, HostError> {
    let response = send(request(Request::get(&files_url(folder))).build()).await?;
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return Ok(None);
    }
    let text = response
        .text()
        .await
        .map_err(|e| HostError::Other(format!("reading the listing of {folder}: {e}")))?;
    Ok(listing_from(folder, &text))
}

/// Why a run's websocket would not open: a run that is gone (404) or a session that
/// has ended (401) ends the wait; anything else (the server restarting, the network
/// down) is waited out.
async fn probe(run: &RunId) -> Option<HostError> {
    let response = request(Request::get(&run_url(run, ""))).send().await.ok()?;
    let status = response.status();
    if status != 401 && status != 404 {
        return None;
    }
    let body = response.text().await.unwrap_or_default();
    Some(error_from_response(status, &body))
}

impl BrowserHost {
    /// A host for the worker's session.
    pub fn new(shared: Rc<Shared>) -> Self {
        Self {
            shared,
            cell: String::new(),
            cwd: String::new(),
            interrupts_seen: 0,
            shared_interrupts_seen: 0,
            follow: None,
        }
    }

    /// A cell starts: its output is posted under `cell`, its folder is `cwd`, and
    /// interrupt requests sent before now do not concern it.
    pub fn start_cell(&mut self, cell: String, cwd: String) {
        self.cell = cell;
        self.cwd = cwd;
        self.interrupts_seen = self.shared.inbox.interrupts.count();
        self.shared_interrupts_seen = self.shared.shared_interrupt_count();
    }

    /// The cell has ended: the run's websocket, if any, is closed.
    pub fn end_cell(&mut self) {
        self.follow = None;
    }

    /// `fut`, unless the running cell is interrupted first.
    async fn or_interrupt<T>(&self, fut: impl Future<Output = T>) -> Result<T, HostError> {
        let fut = std::pin::pin!(fut);
        let interrupted = self
            .shared
            .inbox
            .interrupts
            .fired_since(self.interrupts_seen);
        match select(fut, interrupted).await {
            Either::Left((value, _)) => Ok(value),
            Either::Right(_) => Err(HostError::Interrupted),
        }
    }
}

impl Host for BrowserHost {
    fn cwd(&self) -> String {
        self.cwd.clone()
    }

    fn output(&mut self, output: Output) {
        self.shared.post(&FromWorker::Output {
            cell: self.cell.clone(),
            output,
        });
    }

    fn interrupted(&mut self) -> bool {
        self.shared.inbox.interrupts.count() > self.interrupts_seen
            || self.shared.shared_interrupt_count() != self.shared_interrupts_seen
    }

    fn waiting(&mut self, run: &WaitingRun) {
        self.shared.post(&FromWorker::Waiting {
            cell: self.cell.clone(),
            run: run.clone(),
        });
    }

    async fn compute_targets(&mut self) -> Result<Vec<String>, HostError> {
        get_json("/api/compute-targets").await
    }

    async fn submit(&mut self, submission: Submission) -> Result<SubmitResponse, HostError> {
        let (estimator, tags) = submission_fields(&submission)?;
        let form = web_sys::FormData::new().map_err(js_error)?;
        form.append_with_str("estimator", &estimator)
            .map_err(js_error)?;
        form.append_with_str("tags", &tags).map_err(js_error)?;
        let response =
            send(request(Request::post(&submit_url(&submission.experiment))).body(form)).await?;
        read_json(response, "the submission's answer").await
    }

    async fn run_details(&mut self, run_id: &RunId) -> Result<RunDetails, HostError> {
        get_json(&run_url(run_id, "")).await
    }

    async fn next_events(
        &mut self,
        run_id: &RunId,
        after: u64,
    ) -> Result<Vec<RunEvent>, HostError> {
        let shared = Rc::clone(&self.shared);
        let interrupts_seen = self.interrupts_seen;
        let reuse = self
            .follow
            .as_ref()
            .is_some_and(|f| f.run == *run_id && f.handed == after);
        if !reuse {
            self.follow = Some(Follow::new(run_id.clone(), after));
        }
        let mut events = Vec::new();
        loop {
            if self.interrupted() {
                return Err(HostError::Interrupted);
            }
            let Some(follow) = self.follow.as_mut() else {
                return Err(HostError::Other("lost the run's event stream".into()));
            };
            if follow.probe {
                follow.probe = false;
                let run = follow.run.clone();
                if let Some(e) = self.or_interrupt(probe(&run)).await? {
                    self.follow = None;
                    return Err(e);
                }
                continue;
            }
            let Some(socket) = follow.socket.as_mut() else {
                if let Some(wait) = follow.wait_ms.take() {
                    // The network coming back cuts the wait short.
                    let online = shared.online.fired_since(shared.online.count());
                    let asleep = std::pin::pin!(sleep(wait));
                    self.or_interrupt(select(asleep, online)).await?;
                    continue;
                }
                let location = shared.scope.location();
                let origin = format!("{}//{}", location.protocol(), location.host());
                let url = events_url(&origin, &follow.run, follow.cursor.last());
                follow.offline_seen = shared.offline.count();
                follow.heard = false;
                match WebSocket::open(&url) {
                    Ok(socket) => follow.socket = Some(socket),
                    Err(e) => {
                        warn(&format!("run {}: {e}", follow.run));
                        follow.end_connection();
                    }
                }
                continue;
            };

            // Wait for the next frame, an interrupt, or the network going away (a
            // socket whose network is gone can look open for minutes).
            let item = {
                let mut read = socket.next();
                let mut interrupted = shared.inbox.interrupts.fired_since(interrupts_seen);
                let mut offline = shared.offline.fired_since(follow.offline_seen);
                poll_fn(|cx| {
                    if interrupted.poll_unpin(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                    if offline.poll_unpin(cx).is_ready() {
                        return Poll::Ready(Some(None));
                    }
                    read.poll_unpin(cx).map(Some)
                })
                .await
            };
            let Some(item) = item else {
                return Err(HostError::Interrupted);
            };
            if let Some(event) = follow.handle(item) {
                events.push(event);
            }
            if events.is_empty() {
                continue;
            }
            // Hand on what has already arrived too, without waiting for more.
            while let Some(socket) = follow.socket.as_mut() {
                let Some(item) = socket.next().now_or_never() else {
                    break;
                };
                if let Some(event) = follow.handle(item) {
                    events.push(event);
                }
            }
            if let Some(last) = events.last() {
                follow.handed = last.seq;
            }
            return Ok(events);
        }
    }

    async fn run_files(&mut self, run_id: &RunId) -> Result<Vec<RunFile>, HostError> {
        let list: RunFileList = get_json(&run_url(run_id, "/files")).await?;
        Ok(list.files)
    }

    async fn download_run_file(
        &mut self,
        run_id: &RunId,
        name: &str,
        to: &str,
    ) -> Result<u64, HostError> {
        let response = send(request(Request::get(&run_file_url(run_id, name))).build()).await?;
        let data = response
            .binary()
            .await
            .map_err(|e| HostError::Other(format!("downloading {name}: {e}")))?;
        put_file(to, &data).await?;
        Ok(data.len() as u64)
    }

    async fn metrics(
        &mut self,
        run_id: &RunId,
    ) -> Result<BTreeMap<String, serde_json::Value>, HostError> {
        let map: serde_json::Map<String, serde_json::Value> =
            get_json(&run_url(run_id, "/metrics")).await?;
        // Inserted one by one: `collect()` would sort, and its sort costs download size.
        let mut metrics = BTreeMap::new();
        for (name, value) in map {
            metrics.insert(name, value);
        }
        Ok(metrics)
    }

    async fn cancel_run(&mut self, run_id: &RunId) -> Result<(), HostError> {
        cancel_result(send(request(Request::post(&run_url(run_id, "/cancel"))).build()).await)
    }

    async fn patch_tags(&mut self, run_id: &RunId, patch: &TagsPatch) -> Result<(), HostError> {
        send(request(Request::patch(&run_url(run_id, "/tags"))).json(patch)).await?;
        Ok(())
    }

    async fn stat(&mut self, path: &str) -> Result<Option<FileKind>, HostError> {
        if path.is_empty() {
            return Ok(Some(FileKind::Dir));
        }
        stat_from(path, listing(parent_of(path)).await)
    }

    async fn list_dir(&mut self, path: &str) -> Result<Vec<DirEntry>, HostError> {
        list_dir_from(path, listing(path).await?)
    }

    async fn write_file(&mut self, path: &str, data: &[u8], append: bool) -> Result<(), HostError> {
        if !append {
            return put_file(path, data).await;
        }
        let whole = appended(read_file(path).await, data)?;
        put_file(path, &whole).await
    }

    async fn make_dirs(&mut self, path: &str) -> Result<(), HostError> {
        if path.is_empty() {
            return Ok(());
        }
        send(request(Request::post(&files_url(path))).json(&FilesAreaAction::CreateFolder {}))
            .await?;
        Ok(())
    }

    async fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
        read_file(path).await
    }

    async fn copy_file(&mut self, from: &str, to: &str) -> Result<(), HostError> {
        let data = read_file(from).await?;
        put_file(to, &data).await
    }

    async fn upload_to_datastore(
        &mut self,
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
        let response =
            send(request(Request::post(&datastore_upload_url(datastore))).json(&body)).await?;
        let uploaded: DatastoreUploaded = read_json(response, "the upload's answer").await?;
        Ok(uploaded.files)
    }
}
