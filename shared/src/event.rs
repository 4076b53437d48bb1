//! The run event protocol spoken on `GET /api/runs/{id}/events?after=N`.
//!
//! Every event of a run carries a per-run sequence number `seq`, starting at 1 with
//! no gaps. A client remembers the last `seq` it handled and reconnects with
//! `after=<that seq>`: the server replays what it missed from the store, then goes
//! on live, so nothing is lost and nothing is seen twice.
//!
//! A [`Cursor`] is that client side, apart from the socket: every follower of a run
//! (the portal, the browser's kernel worker, the CLI's kernel host) feeds it each
//! text frame and does what its [`Step`] says.

use serde::{Deserialize, Serialize};

use crate::run::RunStatus;

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "flat::Event")]
pub struct RunEvent {
    /// Position in the run's event sequence: 1, 2, 3, … with no gaps.
    pub seq: u64,
    /// When the server recorded the event (RFC 3339, UTC).
    pub time: String,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

/// What happened to a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// The run changed status; `error` says why when it is `Failed`.
    Status {
        /// The new status.
        status: RunStatus,
        /// The reason of a failure, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Text appended to one of the run's log files.
    Log {
        /// The log file, relative to the run (`user_logs/std_log.txt`).
        path: String,
        /// The process rank the log belongs to, for per-process logs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rank: Option<u32>,
        /// The appended text (whole UTF-8 characters; may end mid-line).
        text: String,
    },
    /// A file under `outputs/` or `logs/` appeared or changed.
    File {
        /// Path relative to the run's artifact root (`outputs/model.txt`).
        path: String,
        /// Size in bytes.
        size: u64,
    },
    /// Points appended to a scalar series: a metric logged with `Run.log`, or a
    /// TensorBoard scalar read from an event file under `logs/`.
    Scalars {
        /// `metric` for `Run.log`, `tensorboard` for event files.
        source: String,
        /// The TensorBoard run (the folder under `logs/`, `.` for `logs/` itself);
        /// empty for metrics.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        run: String,
        /// The metric name or TensorBoard tag.
        name: String,
        /// The new points, in order.
        points: Vec<crate::api::ScalarPoint>,
    },
    /// A metric value that is not a number (`log_list`, `log_row`, `log_table`,
    /// `log_image`, a string).
    MetricValue {
        /// The metric name.
        name: String,
        /// `list`, `row`, `table`, `image` or `value`.
        kind: String,
        /// The value as logged.
        value: serde_json::Value,
    },
    /// The run waits in `Queued` for a free slot of its compute target, at this place
    /// in the target's line (1 is next). Sent when the run joins the line and each
    /// time its place changes; its next status event ends the wait.
    QueuePosition {
        /// Its place in the line, from 1.
        position: u32,
    },
    /// The run's tags changed; this is the whole new set.
    Tags {
        /// Every tag of the run after the change.
        tags: std::collections::BTreeMap<String, String>,
    },
}

/// One frame the server sends on a run's websocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "frame", rename_all = "snake_case", try_from = "flat::Frame")]
pub enum Frame {
    /// An event, replayed or live.
    Event {
        /// The event.
        event: RunEvent,
    },
    /// Replay is done: every event up to `seq` has been sent; live events follow.
    CaughtUp {
        /// The last sequence number sent so far.
        seq: u64,
    },
    /// The server is closing this connection (the client fell too far behind);
    /// reconnect with `after` to go on without loss.
    Resume {
        /// The sequence number to reconnect after.
        after: u64,
        /// Why the connection is closed.
        reason: String,
    },
}

/// How frames and events are read: into one flat struct with every variant's fields,
/// then checked into the enum. serde's derive for an internally tagged enum (and for
/// `flatten`) would buffer each frame into its private `Content` tree first, about
/// 16 KB of the portal's wasm; the JSON read is the same (`frames_have_a_flat_readable_json_form`,
/// `every_event_reads_back_as_written`). Writing stays derived.
mod flat {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer};

    use super::EventBody;
    use crate::api::ScalarPoint;
    use crate::run::RunStatus;

    /// A [`super::Frame`], any variant.
    #[derive(Deserialize)]
    pub(super) struct Frame {
        frame: String,
        event: Option<super::RunEvent>,
        seq: Option<u64>,
        after: Option<u64>,
        reason: Option<String>,
    }

