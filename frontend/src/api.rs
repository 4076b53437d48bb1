//! Every request the app makes to the server goes through this module: REST calls
//! built by the one REST client (`runboard-client`) and sent by its browser
//! [`Transport`] ([`Browser`]: gloo-net's `fetch`), and the run websocket
//! ([`follow_run`]). The chart module (`frontend/js/charts.js`) asks for its data here
//! too ([`json_promise`]).
//!
//! Requests carry the session cookie (`credentials: same-origin`: the server sets the
//! cookie when the user opens its `?token=` login link); reads are aborted when the
//! reactive owner that made them is cleaned up, e.g. when the user leaves the page
//! before the answer came. An answer `401` also flips the app's [`Session`] to
//! "logged out", which shows the login page.

use std::future::Future;
use std::ops::ControlFlow;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use gloo_net::http::{Method as HttpMethod, RequestBuilder};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use leptos::prelude::*;
use runboard_client::{Body, Method, Request, Response, Transport, follow, requests};
use runboard_shared::api::{
    EnvironmentList, ExperimentList, FilesAreaAction, FilesAreaList, RunDetails, RunFileList,
    RunList, TagsPatch,
};
use runboard_shared::event::RunEvent;
use runboard_shared::run::RunId;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use web_sys::{AbortController, RequestCache, RequestCredentials};

use crate::browser;

pub use runboard_client::Error as ApiError;
pub use runboard_client::requests::encode;
pub use runboard_client::{FileArea, RunQuery};

/// The app's login state, provided as context by [`crate::App`].
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// True once the server answered `401`: the page shows how to log in.
    pub logged_out: RwSignal<bool>,
}

/// `GET /api/experiments`.
pub fn experiments() -> impl Future<Output = Result<ExperimentList, ApiError>> {
    get_json(requests::experiments())
}

/// `GET /api/runs?experiment=&status=&limit=&cursor=`: newest first.
pub fn runs(query: &RunQuery) -> impl Future<Output = Result<RunList, ApiError>> + use<> {
    get_json(requests::runs(query))
}

/// `GET /api/runs/{id}`.
pub fn run(id: &RunId) -> impl Future<Output = Result<RunDetails, ApiError>> + use<> {
    get_json(requests::run(id))
}

/// `GET /api/runs/{id}/log?path=&end=`: the lines of a log before byte `end`, a
/// `runboard_shared::runview::LogRange` (read as a JSON value: a typed decoder of its
/// own would cost the bundle more).
pub fn log_before(
    id: &RunId,
    path: &str,
    end: u64,
) -> impl Future<Output = Result<serde_json::Value, ApiError>> + use<> {
    get_json(requests::log_before(id, path, end))
}

/// `GET /api/runs/{id}/files`: `outputs/`, `logs/`, `user_logs/`, `system_logs/`.
pub fn files(id: &RunId) -> impl Future<Output = Result<RunFileList, ApiError>> + use<> {
    get_json(requests::files(id))
}

/// `GET /api/runs/{id}/snapshot`: the source files the run was submitted with.
pub fn snapshot(id: &RunId) -> impl Future<Output = Result<RunFileList, ApiError>> + use<> {
    get_json(requests::snapshot(id))
}

/// The URL of a run file, for links, downloads and `<img>`.
pub fn file_url(id: &RunId, area: FileArea, path: &str) -> String {
    requests::file_path(id, area, path)
}

/// The start of a file, at most `max` bytes (an HTTP Range request), and whether
/// there is more.
pub fn file_head(url: String, max: u64) -> impl Future<Output = Result<(Vec<u8>, bool), ApiError>> {
    let sent = send(Ok(requests::file_head(url, max)), false);
    async move {
        let response = sent.await?;
        let truncated = response.status == 206
            && response
                .header("content-range")
                .and_then(|r| r.rsplit_once('/'))
                .and_then(|(_, total)| total.parse::<u64>().ok())
                .is_some_and(|total| total > max);
        Ok((response.body, truncated))
    }
}

/// `POST /api/runs/{id}/cancel`.
pub fn cancel(id: &RunId) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_empty(Ok(requests::cancel(id)))
}

/// `PATCH /api/runs/{id}/tags`: answers the run's whole new tag set.
pub fn patch_tags(
    id: &RunId,
    patch: &TagsPatch,
) -> impl Future<Output = Result<std::collections::BTreeMap<String, String>, ApiError>> + use<> {
    let text = send_json_text(requests::patch_tags(id, patch), false);
    async move { runboard_client::json(&text.await?) }
}

/// `GET /api/environments`: the cached Python environments.
pub fn environments() -> impl Future<Output = Result<EnvironmentList, ApiError>> {
    get_json(requests::environments())
}

/// `DELETE /api/environments/{hash}`.
pub fn delete_environment(hash: &str) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_empty(Ok(requests::delete_environment(hash)))
}

