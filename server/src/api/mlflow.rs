//! MLflow's tracking REST API (`/api/2.0/mlflow/...`) and its artifacts service
//! (`/api/2.0/mlflow-artifacts/artifacts/...`) over Runboard's runs. The mapping,
//! wire types and limits are in [`crate::mlflow`]; this is the I/O around them.
//!
//! Credentials: the `Authorization: Bearer` MLflow's client sends from
//! `MLFLOW_TRACKING_TOKEN`: the server's token or a person's API token (reads need a
//! viewer, writes an editor, as the rest of the API), or a run's own token, which
//! reaches only its run (and reads its experiment). Every answer, errors included,
//! is in MLflow's shape.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use runboard_shared::api::{RunSummary, TagsPatch};
use runboard_shared::run::RunId;
use runboard_shared::series::WallTime;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::AppState;
use super::{ApiError, authorize};
use crate::metrics::{self, METRIC, MetricsError};
use crate::mlflow::{self as mf, MlflowError, wire};
use crate::people::{Access, Principal};
use crate::runs::mlflow::NewMlflowRun;
use crate::runs::{self, RunError};
use crate::store::{RunQuery, RunRecord, StoreError};

impl IntoResponse for MlflowError {
    fn into_response(self) -> Response {
        if let MlflowError::Internal(cause) = &self {
            tracing::error!(error = %cause, "MLflow API internal error");
        }
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(self.body())).into_response()
    }
}

impl From<StoreError> for MlflowError {
    fn from(e: StoreError) -> Self {
        MlflowError::Internal(e.to_string())
    }
}

impl From<RunError> for MlflowError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Store(e) => e.into(),
            RunError::NotFound(m) => MlflowError::NotFound(m),
            RunError::Fields(_)
            | RunError::Environment(_)
            | RunError::Invalid { .. }
            | RunError::Conflict(_) => MlflowError::InvalidParameter(e.to_string()),
            RunError::Snapshot(_) | RunError::Runner(_) | RunError::Internal(_) => {
                MlflowError::Internal(e.to_string())
            }
        }
    }
}

impl From<MetricsError> for MlflowError {
    fn from(e: MetricsError) -> Self {
        match e {
            MetricsError::Invalid(m) => MlflowError::InvalidParameter(m),
            MetricsError::TooMany { .. } => MlflowError::InvalidParameter(e.to_string()),
            MetricsError::Store(e) => e.into(),
            MetricsError::Io(e) => MlflowError::Internal(e.to_string()),
        }
    }
}

/// An answer in MLflow's shape (`{}` for a write).
type Answer<T = wire::Done> = Result<Json<T>, MlflowError>;

/// Who is calling.
enum Caller {
    /// The server token, a person's API token or a session: the role was checked.
    Person(Principal),
    /// A run's own token.
    Run(RunId),
}

impl Caller {
    /// Whether the caller may touch `run`.
    fn may(&self, run: &RunId) -> Result<(), MlflowError> {
        match self {
            Caller::Person(_) => Ok(()),
            Caller::Run(own) if own == run => Ok(()),
            Caller::Run(own) => Err(MlflowError::PermissionDenied(format!(
                "this token is run {own}'s: it reaches only that run, not {run}"
            ))),
        }
    }

    /// Whether the caller may read the experiment `name`.
    fn may_read_experiment(&self, name: &str) -> Result<(), MlflowError> {
        match self {
            Caller::Person(_) => Ok(()),
            Caller::Run(own) if own.experiment() == name => Ok(()),
            Caller::Run(own) => Err(MlflowError::PermissionDenied(format!(
                "this token is run {own}'s: it reaches only that run and its experiment"
            ))),
        }
    }

    /// Only people (not a run's token) may do this.
    fn person(&self) -> Result<&Principal, MlflowError> {
        match self {
            Caller::Person(p) => Ok(p),
            Caller::Run(own) => Err(MlflowError::PermissionDenied(format!(
                "this token is run {own}'s: it reaches only that run"
            ))),
        }
    }
}

/// Checks the credentials: a person's with the role `access` needs, else a run's
/// token. 401 without valid ones, 403 when they do not allow this.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    access: Access,
) -> Result<Caller, MlflowError> {
    match authorize(state, headers, access, &[], None).await {
        Ok(p) => Ok(Caller::Person(p)),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if let Some(token) = bearer
                && let Some(run) = state.store.run_of_token(token).await?
            {
                return Ok(Caller::Run(run));
            }
            Err(MlflowError::Unauthenticated(
                "send the server's token, an API token or a run's RUNBOARD_RUN_TOKEN as \
                 MLFLOW_TRACKING_TOKEN (Authorization: Bearer <token>)"
                    .into(),
            ))
        }
        Err(e) => Err(api_error(e)),
    }
}

