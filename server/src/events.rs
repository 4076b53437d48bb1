//! The one way a run's events are published: commit to the store, then fan out.
//!
//! [`Events::commit`] takes a store write that yields events, awaits it, and only
//! when it succeeded hands its events to the [`Hub`]. Nothing else in the server calls
//! the hub's `publish` (`grep -rn "hub.publish\|\.hub\b" server/src` finds only this
//! file and the hub), so an event a websocket client sees is always in the store, and
//! a client can be served from the store alone.
//!
//! (The websocket *handler* is `api/events.rs`; this is the service it subscribes to.)

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use runboard_shared::event::RunEvent;
use runboard_shared::run::{RunId, RunStatus};
use tokio::sync::broadcast;

use crate::hub::{Hub, Live};
use crate::store::{Store, StoreError};

/// Commits run events and fans them out. Cheap to clone (the hub is shared).
#[derive(Debug, Clone)]
pub struct Events {
    store: Store,
    hub: Arc<Hub>,
}

/// What a store write yields that holds events to publish: one, maybe one, or many.
pub trait Published {
    /// The events, in the order they were committed.
    fn events(&self) -> &[RunEvent];
}

impl Published for RunEvent {
    fn events(&self) -> &[RunEvent] {
        std::slice::from_ref(self)
    }
}

impl Published for Option<RunEvent> {
    fn events(&self) -> &[RunEvent] {
        self.as_slice()
    }
}

impl Published for Vec<RunEvent> {
    fn events(&self) -> &[RunEvent] {
        self
    }
}

impl Events {
    /// The service over `store`, fanning out through `hub` (shared with whoever
    /// else holds it: a test that publishes what it committed itself).
    pub fn new(store: Store, hub: Arc<Hub>) -> Self {
        Self { store, hub }
    }

    /// Awaits the store write `write`; when it succeeded, publishes the events it
    /// committed and returns what it returned. A failed write publishes nothing.
    pub async fn commit<T: Published, E>(
        &self,
        run_id: &RunId,
        write: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let written = write.await?;
        for event in written.events() {
            self.hub.publish(run_id, event.clone());
        }
        Ok(written)
    }

    /// Changes a run's status (if the transition table allows) and publishes it;
    /// `None` when the change was refused.
    pub async fn set_status(
        &self,
        run_id: &RunId,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<Option<RunEvent>, StoreError> {
        self.commit(run_id, self.store.set_status(run_id, status, error))
            .await
    }

    /// Reads what the run's logs gained since their stored offsets and commits it
    /// (the whole of each log when `eof`), publishing each event as soon as it is
    /// committed ([`crate::watch::tail_logs_each`]).
    pub async fn tail_logs(
        &self,
        run_id: &RunId,
        run_dir: &Path,
        eof: bool,
    ) -> Result<(), StoreError> {
        crate::watch::tail_logs_each(&self.store, run_id, run_dir, eof, |event| {
            self.hub.publish(run_id, event)
        })
        .await
    }

    /// Subscribes to the live events of `run_id` (what was committed before comes
    /// from the store: [`crate::replay`]).
    pub fn subscribe(&self, run_id: &RunId) -> broadcast::Receiver<Arc<Live>> {
        self.hub.subscribe(run_id)
    }

    /// Ends the run's live channel (the run was deleted).
    pub fn close(&self, run_id: &RunId) {
        self.hub.close(run_id);
    }
}

#[cfg(test)]
mod tests {
    use runboard_shared::event::EventBody;
    use runboard_shared::run::ExperimentName;

    use super::*;

    fn event(seq: u64) -> RunEvent {
        RunEvent {
            seq,
            time: "2026-12-05T00:00:00Z".into(),
            body: EventBody::Status {
                status: RunStatus::Running,
                error: None,
            },
        }
    }

    #[tokio::test]
    async fn a_write_that_failed_publishes_nothing_and_one_that_succeeded_publishes_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).await.unwrap();
        let events = Events::new(store, Arc::new(Hub::default()));
        let run = RunId::new(&ExperimentName::new("e").unwrap(), 1_700_000_000, 1);
        let mut live = events.subscribe(&run);

        let failed = events
            .commit(&run, async { Err::<RunEvent, _>("refused") })
            .await;
        assert_eq!(failed, Err("refused"));
        assert!(live.try_recv().is_err(), "nothing was published");

        let none = events
            .commit(&run, async { Ok::<_, ()>(None::<RunEvent>) })
            .await;
        assert_eq!(none, Ok(None));
        assert!(
            live.try_recv().is_err(),
            "a refused change publishes nothing"
        );

        let written = events
            .commit(&run, async { Ok::<_, ()>(vec![event(1), event(2)]) })
            .await
            .unwrap();
        assert_eq!(written, vec![event(1), event(2)]);
        assert_eq!(live.try_recv().unwrap().event, event(1));
        assert_eq!(live.try_recv().unwrap().event, event(2));
        assert!(live.try_recv().is_err());
    }
}
