//! The run websocket's follower, written once: [`follow`] opens
//! `GET /api/runs/{id}/events?after=N`, reads its frames through the shared
//! [`Cursor`] (each event once, in `seq` order; a gap or the server's `resume` means
//! reconnect), and reconnects with `after=<last seq>` until the caller has what it
//! wanted, the run is deleted, or the [`Connect`] gives up. The sockets, the waiting
//! and what to show are the [`Connect`]'s: gloo-net's websocket in the browser
//! (`frontend/src/api.rs`), tokio-tungstenite in the CLI (`server/src/cli.rs`).

use std::future::Future;
use std::ops::ControlFlow;

use runboard_shared::event::{Cursor, RunEvent, Step};
use runboard_shared::run::RunId;

use crate::requests;

/// What a socket gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// The server closed it because the run was deleted
    /// (`runboard_shared::event::CLOSE_DELETED`).
    Deleted,
    /// It ended (closed, failed, or the network went away).
    Ended,
}

/// An open websocket.
pub trait Socket {
    /// The next frame.
    fn next(&mut self) -> impl Future<Output = Frame>;
}

/// Why a connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Try again after a pause.
    Retry(String),
    /// Stop following: this will not get better (the server refused the request, or
    /// never answered).
    Stop(String),
}

/// Where a follower stands, for a page to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Opening the first socket, or replaying what happened so far.
    Connecting,
    /// Caught up: events arrive as they happen.
    Live,
    /// Opening another socket after `attempt` connections in a row that did not get
    /// as far as live events.
    Reconnecting {
        /// How many attempts failed in a row.
        attempt: u32,
    },
}

/// The I/O of a follower: sockets, pauses, and what it says.
pub trait Connect {
    /// The socket it opens.
    type Socket: Socket;
    /// Opens the websocket at `path` (from the server's root, with its query).
    fn connect(&mut self, path: &str) -> impl Future<Output = Result<Self::Socket, Refused>>;
    /// Waits before connection `attempt` (`0`: the first, or the first after a
    /// connection that was live); `Err` with why to give up.
    fn pause(&mut self, attempt: u32) -> impl Future<Output = Result<(), String>>;
    /// Where the follower stands now.
    fn state(&mut self, _state: State) {}
    /// Why a connection was dropped or could not be opened (for a log).
    fn warn(&mut self, _why: &str) {}
}

/// How [`follow`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End<B> {
    /// The caller's `on_event` broke with this.
    Done(B),
    /// The run was deleted while it was followed.
    Deleted,
    /// The [`Connect`] gave up, with why.
    Stopped(String),
}

