//! Small wrappers over browser APIs that are not requests: the clock, the time zone,
//! timers, the network state and the clipboard.

use std::time::Duration;

use leptos::prelude::*;

/// Milliseconds since the epoch, now.
pub fn now() -> i64 {
    js_sys::Date::now() as i64
}

/// The viewer's time zone: minutes ahead of UTC.
pub fn utc_offset_minutes() -> i64 {
    -(js_sys::Date::new_0().get_timezone_offset() as i64)
}

/// A signal holding [`now`], updated every `every` while the current owner lives: for
/// durations of runs that are still going.
pub fn clock(every: Duration) -> ReadSignal<i64> {
    let (now_signal, set_now) = signal(now());
    if let Ok(handle) = set_interval_with_handle(move || set_now.set(now()), every) {
        on_cleanup(move || handle.clear());
    }
    now_signal
}

/// True unless the browser knows it has no network.
pub fn online() -> bool {
    window().navigator().on_line()
}

/// Sleeps for `duration`.
pub async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let millis = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Sleeps for `duration`, or until the browser's `online` event, whichever is first.
pub async fn wait_until_online_or(duration: Duration) {
    let sleep = std::pin::pin!(sleep(duration));
    futures_util::future::select(sleep, next_window_event("online")).await;
}

/// A future that resolves at the window's next `name` event (`online`, `offline`).
/// Dropping it removes its listener.
#[derive(Debug)]
pub struct NextEvent {
    name: &'static str,
    resolve: js_sys::Function,
    fired: wasm_bindgen_futures::JsFuture,
}

/// Waits for the window's next `name` event.
pub fn next_window_event(name: &'static str) -> NextEvent {
    let mut captured = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| captured = Some(resolve));
    // The promise's executor runs at once, so `captured` is set; the fallback only
    // satisfies the type (a cast: `new Function` would need the `'unsafe-eval'` the
    // pages' Content-Security-Policy does not give).
    let resolve = captured.unwrap_or_else(|| {
        use wasm_bindgen::JsCast;
        wasm_bindgen::JsValue::UNDEFINED.unchecked_into()
    });
    let _ = window().add_event_listener_with_callback(name, &resolve);
    NextEvent {
        name,
        resolve,
        fired: wasm_bindgen_futures::JsFuture::from(promise),
    }
}

impl std::future::Future for NextEvent {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::pin::Pin::new(&mut self.fired).poll(cx).map(|_| ())
    }
}

impl Drop for NextEvent {
    fn drop(&mut self) {
        let _ = window().remove_event_listener_with_callback(self.name, &self.resolve);
    }
}

/// Copies `text` to the clipboard; false when the browser refuses (e.g. a page served
/// over plain HTTP from another machine, which is not a secure context).
pub async fn copy_to_clipboard(text: &str) -> bool {
    let navigator = window().navigator();
    // `navigator.clipboard` is undefined outside secure contexts.
    let has_clipboard =
        js_sys::Reflect::get(&navigator, &"clipboard".into()).is_ok_and(|c| !c.is_undefined());
    if !has_clipboard {
        return false;
    }
    let promise = navigator.clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
