//! Per-run fan-out of live events.
//!
//! The store is the source of truth: every event is committed there before it is
//! published here. A subscriber that sees a gap (events can be published slightly out
//! of order by concurrent writers) or falls behind fills in from the store, so the hub
//! only has to be fast, not complete.

use std::collections::HashMap;
use std::sync::Mutex;

use runboard_shared::event::RunEvent;
use runboard_shared::run::RunId;
use tokio::sync::broadcast;

/// How many events a subscriber may fall behind before it is told to resume.
pub const CHANNEL_CAPACITY: usize = 1024;

/// Live event channels, one per run with subscribers.
#[derive(Debug, Default)]
pub struct Hub {
    channels: Mutex<HashMap<RunId, broadcast::Sender<RunEvent>>>,
}

impl Hub {
    /// Subscribes to the live events of `run_id`.
    pub fn subscribe(&self, run_id: &RunId) -> broadcast::Receiver<RunEvent> {
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
            && sender.send(event).is_err()
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
