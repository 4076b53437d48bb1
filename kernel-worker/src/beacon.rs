//! [`Beacon`]: a counter of things that happened (an interrupt request, a message
//! arriving, the network going away) that a future can wait on. Single-threaded, as
//! everything in a Web Worker is.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Counts [`Beacon::fire`]s and wakes whoever waits for the next one.
#[derive(Debug, Default)]
pub struct Beacon {
    state: RefCell<State>,
}

#[derive(Debug, Default)]
struct State {
    count: u64,
    next_waiter: u64,
    waiters: BTreeMap<u64, Waker>,
}

impl Beacon {
    /// A beacon that has not fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times it has fired.
    pub fn count(&self) -> u64 {
        self.state.borrow().count
    }

    /// Fires: counts one more and wakes every waiting [`Fired`].
    pub fn fire(&self) {
        let waiters = {
            let mut state = self.state.borrow_mut();
            state.count += 1;
            std::mem::take(&mut state.waiters)
        };
        for waker in waiters.into_values() {
            waker.wake();
        }
    }

    /// A future that is ready once the beacon has fired more than `seen` times
    /// (at once if it already has).
    pub fn fired_since(&self, seen: u64) -> Fired<'_> {
        Fired {
            beacon: self,
            seen,
            waiter: None,
        }
    }
}

/// The future of [`Beacon::fired_since`]. Dropping it forgets its waker, so a wait that
/// loses a race leaves nothing behind.
#[derive(Debug)]
pub struct Fired<'a> {
    beacon: &'a Beacon,
    seen: u64,
    waiter: Option<u64>,
}

impl Future for Fired<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.beacon.state.borrow_mut();
        if state.count > self.seen {
            if let Some(id) = self.waiter {
                state.waiters.remove(&id);
            }
            drop(state);
            self.waiter = None;
            return Poll::Ready(());
        }
        let id = match self.waiter {
            Some(id) => id,
            None => {
                let id = state.next_waiter;
                state.next_waiter += 1;
                id
            }
        };
        state.waiters.insert(id, cx.waker().clone());
        drop(state);
        self.waiter = Some(id);
        Poll::Pending
    }
}

impl Drop for Fired<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.waiter {
            self.beacon.state.borrow_mut().waiters.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use futures_util::FutureExt;

    use super::*;

    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wait_ends_when_the_beacon_fires_after_it_was_seen() {
        let interrupts = Beacon::new();
        let seen = interrupts.count();
        let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);

        let mut wait = std::pin::pin!(interrupts.fired_since(seen));
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        // Polled again (the socket woke the same task): still one waiter.
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        assert_eq!(interrupts.state.borrow().waiters.len(), 1);

        interrupts.fire();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert!(wait.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn an_earlier_fire_counts_and_a_dropped_wait_leaves_nothing() {
        let beacon = Beacon::new();
        beacon.fire();
        assert_eq!(beacon.fired_since(0).now_or_never(), Some(()));
        assert_eq!(beacon.fired_since(1).now_or_never(), None);
        assert!(beacon.state.borrow().waiters.is_empty());
    }
}
