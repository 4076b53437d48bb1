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
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let window = window();
        let millis = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        let once = web_sys::AddEventListenerOptions::new();
        once.set_once(true);
        // Resolving twice is harmless; a listener whose event never comes stays
        // registered until it does (a few per offline period).
        let _ = window.add_event_listener_with_callback_and_add_event_listener_options(
            "online", &resolve, &once,
        );
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
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
