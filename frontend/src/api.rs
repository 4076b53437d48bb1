//! Every request the app makes to the server goes through this module: REST calls
//! through gloo-net's `fetch`, and the run websocket ([`follow_run`]).
//!
//! Requests carry the session cookie (`credentials: same-origin`: the server sets the
//! cookie when the user opens its `?token=` login link) and are aborted when the
//! reactive owner that made them is cleaned up, e.g. when the user leaves the page
//! before the answer came. An answer `401` also flips the app's [`Session`] to
//! "logged out", which shows the login page.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use gloo_net::http::{Request, RequestBuilder, Response};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use runboard_shared::api::{
    EnvironmentList, ErrorBody, ExperimentList, FilesAreaAction, FilesAreaList, RunDetails,
    RunFileList, RunList, TagsPatch,
};
use runboard_shared::event::{Cursor, RunEvent, Step};
use runboard_shared::run::{RunId, RunStatus};
use send_wrapper::SendWrapper;
use serde::Serialize;
use serde::de::DeserializeOwned;
use web_sys::{AbortController, RequestCache, RequestCredentials};

use crate::browser;

/// Why a request gave no answer the page can use, in words for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer came: the server is down or unreachable, or the request was aborted.
    Network(String),
    /// The server answered with an error status.
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's sentence (from its JSON error body, else the status text).
        message: String,
    },
    /// The answer was not the JSON this version of the app expects.
    Decode(String),
}

impl ApiError {
    /// The HTTP status of a server error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Network(cause) => write!(f, "the server could not be reached ({cause})"),
            ApiError::Server {
                status: 401,
                message,
            } => {
                write!(
                    f,
                    "{message} (open the login link that `runboard serve` printed)"
                )
            }
            ApiError::Server { status, message } => write!(f, "{message} (HTTP {status})"),
            ApiError::Decode(cause) => {
                write!(f, "the server's answer was not understood ({cause})")
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// The app's login state, provided as context by [`crate::App`].
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// True once the server answered `401`: the page shows how to log in.
    pub logged_out: RwSignal<bool>,
}

/// `GET /api/experiments`.
pub fn experiments() -> impl Future<Output = Result<ExperimentList, ApiError>> {
    get_json("/api/experiments".to_owned())
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

/// `GET /api/runs?experiment=&status=&limit=&cursor=`: newest first.
pub fn runs(query: &RunQuery) -> impl Future<Output = Result<RunList, ApiError>> + use<> {
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
    get_json(format!("/api/runs?{}", params.join("&")))
}

/// `GET /api/runs/{id}`.
pub fn run(id: &RunId) -> impl Future<Output = Result<RunDetails, ApiError>> + use<> {
    get_json(format!("/api/runs/{id}"))
}

/// `GET /api/runs/{id}/log?path=&end=`: the lines of a log before byte `end`, a
/// `runboard_shared::runview::LogRange` (read as a JSON value: a typed decoder of its
/// own would cost the bundle more).
pub fn log_before(
    id: &RunId,
    path: &str,
    end: u64,
) -> impl Future<Output = Result<serde_json::Value, ApiError>> + use<> {
    get_json(format!(
        "/api/runs/{id}/log?path={}&end={end}",
        encode(path)
    ))
}

/// `GET /api/runs/{id}/files`: `outputs/`, `logs/`, `user_logs/`, `system_logs/`.
pub fn files(id: &RunId) -> impl Future<Output = Result<RunFileList, ApiError>> + use<> {
    get_json(format!("/api/runs/{id}/files"))
}

/// `GET /api/runs/{id}/snapshot`: the source files the run was submitted with.
pub fn snapshot(id: &RunId) -> impl Future<Output = Result<RunFileList, ApiError>> + use<> {
    get_json(format!("/api/runs/{id}/snapshot"))
}

/// Which of a run's file areas a path is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileArea {
    /// Outputs and logs: `GET /api/runs/{id}/files/{path}`.
    Run,
    /// The source snapshot: `GET /api/runs/{id}/snapshot/{path}`.
    Snapshot,
}

/// The URL of a run file, for links, downloads and `<img>`.
pub fn file_url(id: &RunId, area: FileArea, path: &str) -> String {
    let route = match area {
        FileArea::Run => "files",
        FileArea::Snapshot => "snapshot",
    };
    let path: Vec<String> = path.split('/').map(encode).collect();
    format!("/api/runs/{id}/{route}/{}", path.join("/"))
}

/// The start of a file, at most `max` bytes (an HTTP Range request), and whether
/// there is more.
pub fn file_head(url: String, max: u64) -> impl Future<Output = Result<(Vec<u8>, bool), ApiError>> {
    let request = authorized(Request::get(&url)).header("Range", &format!("bytes=0-{}", max - 1));
    let session = use_context::<Session>();
    async move {
        let response = send(request, session).await?;
        let truncated = response.status() == 206
            && response
                .headers()
                .get("content-range")
                .and_then(|r| r.rsplit_once('/').map(|(_, total)| total.to_owned()))
                .and_then(|total| total.parse::<u64>().ok())
                .is_some_and(|total| total > max);
        let bytes = response
            .binary()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        Ok((bytes, truncated))
    }
}

/// `POST /api/runs/{id}/cancel`.
pub fn cancel(id: &RunId) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_empty(authorized(Request::post(&format!("/api/runs/{id}/cancel"))))
}

