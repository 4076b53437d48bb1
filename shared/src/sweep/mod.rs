//! Sweeps (the SDK v1's HyperDrive), sans-IO: the configuration a client sends, its
//! validation (every bad field named at once), the parameter space and how each
//! child's values are drawn ([`space`]), early termination ([`policy`]), and which
//! child is best.
//!
//! The server's scheduler (`server/src/sweep.rs`) does the I/O: it creates children
//! with [`SweepConfig::child_parameters`], reads their metrics, asks
//! [`Policy::decide`], and cancels.

pub mod policy;
pub mod space;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::estimator::{Estimator, FieldError};
pub use policy::{Child, Goal, Policy, best_child};
pub use space::Expr;

/// How children's parameter values are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Sampling {
    /// `RandomParameterSampling`: child `k` draws from the stream `k` of `seed`.
    /// The server picks a seed when the client gives none, and stores it.
    Random {
        /// The seed.
        seed: Option<u64>,
    },
    /// `GridParameterSampling`: every combination of `choice` values, once.
    Grid,
}

/// A validated sweep: what `POST /api/experiments/{name}/sweeps` takes in its
/// `config` part, once [`SweepConfig::parse`] has accepted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// The estimator every child runs (JSON, as `POST .../runs` takes it), before its
    /// parameters are added to `script_params`.
    pub run_config: Value,
    /// Random or grid.
    pub sampling: Sampling,
    /// Parameter name (the script argument, `--lr`) → expression, in the order given.
    pub parameter_space: Vec<(String, Expr)>,
    /// The early termination policy.
    pub policy: Policy,
    /// The metric the children log with `run.log` that the policy and "best" read.
    pub primary_metric_name: String,
    /// Whether larger or smaller is better.
    pub primary_metric_goal: Goal,
    /// At most this many children (a grid stops at its size).
    pub max_total_runs: u32,
    /// Never more than this many children unfinished at once.
    pub max_concurrent_runs: u32,
    /// After this long the sweep starts no child and cancels those running.
    pub max_duration_minutes: u32,
}

/// The limits of the numbers in a sweep.
pub const MAX_TOTAL_RUNS: u32 = 1000;
/// See [`MAX_TOTAL_RUNS`].
pub const MAX_CONCURRENT_RUNS: u32 = 100;
/// The SDK's default `max_duration_minutes` (7 days) is also the largest allowed.
pub const MAX_DURATION_MINUTES: u32 = 10080;

const FIELDS: [&str; 8] = [
    "run_config",
    "hyperparameter_sampling",
    "policy",
    "primary_metric_name",
    "primary_metric_goal",
    "max_total_runs",
    "max_concurrent_runs",
    "max_duration_minutes",
];

