//! The page's side of the kernel: the Web Worker that runs cells (CPython in
//! Pyodide, `notebook/js/pykernel.js`), started from the URL in the page's
//! `<meta name="runboard-kernel">`, and the JSON messages to and from it
//! ([`runboard_shared::cell::worker`]).
//!
//! Interrupt goes two ways. The `Interrupt` message reaches a cell that awaits the
//! server (a wait, a request), but a cell looping in the worker reads no message until
//! it ends. So when the page is cross-origin isolated (the server sends COOP/COEP), it
//! also shares an interrupt buffer with the worker, an `Int32Array` over a
//! `SharedArrayBuffer` posted as the page's first message once the worker is ready:
//! Interrupt stores SIGINT (2) in it, and Pyodide raises `KeyboardInterrupt` at the
//! cell's next bytecode. The page (not the worker) sets it back to 0 when a cell's
//! `done` arrives, before it can send the next cell: an Interrupt clicked while the
//! `run` message is still on its way reaches that cell, and one clicked as a cell ends
//! never reaches the next. Without isolation (plain HTTP on another host than localhost, a
//! browser without `credentialless`) the page falls back to restarting the kernel.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Int32Array, SharedArrayBuffer};
use runboard_shared::cell::worker::{FromWorker, ToWorker};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// What the page stores in the shared interrupt buffer: the signal number Pyodide
/// raises (`setInterruptBuffer`).
const SIGINT: i32 = 2;

/// A handle on the kernel's worker. Cloning shares the worker.
#[derive(Clone)]
pub struct KernelWorker(Rc<Inner>);

impl std::fmt::Debug for KernelWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelWorker")
            .field("url", &self.0.url)
            .finish()
    }
}

type MessageHandler = Closure<dyn FnMut(MessageEvent)>;

struct Inner {
    url: String,
    worker: RefCell<Option<Worker>>,
    on_message: Rc<dyn Fn(FromWorker)>,
    // Kept alive as long as the worker may call it.
    handler: RefCell<Option<MessageHandler>>,
    /// The interrupt counter shared with the current worker, when the page is
    /// cross-origin isolated.
    interrupts: RefCell<Option<Int32Array>>,
}

/// Whether the page may share memory with its workers (`crossOriginIsolated`).
pub fn cross_origin_isolated() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

impl KernelWorker {
    /// Starts the worker; `on_message` gets each of its messages (the first is
    /// [`FromWorker::Ready`] once its wasm is loaded).
    pub fn start(url: String, on_message: impl Fn(FromWorker) + 'static) -> Result<Self, String> {
        let kernel = Self(Rc::new(Inner {
            url,
            worker: RefCell::new(None),
            on_message: Rc::new(on_message),
            handler: RefCell::new(None),
            interrupts: RefCell::new(None),
        }));
        kernel.spawn()?;
        Ok(kernel)
    }

    fn spawn(&self) -> Result<(), String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        options.set_name("runboard-kernel");
        let worker = Worker::new_with_options(&self.0.url, &options)
            .map_err(|e| format!("the kernel could not start: {e:?}"))?;
        let on_message = self.0.on_message.clone();
        let interrupts =
            cross_origin_isolated().then(|| Int32Array::new(&SharedArrayBuffer::new(4)));
        let ready = (worker.clone(), interrupts.clone());
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match serde_json::from_str::<FromWorker>(&text) {
                Ok(FromWorker::Ready) => {
                    // The worker's first message from the page, before any cell: the
                    // shared interrupt counter.
                    if let (worker, Some(counter)) = &ready
                        && let Err(e) = worker.post_message(counter)
                    {
                        leptos::logging::warn!(
                            "kernel: could not share the interrupt counter: {e:?}"
                        );
                    }
                    on_message(FromWorker::Ready);
                }
                Ok(message) => {
                    // The cell has ended: an interrupt meant for it is not meant for
                    // the next one, which the page sends only after this.
                    if let (FromWorker::Done { .. }, (_, Some(counter))) = (&message, &ready)
                        && let Err(e) = js_sys::Atomics::store(counter, 0, 0)
                    {
                        leptos::logging::warn!(
                            "kernel: could not reset the interrupt counter: {e:?}"
                        );
                    }
                    on_message(message)
                }
                Err(e) => leptos::logging::warn!("kernel: unreadable message ({e}): {text}"),
            }
        });
        worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        let on_error = self.0.on_message.clone();
        let error_handler = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event| {
            leptos::logging::warn!("kernel: the worker failed to load or crashed");
            on_error(FromWorker::Done {
                cell: String::new(),
                execution_count: 0,
                result: None,
                error: Some(runboard_shared::cell::PyError::new(
                    "KernelError",
                    "the kernel's worker failed (see the browser console)",
                )),
            });
        });
        worker.set_onerror(Some(error_handler.as_ref().unchecked_ref()));
        error_handler.forget();
        *self.0.interrupts.borrow_mut() = interrupts;
        *self.0.worker.borrow_mut() = Some(worker);
        *self.0.handler.borrow_mut() = Some(handler);
        Ok(())
    }

    /// Sends a message to the worker.
    pub fn post(&self, message: &ToWorker) {
        if let Some(worker) = self.0.worker.borrow().as_ref()
            && let Err(e) = worker.post_message(&message.to_json().into())
        {
            leptos::logging::warn!("kernel: could not post a message: {e:?}");
        }
    }

    /// Asks the running cell to stop: through the shared counter, which a looping cell
    /// sees at its next step, and the `Interrupt` message, which a cell awaiting the
    /// server sees at once.
    pub fn interrupt(&self) {
        // 2 is SIGINT: Pyodide's interrupt buffer raises that signal's
        // KeyboardInterrupt at the cell's next bytecode, then sets the buffer to 0.
        if let Some(counter) = self.0.interrupts.borrow().as_ref()
            && let Err(e) = js_sys::Atomics::store(counter, 0, SIGINT)
        {
            leptos::logging::warn!("kernel: could not count an interrupt: {e:?}");
        }
        self.post(&ToWorker::Interrupt);
    }

    /// Stops the worker at once (a cell stuck in a loop that ignores interrupts) and
    /// starts a fresh one: the session's variables are gone.
    pub fn restart(&self) -> Result<(), String> {
        if let Some(worker) = self.0.worker.borrow_mut().take() {
            worker.terminate();
        }
        self.spawn()
    }

    /// Stops the worker (the page is going away).
    pub fn stop(&self) {
        if let Some(worker) = self.0.worker.borrow_mut().take() {
            worker.terminate();
        }
    }
}
