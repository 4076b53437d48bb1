//! What the run page reads instead of replaying a run from its first event: the
//! position to follow from, with the tail of each log and the length of each series
//! at that position (`GET /api/runs/{id}/view`), earlier ranges of a log
//! (`GET /api/runs/{id}/log`), and a search of a whole log on the server
//! (`GET /api/runs/{id}/log/search`).
//!
//! Everything in a [`ViewStart`] is as of event `seq`: the page shows it, then
//! follows the websocket with `after=seq`, so each byte and point is drawn once.

use serde::{Deserialize, Serialize};

/// `GET /api/runs/{id}/view`: where the run page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ViewStart {
    /// The last event this view includes; follow with `after=seq`.
    pub seq: u64,
    /// The tail of each log file (`user_logs/…`, `system_logs/…`), as of `seq`.
    pub logs: Vec<LogRange>,
    /// Each scalar series and how many points it had at `seq`.
    pub series: Vec<SeriesStart>,
    /// Each metric value that is not a number series: the last one and how many.
    pub values: Vec<ValueStart>,
}

/// Bytes `start..end` of a log file, as text cut at whole lines: `start` is 0 or just
/// after a newline (`GET /api/runs/{id}/log?path=&end=&bytes=` and [`ViewStart`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct LogRange {
    /// The log, relative to the run (`user_logs/std_log.txt`).
    pub path: String,
    /// The first byte of `text` in the file; 0 when nothing comes before it.
    pub start: u64,
    /// The byte after the last one of `text`.
    pub end: u64,
    /// The text (invalid UTF-8 shown as U+FFFD).
    pub text: String,
}

/// A series and its length at [`ViewStart::seq`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct SeriesStart {
    /// `metric` or `tensorboard`.
    pub source: String,
    /// The TensorBoard run; empty for metrics.
    pub run: String,
    /// The metric name or TensorBoard tag.
    pub name: String,
    /// How many points it had.
    pub count: u64,
}

/// A metric value that is not a number series, in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct ValueStart {
    /// The metric name.
    pub name: String,
    /// `list`, `row`, `table`, `image` or `value`.
    pub kind: String,
    /// The last value logged.
    pub last: serde_json::Value,
    /// How many were logged.
    pub count: u64,
}

/// `GET /api/runs/{id}/log/search?path=&q=`: lines of one log that contain `q`
/// (ASCII case ignored), found by reading the whole file on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct LogMatches {
    /// The matching lines, in file order.
    pub matches: Vec<LogMatch>,
    /// More lines matched than were returned (`limit`).
    pub truncated: bool,
    /// How many bytes of the file were searched.
    pub searched: u64,
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "endpoints", derive(schemars::JsonSchema))]
pub struct LogMatch {
    /// Its line number, from 1.
    pub line: u64,
    /// The byte where it starts.
    pub offset: u64,
    /// The line without its newline (at most 1,000 bytes of it).
    pub text: String,
}