impl SweepConfig {
    /// Reads and checks a sweep configuration (JSON text). Every problem is
    /// reported, each with the field it is in (`policy.slack_factor`,
    /// `hyperparameter_sampling.parameter_space['--lr']`, `run_config.entry_script`).
    pub fn parse(text: &str) -> Result<(Self, Estimator), Vec<FieldError>> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| vec![FieldError::new("config", format!("not valid JSON: {e}"))])?;
        let Value::Object(top) = value else {
            return Err(vec![FieldError::new("config", "expected a JSON object")]);
        };
        let mut errors = Vec::new();
        for key in top.keys() {
            if !FIELDS.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    key,
                    format!("unknown field; expected one of {}", FIELDS.join(", ")),
                ));
            }
        }
        let run_config = top.get("run_config").cloned().unwrap_or(Value::Null);
        let estimator = if run_config.is_object() {
            match Estimator::from_json(&run_config.to_string()) {
                Ok(e) => Some(e),
                Err(errs) => {
                    errors.extend(errs.into_iter().map(|e| FieldError {
                        field: format!("run_config.{}", e.field),
                        message: e.message,
                    }));
                    None
                }
            }
        } else {
            errors.push(FieldError::new(
                "run_config",
                "required: the estimator (or ScriptRunConfig) each child runs, as a JSON object",
            ));
            None
        };
        let (sampling, parameter_space) = sampling(top.get("hyperparameter_sampling"), &mut errors);
        let policy = policy(top.get("policy"), &mut errors);
        let primary_metric_name = match top.get("primary_metric_name") {
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 255 => s.clone(),
            _ => {
                errors.push(FieldError::new(
                    "primary_metric_name",
                    "required: the name of the metric the script logs with run.log (1 to 255 characters)",
                ));
                String::new()
            }
        };
        let primary_metric_goal = match top
            .get("primary_metric_goal")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("maximize") => Goal::Maximize,
            Some("minimize") => Goal::Minimize,
            _ => {
                errors.push(FieldError::new(
                    "primary_metric_goal",
                    "required: \"maximize\" or \"minimize\" (PrimaryMetricGoal.MAXIMIZE or MINIMIZE)",
                ));
                Goal::Maximize
            }
        };
        let max_total_runs = whole(&top, "max_total_runs", None, 1, MAX_TOTAL_RUNS, &mut errors);
        let max_concurrent_runs = whole(
            &top,
            "max_concurrent_runs",
            Some(max_total_runs.clamp(1, MAX_CONCURRENT_RUNS)),
            1,
            MAX_CONCURRENT_RUNS,
            &mut errors,
        );
        let max_duration_minutes = whole(
            &top,
            "max_duration_minutes",
            Some(MAX_DURATION_MINUTES),
            1,
            MAX_DURATION_MINUTES,
            &mut errors,
        );
        match estimator {
            Some(estimator) if errors.is_empty() => Ok((
                Self {
                    run_config,
                    sampling,
                    parameter_space,
                    policy,
                    primary_metric_name,
                    primary_metric_goal,
                    max_total_runs,
                    max_concurrent_runs,
                    max_duration_minutes,
                },
                estimator,
            )),
            _ => Err(errors),
        }
    }

    /// How many children the sweep makes: `max_total_runs`, or the grid's size when
    /// that is smaller.
    pub fn total_children(&self) -> u32 {
        match self.sampling {
            Sampling::Random { .. } => self.max_total_runs,
            Sampling::Grid => {
                let size = space::grid_size(&self.parameter_space).unwrap_or(0);
                self.max_total_runs
                    .min(u32::try_from(size).unwrap_or(u32::MAX))
            }
        }
    }

    /// Child `k`'s parameter values (name → value, in the space's order); the same
    /// for the same configuration and `k`, always. `None` past the end of a grid.
    pub fn child_parameters(&self, k: u32) -> Option<Vec<(String, Value)>> {
        match self.sampling {
            Sampling::Random { seed } => Some(space::random_child(
                &self.parameter_space,
                seed.unwrap_or(0),
                u64::from(k),
            )),
            Sampling::Grid => space::grid_child(&self.parameter_space, u64::from(k)),
        }
    }
}

/// The script argument a parameter name becomes: the SDK passes `lr` as `--lr`.
pub fn argument_name(name: &str) -> String {
    if name.starts_with('-') {
        name.to_owned()
    } else {
        format!("--{name}")
    }
}

fn whole(
    top: &Map<String, Value>,
    field: &str,
    default: Option<u32>,
    low: u32,
    high: u32,
    errors: &mut Vec<FieldError>,
) -> u32 {
    match top.get(field) {
        None | Some(Value::Null) if default.is_some() => default.unwrap_or(low),
        Some(v)
            if v.as_u64()
                .is_some_and(|n| (u64::from(low)..=u64::from(high)).contains(&n)) =>
        {
            u32::try_from(v.as_u64().unwrap_or(0)).unwrap_or(low)
        }
        got => {
            let got = got.map_or("nothing".to_owned(), Value::to_string);
            errors.push(FieldError::new(
                field,
                format!("must be a whole number from {low} to {high}, got {got}"),
            ));
            low
        }
    }
}