fn api_error(e: ApiError) -> MlflowError {
    match e.status {
        StatusCode::FORBIDDEN => MlflowError::PermissionDenied(e.message),
        StatusCode::UNAUTHORIZED => MlflowError::Unauthenticated(e.message),
        StatusCode::NOT_FOUND => MlflowError::NotFound(e.message),
        s if s.is_client_error() => MlflowError::InvalidParameter(e.message),
        _ => MlflowError::Internal(e.message),
    }
}

/// Reads a JSON body of at most [`mf::MAX_BATCH_BYTES`] bytes: the body and its size.
async fn body<T: DeserializeOwned>(body: Body) -> Result<(T, usize), MlflowError> {
    let bytes = axum::body::to_bytes(body, mf::MAX_BATCH_BYTES + 1)
        .await
        .map_err(|_| {
            MlflowError::InvalidParameter(format!(
                "the request body is larger than the limit of {} bytes",
                mf::MAX_BATCH_BYTES
            ))
        })?;
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    let malformed = |e: serde_json::Error| {
        MlflowError::InvalidParameter(format!("malformed request body: {e}"))
    };
    let mut json: Value = serde_json::from_slice(text).map_err(malformed)?;
    mf::run_uuid_as_run_id(&mut json);
    let value = serde_json::from_value(json).map_err(malformed)?;
    Ok((value, bytes.len()))
}

/// A run named by an MLflow request, with the caller's right to it checked.
async fn run_for(
    state: &AppState,
    caller: &Caller,
    id: Option<&str>,
) -> Result<RunRecord, MlflowError> {
    let id = mf::required_run_id(id)?;
    let not_found = || MlflowError::NotFound(format!("Run with id={id} not found"));
    let run_id = RunId::parse(id).map_err(|_| not_found())?;
    caller.may(&run_id)?;
    if let Some(record) = state.store.run(&run_id).await? {
        return Ok(record);
    }
    match state.store.deleted_at(&run_id).await? {
        Some(at) => Err(MlflowError::NotFound(format!(
            "Run with id={id} was deleted at {at}; Runboard deletes runs for good, so it \
             cannot be read or restored"
        ))),
        None => Err(not_found()),
    }
}

fn query_run_id(q: &HashMap<String, String>) -> Option<&str> {
    q.get("run_id")
        .or_else(|| q.get("run_uuid"))
        .map(String::as_str)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

// ---- Experiments ----------------------------------------------------------------

async fn experiment_json(
    state: &AppState,
    name: &str,
) -> Result<Option<wire::Experiment>, MlflowError> {
    let Some(created) = state.store.experiment_created(name).await? else {
        return Ok(None);
    };
    let ms = mf::millis(&created).unwrap_or(0);
    Ok(Some(wire::Experiment {
        experiment_id: mf::experiment_id(name),
        name: name.to_owned(),
        artifact_location: "mlflow-artifacts:/",
        lifecycle_stage: "active",
        creation_time: ms,
        last_update_time: ms,
        tags: Vec::new(),
    }))
}

/// `GET experiments/get-by-name?experiment_name=`.
pub async fn experiment_by_name(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<wire::ExperimentAnswer> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    let name = q.get("experiment_name").map(String::as_str).unwrap_or("");
    if name.is_empty() {
        return Err(MlflowError::InvalidParameter(
            "missing value for required parameter 'experiment_name'".into(),
        ));
    }
    caller.may_read_experiment(name)?;
    match experiment_json(&state, name).await? {
        Some(experiment) => Ok(Json(wire::ExperimentAnswer { experiment })),
        None => Err(MlflowError::NotFound(format!(
            "Could not find experiment with name '{name}'"
        ))),
    }
}

/// `GET experiments/get?experiment_id=`.
pub async fn experiment_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<wire::ExperimentAnswer> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    let id = q.get("experiment_id").map(String::as_str).unwrap_or("");
    let not_found = || MlflowError::NotFound(format!("No Experiment with id={id} exists"));
    let name = mf::experiment_name(id).map_err(|_| not_found())?;
    caller.may_read_experiment(name.as_str())?;
    match experiment_json(&state, name.as_str()).await? {
        Some(experiment) => Ok(Json(wire::ExperimentAnswer { experiment })),
        None => Err(not_found()),
    }
}

/// `POST experiments/create`.
pub async fn experiment_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Answer<wire::ExperimentCreated> {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    caller.person()?;
    let (req, _): (mf::CreateExperiment, _) = body(raw).await?;
    let name = mf::new_experiment_name(&req.name)?;
    if !state.store.create_experiment(name.as_str()).await? {
        return Err(MlflowError::AlreadyExists(format!(
            "Experiment '{name}' already exists."
        )));
    }
    Ok(Json(wire::ExperimentCreated {
        experiment_id: mf::experiment_id(name.as_str()),
    }))
}

