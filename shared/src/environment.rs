//! Python environments: what a run's environment must hold, normalised so that equal
//! requests have equal specs, and hashed so that the hash names the built environment.
//!
//! Sans-IO: file contents (`pip_requirements_file`, `conda_dependencies_file`) come in
//! as text; the server's builder does the installing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::estimator::{Estimator, FieldError};

/// How the target installs `conda_packages`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CondaMode {
    /// A conda, mamba or micromamba is on the target: conda packages go to it.
    Native,
    /// No conda: conda packages are translated to PyPI names and installed with pip.
    ViaPip,
}

/// A normalised environment request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvSpec {
    /// Requirements for pip (`scikit-learn`, `torch==2.3`), sorted, without repeats.
    pub pip: Vec<String>,
    /// Packages for conda (only in [`CondaMode::Native`]), sorted, without repeats.
    pub conda: Vec<String>,
    /// Conda channels, in order (only in [`CondaMode::Native`]).
    pub channels: Vec<String>,
    /// Lines of `pip_requirements_file`, without comments or blank lines, sorted.
    pub requirements: Vec<String>,
    /// Lines for people, shown in the build log (not part of the hash).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The framework package installed without a version (`scikit-learn`), whose
    /// installed version the build log names (not part of the hash).
    #[serde(default)]
    pub unpinned_framework: Option<String>,
}

/// Conda package names that PyPI spells differently (`None`: not a PyPI package,
/// skipped with a warning).
const CONDA_TO_PYPI: &[(&str, Option<&str>)] = &[
    ("pytorch", Some("torch")),
    ("pytorch-cpu", Some("torch")),
    ("pytorch-gpu", Some("torch")),
    ("tensorflow-gpu", Some("tensorflow")),
    ("py-xgboost", Some("xgboost")),
    ("py-opencv", Some("opencv-python")),
    ("opencv", Some("opencv-python")),
    ("matplotlib-base", Some("matplotlib")),
    ("pytables", Some("tables")),
    ("python-graphviz", Some("graphviz")),
    ("cudatoolkit", None),
    ("cudnn", None),
    ("mkl", None),
    ("python", None),
    ("pip", None),
];

/// A conda requirement (`conda-forge::numpy=1.21`) as a pip requirement
/// (`numpy==1.21.*`), or `None` for packages PyPI does not have.
pub fn conda_to_pip(requirement: &str) -> Option<String> {
    let req = requirement.trim();
    let req = req.rsplit("::").next().unwrap_or(req);
    let split = req.find(['=', '<', '>', '!', ' ']).unwrap_or(req.len());
    let (name, version) = req.split_at(split);
    let version = version.trim();
    let pypi = match CONDA_TO_PYPI
        .iter()
        .find(|(conda, _)| conda.eq_ignore_ascii_case(name))
    {
        Some((_, pypi)) => (*pypi)?,
        None => name,
    };
    let version = match version {
        "" => String::new(),
        // conda's `=1.21` means "1.21 or any 1.21.x"; `==` is exact.
        v if v.starts_with('=') && !v.starts_with("==") => {
            let v = v.trim_start_matches('=');
            let v = v.split('=').next().unwrap_or(v); // drop a build string
            if v.ends_with('*') {
                format!("=={v}")
            } else {
                format!("=={v}.*")
            }
        }
        v => v.replace(' ', ""),
    };
    Some(format!("{pypi}{version}"))
}

/// The lower-cased name of a requirement (`Scikit_Learn>=1` → `scikit-learn`).
fn canonical_name(requirement: &str) -> String {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(requirement.len());
    requirement[..end].to_ascii_lowercase().replace('_', "-")
}

/// A conda environment file (`conda_dependencies_file`, the notebook's
/// `Environment.from_conda_specification`) as its three lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CondaDependencies {
    /// `channels`, in order.
    pub channels: Vec<String>,
    /// The `dependencies` that are strings: conda packages.
    pub conda: Vec<String>,
    /// The `pip:` list of `dependencies`.
    pub pip: Vec<String>,
}

impl CondaDependencies {
    /// Reads a conda environment file's YAML.
    pub fn from_yaml(text: &str) -> Result<Self, serde_norway::Error> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            channels: Vec<String>,
            #[serde(default)]
            dependencies: Vec<Dependency>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Dependency {
            Package(String),
            Pip { pip: Vec<String> },
        }
        let file: File = serde_norway::from_str(text)?;
        let mut out = Self {
            channels: file.channels,
            ..Self::default()
        };
        for dep in file.dependencies {
            match dep {
                Dependency::Package(p) => out.conda.push(p),
                Dependency::Pip { pip } => out.pip.extend(pip),
            }
        }
        Ok(out)
    }
}