/// `PATCH /api/runs/{id}/tags`: answers the run's whole new tag set.
pub fn patch_tags(
    id: &RunId,
    patch: &TagsPatch,
) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>, ApiError>> + use<> {
    send_json(
        authorized(Request::patch(&format!("/api/runs/{id}/tags"))),
        patch,
    )
}

/// `GET /api/environments`: the cached Python environments.
pub fn environments() -> impl Future<Output = Result<EnvironmentList, ApiError>> {
    get_json("/api/environments".to_owned())
}

/// `DELETE /api/environments/{hash}`.
pub fn delete_environment(hash: &str) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_empty(authorized(Request::delete(&format!(
        "/api/environments/{}",
        encode(hash)
    ))))
}

/// The URL of a path of the server's files area (`/api/files/<path>`, each segment
/// percent-encoded; `""` is the area's root).
pub fn files_area_url(path: &str) -> String {
    if path.is_empty() {
        return "/api/files".to_owned();
    }
    let path: Vec<String> = path.split('/').map(encode).collect();
    format!("/api/files/{}", path.join("/"))
}

/// `GET /api/files/{folder}`: the folder's files and folders, recursively.
pub fn files_area_list(
    folder: &str,
) -> impl Future<Output = Result<FilesAreaList, ApiError>> + use<> {
    get_json(files_area_url(folder))
}

/// `GET /api/files/{path}` of a text file (a notebook), never from the browser's cache.
pub fn files_area_read(path: &str) -> impl Future<Output = Result<String, ApiError>> + use<> {
    let request = authorized(Request::get(&files_area_url(path))).cache(RequestCache::NoStore);
    let session = use_context::<Session>();
    async move {
        let response = send(request, session).await?;
        response
            .text()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))
    }
}

/// What a file of the files area is now, as `HEAD /api/files/{path}` says it
/// (`Last-Modified` and `Content-Length`): a page compares it with what it last read or
/// wrote to see whether someone else changed the file since. `None` if it is gone.
pub fn files_area_stamp(
    path: &str,
) -> impl Future<Output = Result<Option<String>, ApiError>> + use<> {
    let request =
        authorized(RequestBuilder::new(&files_area_url(path)).method(gloo_net::http::Method::HEAD))
            .cache(RequestCache::NoStore);
    let session = use_context::<Session>();
    async move {
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        if response.status() == 404 {
            return Ok(None);
        }
        let response = check(response, session).await?;
        let header = |name: &str| response.headers().get(name).unwrap_or_default();
        Ok(Some(format!(
            "{} {}",
            header("last-modified"),
            header("content-length")
        )))
    }
}

/// `PUT /api/files/{path}`: writes the whole file.
pub fn files_area_write(
    path: &str,
    text: String,
) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_built(authorized(Request::put(&files_area_url(path))).body(text))
}

/// `DELETE /api/files/{path}`: a file, or a folder with its contents.
pub fn files_area_delete(path: &str) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_empty(authorized(Request::delete(&files_area_url(path))))
}

/// `POST /api/files/{path}` with one [`FilesAreaAction`] (rename, create a folder).
pub fn files_area_act(
    path: &str,
    action: &FilesAreaAction,
) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_built(authorized(Request::post(&files_area_url(path))).json(action))
}

/// Sends a request whose body is set (building it may have failed), expecting no
/// answer body.
fn send_built(
    request: Result<Request, gloo_net::Error>,
) -> impl Future<Output = Result<(), ApiError>> {
    let session = use_context::<Session>();
    async move {
        send_checked(request, session).await?;
        Ok(())
    }
}

