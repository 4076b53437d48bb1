//! The SDK v1 `Estimator` and its framework presets: what a run is asked to do, its
//! validation, and its `script_params` → argv rules.
//!
//! # JSON form
//!
//! One object whose keys are the SDK's parameter names. `source_directory` and
//! `entry_script` are required; every other key may be left out or be `null`, which
//! means the SDK's default:
//!
//! ```json
//! {
//!   "framework": "PyTorch", "framework_version": "1.6",
//!   "source_directory": "./mnist", "entry_script": "train.py",
//!   "script_params": {"--data-folder": {"datastore": "workspaceblobstore",
//!                                       "path_on_datastore": "mnist", "mode": "mount"},
//!                     "--lr": 0.01, "--use-cuda": ""},
//!   "compute_target": "local",
//!   "node_count": 2,
//!   "distributed_training": {"type": "Mpi", "process_count_per_node": 2},
//!   "pip_packages": ["pillow"], "environment_variables": {"OMP_NUM_THREADS": "1"},
//!   "max_run_duration_seconds": 3600
//! }
//! ```
//!
//! - `framework` picks a preset ([`Framework`], table [`PRESETS`]); absent means the
//!   plain `Estimator`.
//! - `script_params` keeps the order written; see [`ParamValue`] and [`script_argv`].
//! - `distributed_backend` is `"mpi"`, `"gloo"`, `"nccl"` or `"ps"` (any case);
//!   `distributed_training` is an object tagged by `type` ([`DistributedTraining`]).
//! - Deprecated aliases are accepted and folded into the current name:
//!   `custom_docker_base_image` → `custom_docker_image`, `conda_dependencies_file_path`
//!   → `conda_dependencies_file`, `pip_requirements_file_path` → `pip_requirements_file`
//!   (giving both with different values is an error).
//! - `environment_definition` is the SDK's `Environment` in Azure ML's JSON form
//!   (`azureml_environment.json`), folded into the fields above (see
//!   `parse/definition.rs`); giving it with one of those fields is an error.
//! - `image_registry_details`, `source_directory_data_store` and `resume_from` are
//!   known but unsupported: giving one is an error that says what to do instead.
//!
//! [`Estimator::from_json`] reports every problem at once as [`FieldError`]s: malformed
//! JSON, unknown keys (with the closest known one), wrong types, then the rules of
//! [`Estimator::validate`]. Serializing an `Estimator` writes every field, defaults
//! included, in a form `from_json` reads back.

mod argv;
mod parse;
mod preset;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

pub use argv::{
    DATA_MODES, DataReference, ParamValue, ScriptParams, expand_vars, python_bool_repr,
    python_float_repr, script_argv,
};
pub use parse::KNOWN_FIELDS;
pub use preset::{
    Backend, DistributedTraining, Framework, PLAIN_ESTIMATOR, PRESETS, Preset, UnknownBackend,
    UnknownFramework,
};

/// One field's error. Validation returns every field error at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field, with the SDK's name (`entry_script`, `script_params['--lr']`,
    /// `inputs[0].datastore`, `distributed_training.type`); `estimator` for the whole.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// The SDK v1 `Estimator` and the presets' extra fields. Field names are the SDK's
