//! `environment_definition`: the SDK's `Environment` object in the JSON form Azure ML
//! writes it (`azureml_environment.json`: camelCase keys), folded into the estimator's
//! own environment fields.
//!
//! ```json
//! {
//!   "name": "sklearn-env", "version": null,
//!   "python": {"userManagedDependencies": false, "interpreterPath": "python",
//!              "condaDependencies": {"name": "project_environment", "channels": ["conda-forge"],
//!                                    "dependencies": ["python=3.11", "numpy", {"pip": ["scikit-learn"]}]}},
//!   "environmentVariables": {"OMP_NUM_THREADS": "1"},
//!   "docker": {"enabled": false, "baseImage": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04"}
//! }
//! ```
//!
//! - The conda dependencies' strings become `conda_packages`, their `pip` list
//!   `pip_packages` (unless `userManagedDependencies`, which is `user_managed`: then
//!   they are ignored, as the SDK ignores them);
//!   `environmentVariables` is `environment_variables`; `docker.enabled` is
//!   `use_docker`, `docker.shmSize` is `shm_size`.
//! - `docker.baseImage` is `custom_docker_image`, except Azure ML's own base images
//!   (`mcr.microsoft.com/azureml/…`, every `Environment`'s default), which mean "no
//!   image of my own": the run gets a virtual environment, as an estimator without
//!   `custom_docker_image` does.
//! - The conda channels are read but not used (conda's defaults apply where there is a
//!   conda; elsewhere conda packages come from PyPI).
//! - What Runboard cannot honour (a Dockerfile, a registry login, a conda file by
//!   path, another interpreter, a base conda environment) is an error naming the key;
//!   the sections Runboard has nothing to do with (`spark`, `databricks`, `r`, …) are
//!   read as given and left alone.
//! - As in the SDK, the definition describes the whole environment: giving it with one
//!   of the estimator's own environment parameters is an error.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Parser;

/// What an environment definition asks for, in the estimator's terms.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Definition {
    pub conda_packages: Vec<String>,
    pub pip_packages: Vec<String>,
    pub user_managed: bool,
    pub environment_variables: BTreeMap<String, String>,
    pub use_docker: Option<bool>,
    pub custom_docker_image: Option<String>,
    pub shm_size: Option<String>,
}

impl Definition {
    /// Sets the estimator's environment fields to the definition's.
    pub(crate) fn fold_into(self, estimator: &mut super::Estimator) {
        // A user-managed environment installs nothing: its conda dependencies (Azure
        // ML writes its defaults there anyway) are ignored, as the SDK ignores them.
        if !self.user_managed {
            estimator.conda_packages = self.conda_packages;
            estimator.pip_packages = self.pip_packages;
        }
        estimator.user_managed = self.user_managed;
        estimator.environment_variables = self.environment_variables;
        estimator.custom_docker_image = self.custom_docker_image;
        estimator.shm_size = self.shm_size;
        if let Some(use_docker) = self.use_docker {
            estimator.use_docker = use_docker;
        }
    }
}

/// The estimator parameters an environment definition replaces.
pub(crate) const REPLACED: &[&str] = &[
    "conda_packages",
    "pip_packages",
    "conda_dependencies_file",
    "conda_dependencies_file_path",
    "pip_requirements_file",
    "pip_requirements_file_path",
    "custom_docker_image",
    "custom_docker_base_image",
    "user_managed",
    "environment_variables",
    "shm_size",
];

const FIELDS: &[&str] = &[
    "name",
    "version",
    "python",
    "environmentVariables",
    "docker",
    "spark",
    "databricks",
    "r",
    "inferencingStackVersion",
    "assetId",
];
const PYTHON_FIELDS: &[&str] = &[
    "userManagedDependencies",
    "interpreterPath",
    "condaDependencies",
    "condaDependenciesFile",
    "baseCondaEnvironment",
];
const DOCKER_FIELDS: &[&str] = &[
    "enabled",
    "baseImage",
    "baseDockerfile",
    "sharedVolumes",
    "shmSize",
    "arguments",
    "baseImageRegistry",
    "platform",
    "buildContext",
];
const CONDA_FIELDS: &[&str] = &["name", "channels", "dependencies"];

/// The prefix of Azure ML's own base images, the default of every `Environment`.
const AZUREML_IMAGES: &str = "mcr.microsoft.com/azureml/";

/// Interpreter paths that name the environment's own Python.
const OWN_PYTHON: &[&str] = &["python", "python3"];