/// Follows run `id`'s events after `after`, handing each to `on_event` once, in
/// `seq` order, until `on_event` breaks, the run is deleted or `connect` gives up.
///
/// The count of failed attempts (handed to [`Connect::pause`]) starts again after a
/// connection that got as far as live events.
pub async fn follow<C: Connect, B>(
    connect: &mut C,
    id: &RunId,
    after: u64,
    mut on_event: impl FnMut(RunEvent) -> ControlFlow<B>,
) -> End<B> {
    let mut cursor = Cursor::after(after);
    let mut attempt = 0u32;
    loop {
        if let Err(why) = connect.pause(attempt).await {
            return End::Stopped(why);
        }
        connect.state(if attempt == 0 {
            State::Connecting
        } else {
            State::Reconnecting { attempt }
        });
        match connect
            .connect(&requests::events_path(id, cursor.last()))
            .await
        {
            Ok(mut socket) => loop {
                let text = match socket.next().await {
                    Frame::Text(text) => text,
                    Frame::Deleted => return End::Deleted,
                    Frame::Ended => break,
                };
                match cursor.step(&text) {
                    Step::Deliver(event) => {
                        if let ControlFlow::Break(b) = on_event(event) {
                            return End::Done(b);
                        }
                    }
                    Step::Skip => {}
                    Step::CaughtUp => {
                        attempt = 0;
                        connect.state(State::Live);
                    }
                    Step::Reconnect(why) => {
                        connect.warn(&why);
                        break;
                    }
                }
            },
            Err(Refused::Stop(why)) => return End::Stopped(why),
            Err(Refused::Retry(why)) => connect.warn(&why),
        }
        attempt = attempt.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use runboard_shared::event::EventBody;

    use super::*;

    /// A scripted server: each connection gives the frames of its script, in order;
    /// the paths asked for and the states are recorded.
    #[derive(Default)]
    struct Script {
        connections: VecDeque<Result<Vec<Frame>, Refused>>,
        paths: Vec<String>,
        pauses: Vec<u32>,
        states: Vec<State>,
    }

    impl Script {
        fn with<const N: usize>(connections: [Result<Vec<Frame>, Refused>; N]) -> Self {
            Self {
                connections: connections.into(),
                ..Self::default()
            }
        }
    }

    struct Scripted(VecDeque<Frame>);

    impl Socket for Scripted {
        async fn next(&mut self) -> Frame {
            self.0.pop_front().unwrap_or(Frame::Ended)
        }
    }

    impl Connect for Script {
        type Socket = Scripted;
        async fn connect(&mut self, path: &str) -> Result<Scripted, Refused> {
            self.paths.push(path.to_owned());
            match self.connections.pop_front() {
                Some(Ok(frames)) => Ok(Scripted(frames.into())),
                Some(Err(refused)) => Err(refused),
                None => Err(Refused::Stop("script over".to_owned())),
            }
        }
        async fn pause(&mut self, attempt: u32) -> Result<(), String> {
            self.pauses.push(attempt);
            Ok(())
        }
        fn state(&mut self, state: State) {
            self.states.push(state);
        }
    }

    fn log(seq: u64, text: &str) -> Frame {
        Frame::Text(format!(
            r#"{{"frame":"event","event":{{"seq":{seq},"time":"t","type":"log","path":"user_logs/std_log.txt","text":"{text}"}}}}"#
        ))
    }

    fn caught_up(seq: u64) -> Frame {
        Frame::Text(format!(r#"{{"frame":"caught_up","seq":{seq}}}"#))
    }

    /// Runs a future that never waits on anything outside it (the script's).
    fn run<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }

    fn texts(script: &mut Script, after: u64, until: &str) -> (Vec<String>, End<()>) {
        let id = RunId::parse("exp_1700000000_abcd1234").expect("a run id");
        let mut seen = Vec::new();
        let end = run(follow(script, &id, after, |event| {
            let EventBody::Log { text, .. } = event.body else {
                return ControlFlow::Continue(());
            };
            let stop = text == until;
            seen.push(text);
            if stop {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }));
        (seen, end)
    }

    #[test]
    fn every_event_once_in_order_across_drops_gaps_and_refusals() {
        let mut script = Script::with([
            Ok(vec![log(1, "a"), log(2, "b"), caught_up(2), log(3, "c")]),
            // A connection refused, then a replay overlapping what was seen, and a gap.
            Err(Refused::Retry("connection reset".to_owned())),
            Ok(vec![log(2, "b"), log(3, "c"), log(4, "d"), log(6, "gap")]),
            Ok(vec![log(5, "e"), log(6, "end"), log(7, "never")]),
        ]);
        let (seen, end) = texts(&mut script, 0, "end");
        assert_eq!(seen, ["a", "b", "c", "d", "e", "end"]);
        assert_eq!(end, End::Done(()));
        let after: Vec<&str> = script
            .paths
            .iter()
            .map(|p| p.rsplit_once('=').map_or("", |(_, a)| a))
            .collect();
        assert_eq!(after, ["0", "3", "3", "4"]);
        // Live resets the count; the failures after it count up.
        assert_eq!(script.pauses, [0, 1, 2, 3]);
        assert_eq!(
            script.states,
            [
                State::Connecting,
                State::Live,
                State::Reconnecting { attempt: 1 },
                State::Reconnecting { attempt: 2 },
                State::Reconnecting { attempt: 3 }
            ]
        );
    }

    #[test]
    fn a_deleted_run_or_a_refusal_to_stop_ends_the_following() {
        let mut script = Script::with([Ok(vec![log(8, "x"), Frame::Deleted])]);
        let (seen, end) = texts(&mut script, 7, "");
        assert_eq!((seen, end), (vec!["x".to_owned()], End::Deleted));
        assert!(
            script.paths[0].ends_with("/events?after=7"),
            "{:?}",
            script.paths
        );

        let mut script = Script::with([Err(Refused::Stop("HTTP 403 Forbidden".to_owned()))]);
        let (seen, end) = texts(&mut script, 0, "");
        assert!(seen.is_empty());
        assert_eq!(end, End::Stopped("HTTP 403 Forbidden".to_owned()));
    }
}
