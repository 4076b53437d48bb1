//! Runboard's implementation of the Azure ML SDK v1 objects a notebook uses:
//! `Workspace`, `ComputeTarget`, `Experiment`, `Estimator` and its presets,
//! `ScriptRunConfig`, the distributed-training objects, `Datastore`, `DataReference`,
//! `Run` and `RunDetails`, with the SDK's names and defaults.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Map, Value as Json};

use crate::api::TagsPatch;
use crate::cell::worker::WaitingRun;
use crate::estimator::{
    DataReference, DistributedTraining, Estimator, FieldError, KNOWN_FIELDS, ParamValue,
};
use crate::event::EventBody;
use crate::run::{ExperimentName, RunId, RunStatus};

use super::args::Args;
use super::display::{Display, Output};
use super::error::PyError;
use super::eval::Interp;
use super::host::{FileKind, Host, Submission};
use super::os::{basename, dirname, file_error, host_error, join};
use super::value::{Class, Dict, Obj, RunHandle, Value, str_repr};

/// The name of the datastore `ws.get_default_datastore()` returns, as in Azure ML.
pub(crate) const DEFAULT_DATASTORE: &str = "workspaceblobstore";

/// The log `wait_for_completion(show_output=True)` streams.
const DRIVER_LOG: &str = "user_logs/std_log.txt";

/// Static methods of SDK classes (`Workspace.from_config`).
pub(crate) fn class_attr(class: Class, name: &str) -> Option<Value> {
    let method: &'static str = match (class, name) {
        (Class::Workspace, "from_config") => "from_config",
        (Class::Workspace, "get") => "get",
        (Class::Datastore, "get") => "get",
        (Class::Datastore, "get_default") => "get_default",
        (Class::Run, "get") => "get",
        (Class::Run, "get_context") => "get_context",
        _ => super::environment::class_attr(class, name)?,
    };
    Some(Value::method(
        Value::Builtin(super::value::Builtin::Class(class)),
        method,
    ))
}

fn obj(o: Obj) -> Value {
    Value::obj(o)
}

/// An experiment name, checked with the SDK's rule.
fn experiment_name(name: &str) -> Result<String, PyError> {
    ExperimentName::new(name)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| PyError::value_error(e.to_string()))
}

/// A compute target given as a name or a `ComputeTarget`.
fn target_name(v: &Value) -> Result<Json, String> {
    match v {
        Value::None => Ok(Json::Null),
        Value::Str(s) => Ok(Json::String(s.to_string())),
        Value::Obj(o) => match &**o {
            Obj::ComputeTarget { name } => Ok(Json::String(name.clone())),
            _ => Err(format!(
                "expected a compute target name or ComputeTarget, got {}",
                v.type_name()
            )),
        },
        other => Err(format!(
            "expected a compute target name or ComputeTarget, got {}",
            other.type_name()
        )),
    }
}