/// `POST` (or `GET`) `experiments/search`: every experiment, or those a
/// `name = '...'` filter names.
pub async fn experiment_search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    raw: Body,
) -> Answer<wire::Experiments> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    caller.person()?;
    let (mut req, _): (mf::SearchExperiments, _) = body(raw).await?;
    if let Some(f) = q.get("filter") {
        req.filter = Some(f.clone());
    }
    let wanted = match req.filter.as_deref().map(str::trim).unwrap_or("") {
        "" => None,
        f => {
            let name = f
                .strip_prefix("name")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
                .map(|r| r.trim().trim_matches(|c| c == '\'' || c == '"'))
                .ok_or_else(|| {
                    MlflowError::InvalidParameter(format!(
                        "invalid filter {f:?}: Runboard understands only name = '<name>'"
                    ))
                })?;
            Some(name.to_owned())
        }
    };
    let mut out = Vec::new();
    for e in state.store.experiments().await? {
        if wanted.as_ref().is_some_and(|w| *w != e.name) {
            continue;
        }
        if let Some(json) = experiment_json(&state, &e.name).await? {
            out.push(json);
        }
    }
    if let Some(max) = req.max_results.and_then(|m| usize::try_from(m).ok()) {
        out.truncate(max);
    }
    Ok(Json(wire::Experiments { experiments: out }))
}

// ---- Runs ------------------------------------------------------------------------

/// An MLflow `Run` from a Runboard run.
async fn run_json(state: &AppState, run: &RunSummary) -> Result<wire::Run, MlflowError> {
    let name = run
        .tags
        .get("mlflow.runName")
        .cloned()
        .unwrap_or_else(|| run.run_id.to_string());
    let mut metrics = Vec::new();
    for row in state.store.series_list(&run.run_id).await? {
        if row.source != METRIC {
            continue;
        }
        if let Some(value) = row.last_value {
            metrics.push(mf::Metric {
                key: row.name,
                value,
                timestamp: Some(0),
                step: Some(row.last_step.map_or(0, |s| s.0)),
            });
        }
    }
    let pairs = |m: &BTreeMap<String, String>| -> Vec<mf::KeyValue> {
        m.iter()
            .map(|(k, v)| mf::KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect()
    };
    let info = wire::RunInfo {
        run_id: run.run_id.clone(),
        run_uuid: run.run_id.clone(),
        run_name: name,
        experiment_id: mf::experiment_id(&run.experiment),
        user_id: run.submitted_by.clone().unwrap_or_default(),
        status: mf::status_name(run.status),
        start_time: started_ms(run),
        end_time: run.end_time_utc.as_deref().and_then(mf::millis),
        artifact_uri: format!("mlflow-artifacts:/{}/outputs", run.run_id),
        lifecycle_stage: "active",
    };
    Ok(wire::Run {
        info,
        data: wire::RunData {
            metrics,
            params: pairs(&run.properties),
            tags: pairs(&run.tags),
        },
        inputs: wire::RunInputs {},
    })
}

/// `POST runs/create`: a run with no process, `Running` until `runs/update` ends it.
pub async fn run_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Answer<wire::RunAnswer> {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let principal = caller.person()?;
    let (req, _): (mf::CreateRun, _) = body(raw).await?;
    let experiment_id = req
        .experiment_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or(mf::DEFAULT_EXPERIMENT_ID);
    let experiment = mf::experiment_name(experiment_id)?;
    // MLflow's default experiment always exists; any other must have been created.
    if experiment_id != mf::DEFAULT_EXPERIMENT_ID
        && !state.store.experiment_exists(experiment.as_str()).await?
    {
        return Err(MlflowError::NotFound(format!(
            "No Experiment with id={experiment_id} exists"
        )));
    }
    let mut tags: BTreeMap<String, String> = req
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    if let Some(name) = req.run_name.as_deref().filter(|n| !n.is_empty()) {
        tags.entry("mlflow.runName".into())
            .or_insert_with(|| name.to_owned());
    }
    if let Some(problem) = tags
        .iter()
        .find_map(|(k, v)| crate::limits::tag_problem("tag", k, v))
    {
        return Err(MlflowError::InvalidParameter(problem));
    }
    let new = NewMlflowRun {
        experiment,
        run_name: req.run_name,
        start_time: req.start_time,
        tags,
        submitted_by: principal.name().to_owned(),
    };
    let run_id = runs::mlflow::create(&state.runner, new).await?;
    let record = reread(&state, &run_id).await?;
    Ok(Json(wire::RunAnswer {
        run: run_json(&state, &record.summary).await?,
    }))
}

/// A run read again after this request changed it.
async fn reread(state: &AppState, run_id: &RunId) -> Result<RunRecord, MlflowError> {
    state
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| MlflowError::Internal(format!("run {run_id} vanished")))
}

