//! The server-rendered login pages (small HTML, so the portal's wasm stays small):
//! `/login` (name and password), `/login/{secret}` (a one-time link from `runboard
//! user add`: set a password, then logged in) and `/s/{secret}` (a read-only share
//! link: a share session, then the shared page). Each success sets the session
//! cookie and redirects.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ApiError;
use super::AppState;
use super::auth::{now, principal, start_session};
use crate::people::{self, Principal, ShareScope};

/// The login routes, outside `/api`.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/{secret}", get(set_password_page).post(set_password))
        .route("/s/{secret}", get(open_share_link))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>Runboard: {title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}}\
         label{{display:block;margin:.8rem 0}}input{{display:block;width:100%;padding:.4rem;box-sizing:border-box}}\
         .error{{color:#b00020}}</style></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (status, Html(html)).into_response()
}

fn login_form(error: Option<&str>, name: &str) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        "{error}<form method=\"post\" action=\"/login\">\
         <label>Name<input name=\"name\" autocomplete=\"username\" required value=\"{}\"></label>\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Log in</button></form>\
         <p>The server's admin can also open the login URL that <code>runboard serve</code> printed.</p>",
        escape(name)
    )
}

async fn login_page() -> Response {
    page(StatusCode::OK, "Log in", &login_form(None, ""))
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
struct Login {
    name: String,
    password: String,
}

fn redirect_with(cookie: axum::http::HeaderValue, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

async fn login(
    State(state): State<AppState>,
    form: Result<Form<Login>, FormRejection>,
) -> Response {
    let Ok(Form(login)) = form else {
        return page(
            StatusCode::BAD_REQUEST,
            "Log in",
            &login_form(Some("The form needs a name and a password."), ""),
        );
    };
    let refused = || {
        page(
            StatusCode::UNAUTHORIZED,
            "Log in",
            &login_form(Some("Wrong name or password."), &login.name),
        )
    };
    let credentials = match state.store.credentials(&login.name).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some((_, Some(hash))) = credentials else {
        // Hash anyway, so a missing name takes as long as a wrong password.
        let _ = people::hash_password(&login.password);
        return refused();
    };
    let password = login.password.clone();
    let ok = tokio::task::spawn_blocking(move || people::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        return refused();
    }
    match start_session(&state, Some(&login.name), None).await {
        Ok(cookie) => redirect_with(cookie, "/"),
        Err(e) => e.into_response(),
    }
}

fn password_form(secret: &str, name: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    format!(
        "<p>Welcome, {}. Choose a password (8 characters or more); you log in with your name and it from now on.</p>\
         {error}<form method=\"post\" action=\"/login/{}\">\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"8\" required></label>\
         <button type=\"submit\">Set password and log in</button></form>",
        escape(name),
        escape(secret)
    )
}

fn link_gone() -> Response {
    page(
        StatusCode::GONE,
        "Login link not valid",
        "<p>This login link has been used, has expired or was replaced. Ask an admin for a new one \
         (<code>runboard user link NAME</code>), or <a href=\"/login\">log in</a> with your password.</p>",
    )
}

async fn set_password_page(State(state): State<AppState>, Path(secret): Path<String>) -> Response {
    match state
        .store
        .login_link(&people::hash_secret(&secret), now())
        .await
    {
        Ok(Some(name)) => page(
            StatusCode::OK,
            "Set your password",
            &password_form(&secret, &name, None),
        ),
        Ok(None) => link_gone(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The set-password form's field.
#[derive(Debug, Deserialize)]
struct NewPassword {
    password: String,
}

async fn set_password(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    form: Result<Form<NewPassword>, FormRejection>,
) -> Response {
    let hash_key = people::hash_secret(&secret);
    let name = match state.store.login_link(&hash_key, now()).await {
        Ok(Some(name)) => name,
        Ok(None) => return link_gone(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let password = form.map(|Form(f)| f.password).unwrap_or_default();
    let hashed = tokio::task::spawn_blocking(move || people::hash_password(&password)).await;
    let hash = match hashed {
        Ok(Ok(hash)) => hash,
        Ok(Err(e)) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Set your password",
                &password_form(&secret, &name, Some(&e.to_string())),
            );
        }
        Err(e) => return ApiError::internal(e).into_response(),
    };
    match state.store.use_login_link(&hash_key, &hash, now()).await {
        Ok(Some(person)) => match start_session(&state, Some(&person), None).await {
            Ok(cookie) => redirect_with(cookie, "/"),
            Err(e) => e.into_response(),
        },
        Ok(None) => link_gone(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn open_share_link(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    headers: HeaderMap,
) -> Response {
    let link = match state
        .store
        .share_link_by_secret(&people::hash_secret(&secret), now())
        .await
    {
        Ok(Some(link)) => link,
        Ok(None) => {
            return page(
                StatusCode::GONE,
                "Share link not valid",
                "<p>This share link has expired or was revoked. Ask whoever sent it for a new one.</p>",
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let to = match &link.scope {
        ShareScope::Run(id) => format!("/runs/{id}"),
        ShareScope::Experiment(name) => format!("/experiments/{name}"),
    };
    // Someone logged in already sees it all: keep their session rather than replace
    // it with a narrower one.
    if let Ok(Some(Principal::Person { .. })) = principal(&state, &headers).await {
        return Redirect::to(&to).into_response();
    }
    match start_session(&state, None, Some(link.id)).await {
        Ok(cookie) => redirect_with(cookie, &to),
        Err(e) => e.into_response(),
    }
}
