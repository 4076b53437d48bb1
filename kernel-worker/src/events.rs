//! Following a run's events over its websocket without losing or repeating one: the
//! frame-by-frame decisions, apart from the socket.
//!
//! The server numbers a run's events 1, 2, 3, … and the socket
//! `/api/runs/{id}/events?after=N` replays those after `N`, says `caught_up`, then goes
//! on live. A [`Cursor`] remembers the last `seq` it passed on: older events are
//! dropped (a replay overlapping what was seen), and a gap or the server's `resume`
//! means "reconnect with `after=last`". So after a server restart or a network drop the
//! stream resumes exactly where it stopped. An event of a kind this version cannot
//! read (from a newer server) is passed over by its `seq`, so the stream never stalls
//! on it: the portal's `read_frames` (`frontend/src/api.rs`) follows the same rule.
//! Frames are decoded with [`Frame`]'s derived `Deserialize`.

use runboard_shared::event::{Frame, RunEvent};

/// What to do with one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The next event in order: hand it to the kernel.
    Deliver(RunEvent),
    /// Nothing to hand on: an event already passed on, the end of the replay, or an
    /// event of a kind this version does not know (counted as seen, or the stream
    /// would stall on it).
    Skip,
    /// Close this socket and reconnect with `after=last`; says why.
    Reconnect(String),
}

/// The position in a run's event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last `seq` passed on (or the `after` the stream was opened with).
    pub last: u64,
}

impl Cursor {
    /// A stream that starts after event `after`.
    pub fn after(after: u64) -> Self {
        Self { last: after }
    }

    /// Reads one text frame of the socket (a [`Frame`] as JSON).
    pub fn step(&mut self, text: &str) -> Step {
        match serde_json::from_str::<Frame>(text) {
            Ok(Frame::Event { event }) => self.event(event.seq, Some(event)),
            Ok(Frame::CaughtUp { .. }) => Step::Skip,
            Ok(Frame::Resume { reason, .. }) => Step::Reconnect(format!("the server: {reason}")),
            // An event of a kind (or shape) this version does not know, from a newer
            // server: passed over by its seq, in order like any other.
            Err(e) => match unknown_event_seq(text) {
                Some(seq) => self.event(seq, None),
                None => Step::Reconnect(format!("unreadable frame ({e})")),
            },
        }
    }

    fn event(&mut self, seq: u64, event: Option<RunEvent>) -> Step {
        if seq <= self.last {
            return Step::Skip;
        }
        if seq != self.last + 1 {
            // The server sends every event in order; a gap means something went wrong
            // on the way: reconnect and have it filled.
            return Step::Reconnect(format!("event {seq} came after {}", self.last));
        }
        self.last = seq;
        match event {
            Some(event) => Step::Deliver(event),
            None => Step::Skip,
        }
    }
}

/// The `seq` of an event frame whose event this version cannot decode; `None` for
/// anything else.
fn unknown_event_seq(text: &str) -> Option<u64> {
    let frame: serde_json::Value = serde_json::from_str(text).ok()?;
    if frame.get("frame")?.as_str()? != "event" {
        return None;
    }
    frame.get("event")?.get("seq")?.as_u64()
}

/// How long to wait before reconnecting after `retries` connections in a row ended
/// without a frame: 250 ms, doubling, at most 5 s.
///
/// ```
/// use runboard_kernel_worker::events::backoff_ms;
/// let waits: Vec<u32> = (0..8).map(backoff_ms).collect();
/// assert_eq!(waits, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
/// ```
pub fn backoff_ms(retries: u32) -> u32 {
    250u32.saturating_mul(1 << retries.min(5)).min(5000)
}

#[cfg(test)]
mod tests {
    use runboard_shared::event::EventBody;
    use runboard_shared::run::RunStatus;

    use super::*;

    fn log(seq: u64, text: &str) -> RunEvent {
        RunEvent {
            seq,
            time: "2026-01-01T00:00:00Z".into(),
            body: EventBody::Log {
                path: "user_logs/std_log.txt".into(),
                rank: None,
                text: text.into(),
            },
        }
    }

    fn frame(event: &RunEvent) -> String {
        serde_json::to_string(&Frame::Event {
            event: event.clone(),
        })
        .unwrap()
    }

    /// The frame of event `seq`, a log line.
    fn line(seq: u64) -> String {
        frame(&log(seq, &format!("line {seq}\n")))
    }