/// The URL of a path of the server's files area (`/api/files/<path>`, each segment
/// percent-encoded; `""` is the area's root).
pub fn files_area_url(path: &str) -> String {
    requests::files_area_path(path)
}

/// `GET /api/files/{folder}`: the folder's files and folders, recursively.
pub fn files_area_list(
    folder: &str,
) -> impl Future<Output = Result<FilesAreaList, ApiError>> + use<> {
    get_json(requests::files_area_list(folder))
}

/// `GET /api/files/{path}` of a text file (a notebook), never from the browser's cache.
pub fn files_area_read(path: &str) -> impl Future<Output = Result<String, ApiError>> + use<> {
    let sent = send(Ok(requests::files_area_read(path)), false);
    async move { String::from_utf8(sent.await?.body).map_err(|e| ApiError::Decode(e.to_string())) }
}

/// What a file of the files area is now, as `HEAD /api/files/{path}` says it
/// (`Last-Modified` and `Content-Length`): a page compares it with what it last read or
/// wrote to see whether someone else changed the file since. `None` if it is gone.
pub fn files_area_stamp(
    path: &str,
) -> impl Future<Output = Result<Option<String>, ApiError>> + use<> {
    let request = requests::files_area_stamp(path);
    let browser = Browser::new(false);
    async move {
        let response = browser.send(request).await?;
        if response.status == 404 {
            return Ok(None);
        }
        let response = browser.noted(runboard_client::check(response))?;
        let header = |name: &str| response.header(name).unwrap_or_default();
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
    send_empty(Ok(requests::files_area_write(path, text)))
}

/// `DELETE /api/files/{path}`: a file, or a folder with its contents.
pub fn files_area_delete(path: &str) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_empty(Ok(requests::files_area_delete(path)))
}

/// `POST /api/files/{path}` with one [`FilesAreaAction`] (rename, create a folder).
pub fn files_area_act(
    path: &str,
    action: &FilesAreaAction,
) -> impl Future<Output = Result<(), ApiError>> + use<> {
    send_empty(requests::files_area_act(path, action))
}

/// Sends a request for the chart module and calls `done(answer, error)` with its JSON
/// answer as a JavaScript value (`JSON.parse` of its text), or `done(null, sentence)`.
/// (Not aborted with the owner, which would collect a cleanup per request for as long
/// as a chart tab is open: the module drops answers that come after it was destroyed.)
pub fn json_to(request: Request, done: js_sys::Function) {
    let text = send_json_text(Ok(request), false);
    leptos::task::spawn_local(async move {
        let (answer, error) = match text.await {
            Ok(text) => (
                js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL),
                JsValue::NULL,
            ),
            Err(e) => (JsValue::NULL, JsValue::from_str(&e.to_string())),
        };
        let _ = done.call2(&JsValue::NULL, &answer, &error);
    });
}

/// The headers the app reads of an answer.
const HEADERS: [&str; 4] = [
    "content-type",
    "content-range",
    "last-modified",
    "content-length",
];

/// The browser's [`Transport`]: gloo-net's `fetch` with the session cookie, aborted
/// when the reactive owner that made it is cleaned up (if `abort` is set), noting a
/// `401` in the [`Session`].
#[derive(Debug)]
pub struct Browser {
    session: Option<Session>,
    abort: Option<AbortController>,
}

impl Browser {
    /// A transport for the current reactive owner; `abortable`: its requests are
    /// aborted when the owner is cleaned up (reads; a write is let finish).
    pub fn new(abortable: bool) -> Self {
        Self {
            session: use_context::<Session>(),
            abort: abortable.then(abort_on_cleanup).flatten(),
        }
    }

    /// Notes a `401` answer in the session.
    fn noted<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if let Err(e) = &result
            && e.status() == Some(401)
            && let Some(session) = self.session
        {
            session.logged_out.set(true);
        }
        result
    }
}

impl Transport for Browser {
    async fn send(&self, request: Request) -> Result<Response, ApiError> {
        let method = match request.method {
            Method::Get => HttpMethod::GET,
            Method::Head => HttpMethod::HEAD,
            Method::Post => HttpMethod::POST,
            Method::Put => HttpMethod::PUT,
            Method::Patch => HttpMethod::PATCH,
            Method::Delete => HttpMethod::DELETE,
        };
        let mut builder = RequestBuilder::new(&request.path)
            .method(method)
            .credentials(RequestCredentials::SameOrigin)
            .abort_signal(self.abort.as_ref().map(|a| a.signal()).as_ref());
        if request.fresh {
            builder = builder.cache(RequestCache::NoStore);
        }
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = match request.body {
            Some(Body::Json(text)) => builder
                .header("content-type", "application/json")
                .body(text),
            Some(Body::Text(text)) => builder.body(text),
            None => builder.build(),
        };
        let response = built
            .map_err(|e| ApiError::Decode(e.to_string()))?
            .send()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        let headers = HEADERS
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), response.headers().get(name)?)))
            .collect();
        let body = response
            .binary()
            .await
            .map_err(|e| ApiError::Network(e.to_string()))?;
        Ok(Response {
            status: response.status(),
            status_text: response.status_text(),
            headers,
            body,
        })
    }
}

