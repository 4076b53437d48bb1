//! The web app's side of the server: `?token=` login (Jupyter's convention) and the
//! app's files, with `index.html` for deep links such as `/runs/<id>`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use tower_http::services::{ServeDir, ServeFile};

use super::COOKIE;
use crate::AppState;

/// Shown when the web app has not been built: the API works without it.
const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Runboard</title></head>\
<body><main><h1>Runboard</h1><p>The server is running. The web app is not built: \
run <code>cargo xtask run</code> to build and serve it.</p></main></body></html>";

/// Pages and assets, behind the token login.
pub fn router(state: &AppState) -> Router<AppState> {
    let index_html = state
        .config
        .static_dir
        .as_ref()
        .map(|d| d.join("index.html"))
        .filter(|p| p.is_file());
    let router = match (&state.config.static_dir, index_html) {
        (Some(dir), Some(index)) => Router::new().fallback_service(
            ServeDir::new(dir)
                .precompressed_gzip()
                .precompressed_br()
                .fallback(ServeFile::new(index)),
        ),
        _ => Router::new().fallback(|| async { Html(PLACEHOLDER) }),
    };
    router.layer(middleware::from_fn_with_state(state.clone(), token_login))
}

/// `?token=` on any page URL: a right token sets the session cookie and redirects to
/// the same URL without it; a wrong one gets a clear page.
async fn token_login(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = token_param(request.uri()) else {
        return next.run(request).await;
    };
    if token != state.config.token {
        return (
            StatusCode::UNAUTHORIZED,
            Html("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Runboard: wrong token</title></head>\
                  <body><main><h1>Wrong token</h1><p>The token in this link is not this server's. \
                  Open the login URL that <code>runboard serve</code> printed, or run <code>runboard token</code> to print it again.</p></main></body></html>"),
        )
            .into_response();
    }
    let target = without_token(request.uri());
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000");
    let mut response = Redirect::to(&target).into_response();
    if let Ok(value) = cookie.parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn token_param(uri: &Uri) -> Option<String> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_owned)
}

fn without_token(uri: &Uri) -> String {
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("token="))
        .collect();
    if rest.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), rest.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_dropped_from_the_address() {
        let check = |uri: &str, token: Option<&str>, rest: &str| {
            let uri: Uri = uri.parse().unwrap();
            assert_eq!(token_param(&uri).as_deref(), token);
            assert_eq!(without_token(&uri), rest);
        };
        check("/?token=abc", Some("abc"), "/");
        check(
            "/runs/x?tab=logs&token=abc",
            Some("abc"),
            "/runs/x?tab=logs",
        );
        check("/runs/x?tab=logs", None, "/runs/x?tab=logs");
    }
}