/// The requirements of a pip requirements file, in order: without comments or blank
/// lines.
pub fn requirement_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or(l).trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The spec of the environment `estimator` asks for, given the contents of its
/// requirement files and how the target installs conda packages. `None` when the
/// environment is `user_managed` (the target's interpreter is used as it is).
pub fn env_spec(
    estimator: &Estimator,
    requirements_text: Option<&str>,
    conda_file_text: Option<&str>,
    mode: CondaMode,
) -> Result<Option<EnvSpec>, FieldError> {
    if estimator.user_managed {
        return Ok(None);
    }
    let mut spec = EnvSpec {
        pip: estimator.pip_install(),
        conda: Vec::new(),
        channels: Vec::new(),
        requirements: Vec::new(),
        warnings: Vec::new(),
        unpinned_framework: None,
    };
    if estimator.framework_version.is_none() {
        spec.unpinned_framework = estimator
            .framework_packages()
            .first()
            .map(|p| canonical_name(p));
    }
    if let Some(framework) = &spec.unpinned_framework
        && estimator.use_gpu
        && framework == "tensorflow"
    {
        spec.pip.retain(|p| canonical_name(p) != "tensorflow");
        spec.pip.push("tensorflow[and-cuda]".into());
    }
    let mut conda = estimator.conda_packages.clone();
    if let Some(text) = conda_file_text {
        let file = CondaDependencies::from_yaml(text).map_err(|e| {
            FieldError::new(
                "conda_dependencies_file",
                format!("is not a conda environment file: {e}"),
            )
        })?;
        // The file's lists reach the installers as arguments, as the estimator's
        // own do: the same grammars apply.
        let problem = file
            .channels
            .iter()
            .find_map(|c| crate::grammar::conda_channel_problem(c))
            .or_else(|| {
                file.conda
                    .iter()
                    .find_map(|p| crate::grammar::conda_spec_problem(p))
            })
            .or_else(|| {
                file.pip
                    .iter()
                    .find_map(|p| crate::grammar::pip_requirement_problem(p))
            });
        if let Some(problem) = problem {
            return Err(FieldError::new("conda_dependencies_file", problem));
        }
        spec.channels = file.channels;
        conda.extend(file.conda);
        spec.pip.extend(file.pip);
    }
    match mode {
        CondaMode::Native => spec.conda = conda,
        CondaMode::ViaPip => {
            spec.channels.clear();
            for package in conda {
                match conda_to_pip(&package) {
                    Some(pip) => {
                        spec.warnings.push(format!(
                            "warning: no conda on this target: conda package '{package}' is installed from PyPI as '{pip}'"
                        ));
                        spec.pip.push(pip);
                    }
                    None => spec.warnings.push(format!(
                        "warning: no conda on this target: conda package '{package}' has no PyPI equivalent and is skipped"
                    )),
                }
            }
        }
    }
    if let Some(text) = requirements_text {
        spec.requirements = requirement_lines(text);
    }
    // The SDK's own packages (`azureml-defaults`, which every Azure ML environment
    // lists, `azureml-sdk`, …): the job's `azureml` is Runboard's module.
    for list in [&mut spec.pip, &mut spec.requirements] {
        list.retain(|p| {
            let sdk = canonical_name(p.trim()).starts_with("azureml-");
            if sdk {
                spec.warnings.push(format!(
                    "note: '{}' is not installed: the job's azureml package is Runboard's (Run.get_context() and its logging)",
                    p.trim()
                ));
            }
            !sdk
        });
    }
    for list in [&mut spec.pip, &mut spec.conda, &mut spec.requirements] {
        for item in list.iter_mut() {
            *item = item.trim().to_owned();
        }
        list.sort();
        list.dedup();
    }
    Ok(Some(spec))
}