fn sampling(
    value: Option<&Value>,
    errors: &mut Vec<FieldError>,
) -> (Sampling, Vec<(String, Expr)>) {
    const F: &str = "hyperparameter_sampling";
    let fallback = (Sampling::Grid, Vec::new());
    let Some(Value::Object(obj)) = value else {
        errors.push(FieldError::new(
            F,
            "required: {\"sampling\": \"random\" or \"grid\", \"parameter_space\": {...}, \"seed\": optional}",
        ));
        return fallback;
    };
    for key in obj.keys() {
        if !["sampling", "parameter_space", "seed"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                &format!("{F}.{key}"),
                "unknown field; expected sampling, parameter_space, seed",
            ));
        }
    }
    let seed = match obj.get("seed") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(s) => Some(s),
            None => {
                errors.push(FieldError::new(
                    &format!("{F}.seed"),
                    format!("must be a whole number ≥ 0, got {v}"),
                ));
                None
            }
        },
    };
    let kind = obj
        .get("sampling")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let sampling = match kind.as_deref() {
        Some("random") => Sampling::Random { seed },
        Some("grid") => {
            if seed.is_some() {
                errors.push(FieldError::new(
                    &format!("{F}.seed"),
                    "grid sampling takes no seed",
                ));
            }
            Sampling::Grid
        }
        Some("bayesian") => {
            errors.push(FieldError::new(
                &format!("{F}.sampling"),
                "Bayesian sampling is not supported by Runboard; use random sampling (RandomParameterSampling) or grid sampling (GridParameterSampling)",
            ));
            Sampling::Grid
        }
        _ => {
            errors.push(FieldError::new(
                &format!("{F}.sampling"),
                "required: \"random\" or \"grid\"",
            ));
            Sampling::Grid
        }
    };
    let mut space = Vec::new();
    match obj.get("parameter_space") {
        Some(Value::Object(params)) if !params.is_empty() && params.len() <= 100 => {
            for (name, expr) in params {
                let field = format!("{F}.parameter_space['{name}']");
                let bad_name = name.is_empty()
                    || name.len() > 255
                    || name.chars().any(|c| c.is_whitespace() || c.is_control())
                    || name.trim_start_matches('-').is_empty();
                if bad_name {
                    errors.push(FieldError::new(
                        &field,
                        "a parameter name is a script argument such as --lr: 1 to 255 characters, no spaces",
                    ));
                    continue;
                }
                match Expr::parse(expr) {
                    Ok(e) => {
                        if sampling == Sampling::Grid
                            && kind.as_deref() == Some("grid")
                            && !matches!(e, Expr::Choice(_))
                        {
                            errors.push(FieldError::new(
                                &field,
                                "grid sampling takes choice(...) only; use random sampling for continuous ranges",
                            ));
                        }
                        space.push((name.clone(), e));
                    }
                    Err(message) => errors.push(FieldError::new(&field, message)),
                }
            }
            let mut args: Vec<String> = space.iter().map(|(n, _)| argument_name(n)).collect();
            args.sort();
            if let Some(w) = args.windows(2).find(|w| w[0] == w[1]) {
                errors.push(FieldError::new(
                    &format!("{F}.parameter_space"),
                    format!("two parameters become the same argument {}", w[0]),
                ));
            }
        }
        _ => errors.push(FieldError::new(
            &format!("{F}.parameter_space"),
            "required: an object of 1 to 100 parameters, name → expression such as [\"uniform\", [0.1, 0.5]]",
        )),
    }
    (sampling, space)
}