/// Sends a request whose body is set (building it may have failed) and turns a
/// non-2xx answer into its error.
async fn send_checked(
    request: Result<Request, gloo_net::Error>,
    session: Option<Session>,
) -> Result<Response, ApiError> {
    let request = request.map_err(|e| ApiError::Decode(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    check(response, session).await
}

/// Percent-encodes a URL component (JavaScript's `encodeURIComponent`).
pub fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}

fn authorized(request: RequestBuilder) -> RequestBuilder {
    request.credentials(RequestCredentials::SameOrigin)
}

/// GETs `path` and decodes its JSON answer. The request starts when the future is
/// first polled; it is aborted when the current reactive owner is cleaned up.
///
/// Only the last step, [`parse`], is generic: the request and the reading of the
/// answer are compiled once ([`get_json_text`]), not once per answer type (which
/// cost the portal's wasm about a kilobyte per type).
fn get_json<T: DeserializeOwned>(path: String) -> impl Future<Output = Result<T, ApiError>> {
    let text = get_json_text(path);
    async move { parse(&text.await?) }
}

/// [`get_json`]'s answer, read as text once its content type says JSON.
fn get_json_text(path: String) -> impl Future<Output = Result<String, ApiError>> {
    let abort = abort_on_cleanup();
    let request =
        authorized(Request::get(&path)).abort_signal(abort.as_ref().map(|a| a.signal()).as_ref());
    let session = use_context::<Session>();
    async move {
        // Keeps the controller alive (and so the request abortable) until the answer.
        let _abort = abort;
        json_text(send(request, session).await?).await
    }
}

/// Sends `body` as JSON and decodes the JSON answer.
fn send_json<B: Serialize, T: DeserializeOwned>(
    request: RequestBuilder,
    body: &B,
) -> impl Future<Output = Result<T, ApiError>> + use<B, T> {
    let request = request.json(body);
    let session = use_context::<Session>();
    async move { parse(&json_text(send_checked(request, session).await?).await?) }
}

/// Sends a request whose answer has no body the page needs.
fn send_empty(request: RequestBuilder) -> impl Future<Output = Result<(), ApiError>> {
    let session = use_context::<Session>();
    async move {
        send(request, session).await?;
        Ok(())
    }
}

async fn send(request: RequestBuilder, session: Option<Session>) -> Result<Response, ApiError> {
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    check(response, session).await
}

/// Turns a non-2xx answer into its error, noting a `401` in the session.
async fn check(response: Response, session: Option<Session>) -> Result<Response, ApiError> {
    if response.ok() {
        return Ok(response);
    }
    let error = error_of(response).await;
    if error.status() == Some(401)
        && let Some(session) = session
    {
        session.logged_out.set(true);
    }
    Err(error)
}

/// The answer's body as text, if its content type says JSON.
async fn json_text(response: Response) -> Result<String, ApiError> {
    let content_type = response.headers().get("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        // E.g. a static file server's `index.html` where the API should be.
        return Err(ApiError::Decode(format!(
            "expected JSON, got {content_type:?}"
        )));
    }
    response
        .text()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))
}

/// Decodes a JSON answer.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Decode(e.to_string()))
}

/// An abort controller that is aborted when the current reactive owner is cleaned up.
/// `None` where the browser has none (no request is then aborted).
fn abort_on_cleanup() -> Option<AbortController> {
    let controller = AbortController::new().ok()?;
    // The cleanup must be `Send`; it only ever runs on the browser's one thread.
    let on_cleanup_controller = SendWrapper::new(controller.clone());
    on_cleanup(move || on_cleanup_controller.abort());
    Some(controller)
}

/// The error of a non-2xx answer, with the server's own message when it sent one.
async fn error_of(response: Response) -> ApiError {
    let status = response.status();
    let status_text = response.status_text();
    let body = response.text().await.map(|text| parse::<ErrorBody>(&text));
    let message = match body {
        Ok(Ok(body)) => body.error.message,
        _ if status_text.is_empty() => "the server refused the request".to_owned(),
        _ => status_text,
    };
    ApiError::Server { status, message }
}

/// The state of a run's websocket, for the page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Opening the socket, or replaying what happened so far.
    Connecting,
    /// Caught up: events arrive as they happen.
    Live,
    /// The connection dropped; the next attempt is on its way.
    Reconnecting {
        /// How many attempts failed in a row.
        attempt: u32,
    },
    /// The browser says it is offline: waiting for the network.
    Offline,
    /// The run was deleted while it was followed: nothing more will come.
    Deleted,
}

/// Follows a run's events over `GET /api/runs/{id}/events?after=N`, calling `on_event`
/// once for each event in sequence order, for as long as the current reactive owner
/// lives.
///
/// The last sequence number handled is remembered: after a dropped connection the
/// next one asks for `after=<it>`, and an event at or below it is never passed on, so
/// the page sees every event exactly once. Reconnects back off from 250 ms to 5 s,
/// and happen at once when the browser comes back online. `connection` tells the
/// page where things stand.
///
/// The returned handle stops following earlier (e.g. when the run turns out not to
/// exist).
pub fn follow_run(
    id: RunId,
    connection: RwSignal<Connection>,
    on_event: impl FnMut(RunEvent) + 'static,
) -> futures_util::future::AbortHandle {
    let none = None::<std::future::Ready<Result<serde_json::Value, ApiError>>>;
    spawn_follow(follow_loop(id, connection, none, |_| {}, on_event))
}