/// parameter names, which are also the JSON keys (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimator {
    /// The preset (`SKLearn`, `PyTorch`, `TensorFlow`, `Chainer`); `None` for the plain
    /// `Estimator`.
    pub framework: Option<Framework>,
    /// The framework's version (`1.6`), pinned in the preset's package. Only with a
    /// `framework`; `None` installs the package unpinned.
    pub framework_version: Option<String>,
    /// Folder holding the training code; not empty.
    pub source_directory: String,
    /// Compute target name; `None` means the server's default (`local`).
    pub compute_target: Option<String>,
    /// The SDK's `vm_size`: recorded, for targets that can choose a machine.
    pub vm_size: Option<String>,
    /// The SDK's `vm_priority`: `dedicated` or `lowpriority`.
    pub vm_priority: Option<String>,
    /// Script to run: a relative path inside `source_directory`, without `..`.
    pub entry_script: String,
    /// Arguments for the entry script, in order.
    #[serde(serialize_with = "serialize_script_params")]
    pub script_params: ScriptParams,
    /// Number of nodes; at least 1, and more than 1 only with a distributed backend.
    pub node_count: u32,
    /// Processes per node (for `mpi`); at least 1.
    pub process_count_per_node: u32,
    /// TensorFlow only, with `distributed_backend = "ps"`: worker tasks (default 1).
    pub worker_count: Option<u32>,
    /// TensorFlow only, with `distributed_backend = "ps"`: parameter servers (default 1).
    pub parameter_server_count: Option<u32>,
    /// The deprecated string form of the distributed backend.
    pub distributed_backend: Option<Backend>,
    /// The distributed-training object; wins over `distributed_backend`, which must
    /// then agree with it.
    pub distributed_training: Option<DistributedTraining>,
    /// Whether the job wants GPUs.
    pub use_gpu: bool,
    /// Whether the job runs in a Docker container (the SDK's default: `true`).
    pub use_docker: bool,
    /// The image to run in (also read from the deprecated `custom_docker_base_image`);
    /// only with `use_docker`.
    pub custom_docker_image: Option<String>,
    /// Whether the Python environment is the user's own: then nothing is installed.
    pub user_managed: bool,
    /// Conda packages to install; none empty.
    pub conda_packages: Vec<String>,
    /// Pip packages to install; none empty.
    pub pip_packages: Vec<String>,
    /// A conda environment file inside `source_directory`; it then lists every package.
    pub conda_dependencies_file: Option<String>,
    /// A pip requirements file inside `source_directory`.
    pub pip_requirements_file: Option<String>,
    /// Environment variables set for the script; names are `[A-Za-z_][A-Za-z0-9_]*`.
    pub environment_variables: BTreeMap<String, String>,
    /// Data to make available besides the data references in `script_params`.
    pub inputs: Vec<DataReference>,
    /// Docker shared-memory size (`2g`, `512m`): digits then `b`, `k`, `m` or `g`.
    pub shm_size: Option<String>,
    /// Maximum duration in seconds; positive.
    pub max_run_duration_seconds: Option<u64>,
}

impl Estimator {
    /// A plain `Estimator` running `entry_script` from `source_directory`, with the
    /// SDK's defaults everywhere else.
    pub fn new(source_directory: &str, entry_script: &str) -> Self {
        Self {
            framework: None,
            framework_version: None,
            source_directory: source_directory.to_owned(),
            compute_target: None,
            vm_size: None,
            vm_priority: None,
            entry_script: entry_script.to_owned(),
            script_params: Vec::new(),
            node_count: 1,
            process_count_per_node: 1,
            worker_count: None,
            parameter_server_count: None,
            distributed_backend: None,
            distributed_training: None,
            use_gpu: false,
            use_docker: true,
            custom_docker_image: None,
            user_managed: false,
            conda_packages: Vec::new(),
            pip_packages: Vec::new(),
            conda_dependencies_file: None,
            pip_requirements_file: None,
            environment_variables: BTreeMap::new(),
            inputs: Vec::new(),
            shm_size: None,
            max_run_duration_seconds: None,
        }
    }

