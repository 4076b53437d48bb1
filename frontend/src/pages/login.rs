//! The page shown when the server says the session is missing (`401`): how to log in.

use leptos::prelude::*;

/// Explains how to log in: open the link `runboard serve` printed (it sets the session
/// cookie), or paste the token here, which does the same.
#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <section class="login" aria-labelledby="login-title">
            <h1 id="login-title">"Log in to Runboard"</h1>
            <p>"People added with " <code>"runboard user add"</code> " log in with their "
                <a href="/login">"name and password"</a> "."</p>
            <p>
                "This server needs its access token. Open the login link that "
                <code>"runboard serve"</code> " printed when it started:"
            </p>
            <pre class="command"><code>"Log in: http://<host>:<port>/?token=…"</code></pre>
            <p>
                "To print that link again, run " <code>"runboard token"</code>
                " on the server (add " <code>"--data-dir DIR"</code>
                " if the server uses another data folder)."
            </p>
            // A plain GET form: the server takes `?token=` from any page address, sets
            // the session cookie and sends the browser back here without it.
            <form method="get" class="token-form">
                <label for="token">"Or paste the token"</label>
                <input id="token" name="token" type="password" autocomplete="off" required=true />
                <button type="submit">"Log in"</button>
            </form>
        </section>
    }
}
