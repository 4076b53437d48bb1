//! The limits the server states and enforces on what clients and jobs send it, in
//! one place. Each is answered with a clear error naming it: 413 for sizes and
//! counts, 400 for malformed values. The snapshot's own limits live beside its
//! reader (`snapshot::{MAX_ENTRIES, MAX_HEADER_EXTENSION}`; the size limit
//! is the server's `--max-snapshot-mb`) and uploads keep `max_upload_bytes`.

/// The largest JSON request body (tags, files-area actions, datastore uploads...):
/// the default body limit of every route that sets none of its own.
pub const MAX_JSON_BODY_BYTES: usize = 1024 * 1024;

/// The largest metrics batch body (`POST /api/runs/{id}/metrics`): room for
/// [`MAX_METRIC_POINTS`] numbers with their steps and times, or a few `log_image`
/// PNGs (base64).
pub const MAX_METRICS_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The most values one metrics batch may carry, all metrics together. The shim
/// sends larger logs in several batches.
pub const MAX_METRIC_POINTS: usize = 100_000;

/// The longest metric, tag or property name, in bytes; names hold no control
/// characters either.
pub const MAX_NAME_BYTES: usize = 255;

/// The longest tag or property value, in bytes.
pub const MAX_TAG_VALUE_BYTES: usize = 5000;

/// The largest websocket message a client may send the server (it sends none that
/// the protocol needs; a larger one closes the connection).
pub const MAX_WS_MESSAGE_BYTES: usize = 64 * 1024;

/// The largest metrics spool file (`logs/runboard-metrics-spool-*.jsonl`) ingested
/// when a run ends; a larger one is skipped with a warning in the server log.
pub const MAX_SPOOL_BYTES: u64 = 64 * 1024 * 1024;

/// The most files listed for one run area (`outputs/`, `logs/`, ...) or one
/// snapshot: a job that writes millions of files gets the first ones listed.
pub const MAX_LISTED_FILES: usize = 10_000;

/// What is wrong with a metric, tag or property name, if anything: empty (or only
/// spaces), longer than [`MAX_NAME_BYTES`], or holding a control character.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("is empty".to_owned())
    } else if name.len() > MAX_NAME_BYTES {
        Some(format!(
            "is {} bytes long, more than the limit of {MAX_NAME_BYTES}",
            name.len()
        ))
    } else if name.chars().any(char::is_control) {
        Some("holds a control character".to_owned())
    } else {
        None
    }
}

/// What is wrong with a tag or property: its name (see [`name_problem`]), or a
/// value longer than [`MAX_TAG_VALUE_BYTES`]. `what` is "tag" or "property".
pub fn tag_problem(what: &str, name: &str, value: &str) -> Option<String> {
    if let Some(problem) = name_problem(name) {
        return Some(format!("{what} name {:?} {problem}", cut(name)));
    }
    (value.len() > MAX_TAG_VALUE_BYTES).then(|| {
        format!(
            "{what} {name:?} has a value of {} bytes, more than the limit of {MAX_TAG_VALUE_BYTES}",
            value.len()
        )
    })
}

/// The first characters of a long name, for messages.
pub fn cut(name: &str) -> String {
    match name.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &name[..i]),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_within_the_limits() {
        let long = "n".repeat(256);
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("loss", "0.5", None),
            ("learning rate/epoch 1", "", None),
            ("", "x", Some("tag name \"\" is empty")),
            ("  ", "x", Some("is empty")),
            (
                &long,
                "x",
                Some("256 bytes long, more than the limit of 255"),
            ),
            ("a\nb", "x", Some("control character")),
            ("a\u{1b}[31m", "x", Some("control character")),
            ("ok", &"v".repeat(5001), Some("value of 5001 bytes")),
        ];
        for (name, value, expect) in cases {
            let got = tag_problem("tag", name, value);
            match (expect, &got) {
                (None, None) => {}
                (Some(part), Some(msg)) => assert!(msg.contains(part), "{name:?}: {msg}"),
                _ => panic!("{name:?}: expected {expect:?}, got {got:?}"),
            }
        }
    }
}
