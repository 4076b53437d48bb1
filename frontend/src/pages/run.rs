//! A run's portal page (`/runs/<run id>`), the URL that `Run.get_portal_url()` gives.
//! For now it only names the run; the run portal issue fills it.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use runboard_shared::run::RunId;

/// The page of one run.
#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    view! {
        <h1>"Run " <code class="run-id">{id}</code></h1>
        {move || {
            RunId::parse(&id()).err().map(|e| view! { <p class="error">{e.to_string()}</p> })
        }}
    }
}