    /// A [`super::RunEvent`], any kind.
    #[derive(Deserialize)]
    pub(super) struct Event {
        seq: u64,
        time: String,
        #[serde(rename = "type")]
        kind_of_event: String,
        status: Option<RunStatus>,
        error: Option<String>,
        path: Option<String>,
        rank: Option<u32>,
        text: Option<String>,
        size: Option<u64>,
        source: Option<String>,
        run: Option<String>,
        name: Option<String>,
        points: Option<Vec<ScalarPoint>>,
        kind: Option<String>,
        #[serde(default, deserialize_with = "present")]
        value: Option<serde_json::Value>,
        position: Option<u32>,
        tags: Option<BTreeMap<String, String>>,
    }

    /// A field that is there, `null` included (`value` may be any JSON).
    fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
        serde_json::Value::deserialize(d).map(Some)
    }

    /// A required field of the variant read.
    fn needed<T>(field: Option<T>, name: &str) -> Result<T, String> {
        field.ok_or_else(|| format!("missing field `{name}`"))
    }

    impl TryFrom<Frame> for super::Frame {
        type Error = String;

        fn try_from(f: Frame) -> Result<Self, String> {
            Ok(match f.frame.as_str() {
                "event" => Self::Event {
                    event: needed(f.event, "event")?,
                },
                "caught_up" => Self::CaughtUp {
                    seq: needed(f.seq, "seq")?,
                },
                "resume" => Self::Resume {
                    after: needed(f.after, "after")?,
                    reason: needed(f.reason, "reason")?,
                },
                other => return Err(format!("unknown frame `{other}`")),
            })
        }
    }

    impl TryFrom<Event> for super::RunEvent {
        type Error = String;

        fn try_from(e: Event) -> Result<Self, String> {
            let body = match e.kind_of_event.as_str() {
                "status" => EventBody::Status {
                    status: needed(e.status, "status")?,
                    error: e.error,
                },
                "log" => EventBody::Log {
                    path: needed(e.path, "path")?,
                    rank: e.rank,
                    text: needed(e.text, "text")?,
                },
                "file" => EventBody::File {
                    path: needed(e.path, "path")?,
                    size: needed(e.size, "size")?,
                },
                "scalars" => EventBody::Scalars {
                    source: needed(e.source, "source")?,
                    run: e.run.unwrap_or_default(),
                    name: needed(e.name, "name")?,
                    points: needed(e.points, "points")?,
                },
                "metric_value" => EventBody::MetricValue {
                    name: needed(e.name, "name")?,
                    kind: needed(e.kind, "kind")?,
                    value: needed(e.value, "value")?,
                },
                "queue_position" => EventBody::QueuePosition {
                    position: needed(e.position, "position")?,
                },
                "tags" => EventBody::Tags {
                    tags: needed(e.tags, "tags")?,
                },
                other => return Err(format!("unknown event type `{other}`")),
            };
            Ok(Self {
                seq: e.seq,
                time: e.time,
                body,
            })
        }
    }
}

/// The websocket close code the server sends when the followed run is deleted (codes
/// from 4000 are the application's); its reason says so. A follower stops there.
pub const CLOSE_DELETED: u16 = 4404;

/// How long a follower waits before reconnecting after `retries` connections in a
/// row ended without a good frame: 250 ms, doubling, at most 5 s.
///
/// ```
/// use runboard_shared::event::backoff_ms;
/// let waits: Vec<u32> = (0..8).map(backoff_ms).collect();
/// assert_eq!(waits, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
/// ```
pub fn backoff_ms(retries: u32) -> u32 {
    250u32.saturating_mul(1 << retries.min(5)).min(5000)
}

/// What a follower does with one frame, as its [`Cursor`] decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The next event in order: hand it on.
    Deliver(RunEvent),
    /// Nothing to hand on: an event already passed on (a replay overlapping what was
    /// seen), or an event of a kind this version cannot read (counted as seen, or the
    /// stream would stall on it).
    Skip,
    /// The replay is done: what follows is live.
    CaughtUp,
    /// Close this socket and reconnect with `after=`[`Cursor::last`]; says why.
    Reconnect(String),
}

/// The position in a run's event stream, and the frame-by-frame rules that keep a
/// follower from losing or repeating an event.
///
/// - An event is passed on only if its `seq` is `last + 1`; one at or below `last`
///   is dropped (a replay overlapping what was seen).
/// - A gap (`seq > last + 1`) or the server's `resume` means "reconnect with
///   `after=last`": the server fills the gap from its store.
/// - A frame that does not decode but is an `event` frame with a readable `seq` (an
///   event of a kind, or in a shape, from a newer server) is passed over by its `seq`,
///   in order like any other: a newer server must not stall an older client.
/// - Any other frame that cannot be read means "reconnect".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    last: u64,
}