/// `POST runs/update`: a new name, and for a run MLflow's client created, its end.
/// A Runboard job's status is its process's: MLflow's `end_run` inside a job does
/// not end it early.
pub async fn run_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Answer<wire::RunInfoAnswer> {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (req, _): (mf::UpdateRun, _) = body(raw).await?;
    let record = run_for(&state, &caller, req.run_id.as_deref()).await?;
    let run_id = record.summary.run_id.clone();
    let ending = match req.status.as_deref() {
        Some(s) => mf::ending(s)?,
        None => &[],
    };
    if let Some(name) = req.run_name.as_deref().filter(|n| !n.is_empty()) {
        if let Some(problem) = crate::limits::tag_problem("tag", "mlflow.runName", name) {
            return Err(MlflowError::InvalidParameter(problem));
        }
        let patch = TagsPatch {
            set: BTreeMap::from([("mlflow.runName".to_owned(), name.to_owned())]),
            remove: Vec::new(),
        };
        state
            .events
            .commit(&run_id, state.store.patch_tags(&run_id, &patch))
            .await?;
    }
    if record.summary.target == mf::TARGET {
        for status in ending {
            state.events.set_status(&run_id, *status, None).await?;
        }
    }
    let record = reread(&state, &run_id).await?;
    let run = run_json(&state, &record.summary).await?;
    Ok(Json(wire::RunInfoAnswer { run_info: run.info }))
}

/// `GET runs/get?run_id=`.
pub async fn run_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<wire::RunAnswer> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    let record = run_for(&state, &caller, query_run_id(&q)).await?;
    Ok(Json(wire::RunAnswer {
        run: run_json(&state, &record.summary).await?,
    }))
}

/// `POST runs/search`: the runs of the experiments, newest first, filtered. The page
/// token is `<experiment index>:<the store's cursor>`.
pub async fn run_search(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Answer<wire::Runs> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    caller.person()?;
    let (req, _): (mf::SearchRuns, _) = body(raw).await?;
    let filter = mf::Filter::parse(req.filter.as_deref().unwrap_or(""))?;
    let max = match req.max_results {
        None => 1000,
        Some(m) if (1..=mf::MAX_SEARCH_RESULTS as i64).contains(&m) => m as usize,
        Some(m) => {
            return Err(MlflowError::InvalidParameter(format!(
                "max_results must be from 1 to {}, got {m}",
                mf::MAX_SEARCH_RESULTS
            )));
        }
    };
    let names = req
        .experiment_ids
        .iter()
        .map(|id| mf::experiment_name(id).map(|n| n.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    let order = mf::OrderBy::parse(&req.order_by)?;
    if mf::deleted_only(req.run_view_type.as_deref())? {
        return Ok(Json(wire::Runs {
            runs: Vec::new(),
            next_page_token: None,
        }));
    }
    if !req.order_by.is_empty() {
        return sorted_search(
            &state,
            &names,
            &filter,
            &order,
            max,
            req.page_token.as_deref(),
        )
        .await;
    }
    let bad_token = || MlflowError::InvalidParameter("invalid page_token".into());
    let (mut index, mut cursor) = match req.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => (0usize, None),
        Some(t) => {
            let (i, c) = t.split_once(':').ok_or_else(bad_token)?;
            let i = i.parse().map_err(|_| bad_token())?;
            let c = match c {
                "" => None,
                c => Some(crate::store::parse_cursor(c).ok_or_else(bad_token)?),
            };
            (i, c)
        }
    };
    let mut runs = Vec::new();
    while index < names.len() && runs.len() < max {
        let query = RunQuery {
            experiment: Some(names[index].clone()),
            status: None,
            limit: u32::try_from((max - runs.len()).min(1000)).unwrap_or(1000),
            cursor: cursor.take(),
        };
        let (page, next) = state.store.list_runs(&query).await?;
        for run in page {
            let (name, metrics) = search_fields(&state, &run).await?;
            let searched = searched(&run, &name, &metrics);
            if filter.matches(&searched) {
                runs.push(run_json(&state, &run).await?);
            }
        }
        match next {
            Some(c) => cursor = Some(crate::store::parse_cursor(&c).ok_or_else(bad_token)?),
            None => index += 1,
        }
    }
    let next_page_token = (index < names.len()).then(|| {
        let c = cursor
            .map(|(at, id)| format!("{at}|{id}"))
            .unwrap_or_default();
        format!("{index}:{c}")
    });
    Ok(Json(wire::Runs {
        runs,
        next_page_token,
    }))
}

/// What `runs/search` reads of a run beside its summary: its name (the
/// `mlflow.runName` tag, else its id) and the last value of each of its metrics.
async fn search_fields(
    state: &AppState,
    run: &RunSummary,
) -> Result<(String, BTreeMap<String, f64>), MlflowError> {
    let metrics = state
        .store
        .series_list(&run.run_id)
        .await?
        .into_iter()
        .filter(|r| r.source == METRIC)
        .filter_map(|r| Some((r.name, r.last_value?)))
        .collect();
    let name = run
        .tags
        .get("mlflow.runName")
        .cloned()
        .unwrap_or_else(|| run.run_id.to_string());
    Ok((name, metrics))
}

/// When a run started, in MLflow's milliseconds (its creation, before it starts).
fn started_ms(run: &RunSummary) -> Option<i64> {
    run.start_time_utc
        .as_deref()
        .or(Some(&run.created_utc))
        .and_then(mf::millis)
}

/// A run as `runs/search` filters and sorts it.
fn searched<'a>(
    run: &'a RunSummary,
    name: &'a str,
    metrics: &'a BTreeMap<String, f64>,
) -> mf::Searched<'a> {
    mf::Searched {
        status: mf::status_name(run.status),
        run_name: name,
        tags: &run.tags,
        params: &run.properties,
        metrics,
        run_id: run.run_id.as_str(),
        start_time: started_ms(run),
        end_time: run.end_time_utc.as_deref().and_then(mf::millis),
    }
}