/// A Python value as the estimator's JSON form reads it.
pub(crate) fn to_json(v: &Value) -> Result<Json, String> {
    Ok(match v {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(crate::estimator::python_float_repr(*f))),
        Value::Str(s) => Json::String(s.to_string()),
        Value::List(l) => Json::Array(l.borrow().iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Tuple(t) => Json::Array(t.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Set(s) => Json::Array(s.borrow().iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Dict(d) => {
            let mut map = Map::new();
            for (k, v) in &d.borrow().entries {
                let Value::Str(k) = k else {
                    return Err(format!("dict keys must be str, got {}", k.type_name()));
                };
                map.insert(k.to_string(), to_json(v)?);
            }
            Json::Object(map)
        }
        Value::Obj(o) => match &**o {
            Obj::DataRef(d) => serde_json::to_value(d).map_err(|e| e.to_string())?,
            Obj::Distributed(d) => serde_json::to_value(d).map_err(|e| e.to_string())?,
            Obj::ComputeTarget { name } => Json::String(name.clone()),
            Obj::Environment(env) => env.borrow().to_json()?,
            other => {
                return Err(format!("a {} cannot be used here", other.class().name()));
            }
        },
        other => return Err(format!("a {} cannot be used here", other.type_name())),
    })
}

/// JSON (from the server) as a Python value.
pub(crate) fn from_json(v: &Json) -> Value {
    match v {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::str(s),
        Json::Array(items) => Value::list(items.iter().map(from_json).collect()),
        Json::Object(map) => Value::dict(Dict {
            entries: map
                .iter()
                .map(|(k, v)| (Value::str(k), from_json(v)))
                .collect(),
        }),
    }
}

/// The `ValueError` for an estimator's field errors: every one, each on its line.
fn invalid_arguments(class: &str, errors: &[FieldError]) -> PyError {
    let mut message = format!(
        "{class}() got {} invalid argument{}:",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors {
        let text = match e.message.strip_prefix("unknown field '") {
            // Unknown JSON keys are unexpected keyword arguments in Python.
            Some(rest) => {
                let hint = rest.split_once("'").map_or("", |(_, hint)| hint);
                format!("unexpected keyword argument{hint}")
            }
            None => e.message.clone(),
        };
        message.push_str(&format!("\n  {}: {text}", e.field));
    }
    PyError::value_error(message)
}

/// The rows of an estimator's display: each set parameter, in the SDK's order, with
/// the value as given when the user gave it.
pub(crate) fn estimator_rows(
    estimator: &Estimator,
    given: &[(String, Value)],
) -> Vec<(String, String)> {
    let Ok(Json::Object(fields)) = serde_json::to_value(estimator) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (name, value) in fields {
        if name == "framework" {
            continue;
        }
        let shown = match given.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => v.repr(),
            None => {
                let empty = match &value {
                    Json::Null => true,
                    Json::Array(a) => a.is_empty(),
                    Json::Object(o) => o.is_empty(),
                    _ => false,
                };
                if empty {
                    continue;
                }
                from_json(&value).repr()
            }
        };
        rows.push((name, shown));
    }
    rows
}

impl<H: Host> Interp<'_, H> {
    /// Calls an SDK class: `Experiment(ws, 'name')`.
    pub async fn construct(&mut self, class: Class, args: Args) -> Result<Value, PyError> {
        let fname = format!("{}()", class.name());
        match class {
            Class::Workspace => {
                args.bind(
                    &fname,
                    &[
                        "subscription_id",
                        "resource_group",
                        "workspace_name",
                        "auth",
                    ],
                    0,
                )?;
                Ok(obj(Obj::Workspace))
            }
            Class::Experiment => {
                let a = args.bind(&fname, &["workspace", "name"], 2)?;
                let name = experiment_name(&a.req_str("name")?)?;
                Ok(obj(Obj::Experiment { name }))
            }
            Class::ComputeTarget => {
                let a = args.bind(&fname, &["workspace", "name"], 2)?;
                let name = a.req_str("name")?;
                self.compute_target(&name).await
            }
            Class::Estimator(_) => self.estimator(class, args),
            Class::ScriptRunConfig => self.script_run_config(args),
            Class::Mpi => {
                let a = args.bind(&fname, &["process_count_per_node"], 0)?;
                let n = count(a.int("process_count_per_node")?, "process_count_per_node")?;
                Ok(obj(Obj::Distributed(DistributedTraining::Mpi {
                    process_count_per_node: n,
                })))
            }
            Class::Gloo => {
                args.none(&fname)?;
                Ok(obj(Obj::Distributed(DistributedTraining::Gloo)))
            }
            Class::Nccl => {
                args.none(&fname)?;
                Ok(obj(Obj::Distributed(DistributedTraining::Nccl)))
            }
            Class::ParameterServer => {
                let a = args.bind(&fname, &["worker_count", "parameter_server_count"], 0)?;
                Ok(obj(Obj::Distributed(
                    DistributedTraining::ParameterServer {
                        worker_count: count(a.int("worker_count")?, "worker_count")?,
                        parameter_server_count: count(
                            a.int("parameter_server_count")?,
                            "parameter_server_count",
                        )?,
                    },
                )))
            }
            Class::Datastore => {
                let a = args.bind(&fname, &["workspace", "name"], 1)?;
                let name = a
                    .str("name")?
                    .unwrap_or_else(|| DEFAULT_DATASTORE.to_owned());
                Ok(obj(Obj::Datastore { name }))
            }
            Class::DataReference => {
                let a = args.bind(
                    &fname,
                    &[
                        "datastore",
                        "data_reference_name",
                        "path_on_datastore",
                        "mode",
                        "path_on_compute",
                        "overwrite",
                    ],
                    1,
                )?;
                let datastore = match a.get("datastore") {
                    Some(Value::Obj(o)) => match &**o {
                        Obj::Datastore { name } => name.clone(),
                        _ => return Err(PyError::type_error("datastore must be a Datastore")),
                    },
                    _ => return Err(PyError::type_error("datastore must be a Datastore")),
                };
                let mode = a.str("mode")?.unwrap_or_else(|| "mount".to_owned());
                if !crate::estimator::DATA_MODES.contains(&mode.as_str()) {
                    return Err(PyError::value_error(format!(
                        "mode must be one of mount, download, upload, got {}",
                        str_repr(&mode)
                    )));
                }
                Ok(obj(Obj::DataRef(DataReference {
                    datastore,
                    path_on_datastore: a.str("path_on_datastore")?.unwrap_or_default(),
                    mode,
                    data_reference_name: a.str("data_reference_name")?,
                    path_on_compute: a.str("path_on_compute")?,
                    overwrite: a.bool("overwrite", false),
                })))
            }
            Class::Run => {
                let a = args.bind(&fname, &["experiment", "run_id"], 2)?;
                let id = a.req_str("run_id")?;
                self.attach_run(&id).await
            }
            Class::Environment | Class::CondaDependencies => {
                self.call_environment_class(class, args)
            }
            Class::PythonSection | Class::DockerSection => Err(PyError::type_error(format!(
                "{fname}: sections are made by Environment(), as env.{}",
                if class == Class::PythonSection {
                    "python"
                } else {
                    "docker"
                }
            ))),
            Class::RunDetails => {
                let a = args.bind(&fname, &["run_instance"], 1)?;
                match a.get("run_instance") {
                    Some(Value::Obj(o)) => match &**o {
                        Obj::Run(r) => Ok(obj(Obj::RunDetails(r.clone()))),
                        _ => Err(PyError::type_error("RunDetails() takes a Run")),
                    },
                    _ => Err(PyError::type_error("RunDetails() takes a Run")),
                }
            }
        }
    }

    /// Static methods (`Workspace.from_config()`).
    pub async fn call_static(
        &mut self,
        class: Class,
        name: &'static str,
        args: Args,
    ) -> Result<Value, PyError> {
        let fname = format!("{}.{name}()", class.name());
        match (class, name) {
            (Class::Workspace, "from_config") => {
                // The SDK reads config.json; Runboard's workspace is the server itself.
                args.bind(&fname, &["path", "auth", "_logger", "_file_name"], 0)?;
                Ok(obj(Obj::Workspace))
            }
            (Class::Workspace, "get") => {
                args.bind(
                    &fname,
                    &[
                        "name",
                        "auth",
                        "subscription_id",
                        "resource_group",
                        "location",
                    ],
                    1,
                )?;
                Ok(obj(Obj::Workspace))
            }
            (Class::Datastore, "get") => {
                let a = args.bind(&fname, &["workspace", "datastore_name"], 2)?;
                Ok(obj(Obj::Datastore {
                    name: a.req_str("datastore_name")?,
                }))
            }
            (Class::Datastore, "get_default") => {
                args.bind(&fname, &["workspace"], 1)?;
                Ok(obj(Obj::Datastore {
                    name: DEFAULT_DATASTORE.to_owned(),
                }))
            }
            (Class::Run, "get") => {
                let a = args.bind(&fname, &["workspace", "run_id"], 2)?;
                let id = a.req_str("run_id")?;
                self.attach_run(&id).await
            }
            (Class::Run, "get_context") => Err(PyError::unsupported(
                "`Run.get_context()` belongs in the training script; in a notebook it is",
            )),
            (Class::Environment | Class::CondaDependencies, _) => {
                self.call_environment_static(class, name, args).await
            }
            _ => Err(PyError::new(
                "AttributeError",
                format!("type object '{}' has no attribute '{name}'", class.name()),
            )),
        }
    }

    async fn compute_target(&mut self, name: &str) -> Result<Value, PyError> {
        let names = self
            .host
            .compute_targets()
            .await
            .map_err(|e| host_error(e, "ComputeTargetException"))?;
        if !names.iter().any(|n| n == name) {
            return Err(PyError::new(
                "ComputeTargetException",
                format!(
                    "ComputeTargetNotFound: Compute Target with name {name} not found in provided \
                     workspace (this server has: {})",
                    names.join(", ")
                ),
            ));
        }
        Ok(obj(Obj::ComputeTarget {
            name: name.to_owned(),
        }))
    }

    async fn attach_run(&mut self, id: &str) -> Result<Value, PyError> {
        let id = RunId::parse(id).map_err(|e| PyError::value_error(e.to_string()))?;
        let details = self
            .host
            .run_details(&id)
            .await
            .map_err(|e| host_error(e, "ServiceException"))?;
        Ok(obj(Obj::Run(RunHandle {
            id,
            experiment: details.experiment,
            portal_url: details.portal_url,
        })))
    }

    /// `Estimator(...)` or a preset: the arguments become the estimator's JSON form,
    /// checked by `Estimator::from_value`, every error at once.
    fn estimator(&mut self, class: Class, args: Args) -> Result<Value, PyError> {
        let Class::Estimator(framework) = class else {
            return Err(PyError::type_error("not an estimator class"));
        };
        let name = class.name();
        if args.positional.len() > 1 {
            return Err(PyError::type_error(format!(
                "{name}() takes 1 positional argument but {} were given",
                args.positional.len()
            )));
        }
        let mut given: Vec<(String, Value)> = Vec::new();
        if let Some(v) = args.positional.into_iter().next() {
            given.push(("source_directory".to_owned(), v));
        }
        for (k, v) in args.keywords {
            if given.iter().any(|(g, _)| *g == k) {
                return Err(PyError::type_error(format!(
                    "{name}() got multiple values for argument '{k}'"
                )));
            }
            given.push((k, v));
        }
        let mut map = Map::new();
        let mut errors = Vec::new();
        if let Some(f) = framework {
            map.insert("framework".to_owned(), Json::String(f.name().to_owned()));
        }
        for (k, v) in &given {
            if k == "framework" {
                errors.push(FieldError::new(k, "unknown field 'framework'"));
                continue;
            }
            let json = if k == "compute_target" {
                target_name(v)
            } else {
                to_json(v)
            };
            match json {
                Ok(json) => {
                    map.insert(k.clone(), json);
                }
                Err(message) => errors.push(FieldError::new(k, message)),
            }
        }
        if !map.contains_key("source_directory") && errors.is_empty() {
            return Err(PyError::type_error(format!(
                "{name}() missing 1 required positional argument: 'source_directory'"
            )));
        }
        match Estimator::from_value(&Json::Object(map)) {
            Ok(estimator) if errors.is_empty() => Ok(obj(Obj::Estimator {
                class,
                estimator: Box::new(estimator),
                args: given,
            })),
            Ok(_) => Err(invalid_arguments(name, &errors)),
            Err(more) => {
                errors.extend(more.into_iter().filter(|e| {
                    // `framework` is set by the class, never by the user.
                    KNOWN_FIELDS.contains(&root(&e.field)) || e.message.starts_with("unknown")
                }));
                Err(invalid_arguments(name, &errors))
            }
        }
    }

    /// `ScriptRunConfig(source_directory, script, arguments, compute_target,
    /// distributed_job_config, max_run_duration_seconds)`, held as an estimator.
    fn script_run_config(&mut self, args: Args) -> Result<Value, PyError> {
        const PARAMS: &[&str] = &[
            "source_directory",
            "script",
            "arguments",
            "run_config",
            "_telemetry_values",
            "compute_target",
            "environment",
            "distributed_job_config",
            "resume_from",
            "max_run_duration_seconds",
            "command",
            "docker_runtime_config",
        ];
        let given: Vec<(String, Value)> = PARAMS
            .iter()
            .zip(args.positional.iter())
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .chain(args.keywords.iter().cloned())
            .collect();
        let a = args.bind("ScriptRunConfig()", PARAMS, 1)?;
        for unsupported in [
            "run_config",
            "resume_from",
            "command",
            "docker_runtime_config",
        ] {
            if a.opt(unsupported).is_some() {
                return Err(PyError::unsupported(&format!(
                    "`ScriptRunConfig({unsupported}=…)` is"
                ))
                .with_hint(
                    "describe the environment with environment=Environment(…), and the script's arguments with arguments=[…]",
                ));
            }
        }
        let mut map = Map::new();
        let mut errors = Vec::new();
        map.insert(
            "source_directory".to_owned(),
            to_json(a.get("source_directory").unwrap_or(&Value::None)).unwrap_or(Json::Null),
        );
        // A missing script is reported by the estimator's own check, as `script`.
        if let Some(v) = a.opt("script") {
            map.insert("entry_script".to_owned(), to_json(v).unwrap_or(Json::Null));
        }
        if let Some(v) = a.opt("compute_target") {
            match target_name(v) {
                Ok(j) => {
                    map.insert("compute_target".to_owned(), j);
                }
                Err(m) => errors.push(FieldError::new("compute_target", m)),
            }
        }
        if let Some(v) = a.opt("distributed_job_config") {
            match v {
                Value::Obj(o) if matches!(&**o, Obj::Distributed(_)) => {
                    map.insert(
                        "distributed_training".to_owned(),
                        to_json(v).unwrap_or(Json::Null),
                    );
                }
                other => errors.push(FieldError::new(
                    "distributed_job_config",
                    format!(
                        "expected Mpi(), Gloo(), Nccl() or ParameterServer(), got {}",
                        other.type_name()
                    ),
                )),
            }
        }
        if let Some(v) = a.opt("environment") {
            match super::environment::definition_json(v) {
                Ok(j) => {
                    map.insert("environment_definition".to_owned(), j);
                }
                Err(m) => errors.push(FieldError::new("environment", m)),
            }
        }
        if let Some(v) = a.opt("max_run_duration_seconds") {
            map.insert(
                "max_run_duration_seconds".to_owned(),
                to_json(v).unwrap_or(Json::Null),
            );
        }
        let params = match a.opt("arguments") {
            Some(v) => arguments_to_params(v, &mut errors),
            None => Vec::new(),
        };
        let mut estimator = match Estimator::from_value(&Json::Object(map)) {
            Ok(e) => e,
            Err(more) => {
                errors.extend(more);
                return Err(invalid_arguments("ScriptRunConfig", &rename_src(errors)));
            }
        };
        estimator.script_params = params;
        if let Err(more) = estimator.validate() {
            errors.extend(more);
        }
        if !errors.is_empty() {
            return Err(invalid_arguments("ScriptRunConfig", &rename_src(errors)));
        }
        Ok(obj(Obj::Estimator {
            class: Class::ScriptRunConfig,
            estimator: Box::new(estimator),
            args: given,
        }))
    }

    /// `obj.name` for an SDK object.
    pub async fn obj_attr(&mut self, o: Rc<Obj>, name: &str) -> Result<Value, PyError> {
        let this = Value::Obj(o.clone());
        let method = |m: &'static str| Ok(Value::method(this.clone(), m));
        let missing = || {
            PyError::new(
                "AttributeError",
                format!("'{}' object has no attribute '{name}'", o.class().name()),
            )
        };
        match (&*o, name) {
            (Obj::Workspace, "name") => Ok(Value::str("runboard")),
            (Obj::Workspace, "subscription_id" | "resource_group") => Ok(Value::str("")),
            (Obj::Workspace, "location") => Ok(Value::str("local")),
            (Obj::Workspace, "compute_targets") => {
                let names = self
                    .host
                    .compute_targets()
                    .await
                    .map_err(|e| host_error(e, "ComputeTargetException"))?;
                let mut dict = Dict::default();
                for n in names {
                    dict.insert(Value::str(&n), obj(Obj::ComputeTarget { name: n.clone() }))?;
                }
                Ok(Value::dict(dict))
            }
            (Obj::Workspace, "datastores") => {
                let mut dict = Dict::default();
                dict.insert(
                    Value::str(DEFAULT_DATASTORE),
                    obj(Obj::Datastore {
                        name: DEFAULT_DATASTORE.to_owned(),
                    }),
                )?;
                Ok(Value::dict(dict))
            }
            (Obj::Workspace, "get_default_datastore") => method("get_default_datastore"),
            (Obj::ComputeTarget { name: n }, "name") => Ok(Value::str(n)),
            (Obj::ComputeTarget { .. }, "type") => Ok(Value::str("Runboard")),
            (Obj::Experiment { name: n }, "name") => Ok(Value::str(n)),
            (Obj::Experiment { .. }, "workspace") => Ok(obj(Obj::Workspace)),
            (Obj::Experiment { .. }, "submit") => method("submit"),
            (Obj::Estimator { estimator, .. }, field) => {
                let Ok(Json::Object(fields)) = serde_json::to_value(estimator) else {
                    return Err(missing());
                };
                match fields.get(field) {
                    Some(v) if field != "framework" => Ok(from_json(v)),
                    _ => Err(missing()),
                }
            }
            (Obj::Distributed(d), field) => {
                let Ok(Json::Object(fields)) = serde_json::to_value(d) else {
                    return Err(missing());
                };
                fields
                    .get(field)
                    .filter(|_| field != "type")
                    .map(from_json)
                    .ok_or_else(missing)
            }
            (Obj::Datastore { name: n }, "name") => Ok(Value::str(n)),
            (Obj::Datastore { .. }, "datastore_type") => Ok(Value::str("Runboard")),
            (Obj::Datastore { .. }, m @ ("path" | "as_mount" | "as_download" | "upload")) => {
                method(static_name(m))
            }
            (Obj::DataRef(d), field) => match field {
                "datastore_name" => Ok(Value::str(&d.datastore)),
                "path_on_datastore" => Ok(if d.path_on_datastore.is_empty() {
                    Value::None
                } else {
                    Value::str(&d.path_on_datastore)
                }),
                "data_reference_name" => Ok(Value::str(d.name())),
                "mode" => Ok(Value::str(&d.mode)),
                "path_on_compute" => {
                    Ok(d.path_on_compute.as_deref().map_or(Value::None, Value::str))
                }
                "overwrite" => Ok(Value::Bool(d.overwrite)),
                m @ ("as_mount" | "as_download") => method(static_name(m)),
                _ => Err(missing()),
            },
            (Obj::Run(r), field) => match field {
                "id" => Ok(Value::str(r.id.as_str())),
                "experiment" => Ok(obj(Obj::Experiment {
                    name: r.experiment.clone(),
                })),
                "status" => {
                    let details = self.details(&r.id).await?;
                    Ok(Value::str(details.status.as_str()))
                }
                "properties" | "tags" => {
                    let details = self.details(&r.id).await?;
                    let map = if field == "tags" {
                        details.tags
                    } else {
                        details.properties
                    };
                    Ok(string_dict(&map))
                }
                m => RUN_METHODS
                    .iter()
                    .find(|x| **x == m)
                    .map(|x| Value::method(this.clone(), x))
                    .ok_or_else(missing),
            },
            (Obj::RunDetails(_), "show") => method("show"),
            (o, _) if super::environment::is_environment_obj(o) => {
                super::environment::attr(&this, o, name).ok_or_else(missing)
            }
            _ => Err(missing()),
        }
    }

    async fn details(&mut self, id: &RunId) -> Result<crate::api::RunDetails, PyError> {
        self.host
            .run_details(id)
            .await
            .map_err(|e| host_error(e, "ServiceException"))
    }

    /// `obj.name(*args)` for an SDK object.
    pub async fn call_obj_method(
        &mut self,
        o: Rc<Obj>,
        name: &'static str,
        args: Args,
    ) -> Result<Value, PyError> {
        let fname = format!("{}.{name}()", o.class().name());
        if super::environment::is_environment_obj(&o) {
            return super::environment::call_method(&Value::Obj(o.clone()), &o, name, args);
        }
        match (&*o, name) {
            (Obj::Workspace, "get_default_datastore") => {
                args.none(&fname)?;
                Ok(obj(Obj::Datastore {
                    name: DEFAULT_DATASTORE.to_owned(),
                }))
            }
            (Obj::Experiment { name: experiment }, "submit") => {
                let a = args.bind(&fname, &["config", "tags"], 1)?;
                let config = a.get("config").cloned().unwrap_or(Value::None);
                let tags = match a.opt("tags") {
                    Some(Value::Dict(d)) => d
                        .borrow()
                        .entries
                        .iter()
                        .map(|(k, v)| (k.to_str(), v.to_str()))
                        .collect(),
                    Some(other) => {
                        return Err(PyError::type_error(format!(
                            "tags must be a dict, not {}",
                            other.type_name()
                        )));
                    }
                    None => BTreeMap::new(),
                };
                self.submit(experiment, &config, tags).await
            }
            (Obj::Datastore { name: store }, "path") => {
                let a = args.bind(&fname, &["path", "data_reference_name"], 0)?;
                let mut d = DataReference::new(store, &a.str("path")?.unwrap_or_default());
                d.data_reference_name = a.str("data_reference_name")?;
                Ok(obj(Obj::DataRef(d)))
            }
            (Obj::Datastore { name: store }, "as_mount") => {
                args.none(&fname)?;
                Ok(obj(Obj::DataRef(DataReference::new(store, ""))))
            }
            (Obj::Datastore { name: store }, "as_download") => {
                let a = args.bind(&fname, &["path_on_compute"], 0)?;
                let mut d = DataReference::new(store, "");
                d.mode = "download".to_owned();
                d.path_on_compute = a.str("path_on_compute")?;
                Ok(obj(Obj::DataRef(d)))
            }
            (Obj::Datastore { name: store }, "upload") => {
                let a = args.bind(
                    &fname,
                    &["src_dir", "target_path", "overwrite", "show_progress"],
                    1,
                )?;
                let src = a.req_str("src_dir")?;
                let target = a.str("target_path")?.unwrap_or_default();
                let area = self.resolve(&src)?;
                if self.stat(&src).await? != Some(FileKind::Dir) {
                    return Err(file_error(
                        super::host::HostError::NotFound(String::new()),
                        &src,
                    ));
                }
                let files = self
                    .host
                    .upload_to_datastore(store, &area, &target, a.bool("overwrite", false))
                    .await
                    .map_err(|e| host_error(e, "UserErrorException"))?;
                if a.bool("show_progress", true) {
                    let n = files.len();
                    let mut text = format!("Uploading an estimated of {n} files\n");
                    for (i, f) in files.iter().enumerate() {
                        let path = join(&[src.clone(), f.clone()]);
                        text.push_str(&format!(
                            "Uploading {path}\nUploaded {path}, {} files out of an estimated total of {n}\n",
                            i + 1
                        ));
                    }
                    text.push_str(&format!("Uploaded {n} files\n"));
                    self.host.output(Output::Stdout { text });
                }
                Ok(obj(Obj::DataRef(DataReference::new(store, &target))))
            }
            (Obj::DataRef(d), "as_mount") => {
                args.none(&fname)?;
                let mut d = d.clone();
                d.mode = "mount".to_owned();
                Ok(obj(Obj::DataRef(d)))
            }
            (Obj::DataRef(d), "as_download") => {
                let a = args.bind(&fname, &["path_on_compute", "overwrite"], 0)?;
                let mut d = d.clone();
                d.mode = "download".to_owned();
                d.path_on_compute = a.str("path_on_compute")?;
                d.overwrite = a.bool("overwrite", false);
                Ok(obj(Obj::DataRef(d)))
            }
            (Obj::Run(r), m) => self.run_method(r.clone(), m, &fname, args).await,
            (Obj::RunDetails(r), "show") => {
                args.none(&fname)?;
                let display = self.run_display(r).await?;
                self.host.output(Output::Display { display });
                Ok(Value::None)
            }
            _ => Err(PyError::new(
                "AttributeError",
                format!("'{}' object has no attribute '{name}'", o.class().name()),
            )),
        }
    }

    async fn submit(
        &mut self,
        experiment: &str,
        config: &Value,
        tags: BTreeMap<String, String>,
    ) -> Result<Value, PyError> {
        let estimator = match config {
            Value::Obj(o) => match &**o {
                Obj::Estimator { estimator, .. } => (**estimator).clone(),
                other => {
                    return Err(PyError::type_error(format!(
                        "submit() takes an Estimator or a ScriptRunConfig, not {}",
                        other.class().name()
                    )));
                }
            },
            other => {
                return Err(PyError::type_error(format!(
                    "submit() takes an Estimator or a ScriptRunConfig, not {}",
                    other.type_name()
                )));
            }
        };
        let source = &estimator.source_directory;
        if self.stat(source).await? != Some(FileKind::Dir) {
            return Err(PyError::new(
                "UserErrorException",
                format!(
                    "source_directory {} is not a folder (it is resolved against the notebook's \
                     folder, {})",
                    str_repr(source),
                    super::os::absolute(&self.host.cwd())
                ),
            ));
        }
        let submission = Submission {
            experiment: experiment.to_owned(),
            estimator: serde_json::to_value(&estimator)
                .map_err(|e| PyError::value_error(e.to_string()))?,
            source_directory: self.resolve(source)?,
            tags,
        };
        let response = self
            .host
            .submit(submission)
            .await
            .map_err(|e| host_error(e, "ExperimentExecutionException"))?;
        Ok(obj(Obj::Run(RunHandle {
            id: response.run_id,
            experiment: experiment.to_owned(),
            portal_url: response.portal_url,
        })))
    }

    /// The live card of a run, with its current status.
    pub async fn run_display(&mut self, r: &RunHandle) -> Result<Display, PyError> {
        let details = self.details(&r.id).await?;
        Ok(Display::Run {
            run_id: r.id.to_string(),
            experiment: r.experiment.clone(),
            status: Some(details.status),
            portal_url: r.portal_url.clone(),
        })
    }

    async fn run_method(
        &mut self,
        r: RunHandle,
        name: &str,
        fname: &str,
        args: Args,
    ) -> Result<Value, PyError> {
        match name {
            "get_portal_url" => {
                args.none(fname)?;
                Ok(Value::str(&r.portal_url))
            }
            "get_status" => {
                args.none(fname)?;
                Ok(Value::str(self.details(&r.id).await?.status.as_str()))
            }
            "get_details" => {
                args.none(fname)?;
                self.details_value(&r.id).await
            }
            "get_tags" | "get_properties" => {
                args.none(fname)?;
                let details = self.details(&r.id).await?;
                Ok(string_dict(if name == "get_tags" {
                    &details.tags
                } else {
                    &details.properties
                }))
            }
            "wait_for_completion" => {
                let a = args.bind(
                    fname,
                    &["show_output", "wait_post_processing", "raise_on_error"],
                    0,
                )?;
                self.wait_for_completion(
                    &r,
                    a.bool("show_output", false),
                    a.bool("raise_on_error", true),
                )
                .await
            }
            "get_metrics" => {
                let a = args.bind(fname, &["name", "recursive", "run_type", "populate"], 0)?;
                let only = a.str("name")?;
                let metrics = self
                    .host
                    .metrics(&r.id)
                    .await
                    .map_err(|e| host_error(e, "ServiceException"))?;
                let mut dict = Dict::default();
                for (k, v) in metrics {
                    if only.as_ref().is_none_or(|o| *o == k) {
                        dict.insert(Value::str(&k), from_json(&v))?;
                    }
                }
                Ok(Value::dict(dict))
            }
            "get_file_names" => {
                args.none(fname)?;
                let files = self
                    .host
                    .run_files(&r.id)
                    .await
                    .map_err(|e| host_error(e, "ServiceException"))?;
                Ok(Value::list(
                    files.iter().map(|f| Value::str(&f.path)).collect(),
                ))
            }
            "download_file" => {
                let a = args.bind(
                    fname,
                    &["name", "output_file_path", "_validate_checksum"],
                    1,
                )?;
                let file = a.req_str("name")?;
                let mut out = a
                    .str("output_file_path")?
                    .unwrap_or_else(|| basename(&file).to_owned());
                if self.stat(&out).await? == Some(FileKind::Dir) {
                    out = join(&[out, basename(&file).to_owned()]);
                }
                self.download(&r.id, &file, &out).await?;
                Ok(Value::None)
            }
            "download_files" => {
                let a = args.bind(
                    fname,
                    &[
                        "prefix",
                        "output_directory",
                        "output_paths",
                        "batch_size",
                        "append_prefix",
                        "timeout_seconds",
                    ],
                    0,
                )?;
                let prefix = a.str("prefix")?.unwrap_or_default();
                let dir = a.str("output_directory")?.unwrap_or_else(|| ".".to_owned());
                let append = a.bool("append_prefix", true);
                let files = self
                    .host
                    .run_files(&r.id)
                    .await
                    .map_err(|e| host_error(e, "ServiceException"))?;
                for f in files.iter().filter(|f| f.path.starts_with(&prefix)) {
                    let rel = if append {
                        f.path.as_str()
                    } else {
                        f.path[prefix.len()..].trim_start_matches('/')
                    };
                    let out = join(&[dir.clone(), rel.to_owned()]);
                    self.download(&r.id, &f.path, &out).await?;
                }
                Ok(Value::None)
            }
            "cancel" => {
                args.none(fname)?;
                self.host
                    .cancel_run(&r.id)
                    .await
                    .map_err(|e| host_error(e, "ServiceException"))?;
                Ok(Value::None)
            }
            "tag" | "set_tags" => {
                let patch = if name == "tag" {
                    let a = args.bind(fname, &["key", "value"], 1)?;
                    let value = a.opt("value").map(Value::to_str).unwrap_or_default();
                    TagsPatch {
                        set: BTreeMap::from([(a.req_str("key")?, value)]),
                        remove: Vec::new(),
                    }
                } else {
                    let a = args.bind(fname, &["tags"], 1)?;
                    let Some(Value::Dict(d)) = a.get("tags") else {
                        return Err(PyError::type_error("set_tags() takes a dict"));
                    };
                    TagsPatch {
                        set: d
                            .borrow()
                            .entries
                            .iter()
                            .map(|(k, v)| (k.to_str(), v.to_str()))
                            .collect(),
                        remove: Vec::new(),
                    }
                };
                self.host
                    .patch_tags(&r.id, &patch)
                    .await
                    .map_err(|e| host_error(e, "ServiceException"))?;
                Ok(Value::None)
            }
            _ => Err(PyError::new(
                "AttributeError",
                format!("'Run' object has no attribute '{name}'"),
            )),
        }
    }

    async fn details_value(&mut self, id: &RunId) -> Result<Value, PyError> {
        let details = self.details(id).await?;
        let json =
            serde_json::to_value(&details).map_err(|e| PyError::value_error(e.to_string()))?;
        Ok(from_json(&json))
    }

    /// Copies a run file into the files area, creating the folders it needs.
    async fn download(&mut self, id: &RunId, file: &str, out: &str) -> Result<(), PyError> {
        let area = self.resolve(out)?;
        let parent = dirname(&area);
        if !parent.is_empty() {
            self.host
                .make_dirs(&parent)
                .await
                .map_err(|e| file_error(e, &dirname(out)))?;
        }
        self.host
            .download_run_file(id, file, &area)
            .await
            .map_err(|e| match e {
                super::host::HostError::NotFound(_) => PyError::new(
                    "UserErrorException",
                    format!(
                        "File with path {} was not found in run {id}",
                        str_repr(file)
                    ),
                ),
                other => file_error(other, out),
            })?;
        Ok(())
    }

    /// `run.wait_for_completion()`: follows the run's events until it ends, streaming
    /// its log with `show_output`, then prints the SDK's Execution Summary.
    pub(super) async fn wait_for_completion(
        &mut self,
        r: &RunHandle,
        show_output: bool,
        raise_on_error: bool,
    ) -> Result<Value, PyError> {
        let mut names: Vec<String> = self
            .globals
            .iter()
            .filter(
                |(_, v)| matches!(v, Value::Obj(o) if matches!(&**o, Obj::Run(h) if h.id == r.id)),
            )
            .map(|(k, _)| k.clone())
            .collect();
        names.sort();
        self.host.waiting(&WaitingRun {
            run_id: r.id.to_string(),
            experiment: r.experiment.clone(),
            portal_url: r.portal_url.clone(),
            names,
            show_output,
        });
        if show_output {
            let banner = format!("Streaming {DRIVER_LOG}");
            self.host.output(Output::Stdout {
                text: format!(
                    "RunId: {}\nWeb View: {}\n\n{banner}\n{}\n\n",
                    r.id,
                    r.portal_url,
                    "=".repeat(banner.len())
                ),
            });
        }
        let mut after = 0;
        let mut ends_with_newline = true;
        let (status, error) = 'follow: loop {
            if self.host.interrupted() {
                return Err(PyError::new("KeyboardInterrupt", "interrupted by the user"));
            }
            let events = self
                .host
                .next_events(&r.id, after)
                .await
                .map_err(|e| host_error(e, "ServiceException"))?;
            for event in events {
                after = after.max(event.seq);
                match event.body {
                    EventBody::Log { path, text, .. }
                        if show_output && path == DRIVER_LOG && !text.is_empty() =>
                    {
                        ends_with_newline = text.ends_with('\n');
                        self.host.output(Output::Stdout { text });
                    }
                    EventBody::Status { status, error } if status.is_terminal() => {
                        break 'follow (status, error);
                    }
                    _ => {}
                }
            }
        };
        if show_output {
            let newline = if ends_with_newline { "" } else { "\n" };
            self.host.output(Output::Stdout {
                text: format!(
                    "{newline}\nExecution Summary\n=================\nRunId: {}\nWeb View: {}\n\n",
                    r.id, r.portal_url
                ),
            });
        }
        if status == RunStatus::Failed && raise_on_error {
            return Err(PyError::new(
                "ActivityFailedException",
                format!(
                    "Activity Failed: run {} failed: {}",
                    r.id,
                    error.as_deref().unwrap_or("no reason was recorded")
                ),
            ));
        }
        self.details_value(&r.id).await
    }
}

