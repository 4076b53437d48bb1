//! Sweep configurations as clients send them: what is accepted, and the field each
//! error names.

use super::*;
use serde_json::json;

/// A good configuration; each case changes one part of it.
fn good() -> Value {
    json!({
        "run_config": {"source_directory": "src", "entry_script": "train.py"},
        "hyperparameter_sampling": {
            "sampling": "random",
            "seed": 7,
            "parameter_space": {"--lr": ["uniform", [0.1, 0.5]], "batch": ["choice", [[16, 32]]]}
        },
        "policy": {"kind": "bandit", "slack_factor": 0.1, "evaluation_interval": 2, "delay_evaluation": 4},
        "primary_metric_name": "accuracy",
        "primary_metric_goal": "MAXIMIZE",
        "max_total_runs": 12,
        "max_concurrent_runs": 3
    })
}

fn with(path: &[&str], value: Value) -> Value {
    let mut v = good();
    let mut at = &mut v;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    let last = path[path.len() - 1];
    if value.is_null() && last != "policy" {
        at.as_object_mut().unwrap().remove(last);
    } else {
        at[last] = value;
    }
    v
}

/// The fields named by the errors of `config`.
fn fields(config: &Value) -> Vec<String> {
    match SweepConfig::parse(&config.to_string()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| e.field).collect(),
    }
}

#[test]
fn a_good_configuration_is_read_with_the_sdk_defaults_filled_in() {
    let (config, estimator) = SweepConfig::parse(&good().to_string()).unwrap();
    assert_eq!(estimator.entry_script, "train.py");
    assert_eq!(config.sampling, Sampling::Random { seed: Some(7) });
    assert_eq!(
        config.parameter_space,
        [
            ("--lr".to_owned(), Expr::Uniform(0.1, 0.5)),
            ("batch".to_owned(), Expr::Choice(vec![json!(16), json!(32)]))
        ]
    );
    assert_eq!(
        config.policy,
        Policy::Bandit {
            slack_factor: Some(0.1),
            slack_amount: None,
            evaluation_interval: 2,
            delay_evaluation: 4
        }
    );
    assert_eq!(config.primary_metric_goal, Goal::Maximize);
    assert_eq!(config.max_duration_minutes, MAX_DURATION_MINUTES);
    assert_eq!(config.total_children(), 12);
    assert_eq!(argument_name("batch"), "--batch");
    assert_eq!(argument_name("--lr"), "--lr");
    let (config, _) = SweepConfig::parse(&with(&["policy"], Value::Null).to_string()).unwrap();
    assert_eq!(config.policy, Policy::None);
    let median = with(&["policy"], json!({"kind": "median_stopping"}));
    let (config, _) = SweepConfig::parse(&median.to_string()).unwrap();
    assert_eq!(
        config.policy,
        Policy::MedianStopping {
            evaluation_interval: 1,
            delay_evaluation: 5
        },
        "MedianStoppingPolicy's default delay_evaluation is 5"
    );
}

#[test]
fn each_bad_field_is_named() {
    let cases: Vec<(Value, &[&str])> = vec![
        (with(&["run_config"], Value::Null), &["run_config"]),
        (
            with(&["run_config", "entry_script"], Value::Null),
            &["run_config.entry_script"],
        ),
        (
            with(&["hyperparameter_sampling", "sampling"], json!("bayesian")),
            &["hyperparameter_sampling.sampling"],
        ),
        (
            with(
                &["hyperparameter_sampling", "parameter_space", "--lr"],
                json!(["uniform", [1, 0]]),
            ),
            &["hyperparameter_sampling.parameter_space['--lr']"],
        ),
        (
            with(&["hyperparameter_sampling", "parameter_space"], json!({})),
            &["hyperparameter_sampling.parameter_space"],
        ),
        (
            with(&["policy", "slack_factor"], json!(-1)),
            &["policy.slack_factor"],
        ),
        (
            with(&["policy", "slack_amount"], json!(0.2)),
            &["policy.slack_factor"],
        ),
        (
            with(&["policy", "evaluation_interval"], json!(0)),
            &["policy.evaluation_interval"],
        ),
        (
            with(&["policy", "kind"], json!("hyperband")),
            &["policy.kind"],
        ),
        (
            with(&["policy", "slak_factor"], json!(1)),
            &["policy.slak_factor"],
        ),
        (
            with(&["primary_metric_name"], json!("")),
            &["primary_metric_name"],
        ),
        (
            with(&["primary_metric_goal"], json!("up")),
            &["primary_metric_goal"],
        ),
        (with(&["max_total_runs"], json!(0)), &["max_total_runs"]),
        (
            with(&["max_concurrent_runs"], json!(1.5)),
            &["max_concurrent_runs"],
        ),
        (
            with(&["max_duration_minutes"], json!(20000)),
            &["max_duration_minutes"],
        ),
        (with(&["max_runs"], json!(3)), &["max_runs"]),
    ];
    for (config, expect) in cases {
        assert_eq!(fields(&config), expect, "{config}");
    }
    // Several at once: all of them, in one answer.
    let mut many = with(&["max_total_runs"], json!(-3));
    many["primary_metric_goal"] = json!(null);
    many["policy"]["slack_factor"] = json!("x");
    assert_eq!(
        fields(&many),
        [
            "policy.slack_factor",
            "primary_metric_goal",
            "max_total_runs"
        ]
    );
}

#[test]
fn bayesian_is_refused_in_words_that_name_random() {
    let config = with(&["hyperparameter_sampling", "sampling"], json!("bayesian"));
    let errors = SweepConfig::parse(&config.to_string()).unwrap_err();
    assert!(
        errors[0]
            .message
            .contains("random sampling (RandomParameterSampling)"),
        "{errors:?}"
    );
}

#[test]
fn a_grid_takes_choices_only_and_has_as_many_children_as_combinations() {
    let mut config = good();
    config["hyperparameter_sampling"] = json!({
        "sampling": "grid",
        "parameter_space": {"--a": ["choice", [[1, 2, 3]]], "--b": ["choice", [["x", "y"]]]}
    });
    config["max_total_runs"] = json!(100);
    let (parsed, _) = SweepConfig::parse(&config.to_string()).unwrap();
    assert_eq!(
        parsed.total_children(),
        6,
        "the grid's size, below max_total_runs"
    );
    let seen: std::collections::BTreeSet<String> = (0..6)
        .map(|k| {
            Value::from(
                parsed
                    .child_parameters(k)
                    .unwrap()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>(),
            )
            .to_string()
        })
        .collect();
    assert_eq!(seen.len(), 6, "{seen:?}");
    config["hyperparameter_sampling"]["parameter_space"]["--c"] = json!(["uniform", [0, 1]]);
    assert_eq!(
        fields(&config),
        ["hyperparameter_sampling.parameter_space['--c']"]
    );
}

#[test]
fn random_children_replay_from_the_stored_configuration() {
    let (config, _) = SweepConfig::parse(&good().to_string()).unwrap();
    let stored: SweepConfig =
        serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
    assert_eq!(stored, config);
    for k in 0..12 {
        assert_eq!(stored.child_parameters(k), config.child_parameters(k));
    }
}
