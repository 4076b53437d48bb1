//! The limits the server states and enforces on what clients and jobs send it, in
//! one place. Each is answered with a clear error naming it: 413 for sizes and
//! counts, 400 for malformed values. The snapshot's own limits live beside its
//! reader (`runner::snapshot::{MAX_ENTRIES, MAX_HEADER_EXTENSION}`; the size limit
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