/// The `Run` methods, by their `'static` names.
const RUN_METHODS: &[&str] = &[
    "get_portal_url",
    "wait_for_completion",
    "get_status",
    "get_details",
    "get_metrics",
    "get_file_names",
    "download_file",
    "download_files",
    "cancel",
    "tag",
    "set_tags",
    "get_tags",
    "get_properties",
];

fn static_name(m: &str) -> &'static str {
    match m {
        "path" => "path",
        "as_mount" => "as_mount",
        "as_download" => "as_download",
        _ => "upload",
    }
}

fn string_dict(map: &BTreeMap<String, String>) -> Value {
    Value::dict(Dict {
        entries: map
            .iter()
            .map(|(k, v)| (Value::str(k), Value::str(v)))
            .collect(),
    })
}

fn count(v: Option<i64>, field: &str) -> Result<u32, PyError> {
    match v {
        None => Ok(1),
        Some(n) if n >= 1 => u32::try_from(n)
            .map_err(|_| PyError::value_error(format!("{field} is too large, got {n}"))),
        Some(n) => Err(PyError::value_error(format!(
            "{field} must be at least 1, got {n}"
        ))),
    }
}

/// `inputs[0].mode` → `inputs`.
fn root(field: &str) -> &str {
    field.split(['[', '.']).next().unwrap_or(field)
}

