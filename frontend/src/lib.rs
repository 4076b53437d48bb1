//! Runboard's browser app: a Leptos client-side-rendered app compiled to wasm.
//!
//! `cargo xtask run` builds it into `static/pkg/` (see `xtask/src/frontend.rs`), and
//! the server serves that folder with `index.html` for every unknown path, so deep
//! links such as `/runs/<id>` load the app, whose router then picks the page.
//!
//! [`api`] owns every request to the server; each page is a module of [`pages`].

pub mod api;
pub mod pages;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

/// The whole app: the header, and the page that the address names.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="topbar">
                <A href="/">
                    <span class="brand">"Runboard"</span>
                </A>
                <nav>
                    <A href="/">"Experiments"</A>
                </nav>
            </header>
            <main>
                <Routes fallback=pages::not_found::NotFoundPage>
                    <Route path=path!("/") view=pages::experiments::ExperimentsPage />
                    <Route path=path!("/runs/:id") view=pages::run::RunPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The wasm module's entry point: wasm-bindgen's generated `init()` calls it once the
/// module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
