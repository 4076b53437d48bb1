//! The modules a notebook can import: `azureml.*` (bound to Runboard's objects), `os`,
//! `os.path` and `shutil` (on the files area).

use crate::estimator::Framework;

use super::error::PyError;
use super::value::{Builtin, Class, Value};

/// The `azureml.core.VERSION` a notebook sees: the SDK release whose API the kernel
/// follows, marked as Runboard's.
pub(crate) const SDK_VERSION: &str = "1.60.0+runboard";

/// Every importable module and what it holds: submodules, then names.
const MODULES: &[(&str, &[&str])] = &[
    ("os", &["path", "getcwd", "makedirs", "listdir", "sep"]),
    (
        "os.path",
        &[
            "join", "exists", "isdir", "isfile", "basename", "dirname", "abspath", "sep",
        ],
    ),
    ("shutil", &["copy"]),
    ("azureml", &["core", "train", "widgets", "data"]),
    (
        "azureml.core",
        &[
            "Workspace",
            "Experiment",
            "Run",
            "ScriptRunConfig",
            "Datastore",
            "ComputeTarget",
            "Environment",
            "VERSION",
            "compute",
            "environment",
            "conda_dependencies",
            "workspace",
            "experiment",
            "run",
            "datastore",
            "script_run_config",
        ],
    ),
    ("azureml.core.workspace", &["Workspace"]),
    ("azureml.core.experiment", &["Experiment"]),
    ("azureml.core.run", &["Run"]),
    ("azureml.core.script_run_config", &["ScriptRunConfig"]),
    ("azureml.core.datastore", &["Datastore"]),
    ("azureml.core.compute", &["ComputeTarget"]),
    (
        "azureml.core.environment",
        &["Environment", "CondaDependencies"],
    ),
    ("azureml.core.conda_dependencies", &["CondaDependencies"]),
    ("azureml.train", &["estimator", "sklearn", "dnn"]),
    (
        "azureml.train.estimator",
        &["Estimator", "Mpi", "Gloo", "Nccl", "ParameterServer"],
    ),
    ("azureml.train.sklearn", &["SKLearn"]),
    (
        "azureml.train.dnn",
        &[
            "PyTorch",
            "TensorFlow",
            "Chainer",
            "Mpi",
            "Gloo",
            "Nccl",
            "ParameterServer",
        ],
    ),
    ("azureml.widgets", &["RunDetails"]),
    ("azureml.data", &["data_reference"]),
    ("azureml.data.data_reference", &["DataReference"]),
];

/// The module named `name`, or Python's `ModuleNotFoundError` saying what can be
/// imported.
pub(crate) fn import(name: &str) -> Result<&'static str, PyError> {
    if let Some((module, _)) = MODULES.iter().find(|(m, _)| *m == name) {
        return Ok(module);
    }
    let message = if name == "azureml" || name.starts_with("azureml.") {
        let known: Vec<&str> = MODULES
            .iter()
            .map(|(m, _)| *m)
            .filter(|m| m.starts_with("azureml.") && m.matches('.').count() >= 2)
            .collect();
        format!(
            "No module named '{name}': Runboard provides {}",
            known.join(", ")
        )
    } else {
        format!(
            "No module named '{name}': Runboard notebooks import only azureml.*, os, os.path \
             and shutil"
        )
    };
    Err(PyError::new("ModuleNotFoundError", message))
}

/// `from module import name`.
pub(crate) fn import_from(module: &'static str, name: &str) -> Result<Value, PyError> {
    attr(module, name).map_err(|_| {
        let names = MODULES
            .iter()
            .find(|(m, _)| *m == module)
            .map(|(_, names)| names.join(", "))
            .unwrap_or_default();
        PyError::new(
            "ImportError",
            format!("cannot import name '{name}' from '{module}' (Runboard provides {names})"),
        )
    })
}

/// `module.name`.
pub(crate) fn attr(module: &'static str, name: &str) -> Result<Value, PyError> {
    let known = MODULES
        .iter()
        .find(|(m, _)| *m == module)
        .is_some_and(|(_, names)| names.contains(&name));
    let missing = || {
        PyError::new(
            "AttributeError",
            format!("module '{module}' has no attribute '{name}'"),
        )
    };
    if !known {
        return Err(missing());
    }
    let submodule = format!("{module}.{name}");
    if let Some((m, _)) = MODULES.iter().find(|(m, _)| *m == submodule) {
        return Ok(Value::Module(m));
    }
    let class = |c| Ok(Value::Builtin(Builtin::Class(c)));
    match (module, name) {
        (_, "sep") => Ok(Value::str("/")),
        (_, "VERSION") => Ok(Value::str(SDK_VERSION)),
        ("os", "getcwd") => Ok(Value::Builtin(Builtin::OsGetcwd)),
        ("os", "makedirs") => Ok(Value::Builtin(Builtin::OsMakedirs)),
        ("os", "listdir") => Ok(Value::Builtin(Builtin::OsListdir)),
        ("os.path", "join") => Ok(Value::Builtin(Builtin::OsPathJoin)),
        ("os.path", "exists") => Ok(Value::Builtin(Builtin::OsPathExists)),
        ("os.path", "isdir") => Ok(Value::Builtin(Builtin::OsPathIsdir)),
        ("os.path", "isfile") => Ok(Value::Builtin(Builtin::OsPathIsfile)),
        ("os.path", "basename") => Ok(Value::Builtin(Builtin::OsPathBasename)),
        ("os.path", "dirname") => Ok(Value::Builtin(Builtin::OsPathDirname)),
        ("os.path", "abspath") => Ok(Value::Builtin(Builtin::OsPathAbspath)),
        ("shutil", "copy") => Ok(Value::Builtin(Builtin::ShutilCopy)),
        (_, "Workspace") => class(Class::Workspace),
        (_, "Experiment") => class(Class::Experiment),
        (_, "Run") => class(Class::Run),
        (_, "ScriptRunConfig") => class(Class::ScriptRunConfig),
        (_, "Datastore") => class(Class::Datastore),
        (_, "ComputeTarget") => class(Class::ComputeTarget),
        (_, "Estimator") => class(Class::Estimator(None)),
        (_, "SKLearn") => class(Class::Estimator(Some(Framework::SKLearn))),
        (_, "PyTorch") => class(Class::Estimator(Some(Framework::PyTorch))),
        (_, "TensorFlow") => class(Class::Estimator(Some(Framework::TensorFlow))),
        (_, "Chainer") => class(Class::Estimator(Some(Framework::Chainer))),
        (_, "Mpi") => class(Class::Mpi),
        (_, "Gloo") => class(Class::Gloo),
        (_, "Nccl") => class(Class::Nccl),
        (_, "ParameterServer") => class(Class::ParameterServer),
        (_, "RunDetails") => class(Class::RunDetails),
        (_, "DataReference") => class(Class::DataReference),
        (_, "Environment") => class(Class::Environment),
        (_, "CondaDependencies") => class(Class::CondaDependencies),
        _ => Err(missing()),
    }
}
