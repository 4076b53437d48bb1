//! Following a run's events over its websocket without losing or repeating one: the
//! frame-by-frame decisions, apart from the socket.
//!
//! The server numbers a run's events 1, 2, 3, … and the socket
//! `/api/runs/{id}/events?after=N` replays those after `N`, says `caught_up`, then goes
//! on live. A [`Cursor`] remembers the last `seq` it passed on: older events are
//! dropped (a replay overlapping what was seen), and a gap or the server's `resume`
//! means "reconnect with `after=last`". So after a server restart or a network drop the
//! stream resumes exactly where it stopped.

use std::collections::BTreeMap;

use runboard_shared::api::ScalarPoint;
use runboard_shared::event::{EventBody, RunEvent};
use runboard_shared::run::RunStatus;
use serde_json::Value;

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
    ///
    /// [`Frame`]: runboard_shared::event::Frame
    pub fn step(&mut self, text: &str) -> Step {
        let frame = match serde_json::from_str::<Value>(text) {
            Ok(frame) => frame,
            Err(e) => return Step::Reconnect(format!("unreadable frame ({e})")),
        };
        let field = |name: &str| frame.get(name);
        match field("frame").and_then(Value::as_str) {
            Some("event") => {
                match field("event").and_then(|e| Some((e, e.get("seq")?.as_u64()?))) {
                    Some((event, seq)) => self.event(seq, decode_event(event)),
                    None => Step::Reconnect(format!("an event without its seq: {text}")),
                }
            }
            Some("caught_up") => Step::Skip,
            Some("resume") => Step::Reconnect(format!(
                "the server: {}",
                field("reason").and_then(Value::as_str).unwrap_or("resume")
            )),
            _ => Step::Reconnect(format!("unreadable frame: {text}")),
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

/// A [`RunEvent`] from its JSON, or `None` for a kind (or shape) this version does
/// not know.
///
/// Read by hand rather than with the derived `Deserialize` of `Frame` and `RunEvent`:
/// their internally tagged and flattened enums go through serde's buffering
/// (`Content`) machinery, which made the worker's download 14 KB (gzipped)
/// larger. The tests hold this reader to the derived JSON of every kind of event.
fn decode_event(event: &Value) -> Option<RunEvent> {
    let text = |name: &str| event.get(name).and_then(Value::as_str);
    let owned = |name: &str| text(name).map(str::to_owned);
    let body = match text("type")? {
        "status" => EventBody::Status {
            status: RunStatus::parse(text("status")?)?,
            error: owned("error"),
        },
        "log" => EventBody::Log {
            path: owned("path")?,
            rank: match event.get("rank") {
                None | Some(Value::Null) => None,
                Some(rank) => Some(u32::try_from(rank.as_u64()?).ok()?),
            },
            text: owned("text")?,
        },
        "file" => EventBody::File {
            path: owned("path")?,
            size: event.get("size")?.as_u64()?,
        },
        "scalars" => EventBody::Scalars {
            source: owned("source")?,
            run: owned("run").unwrap_or_default(),
            name: owned("name")?,
            points: event
                .get("points")?
                .as_array()?
                .iter()
                .map(|p| {
                    Some(ScalarPoint {
                        step: p.get("step")?.as_i64()?,
                        wall_time: p.get("wall_time")?.as_f64()?,
                        value: p.get("value")?.as_f64()?,
                    })
                })
                .collect::<Option<_>>()?,
        },
        "metric_value" => EventBody::MetricValue {
            name: owned("name")?,
            kind: owned("kind")?,
            value: event.get("value")?.clone(),
        },
        "tags" => {
            let mut tags = BTreeMap::new();
            for (name, value) in event.get("tags")?.as_object()? {
                tags.insert(name.clone(), value.as_str()?.to_owned());
            }
            EventBody::Tags { tags }
        }
        _ => return None,
    };
    Some(RunEvent {
        seq: event.get("seq")?.as_u64()?,
        time: owned("time")?,
        body,
    })
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
    use runboard_shared::event::Frame;

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
    fn a_gap_asks_for_a_reconnection_and_changes_nothing() {
        let mut cursor = Cursor::after(4);
        assert_eq!(
            cursor.step(&frame(&log(7, "lost?\n"))),
            Step::Reconnect("event 7 came after 4".into())
        );
        assert_eq!(cursor.last, 4);
    }

    #[test]
    fn the_server_s_resume_asks_for_a_reconnection() {
        let mut cursor = Cursor::after(10);
        assert_eq!(
            cursor.step(r#"{"frame":"resume","after":10,"reason":"client too slow"}"#),
            Step::Reconnect("the server: client too slow".into())
        );
        assert_eq!(cursor.last, 10);
    }

    #[test]
    fn an_event_of_an_unknown_kind_is_counted_but_not_passed_on() {
        let mut cursor = Cursor::after(1);
        let newer = r#"{"frame":"event","event":{"seq":2,"time":"t","type":"hologram"}}"#;
        assert_eq!(cursor.step(newer), Step::Skip);
        assert_eq!(cursor.last, 2);
        // Seen again in a replay: still skipped.
        assert_eq!(cursor.step(newer), Step::Skip);
        let far = r#"{"frame":"event","event":{"seq":9,"time":"t","type":"hologram"}}"#;
        assert!(matches!(cursor.step(far), Step::Reconnect(_)));
    }

    #[test]
    fn every_kind_of_event_reads_as_the_server_writes_it() {
        let bodies = [
            EventBody::Status {
                status: RunStatus::Failed,
                error: Some("exit status 1".into()),
            },
            EventBody::Status {
                status: RunStatus::Running,
                error: None,
            },
            EventBody::Log {
                path: "user_logs/std_log_process_1.txt".into(),
                rank: Some(1),
                text: "loss 0.25\n".into(),
            },
            EventBody::File {
                path: "outputs/model.json".into(),
                size: 1234,
            },
            EventBody::Scalars {
                source: "tensorboard".into(),
                run: "train".into(),
                name: "loss".into(),
                points: vec![ScalarPoint {
                    step: 3,
                    wall_time: 1.7e9,
                    value: 0.5,
                }],
            },
            EventBody::Scalars {
                source: "metric".into(),
                run: String::new(),
                name: "acc".into(),
                points: vec![],
            },
            EventBody::MetricValue {
                name: "confusion".into(),
                kind: "table".into(),
                value: serde_json::json!({"a": [1, 2]}),
            },
            EventBody::Tags {
                tags: BTreeMap::from([("team".to_owned(), "vision".to_owned())]),
            },
        ];
        let mut cursor = Cursor::after(0);
        for (seq, body) in (1..).zip(bodies) {
            let event = RunEvent {
                seq,
                time: "2026-01-01T00:00:00Z".into(),
                body,
            };
            assert_eq!(cursor.step(&frame(&event)), Step::Deliver(event));
        }
    }

    #[test]
    fn garbage_asks_for_a_reconnection() {
        let mut cursor = Cursor::after(0);
        assert!(matches!(cursor.step("not json"), Step::Reconnect(_)));
        assert!(matches!(
            cursor.step(r#"{"frame":"something_new"}"#),
            Step::Reconnect(_)
        ));
        assert_eq!(cursor.last, 0);
    }
}
