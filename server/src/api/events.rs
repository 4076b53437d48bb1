//! `GET /api/runs/{id}/events?after=N`: a run's events over a websocket, replayed
//! from the store and then live; asked without a websocket upgrade, one page of them
//! as JSON, waiting up to `wait` seconds for the first (a long poll).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use runboard_shared::api::EventsPage;
use runboard_shared::event::Frame;
use runboard_shared::run::RunId;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use super::ApiError;
use super::AppState;
use super::KnownRun;
use crate::hub::Live;

/// Query of the events route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Send events with a sequence number above this one.
    #[serde(default)]
    after: u64,
    /// Without a websocket upgrade: seconds to wait for an event when there is none
    /// after `after` yet (at most [`MAX_WAIT`]; default 0, answer at once).
    #[serde(default)]
    wait: Option<f64>,
}

/// The longest a long poll waits before answering an empty page.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// How long a frame may wait for a client that does not read before it is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Events read from the store per query during replay.
const REPLAY_PAGE: u32 = 1000;

/// Upgrades to a websocket and runs a [`session`].
pub async fn websocket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let id = super::run_id(&id)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    // A bad query is told so before whether the run exists.
    let id = KnownRun::find(&state, id.as_str()).await?.into_id();
    let Ok(upgrade) = upgrade else {
        let wait = match query.wait {
            None => Duration::ZERO,
            Some(w) if w.is_finite() && w >= 0.0 => Duration::from_secs_f64(w).min(MAX_WAIT),
            Some(w) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("wait must be a number of seconds from 0 to 30, got {w}"),
                ));
            }
        };
        return Ok(axum::Json(long_poll(&state, &id, query.after, wait).await?).into_response());
    };
    // Clients send nothing the protocol needs: a large message ends the session
    // (the stream yields an error) instead of being buffered.
    let upgrade = upgrade
        .max_message_size(crate::limits::MAX_WS_MESSAGE_BYTES)
        .max_frame_size(crate::limits::MAX_WS_MESSAGE_BYTES);
    Ok(upgrade.on_upgrade(move |socket: WebSocket| async move {
        let (sink, stream) = socket.split();
        let mut sink = Box::pin(sink.with(|out: Outgoing| async move {
            let text = match out {
                Outgoing::Frame(frame) => serde_json::to_string(&frame)
                    .map_err(axum::Error::new)?
                    .into(),
                // Encoded once for every viewer of the run.
                Outgoing::Live(live) => live.frame_text().map_err(axum::Error::new)?,
            };
            Ok::<_, axum::Error>(Message::Text(text))
        }));
        let incoming = stream.take_while(|m| {
            std::future::ready(matches!(m, Ok(m) if !matches!(m, Message::Close(_))))
        });
        let ended = follow(
            state,
            id.clone(),
            query.after,
            &mut sink,
            Box::pin(incoming),
        )
        .await;
        if ended == Ended::Closed {
            let close = Message::Close(Some(CloseFrame {
                code: CLOSE_DELETED,
                reason: format!("run {id} was deleted").into(),
            }));
            let _ =
                tokio::time::timeout(SEND_TIMEOUT, sink.as_mut().get_pin_mut().send(close)).await;
        }
    }))
}

/// The websocket close code of a run that was deleted while it was followed (4000 and
/// up are the application's): followers stop instead of reconnecting.
pub const CLOSE_DELETED: u16 = runboard_shared::event::CLOSE_DELETED;

/// Why a [`session`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The client went away, could not keep up (it was sent [`Frame::Resume`]), or
    /// the store failed.
    Client,
    /// The run's live channel was closed: the run was deleted.
    Closed,
}

/// What a session sends: a frame, or a live event as the hub shares it.
#[derive(Debug)]
pub enum Outgoing {
    /// A frame made for this client (replayed events, caught-up, resume).
    Frame(Frame),
    /// A live event, shared with every subscriber (its JSON is encoded once).
    Live(Arc<Live>),
}

impl Outgoing {
    /// The frame itself.
    pub fn into_frame(self) -> Frame {
        match self {
            Self::Frame(frame) => frame,
            Self::Live(live) => Frame::Event {
                event: live.event.clone(),
            },
        }
    }
}

