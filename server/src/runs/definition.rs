//! What a run was asked to do: its definition, stored in its row (`runs.definition`)
//! and answered as `run_definition`; and what a sweep's children share (the sweep's
//! `template`). Written and read only through these types, so the submit, the sweep
//! and the driver agree on one shape.

use runboard_shared::environment::EnvSpec;
use runboard_shared::estimator::Estimator;
use runboard_shared::sweep::SweepConfig;
use serde::{Deserialize, Serialize};

/// A run's definition, one shape per way a run is made. In JSON, the variant's fields
/// are the object's keys, in this order (no tag: the shape says which it is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Definition {
    /// A sweep's parent: the HyperDrive configuration and the estimator its children
    /// start from. Nothing runs it.
    Sweep {
        /// The sweep's configuration.
        hyperdrive: SweepConfig,
        /// The children's estimator, before their parameters.
        estimator: Estimator,
    },
    /// A job: submitted, or a sweep's child.
    Job {
        /// The estimator, as checked.
        estimator: Estimator,
        /// The script's arguments, from `script_params` and `arguments`.
        #[serde(default)]
        arguments: Vec<String>,
        /// The command line: the interpreter, the entry script, the arguments.
        #[serde(default)]
        command: Vec<String>,
        /// The environment built for it; `None` for a `user_managed` run.
        #[serde(default)]
        environment: Option<Environment>,
    },
    /// A run MLflow's client created: what `runs/create` said. No process runs it.
    Mlflow {
        /// `runs/create`'s fields.
        mlflow: MlflowCreated,
    },
}

/// A job's environment as decided at submit time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// What it is built under (`<data>/envs/<hash>`).
    pub hash: String,
    /// What it installs.
    pub spec: EnvSpec,
}

/// What MLflow's `runs/create` said of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlflowCreated {
    /// The run's name.
    pub run_name: Option<String>,
    /// When the client started it, in milliseconds since the epoch.
    pub start_time: Option<i64>,
}

/// What every child of a sweep shares, decided when the sweep was submitted
/// (`sweeps.template`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepTemplate {
    /// The children's environment; `None` for `user_managed`.
    pub environment: Option<Environment>,
    /// The interpreter the children's jobs start.
    pub python: String,
}

impl Definition {
    /// Reads a stored definition.
    pub fn read(stored: &serde_json::Value) -> Result<Self, String> {
        Self::deserialize(stored).map_err(|e| format!("the run definition is unreadable: {e}"))
    }

    /// The definition as stored.
    pub fn to_value(&self) -> serde_json::Value {
        // Strings, numbers and the shared types' derived serializers: never fails.
        serde_json::to_value(self).unwrap_or_default()
    }

    /// A job's estimator and environment; `Err` names what the run is instead.
    pub fn job(&self) -> Result<(&Estimator, Option<&Environment>), String> {
        match self {
            Self::Job {
                estimator,
                environment,
                ..
            } => Ok((estimator, environment.as_ref())),
            Self::Sweep { .. } => Err("the run is a sweep's parent, not a job".into()),
            Self::Mlflow { .. } => Err("the run was created by MLflow's client, not a job".into()),
        }
    }
}

impl SweepTemplate {
    /// Reads a stored template.
    pub fn read(stored: &serde_json::Value) -> Result<Self, String> {
        Self::deserialize(stored).map_err(|e| format!("the sweep's template is unreadable: {e}"))
    }

    /// The template as stored.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimator() -> Estimator {
        Estimator::from_value(&serde_json::json!({
            "source_directory": "src",
            "entry_script": "train.py",
            "script_params": {"--lr": 0.1},
        }))
        .unwrap()
    }

    /// Each shape is written as the submit, the sweep and MLflow's `runs/create` wrote
    /// it before there was a type, and reads back the same.
    #[test]
    fn each_shape_is_the_json_it_was_and_reads_back() {
        let spec = EnvSpec {
            pip: vec!["scikit-learn".into()],
            conda: vec![],
            channels: vec![],
            requirements: vec![],
            warnings: vec![],
            unpinned_framework: None,
        };
        let environment = Environment {
            hash: "ab12".into(),
            spec: spec.clone(),
        };
        let job = Definition::Job {
            estimator: estimator(),
            arguments: vec!["--lr".into(), "0.1".into()],
            command: vec!["python3".into(), "train.py".into()],
            environment: Some(environment.clone()),
        };
        let expected = serde_json::json!({
            "estimator": estimator(),
            "arguments": ["--lr", "0.1"],
            "command": ["python3", "train.py"],
            "environment": {"hash": "ab12", "spec": spec},
        });
        assert_eq!(job.to_value().to_string(), expected.to_string());
        assert_eq!(Definition::read(&job.to_value()).unwrap(), job);

        let user_managed = Definition::Job {
            estimator: estimator(),
            arguments: vec![],
            command: vec![],
            environment: None,
        };
        assert_eq!(
            user_managed.to_value()["environment"],
            serde_json::Value::Null
        );
        assert_eq!(
            Definition::read(&user_managed.to_value()).unwrap(),
            user_managed
        );

        let mlflow = Definition::Mlflow {
            mlflow: MlflowCreated {
                run_name: Some("lr sweep".into()),
                start_time: Some(1_795_000_000_123),
            },
        };
        assert_eq!(
            mlflow.to_value().to_string(),
            r#"{"mlflow":{"run_name":"lr sweep","start_time":1795000000123}}"#
        );
        assert_eq!(Definition::read(&mlflow.to_value()).unwrap(), mlflow);
        assert!(mlflow.job().unwrap_err().contains("MLflow"));

        let template = SweepTemplate {
            environment: Some(environment),
            python: "/envs/ab12/bin/python".into(),
        };
        assert_eq!(
            template.to_value().to_string(),
            serde_json::json!({"environment": {"hash": "ab12", "spec": spec}, "python": "/envs/ab12/bin/python"}).to_string()
        );
        assert_eq!(SweepTemplate::read(&template.to_value()).unwrap(), template);
    }

    #[test]
    fn a_definition_that_is_none_of_the_shapes_is_refused() {
        let error =
            Definition::read(&serde_json::json!({"estimator": {"entry_script": 3}})).unwrap_err();
        assert!(
            error.starts_with("the run definition is unreadable"),
            "{error}"
        );
    }
}
