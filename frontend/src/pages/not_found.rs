//! The page for an address that names no page.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// Says that the address names no page, and links back to the start.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let path = use_location().pathname;
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no page at " <code>{path}</code> "."</p>
        <p>
            <A href="/">"Back to the experiments"</A>
        </p>
    }
}