/// [`follow`] for a sink of [`Frame`]s.
pub async fn session<S, I, T>(
    state: AppState,
    run_id: RunId,
    after: u64,
    sink: S,
    incoming: I,
) -> Ended
where
    S: Sink<Frame> + Unpin,
    I: Stream<Item = T> + Unpin,
{
    let sink = sink.with(|out: Outgoing| std::future::ready(Ok::<_, S::Error>(out.into_frame())));
    follow(state, run_id, after, Box::pin(sink), incoming).await
}

/// Sends a run's events after `after` to `sink`: first those in the store, then a
/// [`Frame::CaughtUp`], then live ones, filling any gap from the store, until the
/// client goes away (`incoming` ends). A client that falls more than the hub's
/// capacity behind gets [`Frame::Resume`] and is dropped: server memory per client
/// stays bounded and the client loses nothing. Says why it ended.
pub async fn follow<S, I, T>(
    state: AppState,
    run_id: RunId,
    after: u64,
    mut sink: S,
    mut incoming: I,
) -> Ended
where
    S: Sink<Outgoing> + Unpin,
    I: Stream<Item = T> + Unpin,
{
    let mut live = state.events.subscribe(&run_id);
    let mut last = after;
    macro_rules! send {
        ($frame:expr) => {
            match tokio::time::timeout(SEND_TIMEOUT, sink.send($frame)).await {
                Ok(Ok(())) => {}
                _ => return Ended::Client,
            }
        };
    }
    // Replay, then tell the client it is up to date.
    match replay(&state, &run_id, &mut last, &mut sink).await {
        Ok(true) => {}
        _ => return Ended::Client,
    }
    send!(Outgoing::Frame(Frame::CaughtUp { seq: last }));
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(live) if live.event.seq <= last => {}
                Ok(live) if live.event.seq == last + 1 => {
                    last = live.event.seq;
                    send!(Outgoing::Live(live));
                }
                Ok(_) => {
                    // A gap: events committed but published out of order. The store
                    // has them all.
                    match replay(&state, &run_id, &mut last, &mut sink).await {
                        Ok(true) => {}
                        _ => return Ended::Client,
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    send!(Outgoing::Frame(Frame::Resume { after: last, reason: "client too slow; reconnect with after".into() }));
                    return Ended::Client;
                }
                Err(RecvError::Closed) => return Ended::Closed,
            },
            msg = incoming.next() => if msg.is_none() { return Ended::Client },
        }
    }
}

/// One page of the run's events after `after`, waiting up to `wait` for the first one
/// when there is none yet. The store answers; the hub only says when to ask again.
async fn long_poll(
    state: &AppState,
    run_id: &RunId,
    after: u64,
    wait: Duration,
) -> Result<EventsPage, crate::store::StoreError> {
    // Subscribed before the first read, so an event committed in between still wakes
    // the wait.
    let mut live = state.events.subscribe(run_id);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let events = crate::replay::events_after(
            &state.store,
            &state.run_dir(run_id),
            run_id,
            after,
            REPLAY_PAGE,
        )
        .await?;
        if !events.is_empty() || tokio::time::Instant::now() >= deadline {
            let next_after = events.last().map_or(after, |e| e.seq);
            return Ok(EventsPage { events, next_after });
        }
        // Woken by any event of this run (or a lagging receiver), or by the deadline.
        let _ = tokio::time::timeout_at(deadline, live.recv()).await;
    }
}

/// Sends every stored event after `*last`, advancing it. `Ok(false)` when the client
/// went away.
async fn replay<S: Sink<Outgoing> + Unpin>(
    state: &AppState,
    run_id: &RunId,
    last: &mut u64,
    sink: &mut S,
) -> Result<bool, crate::store::StoreError> {
    loop {
        let events = crate::replay::events_after(
            &state.store,
            &state.run_dir(run_id),
            run_id,
            *last,
            REPLAY_PAGE,
        )
        .await?;
        if events.is_empty() {
            return Ok(true);
        }
        for event in events {
            let seq = event.seq;
            match tokio::time::timeout(
                SEND_TIMEOUT,
                sink.send(Outgoing::Frame(Frame::Event { event })),
            )
            .await
            {
                Ok(Ok(())) => *last = seq,
                _ => return Ok(false),
            }
        }
    }
}
