//! Per-run fan-out of live events.
//!
//! The store is the source of truth: every event is committed there before it is
//! published here. A subscriber that sees a gap (events can be published slightly out
//! of order by concurrent writers) or falls behind fills in from the store, so the hub
//! only has to be fast, not complete.
//!
//! A published event is shared, not copied, by its subscribers ([`Live`]), and its
//! websocket frame is serialized once for all of them: with a thousand viewers of a
//! run, per-viewer copies and encodings were most of the server's work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::ws::Utf8Bytes;
use runboard_shared::event::{Frame, RunEvent};
use runboard_shared::run::RunId;
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it is told to resume.
pub const CHANNEL_CAPACITY: usize = 1024;

/// Live event channels, one per run with subscribers.
#[derive(Debug, Default)]
pub struct Hub {
    channels: Mutex<HashMap<RunId, broadcast::Sender<Arc<Live>>>>,
}

/// A published event, as every subscriber receives it.
#[derive(Debug)]
pub struct Live {
    /// The event.
    pub event: RunEvent,
    text: OnceLock<Utf8Bytes>,
}

impl Live {
    /// The event's websocket frame ([`Frame::Event`]) as JSON text, encoded by the
    /// first subscriber that asks and shared by the others.
    pub fn frame_text(&self) -> Result<Utf8Bytes, serde_json::Error> {
        if let Some(text) = self.text.get() {
            return Ok(text.clone());
        }
        let frame = Frame::Event {
            event: self.event.clone(),
        };
        let text = Utf8Bytes::from(serde_json::to_string(&frame)?);
        Ok(self.text.get_or_init(|| text).clone())
    }
}

impl Hub {
    /// Subscribes to the live events of `run_id`.
    pub fn subscribe(&self, run_id: &RunId) -> broadcast::Receiver<Arc<Live>> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(run_id.clone())
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Publishes an event that the store has committed.
    pub fn publish(&self, run_id: &RunId, event: RunEvent) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = channels.get(run_id)
            && sender
                .send(Arc::new(Live {
                    event,
                    text: OnceLock::new(),
                }))
                .is_err()
        {
            // Nobody listens any more: forget the channel; the next subscriber
            // makes a new one and replays from the store.
            channels.remove(run_id);
        }
    }

    /// Ends the run's live channel: its subscribers see it closed (the run was
    /// deleted).
    pub fn close(&self, run_id: &RunId) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels.remove(run_id);
    }
}
