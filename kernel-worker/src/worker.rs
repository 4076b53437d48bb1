//! The worker's entry point and its one session: [`start`] installs the message
//! handler and spawns [`serve`], which runs the queued cells one after the other.

use std::cell::RefCell;
use std::rc::Rc;

use runboard_shared::cell::worker::{FromWorker, ToWorker};
use runboard_shared::kernel::Kernel;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::beacon::Beacon;
use crate::host::BrowserHost;
use crate::inbox::Inbox;

/// What the message handlers and the session share.
#[derive(Debug)]
pub struct Shared {
    /// The worker's global scope (`self`).
    pub scope: DedicatedWorkerGlobalScope,
    /// The page's messages.
    pub inbox: Inbox,
    /// Fires at each `offline` event: an open socket may be dead.
    pub offline: Beacon,
    /// Fires at each `online` event: time to reconnect.
    pub online: Beacon,
    /// The interrupt counter the page shares (an `Int32Array` over a
    /// `SharedArrayBuffer`), when the page is cross-origin isolated: a looping cell
    /// reads it, since it cannot read messages.
    pub shared_interrupts: RefCell<Option<js_sys::Int32Array>>,
}

impl Shared {
    /// The page's count of interrupts through shared memory (0 without it).
    pub fn shared_interrupt_count(&self) -> i32 {
        self.shared_interrupts
            .borrow()
            .as_ref()
            .and_then(|counter| js_sys::Atomics::load(counter, 0).ok())
            .unwrap_or(0)
    }

    /// Posts a message to the page.
    pub fn post(&self, message: &FromWorker) {
        if let Err(e) = self
            .scope
            .post_message(&JsValue::from_str(&message.to_json()))
        {
            warn(&format!("could not post a message to the page: {e:?}"));
        }
    }
}

/// Logs a warning on the browser's console.
pub fn warn(text: &str) {
    web_sys::console::warn_1(&JsValue::from_str(&format!("runboard kernel: {text}")));
}

/// Sleeps `ms` milliseconds (`setTimeout` on the worker's scope).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let ms = i32::try_from(ms).unwrap_or(i32::MAX);
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Calls `on_event` at each of the scope's `name` events, for the worker's life.
fn listen(scope: &DedicatedWorkerGlobalScope, name: &str, on_event: impl Fn() + 'static) {
    let handler = Closure::<dyn FnMut()>::new(on_event);
    if let Err(e) = scope.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref()) {
        warn(&format!("could not listen to {name} events: {e:?}"));
    }
    handler.forget();
}

/// The worker's entry point, run by the wasm-bindgen glue's `init()`: installs the
/// message handler, starts the session and tells the page it is [`FromWorker::Ready`].
/// Outside a dedicated worker it does nothing.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else {
        warn("not started: this module runs in a dedicated Web Worker");
        return;
    };
    let shared = Rc::new(Shared {
        scope,
        inbox: Inbox::new(),
        offline: Beacon::new(),
        online: Beacon::new(),
        shared_interrupts: RefCell::new(None),
    });

    let on_message = {
        let shared = Rc::clone(&shared);
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let Some(text) = data.as_string() else {
                match data.dyn_into::<js_sys::Int32Array>() {
                    Ok(counter) => *shared.shared_interrupts.borrow_mut() = Some(counter),
                    Err(_) => {
                        warn("ignored a message that is neither text nor the interrupt counter")
                    }
                }
                return;
            };
            if let Err(e) = shared.inbox.receive(&text) {
                warn(&e);
            }
        })
    };
    shared
        .scope
        .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let offline = Rc::clone(&shared);
    listen(&shared.scope, "offline", move || offline.offline.fire());
    let online = Rc::clone(&shared);
    listen(&shared.scope, "online", move || online.online.fire());

    wasm_bindgen_futures::spawn_local(serve(Rc::clone(&shared)));
    shared.post(&FromWorker::Ready);
}

/// The session: one [`Kernel`] for the worker's life, running the queued cells one at
/// a time in arrival order, each to its [`FromWorker::Done`].
async fn serve(shared: Rc<Shared>) {
    let mut kernel = Kernel::new();
    let mut host = BrowserHost::new(Rc::clone(&shared));
    loop {
        let job = shared.inbox.next_job().await;
        // Let the messages that came during the last cell in first (an interrupt
        // meant for it must not stop this one).
        sleep(0).await;
        let done = match job {
            ToWorker::Run { cell, source, cwd } => {
                host.start_cell(cell.clone(), cwd);
                let outcome = kernel.run_cell(&mut host, &source).await;
                let (result, error) = match outcome {
                    Ok(result) => (result, None),
                    Err(error) => (None, Some(error)),
                };
                FromWorker::Done {
                    cell,
                    execution_count: kernel.execution_count(),
                    result,
                    error,
                }
            }
            ToWorker::Attach { cell, run, cwd } => {
                host.start_cell(cell.clone(), cwd);
                let error = kernel.attach(&mut host, &run).await.err();
                FromWorker::Done {
                    cell,
                    execution_count: 0,
                    result: None,
                    error,
                }
            }
            ToWorker::Interrupt => continue,
        };
        host.end_cell();
        shared.post(&done);
    }
}