/// `runs/search` with `order_by`: every run of the experiments is read, filtered and
/// sorted (MLflow's SQL store sorts in SQL; here the metrics' last values live in
/// the series table, so the sort is in memory), then one page is cut. The page
/// token is `sorted:<offset>`.
async fn sorted_search(
    state: &AppState,
    names: &[String],
    filter: &mf::Filter,
    order: &mf::OrderBy,
    max: usize,
    page_token: Option<&str>,
) -> Answer<wire::Runs> {
    let offset: usize = match page_token.filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .strip_prefix("sorted:")
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| {
                MlflowError::InvalidParameter(
                    "invalid page_token: it is not from a search with this order_by".into(),
                )
            })?,
    };
    let mut found: Vec<(RunSummary, String, BTreeMap<String, f64>)> = Vec::new();
    for experiment in names {
        let mut cursor = None;
        loop {
            let query = RunQuery {
                experiment: Some(experiment.clone()),
                status: None,
                limit: 1000,
                cursor: cursor.take(),
            };
            let (page, next) = state.store.list_runs(&query).await?;
            for run in page {
                let (name, metrics) = search_fields(state, &run).await?;
                if filter.matches(&searched(&run, &name, &metrics)) {
                    found.push((run, name, metrics));
                }
            }
            match next {
                Some(c) => {
                    cursor = Some(crate::store::parse_cursor(&c).ok_or_else(|| {
                        MlflowError::Internal(format!("the store's cursor {c:?} did not parse"))
                    })?);
                }
                None => break,
            }
        }
    }
    found.sort_by(|a, b| order.compare(&searched(&a.0, &a.1, &a.2), &searched(&b.0, &b.1, &b.2)));
    let mut runs = Vec::new();
    for (run, _, _) in found.iter().skip(offset).take(max) {
        runs.push(run_json(state, run).await?);
    }
    let end = offset.saturating_add(max);
    let next_page_token = (end < found.len()).then(|| format!("sorted:{end}"));
    Ok(Json(wire::Runs {
        runs,
        next_page_token,
    }))
}

/// `POST runs/delete`: Runboard's delete (`runs::delete::delete_run`), which is for
/// good: the rows and the folder go at once, a run that has not ended is cancelled
/// first, and models registered from it stay. MLflow's soft delete has no
/// counterpart (see `runs/restore`).
pub async fn run_delete(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    caller.person()?;
    let (req, _): (mf::RunRef, _) = body(raw).await?;
    let record = run_for(&state, &caller, req.run_id.as_deref()).await?;
    use crate::runs::delete::DeleteError as E;
    match crate::runs::delete::delete_run(&state.runner, &record.summary.run_id).await {
        Ok(_) => Ok(Json(wire::Done {})),
        Err(e @ E::NoSuchRun(_)) => Err(MlflowError::NotFound(e.to_string())),
        Err(e @ (E::ChildOfLiveSweep { .. } | E::StillStopping(_))) => {
            Err(MlflowError::InvalidParameter(e.to_string()))
        }
        Err(e) => Err(MlflowError::Internal(e.to_string())),
    }
}

/// `POST runs/restore`: a run that exists is active already (`{}`, as MLflow answers
/// for an active run); a deleted one cannot come back, and the answer says so.
pub async fn run_restore(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    caller.person()?;
    let (req, _): (mf::RunRef, _) = body(raw).await?;
    run_for(&state, &caller, req.run_id.as_deref()).await?;
    Ok(Json(wire::Done {}))
}

/// Logs a batch to a run: MLflow's limits first, then Runboard's metrics ingest
/// (which checks every name and value before it stores any), so a bad batch changes
/// nothing.
async fn log(state: &AppState, caller: &Caller, batch: mf::LogBatch, bytes: usize) -> Answer {
    let record = run_for(state, caller, batch.run_id.as_deref()).await?;
    mf::check_batch(bytes, &batch)?;
    mf::param_conflict(&record.summary.properties, &batch.params)?;
    let metrics_batch = mf::to_metrics_batch(&batch, WallTime::from_millis(now_ms()));
    metrics::ingest(&state.metrics, &record.summary.run_id, metrics_batch).await?;
    Ok(Json(wire::Done {}))
}

/// `POST runs/log-batch`.
pub async fn log_batch(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (batch, bytes): (mf::LogBatch, _) = body(raw).await?;
    log(&state, &caller, batch, bytes).await
}

