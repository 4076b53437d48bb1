//! [`Inbox`]: the page's messages as the worker takes them. Cells (`Run`, `Attach`)
//! queue up and are taken one at a time, in arrival order; `Interrupt` jumps the queue
//! and is counted at once, so a running cell sees it at its next loop step or server
//! call.

use std::cell::RefCell;
use std::collections::VecDeque;

use runboard_shared::cell::worker::ToWorker;

use crate::beacon::Beacon;

/// The queue of cells to run and the count of interrupt requests.
#[derive(Debug, Default)]
pub struct Inbox {
    queue: RefCell<VecDeque<ToWorker>>,
    arrivals: Beacon,
    /// Fires at each [`ToWorker::Interrupt`].
    pub interrupts: Beacon,
}

impl Inbox {
    /// An empty inbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one message, as the page posted it (a [`ToWorker`] as JSON).
    pub fn receive(&self, text: &str) -> Result<(), String> {
        match serde_json::from_str::<ToWorker>(text) {
            Ok(ToWorker::Interrupt) => self.interrupts.fire(),
            Ok(job) => {
                self.queue.borrow_mut().push_back(job);
                self.arrivals.fire();
            }
            Err(e) => return Err(format!("unreadable message ({e}): {text}")),
        }
        Ok(())
    }

    /// The next `Run` or `Attach`, waiting for one if none is queued.
    pub async fn next_job(&self) -> ToWorker {
        loop {
            let seen = self.arrivals.count();
            if let Some(job) = self.queue.borrow_mut().pop_front() {
                return job;
            }
            self.arrivals.fired_since(seen).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    fn run(cell: &str) -> ToWorker {
        ToWorker::Run {
            cell: cell.into(),
            source: "x = 1".into(),
            cwd: String::new(),
        }
    }

    #[test]
    fn cells_are_taken_in_arrival_order_and_interrupts_are_counted_at_once() {
        let inbox = Inbox::new();
        inbox.receive(&run("a").to_json()).unwrap();
        inbox.receive(&run("b").to_json()).unwrap();
        inbox.receive(r#"{"type":"interrupt"}"#).unwrap();
        assert_eq!(inbox.interrupts.count(), 1);

        assert_eq!(inbox.next_job().now_or_never(), Some(run("a")));
        assert_eq!(inbox.next_job().now_or_never(), Some(run("b")));
        // Nothing queued: the worker waits.
        assert_eq!(inbox.next_job().now_or_never(), None);
    }

    #[test]
    fn a_waiting_worker_takes_the_next_cell_when_it_comes() {
        let inbox = Inbox::new();
        let mut next = Box::pin(inbox.next_job());
        assert_eq!((&mut next).now_or_never(), None);
        inbox.receive(&run("c").to_json()).unwrap();
        assert_eq!(next.now_or_never(), Some(run("c")));
    }

    #[test]
    fn a_message_that_is_not_a_to_worker_is_refused() {
        let inbox = Inbox::new();
        let e = inbox.receive(r#"{"type":"restart"}"#).unwrap_err();
        assert!(e.starts_with("unreadable message"), "{e}");
        assert_eq!(inbox.next_job().now_or_never(), None);
    }
}
