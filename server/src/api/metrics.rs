//! Metrics and TensorBoard scalars: ingest from a run's script, and reading back.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use runboard_shared::api::{
    MetricsBatch, OtherSummary, RunMetrics, RunsMetrics, ScalarList, ScalarSummary, SeriesBody,
};

use super::AppState;
use super::KnownRun;
use super::{ApiError, authorize, constant_time_eq, run_id};
use crate::metrics::{self, MetricsError, TENSORBOARD};
use crate::people::Access;
use crate::series::XAxis;

impl From<MetricsError> for ApiError {
    fn from(e: MetricsError) -> Self {
        match e {
            MetricsError::Invalid(message) => ApiError::bad_request("invalid_metrics", message),
            MetricsError::TooMany { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "metrics_too_large",
                e.to_string(),
            ),
            MetricsError::Store(e) => e.into(),
            MetricsError::Io(e) => ApiError::internal(e),
        }
    }
}

/// `POST /api/runs/{id}/metrics`: the server's token, or the token of this run only
/// (`RUNBOARD_RUN_TOKEN`, which a run's script has).
pub async fn ingest(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Json<MetricsBatch>, JsonRejection>,
) -> Result<Json<runboard_shared::api::MetricsIngested>, ApiError> {
    let unauthorized = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "send the server's token or this run's RUNBOARD_RUN_TOKEN as 'Authorization: Bearer <token>'",
    );
    let record = match run_id(&id) {
        Ok(id) => state.store.run(&id).await?,
        Err(_) => None,
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let run_token_ok = record
        .as_ref()
        .zip(bearer)
        .is_some_and(|(r, b)| constant_time_eq(b.as_bytes(), r.run_token.as_bytes()));
    if !run_token_ok {
        // Anyone else needs an editor's credentials, as the route table says.
        match authorize(&state, &headers, Access::EDITOR, &[("id", &id)], None).await {
            Ok(_) => {}
            Err(e) if e.status == StatusCode::UNAUTHORIZED => return Err(unauthorized),
            Err(e) => return Err(e),
        }
    }
    // Read before the credentials were checked (a run's token is its own): a run
    // that was not there is looked for as any other handler looks (404, or the run
    // that appeared since, for an editor).
    let id = match record {
        Some(record) => record.summary.run_id,
        None => KnownRun::find(&state, &id).await?.into_id(),
    };
    let Json(batch) = body.map_err(ApiError::json)?;
    let stored = metrics::ingest(&state.metrics, &id, batch).await?;
    Ok(Json(runboard_shared::api::MetricsIngested { stored }))
}

/// `GET /api/runs/{id}/metrics`: the SDK's `get_metrics()`.
pub async fn get_metrics(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<serde_json::Map<String, serde_json::Value>>, ApiError> {
    let id = run.into_id();
    Ok(Json(metrics::get_metrics(&state.metrics, &id).await?))
}

/// Most runs one comparison may ask for (the experiment page shows 50).
const MAX_COMPARED: usize = 200;

/// `GET /api/experiments/{name}/metrics?runs=ID,ID,…`: each run's metrics in brief.
/// Every id must be a run of that experiment.
pub async fn compare(
    State(state): State<AppState>,
    Path(experiment): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<RunsMetrics>, ApiError> {
    if let Some(bad) = params.keys().find(|k| k.as_str() != "runs") {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("unknown query parameter '{bad}'; expected runs"),
        ));
    }
    let ids: Vec<&str> = params
        .get("runs")
        .map(|r| r.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if ids.len() > MAX_COMPARED {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("at most {MAX_COMPARED} runs at once, got {}", ids.len()),
        ));
    }
    let mut runs = Vec::with_capacity(ids.len());
    for text in ids {
        let id = run_id(text)?;
        match state.store.run(&id).await? {
            Some(run) if run.summary.experiment == experiment => {}
            _ => {
                return Err(ApiError::not_found(format!(
                    "{} in experiment {experiment:?}",
                    crate::no_such_run(&id)
                )));
            }
        }
        runs.push(RunMetrics {
            metrics: metrics::briefs(&state.metrics, &id).await?,
            run_id: id,
        });
    }
    Ok(Json(RunsMetrics { runs }))
}

/// `buckets` and `x` of a series query.
fn series_query(
    params: &HashMap<String, String>,
    allowed: &[&str],
) -> Result<(Option<usize>, XAxis), ApiError> {
    if let Some(bad) = params.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!(
                "unknown query parameter '{bad}'; expected {}",
                allowed.join(", ")
            ),
        ));
    }
    let buckets = params
        .get("buckets")
        .map(|b| {
            b.parse::<usize>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("buckets must be a whole number from 1 to 100000, got '{b}'"),
                    )
                })
        })
        .transpose()?;
    let x = match params.get("x") {
        None => XAxis::Step,
        Some(x) => XAxis::parse(x).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("x must be step, relative or wall, got '{x}'"),
            )
        })?,
    };
    Ok((buckets, x))
}

/// `GET /api/runs/{id}/metrics/{name}?buckets=N&x=step|relative|wall`.
pub async fn metric_series(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<SeriesBody>, ApiError> {
    let id = run_id(&id)?;
    let (buckets, x) = series_query(&params, &["buckets", "x"])?;
    metrics::series_body(&state.metrics, &id, metrics::METRIC, "", &name, buckets, x)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("run {id} has no numeric metric '{name}'")))
}

/// `GET /api/runs/{id}/scalars`: TensorBoard scalar series and other summaries.
pub async fn scalars(
    State(state): State<AppState>,
    run: KnownRun,
) -> Result<Json<ScalarList>, ApiError> {
    let id = run.into_id();
    let scalars = state
        .store
        .series_list(&id)
        .await?
        .into_iter()
        .filter(|s| s.source == TENSORBOARD)
        .map(|s| ScalarSummary {
            run: s.tb_run,
            tag: s.name,
            count: s.count,
            last_step: s.last_step,
            last_value: s.last_value,
        })
        .collect();
    let other = state
        .store
        .others(&id)
        .await?
        .into_iter()
        .map(|(run, tag, kind, count)| OtherSummary {
            run,
            tag,
            kind,
            count,
        })
        .collect();
    Ok(Json(ScalarList { scalars, other }))
}

/// `GET /api/runs/{id}/scalars/series?run=..&tag=..[&buckets=N][&x=..]`.
pub async fn scalar_series(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<SeriesBody>, ApiError> {
    let id = run_id(&id)?;
    let (buckets, x) = series_query(&params, &["run", "tag", "buckets", "x"])?;
    let tag = params
        .get("tag")
        .ok_or_else(|| ApiError::bad_request("invalid_query", "tag is required"))?;
    let tb_run = params.get("run").map(String::as_str).unwrap_or(".");
    metrics::series_body(&state.metrics, &id, TENSORBOARD, tb_run, tag, buckets, x)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "run {id} has no TensorBoard scalar '{tag}' in run '{tb_run}'"
            ))
        })
}