/// `POST runs/log-metric`.
pub async fn log_metric(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (req, bytes): (mf::LogMetric, _) = body(raw).await?;
    let batch = mf::LogBatch {
        run_id: req.run_id,
        metrics: vec![req.metric],
        ..mf::LogBatch::default()
    };
    log(&state, &caller, batch, bytes).await
}

/// `POST runs/log-parameter`.
pub async fn log_param(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (req, bytes): (mf::LogKeyValue, _) = body(raw).await?;
    let batch = mf::LogBatch {
        run_id: req.run_id,
        params: vec![req.item],
        ..mf::LogBatch::default()
    };
    log(&state, &caller, batch, bytes).await
}

/// `POST runs/set-tag`.
pub async fn set_tag(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (req, bytes): (mf::LogKeyValue, _) = body(raw).await?;
    let batch = mf::LogBatch {
        run_id: req.run_id,
        tags: vec![req.item],
        ..mf::LogBatch::default()
    };
    log(&state, &caller, batch, bytes).await
}

/// `POST runs/delete-tag`.
pub async fn delete_tag(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (req, _): (mf::LogKeyValue, _) = body(raw).await?;
    let record = run_for(&state, &caller, req.run_id.as_deref()).await?;
    if !record.summary.tags.contains_key(&req.item.key) {
        return Err(MlflowError::NotFound(format!(
            "No tag with name: {} in run with id {}",
            req.item.key, record.summary.run_id
        )));
    }
    let patch = TagsPatch {
        set: BTreeMap::new(),
        remove: vec![req.item.key],
    };
    let run_id = &record.summary.run_id;
    state
        .events
        .commit(run_id, state.store.patch_tags(run_id, &patch))
        .await?;
    Ok(Json(wire::Done {}))
}

/// `POST runs/log-inputs` and `runs/log-model`: accepted for the run, kept nowhere
/// (Runboard has no datasets, and models are registered through its own registry).
pub async fn accepted(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (req, _): (mf::RunRef, _) = body(raw).await?;
    run_for(&state, &caller, req.run_id.as_deref()).await?;
    Ok(Json(wire::Done {}))
}

/// `GET metrics/get-history?run_id=&metric_key=[&max_results=&page_token=]`: every
/// point of the metric, in the order logged; the page token is the offset.
pub async fn metric_history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<wire::MetricHistory> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    let record = run_for(&state, &caller, query_run_id(&q)).await?;
    let key = q.get("metric_key").map(String::as_str).unwrap_or("");
    if key.is_empty() {
        return Err(MlflowError::InvalidParameter(
            "missing value for required parameter 'metric_key'".into(),
        ));
    }
    let offset: usize = match q.get("page_token").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| MlflowError::InvalidParameter("invalid page_token".into()))?,
    };
    let max = match q.get("max_results") {
        None => usize::MAX,
        Some(m) => m.parse::<usize>().ok().filter(|m| *m > 0).ok_or_else(|| {
            MlflowError::InvalidParameter(format!(
                "max_results must be a positive number, got {m:?}"
            ))
        })?,
    };
    let body = metrics::series_body(
        &state.metrics,
        &record.summary.run_id,
        METRIC,
        "",
        key,
        None,
        crate::series::XAxis::Step,
    )
    .await?;
    let points = body.and_then(|b| b.points).unwrap_or_default();
    let page: Vec<mf::Metric> = points
        .iter()
        .skip(offset)
        .take(max)
        .map(|p| mf::Metric {
            key: key.to_owned(),
            value: p.value,
            timestamp: Some(WallTime::from_secs(p.wall_time).millis()),
            step: Some(p.step),
        })
        .collect();
    let end = offset.saturating_add(max);
    Ok(Json(wire::MetricHistory {
        metrics: page,
        next_page_token: (end < points.len()).then(|| end.to_string()),
    }))
}

/// `POST logged-models/search`: none (MLflow 3's logged models are not kept; the
/// client asks when it lists a run's artifacts).
pub async fn logged_models_search(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: Body,
) -> Answer<wire::LoggedModels> {
    caller(&state, &headers, Access::VIEWER).await?;
    let (_, _): (Value, _) = body(raw).await?;
    Ok(Json(wire::LoggedModels::default()))
}

