//! MLflow's answer shapes, as `server/src/api/mlflow.rs` sends them: the protobuf
//! messages of MLflow's REST API in their JSON form. Requests are in the parent module
//! (`CreateRun`, `LogBatch`, ...); errors are [`super::MlflowError::body`].

use runboard_shared::run::RunId;
use serde::Serialize;

use super::{KeyValue, Metric};

/// An error: `{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": ...}`.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// MLflow's error code.
    pub error_code: &'static str,
    /// What was wrong.
    pub message: String,
}

/// `Experiment`.
#[derive(Debug, Clone, Serialize)]
pub struct Experiment {
    /// MLflow's id of the experiment (`0` is `Default`).
    pub experiment_id: String,
    /// Its name.
    pub name: String,
    /// Where artifacts go: the artifacts service.
    pub artifact_location: &'static str,
    /// Always `active`: Runboard has no soft delete.
    pub lifecycle_stage: &'static str,
    /// Milliseconds since the epoch.
    pub creation_time: i64,
    /// Milliseconds since the epoch.
    pub last_update_time: i64,
    /// Experiment tags (none are kept).
    pub tags: Vec<KeyValue>,
}

/// `RunInfo`.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The Runboard run id.
    pub run_id: RunId,
    /// The same id, under MLflow's older name.
    pub run_uuid: RunId,
    /// `mlflow.runName`, else the id.
    pub run_name: String,
    /// MLflow's id of the run's experiment.
    pub experiment_id: String,
    /// Who submitted it.
    pub user_id: String,
    /// MLflow's status name.
    pub status: &'static str,
    /// Milliseconds since the epoch; `null` when unknown.
    pub start_time: Option<i64>,
    /// Milliseconds since the epoch, once ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// `mlflow-artifacts:/<run_id>/outputs`.
    pub artifact_uri: String,
    /// Always `active`.
    pub lifecycle_stage: &'static str,
}

/// `RunData`.
#[derive(Debug, Clone, Serialize)]
pub struct RunData {
    /// Each metric's last point.
    pub metrics: Vec<Metric>,
    /// The run's properties.
    pub params: Vec<KeyValue>,
    /// The run's tags.
    pub tags: Vec<KeyValue>,
}

/// `RunInputs`: none are kept.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunInputs {}

/// `Run`.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Who, when, status.
    pub info: RunInfo,
    /// Metrics, params, tags.
    pub data: RunData,
    /// Nothing.
    pub inputs: RunInputs,
}

/// `experiments/get`, `experiments/get-by-name`.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentAnswer {
    /// The experiment.
    pub experiment: Experiment,
}

/// `experiments/create`.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentCreated {
    /// The new experiment's MLflow id.
    pub experiment_id: String,
}

/// `experiments/search`.
#[derive(Debug, Clone, Serialize)]
pub struct Experiments {
    /// The experiments found.
    pub experiments: Vec<Experiment>,
}

/// `runs/create`, `runs/get`.
#[derive(Debug, Clone, Serialize)]
pub struct RunAnswer {
    /// The run.
    pub run: Run,
}

/// `runs/update`.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfoAnswer {
    /// The run's info after the update.
    pub run_info: RunInfo,
}

/// `runs/search`.
#[derive(Debug, Clone, Serialize)]
pub struct Runs {
    /// A page of runs.
    pub runs: Vec<Run>,
    /// Where the next page starts, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// `metrics/get-history`.
#[derive(Debug, Clone, Serialize)]
pub struct MetricHistory {
    /// A page of the metric's points, in the order logged.
    pub metrics: Vec<Metric>,
    /// Where the next page starts, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// `logged-models/search`: none are kept.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoggedModels {
    /// Always empty.
    pub models: [(); 0],
}

/// The empty answer of a write (`{}`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Done {}

/// `FileInfo` of the artifacts service.
#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    /// The name, relative to the listed folder.
    pub path: String,
    /// Whether it is a folder.
    pub is_dir: bool,
    /// A file's size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
}

/// The artifacts service's listing.
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    /// The folder's entries, by name.
    pub files: Vec<FileInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_mlflow_s_json_shapes() {
        let files = Files {
            files: vec![
                FileInfo {
                    path: "a".into(),
                    is_dir: true,
                    file_size: None,
                },
                FileInfo {
                    path: "b.txt".into(),
                    is_dir: false,
                    file_size: Some(3),
                },
            ],
        };
        assert_eq!(
            serde_json::to_string(&files).unwrap(),
            r#"{"files":[{"path":"a","is_dir":true},{"path":"b.txt","is_dir":false,"file_size":3}]}"#
        );
        assert_eq!(
            serde_json::to_string(&LoggedModels::default()).unwrap(),
            r#"{"models":[]}"#
        );
        assert_eq!(serde_json::to_string(&Done {}).unwrap(), "{}");
        let page = Runs {
            runs: vec![],
            next_page_token: None,
        };
        assert_eq!(serde_json::to_string(&page).unwrap(), r#"{"runs":[]}"#);
        let metric = Metric {
            key: "loss".into(),
            value: f64::NAN,
            timestamp: Some(0),
            step: Some(2),
        };
        assert_eq!(
            serde_json::to_string(&metric).unwrap(),
            r#"{"key":"loss","value":"NaN","timestamp":0,"step":2}"#
        );
    }
}