    /// The frame of event `seq` of a kind this version does not know.
    fn hologram(seq: u64) -> String {
        format!(r#"{{"frame":"event","event":{{"seq":{seq},"time":"t","type":"hologram"}}}}"#)
    }

    /// A step in words: `deliver N`, `skip` or `reconnect: why`.
    fn said(step: &Step) -> String {
        match step {
            Step::Deliver(event) => format!("deliver {}", event.seq),
            Step::Skip => "skip".into(),
            Step::Reconnect(why) => format!("reconnect: {why}"),
        }
    }

    /// Feeds `frames` to a cursor opened `after`; each row is a frame, what the cursor
    /// does with it (a trailing `…` matches any end), and its position after.
    fn check(after: u64, frames: &[(&str, &str, u64)]) {
        let mut cursor = Cursor::after(after);
        for (n, (text, expected, last)) in frames.iter().enumerate() {
            let step = said(&cursor.step(text));
            let matches = match expected.strip_suffix('…') {
                Some(start) => step.starts_with(start),
                None => step == *expected,
            };
            assert!(matches, "frame {n} {text}: {step}, not {expected}");
            assert_eq!(cursor.last, *last, "frame {n} {text}");
        }
    }

    #[test]
    fn the_cursor_decides_frame_by_frame() {
        let resume = r#"{"frame":"resume","after":5,"reason":"client too slow"}"#;
        check(
            3,
            &[
                // A replay that overlaps what was passed on.
                (&line(2), "skip", 3),
                (&line(3), "skip", 3),
                (r#"{"frame":"caught_up","seq":3}"#, "skip", 3),
                (&line(4), "deliver 4", 4),
                // A newer server's event: counted, not passed on; again in a replay.
                (&hologram(5), "skip", 5),
                (&hologram(5), "skip", 5),
                // A gap: nothing moves until the reconnection fills it.
                (&line(8), "reconnect: event 8 came after 5", 5),
                (&hologram(9), "reconnect: event 9 came after 5", 5),
                (resume, "reconnect: the server: client too slow", 5),
                ("not json", "reconnect: unreadable frame…", 5),
                (
                    r#"{"frame":"something_new"}"#,
                    "reconnect: unreadable frame…",
                    5,
                ),
                (
                    r#"{"frame":"event","event":{"type":"log"}}"#,
                    "reconnect: unreadable frame…",
                    5,
                ),
                (&line(6), "deliver 6", 6),
            ],
        );
    }

    #[test]
    fn events_pass_once_and_in_order_across_a_reconnection() {
        let mut cursor = Cursor::after(0);
        // The first connection: a replay, the end of it, one live event, then the
        // server goes away.
        assert_eq!(
            cursor.step(&frame(&log(1, "epoch 1\n"))),
            Step::Deliver(log(1, "epoch 1\n"))
        );
        assert_eq!(
            cursor.step(&frame(&log(2, "epoch 2\n"))),
            Step::Deliver(log(2, "epoch 2\n"))
        );
        assert_eq!(cursor.step(r#"{"frame":"caught_up","seq":2}"#), Step::Skip);
        assert_eq!(
            cursor.step(&frame(&log(3, "epoch 3\n"))),
            Step::Deliver(log(3, "epoch 3\n"))
        );
        // Reconnected with after=3; were the server to send 3 again, it is dropped.
        assert_eq!(cursor.last, 3);
        assert_eq!(cursor.step(&frame(&log(3, "epoch 3\n"))), Step::Skip);
        assert_eq!(
            cursor.step(&frame(&log(4, "epoch 4\n"))),
            Step::Deliver(log(4, "epoch 4\n"))
        );
    }

    #[test]
    fn a_run_s_last_event_is_passed_on_whole() {
        let failed = RunEvent {
            seq: 12,
            time: "2026-01-01T00:05:00Z".into(),
            body: EventBody::Status {
                status: RunStatus::Failed,
                error: Some("exit status 1".into()),
            },
        };
        assert_eq!(
            Cursor::after(11).step(&frame(&failed)),
            Step::Deliver(failed)
        );
    }

    #[test]
    fn a_known_kind_in_a_newer_shape_is_skipped_by_its_seq() {
        // A status this version does not know: the event cannot be read, but the
        // stream goes on past it.
        let paused =
            r#"{"frame":"event","event":{"seq":2,"time":"t","type":"status","status":"Paused"}}"#;
        check(1, &[(paused, "skip", 2), (&line(3), "deliver 3", 3)]);
    }
}