impl EnvSpec {
    /// The environment's name: a hash of the spec, the interpreter's version and the
    /// tool that builds it (16 hex digits).
    pub fn hash(&self, python_version: &str, tool: &str) -> String {
        let canonical = serde_json::json!({
            "pip": self.pip,
            "conda": self.conda,
            "channels": self.channels,
            "requirements": self.requirements,
            "python": python_version,
            "tool": tool,
        });
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every package named by the spec, for people (`pip: x, conda: y, -r file`).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.pip.is_empty() {
            parts.push(format!("pip: {}", self.pip.join(" ")));
        }
        if !self.conda.is_empty() {
            parts.push(format!("conda: {}", self.conda.join(" ")));
        }
        if !self.requirements.is_empty() {
            parts.push(format!("requirements: {}", self.requirements.join(" ")));
        }
        if parts.is_empty() {
            "no packages".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estimator(json: serde_json::Value) -> Estimator {
        let mut json = json;
        json["source_directory"] = ".".into();
        json["entry_script"] = "train.py".into();
        Estimator::from_value(&json).unwrap()
    }

    fn spec(json: serde_json::Value, mode: CondaMode) -> EnvSpec {
        env_spec(&estimator(json), None, None, mode)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn conda_names_translate_to_pypi() {
        let check = |conda: &str, pip: Option<&str>| {
            assert_eq!(conda_to_pip(conda).as_deref(), pip, "{conda}")
        };
        check("scikit-learn", Some("scikit-learn"));
        check("pytorch", Some("torch"));
        check("conda-forge::pytorch=2.3", Some("torch==2.3.*"));
        check("numpy==1.26.4", Some("numpy==1.26.4"));
        check("numpy>=1.20", Some("numpy>=1.20"));
        check("numpy=1.21=py39_0", Some("numpy==1.21.*"));
        check("python=3.8", None);
        check("cudatoolkit=11.3", None);
    }

    #[test]
    fn equal_requests_hash_equal_and_order_does_not_matter() {
        let a = spec(
            serde_json::json!({"pip_packages": ["b", "a", "a"]}),
            CondaMode::ViaPip,
        );
        let b = spec(
            serde_json::json!({"pip_packages": ["a", "b"]}),
            CondaMode::ViaPip,
        );
        assert_eq!(a.pip, ["a", "b"]);
        assert_eq!(a.hash("3.11.7", "uv"), b.hash("3.11.7", "uv"));
        assert_ne!(a.hash("3.11.7", "uv"), a.hash("3.12.1", "uv"));
        assert_ne!(a.hash("3.11.7", "uv"), a.hash("3.11.7", "pip"));
        let c = spec(
            serde_json::json!({"pip_packages": ["a", "c"]}),
            CondaMode::ViaPip,
        );
        assert_ne!(a.hash("3.11.7", "uv"), c.hash("3.11.7", "uv"));
        assert_eq!(a.hash("3.11.7", "uv").len(), 16);
    }

    #[test]
    fn conda_packages_without_conda_go_to_pip_with_a_warning_naming_each() {
        let s = spec(
            serde_json::json!({"conda_packages": ["scikit-learn", "pytorch"]}),
            CondaMode::ViaPip,
        );
        assert_eq!(s.pip, ["scikit-learn", "torch"]);
        assert!(s.conda.is_empty());
        assert_eq!(s.warnings.len(), 2);
        assert!(s.warnings[1].contains("'pytorch' is installed from PyPI as 'torch'"));
        let native = spec(
            serde_json::json!({"conda_packages": ["scikit-learn"]}),
            CondaMode::Native,
        );
        assert_eq!(native.conda, ["scikit-learn"]);
        assert!(native.pip.is_empty() && native.warnings.is_empty());
    }

    #[test]
    fn the_sdks_own_packages_are_not_installed_and_the_log_says_so() {
        let s = spec(
            serde_json::json!({"pip_packages": ["azureml-defaults", "scikit-learn", "azureml_sdk[notebooks]==1.60.0"]}),
            CondaMode::ViaPip,
        );
        assert_eq!(s.pip, ["scikit-learn"]);
        assert_eq!(
            s.warnings,
            [
                "note: 'azureml-defaults' is not installed: the job's azureml package is Runboard's (Run.get_context() and its logging)",
                "note: 'azureml_sdk[notebooks]==1.60.0' is not installed: the job's azureml package is Runboard's (Run.get_context() and its logging)",
            ]
        );
    }

    #[test]
    fn presets_add_their_package_and_unpinned_ones_are_noted() {
        let s = spec(
            serde_json::json!({"framework": "SKLearn"}),
            CondaMode::ViaPip,
        );
        assert_eq!(s.pip, ["scikit-learn"]);
        assert_eq!(s.unpinned_framework.as_deref(), Some("scikit-learn"));
        let pinned = spec(
            serde_json::json!({"framework": "PyTorch", "framework_version": "2.3"}),
            CondaMode::ViaPip,
        );
        assert_eq!(pinned.pip, ["torch==2.3"]);
        assert_eq!(pinned.unpinned_framework, None);
        let gpu = spec(
            serde_json::json!({"framework": "TensorFlow", "use_gpu": true}),
            CondaMode::ViaPip,
        );
        assert_eq!(gpu.pip, ["tensorflow[and-cuda]"]);
    }

    #[test]
    fn conda_files_with_a_pip_section_and_requirement_files() {
        let yaml = "name: project\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pyyaml\n  - pip:\n    - six==1.16.0\n";
        let e = estimator(serde_json::json!({"conda_dependencies_file": "env.yml"}));
        let s = env_spec(&e, None, Some(yaml), CondaMode::ViaPip)
            .unwrap()
            .unwrap();
        assert_eq!(s.pip, ["pyyaml", "six==1.16.0"]);
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("'python=3.11' has no PyPI equivalent"))
        );
        let native = env_spec(&e, None, Some(yaml), CondaMode::Native)
            .unwrap()
            .unwrap();
        assert_eq!(native.conda, ["python=3.11", "pyyaml"]);
        assert_eq!(native.channels, ["conda-forge"]);

        let err = env_spec(&e, None, Some("dependencies: 7"), CondaMode::ViaPip).unwrap_err();
        assert_eq!(err.field, "conda_dependencies_file");

        let r = estimator(serde_json::json!({"pip_requirements_file": "requirements.txt"}));
        let s = env_spec(
            &r,
            Some("# pinned\nsix==1.16.0  # why\n\nattrs\n"),
            None,
            CondaMode::ViaPip,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.requirements, ["attrs", "six==1.16.0"]);
    }

    #[test]
    fn user_managed_environments_have_no_spec() {
        let e = estimator(serde_json::json!({"user_managed": true}));
        assert_eq!(env_spec(&e, None, None, CondaMode::ViaPip).unwrap(), None);
    }
}
