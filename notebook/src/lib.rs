//! Runboard's notebook pages: the file browser (`/tree/<folder>`) and the notebook
//! editor (`/notebooks/<path>`), a Leptos app of its own.
//!
//! Why a second app beside the portal: the portal's download is kept small (it is
//! what a teammate opening a shared run link waits for), and the notebook pages need
//! more (the editor, markdown) plus the kernel's Web Worker, which loads CPython
//! (Pyodide). The server answers `/tree…` and `/notebooks/…` with `notebook.html`, which
//! loads this app; it borrows the portal's requests, websocket and badges
//! (`runboard-frontend` without its entry point). The kernel worker
//! (`notebook/js/pykernel.js`) is started only when a notebook opens.
//!
//! Pure logic (cells and nbformat, key bindings, highlighting, markdown) is in
//! [`model`], [`highlight`] and [`markdown`], tested natively.

pub mod editor;
pub mod files_page;
pub mod highlight;
pub mod kernel;
pub mod markdown;
pub mod model;
pub mod outputs;

use leptos::prelude::*;
use runboard_frontend::api::Session;

/// What the address asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/tree` or `/tree/<folder>`.
    Folder(String),
    /// `/notebooks/<path>`.
    Notebook(String),
    /// Anything else.
    Unknown,
}

impl Route {
    /// The route of a decoded path.
    pub fn of(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        if path == "/tree" {
            return Route::Folder(String::new());
        }
        if let Some(folder) = path.strip_prefix("/tree/") {
            return Route::Folder(folder.to_owned());
        }
        if let Some(notebook) = path.strip_prefix("/notebooks/")
            && !notebook.is_empty()
        {
            return Route::Notebook(notebook.to_owned());
        }
        Route::Unknown
    }
}

/// The app: the header and the page of the address.
#[component]
pub fn App() -> impl IntoView {
    let session = Session {
        logged_out: RwSignal::new(false),
    };
    provide_context(session);
    let raw = window().location().pathname().unwrap_or_default();
    let path: String = js_sys::decode_uri(&raw).map(String::from).unwrap_or(raw);
    let route = Route::of(&path);
    let title = match &route {
        Route::Notebook(p) => format!("{} · Runboard", model::name_of(p)),
        _ => "Files · Runboard".to_owned(),
    };
    document().set_title(&title);
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a href="/" class="brand">"Runboard"</a>
            <nav aria-label="Main">
                <a href="/">"Experiments"</a>
                <a href="/tree" aria-current=if matches!(route, Route::Folder(_)) { Some("page") } else { None }>"Notebooks"</a>
                <a href="/environments">"Environments"</a>
            </nav>
        </header>
        <main id="main" tabindex="-1" class="nb-main">
            <Show
                when=move || !session.logged_out.get()
                fallback=runboard_frontend::pages::login::LoginPage
            >
                {match route.clone() {
                    Route::Folder(folder) => view! { <files_page::FilesPage folder=folder /> }.into_any(),
                    Route::Notebook(path) => view! { <editor::NotebookPage path=path /> }.into_any(),
                    Route::Unknown => view! { <h1>"Not found"</h1> }.into_any(),
                }}
            </Show>
        </main>
    }
}

/// The wasm module's entry point.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_map_to_pages() {
        assert_eq!(Route::of("/tree"), Route::Folder(String::new()));
        assert_eq!(Route::of("/tree/"), Route::Folder(String::new()));
        assert_eq!(Route::of("/tree/a b/c"), Route::Folder("a b/c".into()));
        assert_eq!(
            Route::of("/notebooks/Quickstart.ipynb"),
            Route::Notebook("Quickstart.ipynb".into())
        );
        assert_eq!(Route::of("/notebooks/"), Route::Unknown);
        assert_eq!(Route::of("/runs/x"), Route::Unknown);
    }
}
