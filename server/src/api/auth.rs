//! Who is asking and may they: credentials (the server token, personal API tokens,
//! the session cookie) become a [`Principal`], and each route's [`Access`] from the
//! table in `routes()` decides. Handlers never check roles themselves; they read the
//! principal from the request's extensions when they need the name.

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use runboard_shared::run::RunId;

use super::AppState;
use super::{ApiError, constant_time_eq};
use crate::people::{self, Access, Decision, Principal, Role, ShareScope, Shared, Target};
use crate::store::SessionOwner;

/// The current time in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Unix seconds as RFC 3339.
pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The value of the cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
}

fn principal_of(owner: SessionOwner, session: Option<i64>) -> Principal {
    match owner {
        SessionOwner::BuiltinAdmin => Principal::builtin_admin(session),
        SessionOwner::Person(person, role) => Principal::Person {
            person: Some(person),
            role,
            session,
        },
        SessionOwner::Share(link, scope) => Principal::Share {
            link,
            scope,
            // A share owner only comes from a session.
            session: session.unwrap_or_default(),
        },
    }
}

/// Who the request's credentials belong to; `None` without valid ones. A bearer
/// token is the server's (the built-in admin) or a personal API token; else the
/// session cookie counts.
pub async fn principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    if let Some(token) = bearer(headers) {
        if constant_time_eq(token.as_bytes(), state.config.token.as_bytes()) {
            return Ok(Some(Principal::builtin_admin(None)));
        }
        if let Some(owner) = state.store.token_owner(&people::hash_secret(token)).await? {
            return Ok(Some(principal_of(owner, None)));
        }
    }
    let Some(secret) = cookie(headers, &state.config.session_cookie()) else {
        return Ok(None);
    };
    let idle = i64::try_from(state.config.session_idle.as_secs()).unwrap_or(i64::MAX);
    Ok(state
        .store
        .session(&people::hash_secret(secret), now(), idle)
        .await?
        .map(|(id, owner)| principal_of(owner, Some(id))))
}

/// 403 naming what was missing.
fn forbidden(principal: &Principal, access: Access) -> ApiError {
    let message = match principal.role() {
        Some(role) => format!(
            "this needs the {} role; {} is {}",
            access.role,
            principal.name(),
            article(role)
        ),
        None => "a share link shows only the run or experiment it shares, read-only".to_owned(),
    };
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

fn article(role: Role) -> String {
    match role {
        Role::Admin | Role::Editor => format!("an {role}"),
        Role::Viewer => format!("a {role}"),
    }
}

/// Checks the request's credentials against `access`: 401 without valid ones, 403
/// when they do not allow it. `params` are the route's path parameters (`id` names a
/// run, `name` an experiment), `query_experiment` the `?experiment=` of run lists.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    access: Access,
    params: &[(&str, &str)],
    query_experiment: Option<&str>,
) -> Result<Principal, ApiError> {
    let Some(principal) = principal(state, headers).await? else {
        return Err(ApiError::unauthorized());
    };
    let param = |key: &str| params.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    // Only share sessions need the target: look the run up only for them.
    let mut run_experiment = None;
    let run = match (&principal, access.shared, param("id")) {
        (Principal::Share { scope, .. }, Shared::Run, Some(id)) => {
            if let (ShareScope::Experiment(_), Ok(run_id)) = (scope, RunId::parse(id)) {
                run_experiment = state
                    .store
                    .run(&run_id)
                    .await?
                    .map(|r| r.summary.experiment);
            }
            Some(id)
        }
        _ => None,
    };
    let experiment = match access.shared {
        Shared::Experiment => param("name"),
        Shared::RunList => query_experiment,
        _ => None,
    };
    let target = Target {
        run: run.map(|id| (id, run_experiment.as_deref())),
        experiment,
    };
    match people::decide(&principal, access, &target) {
        Decision::Allow => Ok(principal),
        Decision::Forbid => Err(forbidden(&principal, access)),
    }
}

/// The middleware of every route but the run-token one: [`authorize`] with the
/// route's [`Access`], then the handler with the [`Principal`] in the extensions.
pub async fn require(
    State((state, access)): State<(AppState, Access)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let params = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let query_experiment = parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("experiment="))
            .map(str::to_owned)
    });
    match authorize(
        &state,
        &parts.headers,
        access,
        &params,
        query_experiment.as_deref(),
    )
    .await
    {
        Ok(principal) => {
            parts.extensions.insert(principal);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

/// Starts a browser session for a person (`None`: the built-in admin) or a share
/// link, and answers the `Set-Cookie` value that carries it.
pub async fn start_session(
    state: &AppState,
    person: Option<&str>,
    share_link: Option<i64>,
) -> Result<HeaderValue, ApiError> {
    let secret = people::new_secret();
    state
        .store
        .create_session(&people::hash_secret(&secret), person, share_link, now())
        .await?;
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        state.config.session_cookie(),
        state.config.session_idle.as_secs()
    );
    HeaderValue::from_str(&cookie).map_err(ApiError::internal)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        state.config.session_cookie()
    ))
    .unwrap_or(HeaderValue::from_static(""))
}
