//! The "does this run exist" prologue, written once: [`KnownRun`] is an extractor
//! for handlers whose path names a run as `{id}`, and [`KnownRun::find`] serves the
//! handlers that must authorize before they look (the TensorBoard proxy, metric
//! ingest with a run's own token).

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use runboard_shared::run::RunId;

use super::{ApiError, AppState, run_id};
use crate::store::RunRecord;

/// A run that exists, named by the path's `{id}`: its stored record. A path whose id
/// cannot be a run id, or names no run, is answered 404 (saying so when the run was
/// deleted) before the handler runs.
#[derive(Debug)]
pub struct KnownRun(pub RunRecord);

impl KnownRun {
    /// The run's id.
    pub fn id(&self) -> &RunId {
        &self.0.summary.run_id
    }

    /// The run's id, the record dropped.
    pub fn into_id(self) -> RunId {
        self.0.summary.run_id
    }

    /// The run whose id is `text`, or the 404 for it.
    pub async fn find(state: &AppState, text: &str) -> Result<Self, ApiError> {
        let id = run_id(text)?;
        match state.store.run(&id).await? {
            Some(record) => Ok(Self(record)),
            None => Err(missing(state, &id).await),
        }
    }
}

impl FromRequestParts<AppState> for KnownRun {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_path", e.body_text()))?;
        let Some((_, text)) = params.iter().find(|(name, _)| *name == "id") else {
            return Err(ApiError::internal("the route names no run {id}"));
        };
        Self::find(state, text).await
    }
}

/// The 404 for a run that is not there: one that was deleted says so and when.
pub(super) async fn missing(state: &AppState, id: &RunId) -> ApiError {
    match state.store.deleted_at(id).await {
        Ok(Some(when)) => ApiError::not_found(format!("run {id} was deleted ({when})")),
        _ => ApiError::not_found(crate::no_such_run(id)),
    }
}