impl Cursor {
    /// A stream opened with `after=<after>`.
    pub fn after(after: u64) -> Self {
        Self { last: after }
    }

    /// The last `seq` passed on or passed over (or the `after` the stream was opened
    /// with): the `after` of the next connection.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Reads one text frame of the socket (a [`Frame`] as JSON).
    pub fn step(&mut self, text: &str) -> Step {
        match serde_json::from_str::<Frame>(text) {
            Ok(Frame::Event { event }) => self.event(event.seq, Some(event)),
            Ok(Frame::CaughtUp { .. }) => Step::CaughtUp,
            Ok(Frame::Resume { reason, .. }) => Step::Reconnect(format!("the server: {reason}")),
            Err(e) => match unknown_event_seq(text) {
                Some(seq) => self.event(seq, None),
                None => Step::Reconnect(format!("unreadable frame ({e})")),
            },
        }
    }

    /// The rules of order for event `seq`, whose event is `None` when it cannot be
    /// read.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_a_flat_readable_json_form() {
        let frame = Frame::Event {
            event: RunEvent {
                seq: 7,
                time: "2026-11-27T05:00:00Z".into(),
                body: EventBody::Log {
                    path: "user_logs/std_log.txt".into(),
                    rank: None,
                    text: "epoch 1\n".into(),
                },
            },
        };
        let json = serde_json::to_string(&frame).unwrap();
        assert_eq!(
            json,
            r#"{"frame":"event","event":{"seq":7,"time":"2026-11-27T05:00:00Z","type":"log","path":"user_logs/std_log.txt","text":"epoch 1\n"}}"#
        );
        assert_eq!(serde_json::from_str::<Frame>(&json).unwrap(), frame);
    }

    /// A frame written short: `log N` (event N, a log line), `hologram N` (event N, of
    /// a kind this version does not know), `caught_up N`, `resume N`; anything else is
    /// the frame's text as is.
    fn frame(short: &str) -> String {
        let Some((word, seq)) = short
            .split_once(' ')
            .and_then(|(word, n)| Some((word, n.parse::<u64>().ok()?)))
        else {
            return short.to_owned();
        };
        match word {
            "log" => serde_json::to_string(&Frame::Event {
                event: RunEvent {
                    seq,
                    time: "2026-01-01T00:00:00Z".into(),
                    body: EventBody::Log {
                        path: "user_logs/std_log.txt".into(),
                        rank: None,
                        text: format!("line {seq}\n"),
                    },
                },
            })
            .unwrap(),
            "hologram" => format!(
                r#"{{"frame":"event","event":{{"seq":{seq},"time":"t","type":"hologram"}}}}"#
            ),
            "caught_up" => format!(r#"{{"frame":"caught_up","seq":{seq}}}"#),
            "resume" => {
                format!(r#"{{"frame":"resume","after":{seq},"reason":"client too slow"}}"#)
            }
            _ => short.to_owned(),
        }
    }

    /// A step in words: `deliver N`, `skip`, `caught up` or `reconnect: why`.
    fn said(step: &Step) -> String {
        match step {
            Step::Deliver(event) => format!("deliver {}", event.seq),
            Step::Skip => "skip".into(),
            Step::CaughtUp => "caught up".into(),
            Step::Reconnect(why) => format!("reconnect: {why}"),
        }
    }

    /// One example: what it shows, the `after=` the stream is opened with, and its
    /// frames, each a row: the frame (see [`frame`]), what the cursor says to do with
    /// it (a trailing `…` matches any end), and [`Cursor::last`] after it.
    type Example = (
        &'static str,
        u64,
        &'static [(&'static str, &'static str, u64)],
    );

    const EXAMPLES: &[Example] = &[
        (
            "events are passed on once and in order",
            0,
            &[
                ("log 1", "deliver 1", 1),
                ("log 2", "deliver 2", 2),
                ("caught_up 2", "caught up", 2),
                ("log 3", "deliver 3", 3),
            ],
        ),
        (
            "reconnected with after=3, what the server sends again is dropped",
            3,
            &[
                ("log 2", "skip", 3),
                ("log 3", "skip", 3),
                ("caught_up 3", "caught up", 3),
                ("log 4", "deliver 4", 4),
            ],
        ),
        (
            "an event of an unknown kind is passed over by its seq, also when replayed",
            4,
            &[
                ("hologram 5", "skip", 5),
                ("hologram 5", "skip", 5),
                ("log 6", "deliver 6", 6),
            ],
        ),
        (
            "a known kind in a newer shape (a status this version does not know) too",
            6,
            &[
                (
                    r#"{"frame":"event","event":{"seq":7,"time":"t","type":"status","status":"Paused"}}"#,
                    "skip",
                    7,
                ),
                ("log 8", "deliver 8", 8),
            ],
        ),
        (
            "a gap means reconnect after the last event; the reconnection fills it",
            5,
            &[
                ("log 8", "reconnect: event 8 came after 5", 5),
                ("hologram 9", "reconnect: event 9 came after 5", 5),
                ("log 6", "deliver 6", 6),
                ("log 7", "deliver 7", 7),
                ("log 8", "deliver 8", 8),
            ],
        ),
        (
            "resume means reconnect after the last event",
            5,
            &[
                ("resume 5", "reconnect: the server: client too slow", 5),
                ("log 6", "deliver 6", 6),
            ],
        ),
        (
            "a frame that cannot be read, not even as an event with a seq, means reconnect",
            5,
            &[
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
                (
                    r#"{"frame":"event","event":{"seq":"6","type":"hologram"}}"#,
                    "reconnect: unreadable frame…",
                    5,
                ),
            ],
        ),
    ];

    #[test]
    fn the_cursor_decides_as_in_the_examples() {
        for (example, after, rows) in EXAMPLES {
            let mut cursor = Cursor::after(*after);
            for (short, expected, last) in *rows {
                let step = said(&cursor.step(&frame(short)));
                let matches = match expected.strip_suffix('…') {
                    Some(start) => step.starts_with(start),
                    None => step == *expected,
                };
                assert!(matches, "{example}: {short}: {step}, not {expected}");
                assert_eq!(cursor.last(), *last, "{example}: {short}");
            }
        }
    }

    #[test]
    fn every_event_reads_back_as_written() {
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
                text: "epoch 1\n".into(),
            },
            EventBody::File {
                path: "outputs/model.txt".into(),
                size: 42,
            },
            EventBody::Scalars {
                source: "tensorboard".into(),
                run: "train".into(),
                name: "loss".into(),
                points: vec![crate::api::ScalarPoint {
                    step: 3,
                    wall_time: 1_795_000_000.5,
                    value: 0.25,
                }],
            },
            EventBody::MetricValue {
                name: "confusion".into(),
                kind: "table".into(),
                value: serde_json::json!({"a": [1, 2]}),
            },
            EventBody::MetricValue {
                name: "nothing".into(),
                kind: "value".into(),
                value: serde_json::Value::Null,
            },
            EventBody::QueuePosition { position: 2 },
            EventBody::Tags {
                tags: [("team".to_owned(), "vision".to_owned())].into(),
            },
        ];
        for (seq, body) in (1..).zip(bodies) {
            let event = RunEvent {
                seq,
                time: "2026-01-01T00:00:00Z".into(),
                body,
            };
            let frame = Frame::Event { event };
            let json = serde_json::to_string(&frame).unwrap();
            assert_eq!(
                serde_json::from_str::<Frame>(&json).unwrap(),
                frame,
                "{json}"
            );
        }
        for frame in [
            Frame::CaughtUp { seq: 4 },
            Frame::Resume {
                after: 4,
                reason: "slow".into(),
            },
        ] {
            let json = serde_json::to_string(&frame).unwrap();
            assert_eq!(
                serde_json::from_str::<Frame>(&json).unwrap(),
                frame,
                "{json}"
            );
        }
    }

    #[test]
    fn an_event_missing_a_field_of_its_kind_is_refused_naming_it() {
        let error =
            serde_json::from_str::<RunEvent>(r#"{"seq":1,"time":"t","type":"log","text":"x"}"#)
                .unwrap_err()
                .to_string();
        assert!(error.contains("missing field `path`"), "{error}");
        let error = serde_json::from_str::<Frame>(r#"{"frame":"resume","after":3}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("missing field `reason`"), "{error}");
    }

    #[test]
    fn an_event_is_passed_on_whole() {
        let failed = RunEvent {
            seq: 12,
            time: "2026-01-01T00:05:00Z".into(),
            body: EventBody::Status {
                status: RunStatus::Failed,
                error: Some("exit status 1".into()),
            },
        };
        let text = serde_json::to_string(&Frame::Event {
            event: failed.clone(),
        })
        .unwrap();
        assert_eq!(Cursor::after(11).step(&text), Step::Deliver(failed));
    }
}