/// A `ScriptRunConfig`'s errors use its own argument names.
fn rename_src(errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|mut e| {
            for (from, to) in [
                ("entry_script", "script"),
                ("script_params", "arguments"),
                ("distributed_training", "distributed_job_config"),
                ("environment_definition", "environment"),
            ] {
                if let Some(rest) = e.field.strip_prefix(from) {
                    e.field = format!("{to}{rest}");
                }
            }
            e
        })
        .collect()
}

/// `arguments=['--lr', 0.01, '--data', ds.as_mount(), '--verbose']` as `script_params`
/// pairs: a flag takes the next item as its value unless that item is itself a string
/// flag; a flag alone is a bare flag. The argv is the same list either way.
fn arguments_to_params(v: &Value, errors: &mut Vec<FieldError>) -> Vec<(String, ParamValue)> {
    let items = match super::ops::iterate(v) {
        Ok(items) if matches!(v, Value::List(_) | Value::Tuple(_)) => items,
        _ => {
            errors.push(FieldError::new(
                "arguments",
                format!("expected a list, got {}", v.type_name()),
            ));
            return Vec::new();
        }
    };
    let mut params = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let field = format!("arguments[{i}]");
        let key = match &items[i] {
            Value::Str(s) => s.to_string(),
            Value::Obj(o) if matches!(&**o, Obj::DataRef(_)) => {
                errors.push(FieldError::new(
                    &field,
                    "a data reference must follow a flag such as '--data-folder'",
                ));
                i += 1;
                continue;
            }
            other => other.to_str(),
        };
        let value = match items.get(i + 1) {
            Some(Value::Str(s)) if s.starts_with('-') => None,
            Some(next) => Some(next.clone()),
            None => None,
        };
        let param = match value {
            Some(next) => {
                i += 2;
                match to_json(&next).map(serde_json::from_value::<ParamValue>) {
                    Ok(Ok(p)) => p,
                    Ok(Err(e)) => {
                        errors.push(FieldError::new(&field, e.to_string()));
                        continue;
                    }
                    Err(e) => {
                        errors.push(FieldError::new(&field, e));
                        continue;
                    }
                }
            }
            None => {
                i += 1;
                ParamValue::Str(String::new())
            }
        };
        params.push((key, param));
    }
    params
}
