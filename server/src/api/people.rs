//! Who am I, logout, sessions, personal API tokens and share links. Roles are
//! checked by the route table (`routes()`); these handlers only narrow "own or, for
//! an admin, anyone's".

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use runboard_shared::api::{
    ApiTokenCreated, ApiTokenInfo, ApiTokenList, Me, NewApiToken, NewShareLink, SessionInfo,
    SessionList, ShareLinkInfo, ShareLinkList,
};
use runboard_shared::run::ExperimentName;

use super::AppState;
use super::auth::{clear_cookie, now, rfc3339};
use super::{ApiError, run_id};
use crate::people::{self, BUILTIN_ADMIN, Principal, ShareScope};
use crate::store::ShareLinkRow;

/// `GET /api/session`: who the credentials belong to.
pub async fn me(Extension(principal): Extension<Principal>) -> Json<Me> {
    let (shared_run, shared_experiment) = match &principal {
        Principal::Share {
            scope: ShareScope::Run(id),
            ..
        } => (Some(id.clone()), None),
        Principal::Share {
            scope: ShareScope::Experiment(name),
            ..
        } => (None, Some(name.clone())),
        Principal::Person { .. } => (None, None),
    };
    Json(Me {
        name: principal.name().to_owned(),
        role: principal.role().map(|r| r.as_str().to_owned()),
        shared_run,
        shared_experiment,
    })
}

/// `POST /api/session/logout`: ends the browser session and clears its cookie (204;
/// a bearer token has no session to end: 400).
pub async fn logout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Response, ApiError> {
    let Some(session) = principal.session() else {
        return Err(ApiError::bad_request(
            "no_session",
            "this request has no browser session to end: it came with a bearer token (DELETE /api/tokens/{id} revokes a personal token)",
        ));
    };
    state.store.delete_session(session).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_cookie(&state))],
    )
        .into_response())
}

/// Whose rows a caller sees: an admin everyone's (`None`), anyone else their own
/// (`Some(None)` is the built-in admin's, but the built-in admin is an admin).
fn own(principal: &Principal) -> Option<Option<&str>> {
    if principal.is_admin() {
        None
    } else {
        Some(principal.person())
    }
}

fn owner_name(person: Option<&str>) -> String {
    person.unwrap_or(BUILTIN_ADMIN).to_owned()
}

/// `GET /api/sessions`: the caller's browser sessions (an admin: everyone's).
pub async fn sessions(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<SessionList>, ApiError> {
    let rows = state.store.sessions(own(&principal)).await?;
    let sessions = rows
        .into_iter()
        .filter(|s| s.share_link.is_none())
        .map(|s| SessionInfo {
            current: principal.session() == Some(s.id),
            id: s.id,
            person: owner_name(s.person.as_deref()),
            created_utc: rfc3339(s.created_at),
            last_seen_utc: rfc3339(s.last_seen),
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

fn parse_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("no {what} with id {text:?}")))
}

/// `DELETE /api/sessions/{id}`: ends one of the caller's sessions (an admin: anyone's).
pub async fn delete_session(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "session")?;
    let visible = state.store.sessions(own(&principal)).await?;
    if !visible.iter().any(|s| s.id == id) {
        return Err(ApiError::not_found(format!(
            "no session of yours with id {id}"
        )));
    }
    state.store.delete_session(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn token_info(row: crate::store::TokenRow) -> ApiTokenInfo {
    ApiTokenInfo {
        id: row.id,
        person: owner_name(row.person.as_deref()),
        label: row.label,
        created_utc: rfc3339(row.created_at),
    }
}

/// `POST /api/tokens` `{"label"}`: a personal API token acting with the caller's
/// role, shown once (201).
pub async fn create_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Result<(StatusCode, Json<ApiTokenCreated>), ApiError> {
    let request: NewApiToken = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("expected {{\"label\": \"what the token is for\"}}: {e}"),
        )
    })?;
    let label = request.label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "invalid_label",
            "a token's label needs 1 to 100 characters",
        ));
    }
    let secret = people::new_secret();
    let created = now();
    let id = state
        .store
        .create_token(
            &people::hash_secret(&secret),
            principal.person(),
            label,
            created,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiTokenCreated {
            info: ApiTokenInfo {
                id,
                person: principal.name().to_owned(),
                label: label.to_owned(),
                created_utc: rfc3339(created),
            },
            token: secret,
        }),
    ))
}

/// `GET /api/tokens`: the caller's tokens (an admin: everyone's).
pub async fn tokens(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<ApiTokenList>, ApiError> {
    let tokens = state.store.tokens(own(&principal)).await?;
    Ok(Json(ApiTokenList {
        tokens: tokens.into_iter().map(token_info).collect(),
    }))
}

/// `DELETE /api/tokens/{id}`: revokes one of the caller's tokens (an admin: anyone's).
pub async fn delete_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id, "token")?;
    let visible = state.store.tokens(own(&principal)).await?;
    if !visible.iter().any(|t| t.id == id) {
        return Err(ApiError::not_found(format!(
            "no token of yours with id {id}"
        )));
    }
    state.store.delete_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The longest a share link may last: ten years.
const MAX_HOURS: f64 = 87_600.0;

