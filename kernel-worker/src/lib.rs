//! The notebook kernel in a Web Worker.
//!
//! The notebook page starts this crate's wasm in a module worker
//! (`new Worker(url, {type: "module"})`; the wasm-bindgen `--target web` glue's
//! `init()` runs `worker::start` there). The worker holds one
//! [`Kernel`](runboard_shared::kernel::Kernel) — the session's variables — for its
//! life, and runs cells against the server's API through `BrowserHost`, its
//! [`Host`](runboard_shared::kernel::Host).
//!
//! # Why a worker
//!
//! - A cell that runs long (`run.wait_for_completion()` on a training job, a loop)
//!   never freezes the page: the page keeps scrolling, editing and saving while the
//!   worker waits on the server or computes.
//! - The Python parser and evaluator (`runboard-shared`'s `kernel` feature, most of
//!   the worker's size) live only in this module, which only the notebook page loads;
//!   the run portal never downloads them.
//!
//! # Messages
//!
//! Page and worker exchange the JSON of [`runboard_shared::cell::worker`]'s types as
//! strings (`postMessage(text)`):
//!
//! ```text
//! worker → page   {"type":"ready"}                      once loaded; send nothing before
//! page → worker   {"type":"run","cell","source","cwd"}  queued; one cell at a time
//! worker → page   {"type":"output","cell","output"}     each print / log chunk / display
//! worker → page   {"type":"waiting","cell","run"}       the cell follows a run (saved by the page)
//! worker → page   {"type":"done","cell","execution_count","result","error"}
//! page → worker   {"type":"attach","cell","run","cwd"}  after a reload: follow that run again
//! page → worker   {"type":"interrupt"}                  KeyboardInterrupt in the running cell
//! page → worker   Int32Array (not text)                 the shared interrupt counter, first
//! ```
//!
//! `Run` and `Attach` are queued and run in arrival order, each to its `done` (an
//! attach answers `execution_count: 0`). `Interrupt` is seen at once: the kernel
//! checks it at every loop step and host call, and a wait on a run's websocket (or a
//! reconnection pause) ends on it with `KeyboardInterrupt`. Requests made before a
//! cell starts do not concern it. A loop that makes no host call cannot see the
//! message (the worker's thread is busy), so a cross-origin isolated page also counts
//! interrupts in an `Int32Array` over a `SharedArrayBuffer` that it posts right after
//! `ready`, and the kernel's loop steps read it with `Atomics.load`. Without isolation
//! the page terminates a worker that did not stop in time.
//!
//! # Talking to the server
//!
//! `BrowserHost` uses same-origin `fetch` (the session cookie goes along, no HTTP
//! cache) for the REST API and the files area. What it sends and how it reads the
//! answers (the URLs, percent-encoding every path segment; error answers as
//! `HostError`s; the server's recursive folder listings read as `stat` and `list_dir`)
//! is [`runboard_shared::kernel::remote`], which the CLI's host uses too; [`api`] only
//! words a lost login for the browser. A run's events come over its
//! websocket, kept open between `next_events` calls and resumed with `after=` on a
//! gap, a close, an error or the network going away
//! ([`runboard_shared::event::Cursor`] decides frame by frame, as for the portal and
//! the CLI; reconnections back off from 250 ms to 5 s), so a cell waiting on a long run
//! survives a server restart without losing or repeating a line.
//! The worker's script must come from the server's own origin (not a `blob:` URL):
//! the API's paths and the websocket's host are taken from the worker's location.
//!
//! Only `worker` and `host` touch the browser (`wasm32` only); the rest is plain
//! code with native tests.

pub mod api;
pub mod beacon;
pub mod inbox;

#[cfg(target_arch = "wasm32")]
pub mod host;
#[cfg(target_arch = "wasm32")]
pub mod worker;

#[cfg(target_arch = "wasm32")]
pub use host::BrowserHost;