/// Routes MLflow has and Runboard does not: `ENDPOINT_NOT_FOUND`, after the same
/// credential check as every route under `/api`.
pub async fn not_found(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, MlflowError> {
    caller(&state, &headers, Access::VIEWER).await?;
    Err(MlflowError::EndpointNotFound(format!(
        "Runboard does not implement MLflow's endpoint {}",
        uri.path()
    )))
}

// ---- Artifacts -------------------------------------------------------------------

/// The run and the path under its `outputs/` that an artifact path
/// `<run_id>/outputs/<rel>` names.
fn artifact_path(path: &str) -> Result<(RunId, String), MlflowError> {
    let bad = || {
        MlflowError::NotFound(format!(
            "no artifact {path:?}: artifact paths are <run_id>/outputs/<path>"
        ))
    };
    let path = path.trim_start_matches('/');
    let (id, rest) = path.split_once('/').unwrap_or((path, ""));
    let run_id = RunId::parse(id).map_err(|_| bad())?;
    let rel = match rest.trim_end_matches('/') {
        "outputs" => "",
        r => r.strip_prefix("outputs/").ok_or_else(bad)?,
    };
    Ok((run_id, rel.to_owned()))
}

/// `PUT /api/2.0/mlflow-artifacts/artifacts/<run_id>/outputs/<path>`: writes the
/// file into the run's `outputs/` (confined to it) and indexes it, so the portal's
/// Outputs tab shows it at once.
pub async fn artifact_put(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    raw: Body,
) -> Answer {
    let caller = caller(&state, &headers, Access::EDITOR).await?;
    let (run_id, rel) = artifact_path(&path)?;
    caller.may(&run_id)?;
    if state.store.run(&run_id).await?.is_none() {
        return Err(MlflowError::NotFound(format!(
            "Run with id={run_id} not found"
        )));
    }
    if rel.is_empty() {
        return Err(MlflowError::InvalidParameter(
            "give a file path under <run_id>/outputs/".into(),
        ));
    }
    let limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    let data: Bytes = axum::body::to_bytes(raw, limit).await.map_err(|_| {
        MlflowError::InvalidParameter(format!(
            "the file is larger than the upload limit of {limit} bytes"
        ))
    })?;
    let outputs = state.run_dir(&run_id).join("wd/outputs");
    let written = tokio::task::spawn_blocking({
        let rel = rel.clone();
        move || -> Result<std::fs::Metadata, crate::files::FilesError> {
            std::fs::create_dir_all(&outputs)?;
            crate::files::write(&outputs, &rel, &data)?;
            Ok(std::fs::symlink_metadata(outputs.join(&rel))?)
        }
    })
    .await
    .map_err(|e| MlflowError::Internal(e.to_string()))?;
    let meta = written.map_err(|e| match e {
        crate::files::FilesError::Io(e) => MlflowError::Internal(e.to_string()),
        other => MlflowError::InvalidParameter(other.to_string()),
    })?;
    let modified = meta
        .modified()
        .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339())
        .unwrap_or_default();
    let path = format!("outputs/{rel}");
    state
        .events
        .commit(
            &run_id,
            state
                .store
                .upsert_file(&run_id, &path, meta.len(), &modified, true),
        )
        .await?;
    Ok(Json(wire::Done {}))
}

/// `GET /api/2.0/mlflow-artifacts/artifacts/<run_id>/outputs/<path>`: the file.
pub async fn artifact_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    request: Request,
) -> Result<Response, MlflowError> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    let (run_id, rel) = artifact_path(&path)?;
    caller.may(&run_id)?;
    if state.store.run(&run_id).await?.is_none() {
        return Err(MlflowError::NotFound(format!(
            "Run with id={run_id} not found"
        )));
    }
    let run_dir = state.run_dir(&run_id);
    let name = rel.clone();
    let opened = tokio::task::spawn_blocking(move || {
        crate::confined::open_in_area(
            &run_dir,
            std::path::Path::new("wd/outputs"),
            std::path::Path::new(&rel),
        )
    })
    .await
    .map_err(|e| MlflowError::Internal(e.to_string()))?
    .map_err(|e| MlflowError::NotFound(format!("no artifact {path:?}: {e}")))?;
    super::files::serve_opened((opened, name), request)
        .await
        .map_err(api_error)
}

/// `GET /api/2.0/mlflow-artifacts/artifacts?path=<run_id>/outputs[/<folder>]`: the
/// folder's entries, as names relative to it.
pub async fn artifact_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<wire::Files> {
    let caller = caller(&state, &headers, Access::VIEWER).await?;
    let path = q.get("path").map(String::as_str).unwrap_or("");
    let (run_id, rel) = artifact_path(path)?;
    caller.may(&run_id)?;
    if state.store.run(&run_id).await?.is_none() {
        return Err(MlflowError::NotFound(format!(
            "Run with id={run_id} not found"
        )));
    }
    let outputs = state.run_dir(&run_id).join("wd/outputs");
    let files = tokio::task::spawn_blocking(move || list_folder(&outputs, &rel))
        .await
        .map_err(|e| MlflowError::Internal(e.to_string()))?;
    Ok(Json(wire::Files { files }))
}