fn link_info(row: ShareLinkRow, url: Option<String>) -> ShareLinkInfo {
    let (run_id, experiment) = match row.scope {
        ShareScope::Run(id) => (Some(id), None),
        ShareScope::Experiment(name) => (None, Some(name)),
    };
    ShareLinkInfo {
        id: row.id,
        url,
        run_id,
        experiment,
        created_by: owner_name(row.created_by.as_deref()),
        created_utc: rfc3339(row.created_at),
        expires_utc: row.expires_at.map(rfc3339),
    }
}

/// What `{id}` or `{name}` shares, checked to exist (404 otherwise).
async fn scope_of(state: &AppState, run: bool, key: &str) -> Result<ShareScope, ApiError> {
    if run {
        let id = run_id(key)?;
        if state.store.run(&id).await?.is_none() {
            return Err(ApiError::not_found(crate::no_such_run(&id)));
        }
        Ok(ShareScope::Run(id.as_str().to_owned()))
    } else {
        let name = ExperimentName::new(key)
            .map_err(|_| ApiError::not_found(format!("no experiment called {key:?}")))?;
        if !state.store.experiment_exists(name.as_str()).await? {
            return Err(ApiError::not_found(format!("no experiment called {key:?}")));
        }
        Ok(ShareScope::Experiment(name.as_str().to_owned()))
    }
}

async fn create_link(
    state: AppState,
    principal: Principal,
    scope: ShareScope,
    body: Bytes,
) -> Result<(StatusCode, Json<ShareLinkInfo>), ApiError> {
    let request: NewShareLink = if body.iter().all(u8::is_ascii_whitespace) {
        NewShareLink::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(
                "invalid_json",
                format!("expected {{\"expires_in_hours\": <hours>}} or an empty body: {e}"),
            )
        })?
    };
    if let Some(hours) = request.expires_in_hours
        && !(hours > 0.0 && hours <= MAX_HOURS)
    {
        return Err(ApiError::bad_request(
            "invalid_expiry",
            format!(
                "expires_in_hours must be more than 0 and at most {MAX_HOURS} (ten years), not {hours}"
            ),
        ));
    }
    let created = now();
    // At least one second; `hours` is finite and at most ten years here.
    #[allow(clippy::cast_possible_truncation)]
    let expires_at = request
        .expires_in_hours
        .map(|h| created + ((h * 3600.0).ceil() as i64).max(1));
    let secret = people::new_secret();
    let id = state
        .store
        .create_share_link(
            &people::hash_secret(&secret),
            &scope,
            principal.person(),
            created,
            expires_at,
        )
        .await?;
    let row = ShareLinkRow {
        id,
        scope,
        created_by: principal.person().map(str::to_owned),
        created_at: created,
        expires_at,
    };
    let url = format!("{}/s/{secret}", state.config.public_url);
    Ok((StatusCode::CREATED, Json(link_info(row, Some(url)))))
}

/// `POST /api/runs/{id}/share-links`: a read-only link to the run (201).
pub async fn create_run_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ShareLinkInfo>), ApiError> {
    let scope = scope_of(&state, true, &id).await?;
    create_link(state, principal, scope, body).await
}

/// `POST /api/experiments/{name}/share-links`: a read-only link to the experiment's
/// runs (201).
pub async fn create_experiment_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<ShareLinkInfo>), ApiError> {
    let scope = scope_of(&state, false, &name).await?;
    create_link(state, principal, scope, body).await
}

async fn list_links(state: &AppState, scope: &ShareScope) -> Result<Json<ShareLinkList>, ApiError> {
    let links = state.store.share_links(scope).await?;
    Ok(Json(ShareLinkList {
        links: links.into_iter().map(|r| link_info(r, None)).collect(),
    }))
}

/// `GET /api/runs/{id}/share-links`.
pub async fn run_links(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ShareLinkList>, ApiError> {
    let scope = scope_of(&state, true, &id).await?;
    list_links(&state, &scope).await
}

/// `GET /api/experiments/{name}/share-links`.
pub async fn experiment_links(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ShareLinkList>, ApiError> {
    let scope = scope_of(&state, false, &name).await?;
    list_links(&state, &scope).await
}

async fn delete_link(
    state: &AppState,
    principal: &Principal,
    scope: &ShareScope,
    link: &str,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(link, "share link")?;
    let row = state
        .store
        .share_link(id)
        .await?
        .filter(|r| &r.scope == scope)
        .ok_or_else(|| ApiError::not_found(format!("no share link {id} here")))?;
    if !principal.is_admin() && row.created_by.as_deref() != principal.person() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "share link {id} is {}'s: an editor revokes their own links, an admin anyone's",
                owner_name(row.created_by.as_deref())
            ),
        ));
    }
    state.store.delete_share_link(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/runs/{id}/share-links/{link}`: revokes a link and ends its sessions.
pub async fn delete_run_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((id, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope_of(&state, true, &id).await?;
    delete_link(&state, &principal, &scope, &link).await
}

/// `DELETE /api/experiments/{name}/share-links/{link}`.
pub async fn delete_experiment_link(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path((name, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = scope_of(&state, false, &name).await?;
    delete_link(&state, &principal, &scope, &link).await
}
