//! Runboard's browser app: a Leptos client-side-rendered app compiled to wasm.
//!
//! `cargo xtask run` builds it into `static/pkg/` (see `xtask/src/frontend.rs`), and
//! the server serves that folder with `index.html` for every unknown path, so deep
//! links such as `/runs/<id>` load the app, whose router then picks the page.
//!
//! [`api`] owns every request to the server and the run websocket; each page is a
//! module of [`pages`]; [`components`] holds what several pages use.

pub mod api;
pub mod browser;
pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::api::Session;

/// The whole app: the header, and the page that the address names (or the login
/// page, once the server has answered that the session is missing).
#[component]
pub fn App() -> impl IntoView {
    let session = Session {
        logged_out: RwSignal::new(false),
    };
    provide_context(session);
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a href="/" class="brand">"Runboard"</a>
                <nav aria-label="Main">
                    <A href="/" exact=true>"Experiments"</A>
                    // Another app (the notebook pages): a full page load.
                    <a href="/tree" rel="external">"Notebooks"</a>
                    <A href="/environments">"Environments"</A>
                    // Server-rendered: the model registry; sessions, tokens, log out.
                    <a href="/models" rel="external">"Models"</a>
                    <a href="/account" rel="external">"Account"</a>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                <Show when=move || !session.logged_out.get() fallback=pages::login::LoginPage>
                    <Routes fallback=pages::not_found::NotFoundPage>
                        <Route path=path!("/") view=pages::experiments::ExperimentsPage />
                        <Route path=path!("/experiments/:name") view=pages::experiment::ExperimentPage />
                        <Route path=path!("/runs/:id") view=pages::run::RunPage />
                        <Route path=path!("/environments") view=pages::environments::EnvironmentsPage />
                    </Routes>
                </Show>
            </main>
        </Router>
    }
}

/// The wasm module's entry point: wasm-bindgen's generated `init()` calls it once the
/// module is instantiated.
#[cfg(all(target_arch = "wasm32", feature = "app"))]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
