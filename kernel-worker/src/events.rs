//! Following a run's events over its websocket: the waits between connections.
//!
//! The frame-by-frame decisions (pass each event on once and in order, drop a replay's
//! overlap, reconnect on a gap or `resume`, pass over an event of a kind this version
//! cannot read by its `seq`) are [`runboard_shared::event::Cursor`]'s, shared with the
//! portal and the CLI.

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