/// The entries of `outputs/rel` (a file lists itself); links are not followed.
fn list_folder(outputs: &std::path::Path, rel: &str) -> Vec<wire::FileInfo> {
    let rel_path = std::path::Path::new(rel);
    let (parent, last) = match rel.rsplit_once('/') {
        Some((p, l)) => (p, l),
        None => ("", rel),
    };
    if !rel.is_empty()
        && let Some(dir) = crate::confined::real_folder(outputs, std::path::Path::new(parent))
        && let Ok(meta) = std::fs::symlink_metadata(dir.join(last))
        && meta.is_file()
    {
        return vec![wire::FileInfo {
            path: last.to_owned(),
            is_dir: false,
            file_size: Some(meta.len()),
        }];
    }
    let folder = if rel.is_empty() {
        Some(outputs.to_path_buf()).filter(|o| o.symlink_metadata().is_ok_and(|m| m.is_dir()))
    } else {
        crate::confined::real_folder(outputs, rel_path)
    };
    let Some(dir) = folder else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<wire::FileInfo> = entries
        .flatten()
        .take(crate::limits::MAX_LISTED_FILES)
        .filter_map(|e| {
            let kind = e.file_type().ok()?;
            let name = e.file_name().into_string().ok()?;
            if kind.is_dir() {
                Some(wire::FileInfo {
                    path: name,
                    is_dir: true,
                    file_size: None,
                })
            } else if kind.is_file() {
                let size = e.metadata().ok()?.len();
                Some(wire::FileInfo {
                    path: name,
                    is_dir: false,
                    file_size: Some(size),
                })
            } else {
                None
            }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The MLflow routes, for [`super::routes`]. Each checks credentials itself (a run's
/// token counts, for its own run); `access` is what a person needs.
pub fn routes() -> Vec<super::ApiRoute> {
    use axum::http::Method;
    use axum::routing::{delete, get, patch, post, put};
    let route = |method: Method, path, access, handler| super::ApiRoute {
        method,
        path,
        handler,
        access,
        run_token: true,
    };
    vec![
        route(
            Method::GET,
            "/api/2.0/mlflow/experiments/get-by-name",
            Access::VIEWER,
            get(experiment_by_name),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow/experiments/get",
            Access::VIEWER,
            get(experiment_get),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/experiments/create",
            Access::EDITOR,
            post(experiment_create),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/experiments/search",
            Access::VIEWER,
            post(experiment_search),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow/experiments/search",
            Access::VIEWER,
            get(experiment_search),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/create",
            Access::EDITOR,
            post(run_create),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/update",
            Access::EDITOR,
            post(run_update),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow/runs/get",
            Access::VIEWER,
            get(run_get),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/search",
            Access::VIEWER,
            post(run_search),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/delete",
            Access::EDITOR,
            post(run_delete),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/restore",
            Access::EDITOR,
            post(run_restore),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/log-metric",
            Access::EDITOR,
            post(log_metric),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/log-parameter",
            Access::EDITOR,
            post(log_param),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/set-tag",
            Access::EDITOR,
            post(set_tag),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/delete-tag",
            Access::EDITOR,
            post(delete_tag),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/log-batch",
            Access::EDITOR,
            post(log_batch),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/log-inputs",
            Access::EDITOR,
            post(accepted),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/runs/log-model",
            Access::EDITOR,
            post(accepted),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow/metrics/get-history",
            Access::VIEWER,
            get(metric_history),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/logged-models/search",
            Access::VIEWER,
            post(logged_models_search),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow/{*path}",
            Access::VIEWER,
            get(not_found),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow/{*path}",
            Access::VIEWER,
            post(not_found),
        ),
        route(
            Method::PATCH,
            "/api/2.0/mlflow/{*path}",
            Access::VIEWER,
            patch(not_found),
        ),
        route(
            Method::DELETE,
            "/api/2.0/mlflow/{*path}",
            Access::VIEWER,
            delete(not_found),
        ),
        route(
            Method::GET,
            "/api/3.0/mlflow/{*path}",
            Access::VIEWER,
            get(not_found),
        ),
        route(
            Method::POST,
            "/api/3.0/mlflow/{*path}",
            Access::VIEWER,
            post(not_found),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow-artifacts/{*path}",
            Access::VIEWER,
            get(not_found),
        ),
        route(
            Method::POST,
            "/api/2.0/mlflow-artifacts/{*path}",
            Access::VIEWER,
            post(not_found),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow-artifacts/artifacts",
            Access::VIEWER,
            get(artifact_list),
        ),
        route(
            Method::GET,
            "/api/2.0/mlflow-artifacts/artifacts/{*path}",
            Access::VIEWER,
            get(artifact_get),
        ),
        route(
            Method::PUT,
            "/api/2.0/mlflow-artifacts/artifacts/{*path}",
            Access::EDITOR,
            put(artifact_put).layer(axum::extract::DefaultBodyLimit::disable()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_paths_name_a_run_s_outputs() {
        let (run, rel) = artifact_path("exp_1700000000_0123abcd/outputs/model/a.pkl").unwrap();
        assert_eq!(run.as_str(), "exp_1700000000_0123abcd");
        assert_eq!(rel, "model/a.pkl");
        assert_eq!(
            artifact_path("exp_1700000000_0123abcd/outputs").unwrap().1,
            ""
        );
        for bad in [
            "",
            "x",
            "exp_1700000000_0123abcd/logs/a",
            "exp_1700000000_0123abcd/outputsx",
        ] {
            assert_eq!(
                artifact_path(bad).unwrap_err().code(),
                "RESOURCE_DOES_NOT_EXIST",
                "{bad}"
            );
        }
    }
}