    /// Parses and validates the JSON form, returning every field error at once.
    pub fn from_json(text: &str) -> Result<Self, Vec<FieldError>> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| vec![FieldError::new("estimator", e.to_string())])?;
        Self::from_value(&value)
    }

    /// Like [`Estimator::from_json`], from an already parsed JSON value.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, Vec<FieldError>> {
        let (estimator, mut errors) = parse::estimator(value).map_err(|e| vec![e])?;
        // Validate what could be read; a field that could not be read holds its
        // default, so rules about it (or inside it) would only repeat the first error.
        let mut rules = Vec::new();
        let framework_unread = errors.iter().any(|e| e.field == "framework");
        validate::validate(&estimator, !framework_unread, &mut rules);
        rules.retain(|rule| {
            !errors
                .iter()
                .any(|parse| root_field(&parse.field) == root_field(&rule.field))
        });
        errors.extend(rules);
        if errors.is_empty() {
            Ok(estimator)
        } else {
            Err(errors)
        }
    }

    /// Checks every rule, returning every broken one. [`Estimator::from_json`] already
    /// does this; call it on estimators built in code.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        validate::validate(self, true, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The preset's row (the plain `Estimator`'s when `framework` is `None`).
    pub fn preset(&self) -> &'static Preset {
        Preset::of(self.framework)
    }

    /// The distribution to launch, from `distributed_training`, else from
    /// `distributed_backend` with the top-level counts (`process_count_per_node` for
    /// `mpi`, `worker_count` and `parameter_server_count` for `ps`, default 1).
    /// `None`: a single process on a single node.
    pub fn distribution(&self) -> Option<DistributedTraining> {
        if let Some(training) = self.distributed_training {
            return Some(training);
        }
        Some(match self.distributed_backend? {
            Backend::Mpi => DistributedTraining::Mpi {
                process_count_per_node: self.process_count_per_node,
            },
            Backend::Gloo => DistributedTraining::Gloo,
            Backend::Nccl => DistributedTraining::Nccl,
            Backend::ParameterServer => DistributedTraining::ParameterServer {
                worker_count: self.worker_count.unwrap_or(1),
                parameter_server_count: self.parameter_server_count.unwrap_or(1),
            },
        })
    }

    /// The pip packages the preset adds, with the SDK's rules: its package pinned to
    /// `framework_version` (`torch==1.6`), unless the environment is `user_managed`, a
    /// `conda_dependencies_file` is given (it lists every package), or the user's own
    /// `pip_packages`/`conda_packages` already name that package (the user's wins).
    pub fn framework_packages(&self) -> Vec<String> {
        if self.user_managed || self.conda_dependencies_file.is_some() {
            return Vec::new();
        }
        let preset = self.preset();
        let Some(package) = preset.pip_package else {
            return Vec::new();
        };
        let wanted = package_name(package);
        if self
            .pip_packages
            .iter()
            .chain(&self.conda_packages)
            .any(|p| package_name(p) == wanted)
        {
            return Vec::new();
        }
        preset.packages(self.framework_version.as_deref())
    }

    /// Everything to `pip install` besides `pip_requirements_file`: the preset's
    /// packages, then `pip_packages` in order.
    pub fn pip_install(&self) -> Vec<String> {
        let mut packages = self.framework_packages();
        packages.extend(self.pip_packages.iter().cloned());
        packages
    }

    /// Every data reference the job uses: `inputs`, then those in `script_params`,
    /// each name once (the first wins).
    pub fn data_references(&self) -> Vec<&DataReference> {
        let mut refs: Vec<&DataReference> = Vec::new();
        let in_params = self.script_params.iter().filter_map(|(_, v)| match v {
            ParamValue::Data(d) => Some(d),
            _ => None,
        });
        for r in self.inputs.iter().chain(in_params) {
            if !refs.iter().any(|seen| seen.name() == r.name()) {
                refs.push(r);
            }
        }
        refs
    }

    /// The entry script's arguments: [`script_argv`] of `script_params`.
    pub fn argv(&self, data_path: &dyn Fn(&DataReference) -> String) -> Vec<String> {
        script_argv(&self.script_params, data_path)
    }

    /// The command of one process: `python entry_script args…`, to run in the
    /// working directory (a copy of `source_directory`). Launchers such as `mpirun`
    /// go in front.
    pub fn command_line(
        &self,
        python: &str,
        data_path: &dyn Fn(&DataReference) -> String,
    ) -> Vec<String> {
        let mut command = vec![python.to_owned(), self.entry_script.clone()];
        command.extend(self.argv(data_path));
        command
    }
}

/// Reads the JSON form with the same checks as [`Estimator::from_json`]; the field
/// errors are joined into one message.
impl<'de> Deserialize<'de> for Estimator {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Estimator::from_value(&value)
            .map_err(|errors| serde::de::Error::custom(join_errors(&errors)))
    }
}

/// Field errors as one line: `node_count: …; entry_script: …`.
pub fn join_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `inputs[0].mode` → `inputs`, `script_params['--lr']` → `script_params`.
fn root_field(field: &str) -> &str {
    field.split(['[', '.']).next().unwrap_or(field)
}

/// A requirement's package name, normalized as pip compares them (PEP 503):
/// `Scikit_Learn==0.24` → `scikit-learn`.
fn package_name(requirement: &str) -> String {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(requirement.len());
    requirement[..end]
        .to_ascii_lowercase()
        .replace(['_', '.'], "-")
}

fn serialize_script_params<S: serde::Serializer>(
    params: &[(String, ParamValue)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(params.len()))?;
    for (k, v) in params {
        map.serialize_entry(k, v)?;
    }
    map.end()
}
