//! The run event protocol spoken on `GET /api/runs/{id}/events?after=N`.
//!
//! Every event of a run carries a per-run sequence number `seq`, starting at 1 with
//! no gaps. A client remembers the last `seq` it handled and reconnects with
//! `after=<that seq>`: the server replays what it missed from the store, then goes
//! on live, so nothing is lost and nothing is seen twice.

use serde::{Deserialize, Serialize};

use crate::run::RunStatus;

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The run's tags changed; this is the whole new set.
    Tags {
        /// Every tag of the run after the change.
        tags: std::collections::BTreeMap<String, String>,
    },
}

/// One frame the server sends on a run's websocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "frame", rename_all = "snake_case")]
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
}