/// [`follow_run`] for the run page: it starts where `GET /api/runs/{id}/view` says
/// (handed to `on_view`: the logs' tails, the series' lengths), so only what follows
/// comes over the socket, whatever the size of the run; without that answer, from
/// the first event. (A notebook cell that re-attaches needs every event: it uses
/// [`follow_run`].) The answer, a `runboard_shared::runview::ViewStart`, is handed on
/// as a JSON value: a typed decoder of its own would cost the bundle more.
pub fn follow_run_view(
    id: RunId,
    connection: RwSignal<Connection>,
    on_view: impl FnOnce(serde_json::Value) + 'static,
    on_event: impl FnMut(RunEvent) + 'static,
) -> futures_util::future::AbortHandle {
    let view = get_json::<serde_json::Value>(format!("/api/runs/{id}/view"));
    spawn_follow(follow_loop(id, connection, Some(view), on_view, on_event))
}

/// Runs a follower until the current reactive owner is cleaned up.
fn spawn_follow(task: impl Future<Output = ()> + 'static) -> futures_util::future::AbortHandle {
    let (task, abort) = futures_util::future::abortable(task);
    leptos::task::spawn_local(async move {
        let _ = task.await;
    });
    let on_cleanup_abort = abort.clone();
    on_cleanup(move || on_cleanup_abort.abort());
    abort
}

async fn follow_loop(
    id: RunId,
    connection: RwSignal<Connection>,
    view: Option<impl Future<Output = Result<serde_json::Value, ApiError>>>,
    on_view: impl FnOnce(serde_json::Value),
    mut on_event: impl FnMut(RunEvent),
) {
    let mut cursor = Cursor::after(0);
    if let Some(Ok(view)) = match view {
        Some(v) => Some(v.await),
        None => None,
    } {
        cursor = Cursor::after(view["seq"].as_u64().unwrap_or(0));
        on_view(view);
    }
    let mut attempt = 0u32;
    loop {
        while !browser::online() {
            connection.set(Connection::Offline);
            browser::wait_until_online_or(Duration::from_secs(5)).await;
        }
        connection.set(if attempt == 0 {
            Connection::Connecting
        } else {
            Connection::Reconnecting { attempt }
        });
        match connect(&id, cursor.last()) {
            Ok(socket) => {
                // Going offline ends the connection at once: a socket whose network
                // is gone can look open for minutes, and even `close()` waits for a
                // closing handshake that cannot happen.
                let reading =
                    std::pin::pin!(read_frames(socket, &mut cursor, connection, &mut on_event));
                let offline = browser::next_window_event("offline");
                match select(reading, offline).await {
                    Either::Left((Read::Deleted, _)) => {
                        connection.set(Connection::Deleted);
                        return;
                    }
                    Either::Left((Read::WasLive, _)) => attempt = 0,
                    _ => {}
                }
            }
            Err(e) => leptos::logging::warn!("websocket: {e}"),
        }
        attempt = attempt.saturating_add(1);
        connection.set(if browser::online() {
            Connection::Reconnecting { attempt }
        } else {
            Connection::Offline
        });
        let backoff = runboard_shared::event::backoff_ms(attempt);
        browser::wait_until_online_or(Duration::from_millis(u64::from(backoff))).await;
    }
}

/// How a connection ended.
enum Read {
    /// It got as far as live events: the connection was good and the next one starts
    /// a fresh backoff.
    WasLive,
    /// It ended before that.
    Failed,
    /// The server closed it because the run was deleted.
    Deleted,
}

/// Reads frames until the socket closes or the [`Cursor`] says to reconnect.
async fn read_frames(
    mut socket: WebSocket,
    cursor: &mut Cursor,
    connection: RwSignal<Connection>,
    on_event: &mut impl FnMut(RunEvent),
) -> Read {
    let mut was_live = false;
    while let Some(message) = socket.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Err(gloo_net::websocket::WebSocketError::ConnectionClose(close))
                if close.code == runboard_shared::event::CLOSE_DELETED =>
            {
                return Read::Deleted;
            }
            _ => break,
        };
        match cursor.step(&text) {
            Step::Deliver(event) => on_event(event),
            Step::Skip => {}
            Step::CaughtUp => {
                was_live = true;
                connection.set(Connection::Live);
            }
            Step::Reconnect(why) => {
                leptos::logging::warn!("websocket: {why}; reconnecting");
                break;
            }
        }
    }
    if was_live {
        Read::WasLive
    } else {
        Read::Failed
    }
}

/// Opens the run's websocket for events after `after`.
fn connect(id: &RunId, after: u64) -> Result<WebSocket, String> {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location.host().map_err(|e| format!("{e:?}"))?;
    let url = format!("{scheme}//{host}/api/runs/{id}/events?after={after}");
    WebSocket::open(&url).map_err(|e| e.to_string())
}