/// Sends a request (building it may have failed) and turns a non-2xx answer into its
/// error. Built for the current reactive owner; sent when first polled.
fn send(
    request: Result<Request, ApiError>,
    abortable: bool,
) -> impl Future<Output = Result<Response, ApiError>> {
    let browser = Browser::new(abortable);
    async move {
        let result = runboard_client::call(&browser, request?).await;
        browser.noted(result)
    }
}

/// Sends a request whose answer has no body the page needs.
fn send_empty(request: Result<Request, ApiError>) -> impl Future<Output = Result<(), ApiError>> {
    let sent = send(request, false);
    async move {
        sent.await?;
        Ok(())
    }
}

/// A request's answer, as text once its content type says JSON.
fn send_json_text(
    request: Result<Request, ApiError>,
    abortable: bool,
) -> impl Future<Output = Result<String, ApiError>> {
    let sent = send(request, abortable);
    async move { runboard_client::json_text(sent.await?) }
}

/// GETs and decodes a JSON answer; aborted when the current reactive owner is cleaned
/// up.
///
/// Only the last step, [`runboard_client::json`], is generic: the request and the
/// reading of the answer are compiled once ([`send_json_text`]), not once per answer
/// type (which cost the portal's wasm about a kilobyte per type).
fn get_json<T: DeserializeOwned>(request: Request) -> impl Future<Output = Result<T, ApiError>> {
    let text = send_json_text(Ok(request), true);
    async move { runboard_client::json(&text.await?) }
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
    let view = get_json::<serde_json::Value>(requests::view(&id));
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
    let mut after = 0;
    if let Some(Ok(view)) = match view {
        Some(v) => Some(v.await),
        None => None,
    } {
        after = view["seq"].as_u64().unwrap_or(0);
        on_view(view);
    }
    let end = follow::follow(&mut Sockets { connection }, &id, after, |event| {
        on_event(event);
        ControlFlow::<()>::Continue(())
    })
    .await;
    if end == follow::End::Deleted {
        connection.set(Connection::Deleted);
    }
}

/// The browser's sockets for the client's [`follow::follow`]: gloo-net's websocket on
/// the page's host, waits that end early when the browser comes back online, and the
/// [`Connection`] shown.
struct Sockets {
    connection: RwSignal<Connection>,
}

impl follow::Connect for Sockets {
    type Socket = Open;

    async fn connect(&mut self, path: &str) -> Result<Open, follow::Refused> {
        let location = window().location();
        let scheme = match location.protocol().as_deref() {
            Ok("https:") => "wss:",
            _ => "ws:",
        };
        let host = location
            .host()
            .map_err(|e| follow::Refused::Retry(format!("{e:?}")))?;
        let socket = WebSocket::open(&format!("{scheme}//{host}{path}"))
            .map_err(|e| follow::Refused::Retry(e.to_string()))?;
        Ok(Open {
            socket,
            offline: browser::next_window_event("offline"),
        })
    }

    async fn pause(&mut self, attempt: u32) -> Result<(), String> {
        if attempt > 0 {
            self.connection.set(if browser::online() {
                Connection::Reconnecting { attempt }
            } else {
                Connection::Offline
            });
            let backoff = runboard_shared::event::backoff_ms(attempt);
            browser::wait_until_online_or(Duration::from_millis(u64::from(backoff))).await;
        }
        while !browser::online() {
            self.connection.set(Connection::Offline);
            browser::wait_until_online_or(Duration::from_secs(5)).await;
        }
        Ok(())
    }

    fn state(&mut self, state: follow::State) {
        self.connection.set(match state {
            follow::State::Connecting => Connection::Connecting,
            follow::State::Live => Connection::Live,
            follow::State::Reconnecting { attempt } => Connection::Reconnecting { attempt },
        });
    }

    fn warn(&mut self, why: &str) {
        leptos::logging::warn!("websocket: {why}");
    }
}

/// An open run websocket.
struct Open {
    socket: WebSocket,
    /// Going offline ends the connection at once: a socket whose network is gone can
    /// look open for minutes, and even `close()` waits for a closing handshake that
    /// cannot happen.
    offline: browser::NextEvent,
}

impl follow::Socket for Open {
    async fn next(&mut self) -> follow::Frame {
        match select(self.socket.next(), &mut self.offline).await {
            Either::Left((Some(Ok(Message::Text(text))), _)) => follow::Frame::Text(text),
            Either::Left((Some(Err(WebSocketError::ConnectionClose(close))), _))
                if close.code == runboard_shared::event::CLOSE_DELETED =>
            {
                follow::Frame::Deleted
            }
            _ => follow::Frame::Ended,
        }
    }
}