fn policy(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Policy {
    let obj = match value {
        None | Some(Value::Null) => return Policy::None,
        Some(Value::Object(obj)) => obj,
        Some(_) => {
            errors.push(FieldError::new(
                "policy",
                "expected an object such as {\"kind\": \"bandit\", \"slack_factor\": 0.1} or null",
            ));
            return Policy::None;
        }
    };
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let known: &[&str] = match kind {
        "none" => &["kind"],
        "bandit" => &[
            "kind",
            "slack_factor",
            "slack_amount",
            "evaluation_interval",
            "delay_evaluation",
        ],
        "median_stopping" => &["kind", "evaluation_interval", "delay_evaluation"],
        "truncation_selection" => &[
            "kind",
            "truncation_percentage",
            "evaluation_interval",
            "delay_evaluation",
            "exclude_finished_jobs",
        ],
        _ => {
            errors.push(FieldError::new(
                "policy.kind",
                "must be one of bandit, median_stopping, truncation_selection, none",
            ));
            return Policy::None;
        }
    };
    for key in obj.keys() {
        if !known.contains(&key.as_str()) {
            errors.push(FieldError::new(
                &format!("policy.{key}"),
                format!(
                    "unknown field for a {kind} policy; expected {}",
                    known.join(", ")
                ),
            ));
        }
    }
    let int =
        |field: &str, default: u32, low: u32, errors: &mut Vec<FieldError>| match obj.get(field) {
            None | Some(Value::Null) => default,
            Some(v) => match v
                .as_u64()
                .filter(|n| *n >= u64::from(low) && *n <= 1_000_000)
            {
                Some(n) => u32::try_from(n).unwrap_or(default),
                None => {
                    errors.push(FieldError::new(
                        &format!("policy.{field}"),
                        format!("must be a whole number from {low} to 1000000, got {v}"),
                    ));
                    default
                }
            },
        };
    let evaluation_interval = int("evaluation_interval", 1, 1, errors);
    match kind {
        "bandit" => {
            let slack = |field: &str, errors: &mut Vec<FieldError>| match obj.get(field) {
                None | Some(Value::Null) => None,
                Some(v) => match v.as_f64().filter(|x| x.is_finite() && *x > 0.0) {
                    Some(x) => Some(x),
                    None => {
                        errors.push(FieldError::new(
                            &format!("policy.{field}"),
                            format!("must be a number greater than 0, got {v}"),
                        ));
                        Some(f64::NAN)
                    }
                },
            };
            let slack_factor = slack("slack_factor", errors);
            let slack_amount = slack("slack_amount", errors);
            if slack_factor.is_some() == slack_amount.is_some() {
                errors.push(FieldError::new(
                    "policy.slack_factor",
                    "give exactly one of slack_factor and slack_amount",
                ));
            }
            Policy::Bandit {
                slack_factor,
                slack_amount,
                evaluation_interval,
                delay_evaluation: int("delay_evaluation", 0, 0, errors),
            }
        }
        "median_stopping" => Policy::MedianStopping {
            evaluation_interval,
            delay_evaluation: int("delay_evaluation", 5, 0, errors),
        },
        "truncation_selection" => {
            let truncation_percentage =
                match obj.get("truncation_percentage").and_then(Value::as_u64) {
                    Some(p @ 1..=99) => u32::try_from(p).unwrap_or(1),
                    _ => {
                        errors.push(FieldError::new(
                            "policy.truncation_percentage",
                            "required: a whole number from 1 to 99",
                        ));
                        1
                    }
                };
            let exclude_finished_jobs = match obj.get("exclude_finished_jobs") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(v) => {
                    errors.push(FieldError::new(
                        "policy.exclude_finished_jobs",
                        format!("must be true or false, got {v}"),
                    ));
                    false
                }
            };
            Policy::TruncationSelection {
                truncation_percentage,
                evaluation_interval,
                delay_evaluation: int("delay_evaluation", 0, 0, errors),
                exclude_finished_jobs,
            }
        }
        _ => Policy::None,
    }
}

#[cfg(test)]
mod tests;