impl Parser {
    /// An `environment_definition` object.
    pub(crate) fn environment_definition(&mut self, field: &str, v: &Value) -> Option<Definition> {
        let Value::Object(obj) = v else {
            self.expected(field, "an Environment object", v);
            return None;
        };
        let before = self.errors.len();
        self.unknown_keys(&format!("{field}."), obj, FIELDS);
        let mut def = Definition::default();
        for key in ["name", "version"] {
            self.opt(obj, key, |p, _, v| p.string(&format!("{field}.{key}"), v));
        }
        if let Some(python) = self.section(obj, field, "python", PYTHON_FIELDS) {
            self.python_section(&format!("{field}.python"), python, &mut def);
        }
        def.environment_variables = self
            .opt(obj, "environmentVariables", |p, _, v| {
                p.string_map(&format!("{field}.environmentVariables"), v)
            })
            .unwrap_or_default();
        if let Some(docker) = self.section(obj, field, "docker", DOCKER_FIELDS) {
            self.docker_section(&format!("{field}.docker"), docker, &mut def);
        }
        (self.errors.len() == before).then_some(def)
    }

    /// `obj[key]` as an object with the keys `known`, or `None` when absent or null.
    fn section<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        field: &str,
        key: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let name = format!("{field}.{key}");
        match obj.get(key)? {
            Value::Null => None,
            Value::Object(section) => {
                self.unknown_keys(&format!("{name}."), section, known);
                Some(section)
            }
            other => {
                self.expected(&name, "an object", other);
                None
            }
        }
    }

    fn python_section(&mut self, field: &str, python: &Map<String, Value>, def: &mut Definition) {
        let sub = |key: &str| format!("{field}.{key}");
        def.user_managed = self
            .opt(python, "userManagedDependencies", |p, _, v| {
                p.bool(&sub("userManagedDependencies"), v)
            })
            .unwrap_or(false);
        if let Some(path) = self.opt(python, "interpreterPath", |p, _, v| {
            p.string(&sub("interpreterPath"), v)
        }) && !OWN_PYTHON.contains(&path.as_str())
        {
            self.error(
                &sub("interpreterPath"),
                format!(
                    "'{path}' is not supported: Runboard runs the environment's own python \
                     (or the target's, with userManagedDependencies)"
                ),
            );
        }
        for (key, instead) in [
            (
                "condaDependenciesFile",
                "give the file's contents as condaDependencies (Environment.from_conda_specification reads it), or use the estimator's conda_dependencies_file",
            ),
            (
                "baseCondaEnvironment",
                "list the packages in condaDependencies",
            ),
        ] {
            if python.get(key).is_some_and(|v| !v.is_null()) {
                self.error(
                    &sub(key),
                    format!("is not supported by Runboard: {instead}"),
                );
            }
        }
        if let Some(conda) = self.section(python, field, "condaDependencies", CONDA_FIELDS) {
            let field = sub("condaDependencies");
            self.opt(conda, "name", |p, _, v| {
                p.string(&format!("{field}.name"), v)
            });
            self.opt(conda, "channels", |p, _, v| {
                p.string_list(&format!("{field}.channels"), v)
            });
            let dependencies = format!("{field}.dependencies");
            match conda.get("dependencies") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let at = format!("{dependencies}[{i}]");
                        match item {
                            Value::String(s) => def.conda_packages.push(s.clone()),
                            Value::Object(pip) if pip.len() == 1 && pip.contains_key("pip") => {
                                if let Some(list) =
                                    self.string_list(&format!("{at}.pip"), &pip["pip"])
                                {
                                    def.pip_packages.extend(list);
                                }
                            }
                            other => {
                                self.expected(&at, "a conda package or {\"pip\": [...]}", other)
                            }
                        }
                    }
                }
                Some(other) => self.expected(&dependencies, "a list", other),
            }
        }
    }

    fn docker_section(&mut self, field: &str, docker: &Map<String, Value>, def: &mut Definition) {
        let sub = |key: &str| format!("{field}.{key}");
        def.use_docker = self.opt(docker, "enabled", |p, _, v| p.bool(&sub("enabled"), v));
        def.custom_docker_image = self
            .opt(docker, "baseImage", |p, _, v| {
                p.string(&sub("baseImage"), v)
            })
            .filter(|image| !image.starts_with(AZUREML_IMAGES));
        def.shm_size = self.opt(docker, "shmSize", |p, _, v| p.string(&sub("shmSize"), v));
        if docker.get("baseDockerfile").is_some_and(|v| !v.is_null()) {
            self.error(
                &sub("baseDockerfile"),
                "is not supported by Runboard: build the image and give it as baseImage",
            );
        }
        if let Some(Value::Object(registry)) = docker.get("baseImageRegistry")
            && registry.values().any(|v| !v.is_null())
        {
            self.error(
                &sub("baseImageRegistry"),
                "is not supported by Runboard: private registries are not supported; use a public baseImage",
            );
        }
    }
}
