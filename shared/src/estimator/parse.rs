//! JSON → [`Estimator`] in two steps: a `serde_json::Value` first, then one field at a
//! time, so that every error names its field and all of them are reported together.
//!
//! This step checks keys and types only (and that numbers fit); the rules about values
//! live in `validate`, so that an `Estimator` built in code is checked the same way.

mod definition;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::argv::{DataReference, ParamValue, ScriptParams};
use super::preset::{Backend, DistributedTraining, Framework};
use super::{Estimator, FieldError};

/// Every top-level key the JSON form accepts: the SDK's parameter names.
pub const KNOWN_FIELDS: &[&str] = &[
    "framework",
    "framework_version",
    "source_directory",
    "compute_target",
    "vm_size",
    "vm_priority",
    "entry_script",
    "script_params",
    "node_count",
    "process_count_per_node",
    "worker_count",
    "parameter_server_count",
    "distributed_backend",
    "distributed_training",
    "use_gpu",
    "use_docker",
    "custom_docker_image",
    "custom_docker_base_image",
    "image_registry_details",
    "user_managed",
    "conda_packages",
    "pip_packages",
    "conda_dependencies_file",
    "conda_dependencies_file_path",
    "pip_requirements_file",
    "pip_requirements_file_path",
    "environment_variables",
    "environment_definition",
    "inputs",
    "source_directory_data_store",
    "shm_size",
    "resume_from",
    "max_run_duration_seconds",
];

/// SDK parameters Runboard knows but cannot honour, with what to do instead. Giving
/// one (other than `null`) is an error rather than being silently ignored.
const UNSUPPORTED_FIELDS: &[(&str, &str)] = &[
    (
        "image_registry_details",
        "private registries are not supported; use a public custom_docker_image",
    ),
    (
        "source_directory_data_store",
        "the server always keeps the snapshot of source_directory itself",
    ),
    (
        "resume_from",
        "pass the checkpoint as a data reference in script_params, e.g. '--resume-from'",
    ),
];

const DATA_REFERENCE_FIELDS: &[&str] = &[
    "datastore",
    "path_on_datastore",
    "mode",
    "data_reference_name",
    "path_on_compute",
    "overwrite",
];

/// Collects field errors while converting JSON values.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    /// Every error found so far, in document order.
    pub(crate) errors: Vec<FieldError>,
}

/// Reads an estimator from a JSON value: what could be read (defaults in place of the
/// fields in error, so the caller can still validate the rest) and the errors found.
/// Validation is the caller's business. Anything but an object is a single error.
pub(crate) fn estimator(value: &Value) -> Result<(Estimator, Vec<FieldError>), FieldError> {
    let Value::Object(obj) = value else {
        return Err(FieldError::new(
            "estimator",
            format!("expected a JSON object, got {}", describe(value)),
        ));
    };
    let mut p = Parser::default();
    p.unknown_keys("", obj, KNOWN_FIELDS);
    for (field, instead) in UNSUPPORTED_FIELDS {
        if obj.get(*field).is_some_and(|v| !v.is_null()) {
            p.error(field, format!("is not supported by Runboard: {instead}"));
        }
    }

    let definition = p.opt(
        obj,
        "environment_definition",
        Parser::environment_definition,
    );
    let framework = p.opt(obj, "framework", |p, field, v| {
        let name = p.string(field, v)?;
        name.parse::<Framework>()
            .map_err(|e| p.error(field, e.to_string()))
            .ok()
    });
    let distributed_backend = p.opt(obj, "distributed_backend", |p, field, v| {
        let name = p.string(field, v)?;
        name.parse::<Backend>()
            .map_err(|e| p.error(field, e.to_string()))
            .ok()
    });
    let custom_docker_image = p.aliased(obj, "custom_docker_image", "custom_docker_base_image");
    let conda_dependencies_file = p.aliased(
        obj,
        "conda_dependencies_file",
        "conda_dependencies_file_path",
    );
    let pip_requirements_file =
        p.aliased(obj, "pip_requirements_file", "pip_requirements_file_path");

    let mut estimator = Estimator {
        framework,
        framework_version: p.opt(obj, "framework_version", Parser::string),
        source_directory: p.required(obj, "source_directory", Parser::string),
        compute_target: p.opt(obj, "compute_target", Parser::string),
        vm_size: p.opt(obj, "vm_size", Parser::string),
        vm_priority: p.opt(obj, "vm_priority", Parser::string),
        entry_script: p.required(obj, "entry_script", Parser::string),
        script_params: p
            .opt(obj, "script_params", Parser::script_params)
            .unwrap_or_default(),
        node_count: p.opt(obj, "node_count", Parser::count).unwrap_or(1),
        process_count_per_node: p
            .opt(obj, "process_count_per_node", Parser::count)
            .unwrap_or(1),
        worker_count: p.opt(obj, "worker_count", Parser::count),
        parameter_server_count: p.opt(obj, "parameter_server_count", Parser::count),
        distributed_backend,
        distributed_training: p.opt(obj, "distributed_training", Parser::distributed_training),
        use_gpu: p.opt(obj, "use_gpu", Parser::bool).unwrap_or(false),
        use_docker: p.opt(obj, "use_docker", Parser::bool).unwrap_or(true),
        custom_docker_image,
        user_managed: p.opt(obj, "user_managed", Parser::bool).unwrap_or(false),
        conda_packages: p
            .opt(obj, "conda_packages", Parser::string_list)
            .unwrap_or_default(),
        pip_packages: p
            .opt(obj, "pip_packages", Parser::string_list)
            .unwrap_or_default(),
        conda_dependencies_file,
        pip_requirements_file,
        environment_variables: p
            .opt(obj, "environment_variables", Parser::string_map)
            .unwrap_or_default(),
        inputs: p.opt(obj, "inputs", Parser::inputs).unwrap_or_default(),
        shm_size: p.opt(obj, "shm_size", Parser::string),
        max_run_duration_seconds: p.opt(obj, "max_run_duration_seconds", |p, field, v| {
            let n = p.int(field, v)?;
            u64::try_from(n)
                .map_err(|_| p.error(field, format!("must be positive, got {n}")))
                .ok()
        }),
    };
    // Checked even when the definition itself has errors: every error at once.
    if obj
        .get("environment_definition")
        .is_some_and(|v| !v.is_null())
    {
        let given: Vec<&str> = definition::REPLACED
            .iter()
            .copied()
            .filter(|f| obj.get(*f).is_some_and(|v| !v.is_null()))
            .collect();
        if !given.is_empty() {
            p.error(
                "environment_definition",
                format!(
                    "cannot be combined with {}: the Environment describes the whole \
                     environment, so put them in it",
                    given.join(", ")
                ),
            );
        }
    }
    if let Some(definition) = definition {
        definition.fold_into(&mut estimator);
    }
    Ok((estimator, p.errors))
}

impl Parser {
    /// Records an error on `field`.
    pub(crate) fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn expected(&mut self, field: &str, what: &str, got: &Value) {
        self.error(field, format!("expected {what}, got {}", describe(got)));
    }

    /// `obj[key]` through `parse`, or `None` when absent or `null` (Python's `None`
    /// means "the default" for every optional parameter).
    fn opt<T>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        parse: impl FnOnce(&mut Self, &str, &Value) -> Option<T>,
    ) -> Option<T> {
        let value = obj.get(key).filter(|v| !v.is_null())?;
        parse(self, key, value)
    }

    /// Like [`Parser::opt`], with an error when absent or `null`.
    fn required<T: Default>(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        parse: impl FnOnce(&mut Self, &str, &Value) -> Option<T>,
    ) -> T {
        if obj.get(key).is_none_or(Value::is_null) {
            self.error(key, "is required");
            return T::default();
        }
        self.opt(obj, key, parse).unwrap_or_default()
    }

    /// A string field with a deprecated alias: either may be given, or both if equal.
    fn aliased(&mut self, obj: &Map<String, Value>, name: &str, alias: &str) -> Option<String> {
        let value = self.opt(obj, name, Parser::string);
        let old = self.opt(obj, alias, Parser::string);
        match (value, old) {
            (Some(value), Some(old)) if value != old => {
                self.error(
                    alias,
                    format!(
                        "'{old}' conflicts with {name} '{value}'; {alias} is the deprecated \
                         name of {name}, give only {name}"
                    ),
                );
                Some(value)
            }
            (value, old) => value.or(old),
        }
    }

    /// Reports every key of `obj` not in `known`, suggesting the closest known one.
    fn unknown_keys(&mut self, prefix: &str, obj: &Map<String, Value>, known: &[&str]) {
        for key in obj.keys() {
            if known.contains(&key.as_str()) {
                continue;
            }
            let mut message = format!("unknown field '{key}'");
            if let Some(near) = closest(key, known) {
                message.push_str(&format!("; did you mean '{near}'?"));
            } else if known.len() <= 6 {
                message.push_str(&format!(" (known fields: {})", known.join(", ")));
            }
            self.error(&format!("{prefix}{key}"), message);
        }
    }

    pub(crate) fn string(&mut self, field: &str, v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.expected(field, "a string", v);
                None
            }
        }
    }

    fn bool(&mut self, field: &str, v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.expected(field, "true or false", v);
                None
            }
        }
    }

    fn int(&mut self, field: &str, v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) if n.is_i64() => n.as_i64(),
            Value::Number(n) if n.is_u64() => {
                self.error(field, format!("{n} is too large"));
                None
            }
            _ => {
                self.expected(field, "an integer", v);
                None
            }
        }
    }

    /// A count of nodes, processes or tasks: an integer from 1 to `u32::MAX`. Zero is
    /// read (validation rejects it, for estimators built in code too).
    fn count(&mut self, field: &str, v: &Value) -> Option<u32> {
        let n = self.int(field, v)?;
        match u32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) if n < 0 => {
                self.error(field, format!("must be at least 1, got {n}"));
                None
            }
            Err(_) => {
                self.error(field, format!("must be at most {}, got {n}", u32::MAX));
                None
            }
        }
    }

    fn string_list(&mut self, field: &str, v: &Value) -> Option<Vec<String>> {
        let Value::Array(items) = v else {
            self.expected(field, "a list of strings", v);
            return None;
        };
        let before = self.errors.len();
        let list: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.string(&format!("{field}[{i}]"), item))
            .collect();
        (self.errors.len() == before).then_some(list)
    }

    fn string_map(&mut self, field: &str, v: &Value) -> Option<BTreeMap<String, String>> {
        let Value::Object(map) = v else {
            self.expected(field, "an object of strings", v);
            return None;
        };
        let before = self.errors.len();
        let map: BTreeMap<String, String> = map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), self.string(&format!("{field}['{k}']"), v)?)))
            .collect();
        (self.errors.len() == before).then_some(map)
    }

    /// `script_params`: an object, read in the order written.
    pub(crate) fn script_params(&mut self, field: &str, v: &Value) -> Option<ScriptParams> {
        let Value::Object(map) = v else {
            self.expected(field, "an object of flag → value", v);
            return None;
        };
        let before = self.errors.len();
        let params: ScriptParams = map
            .iter()
            .filter_map(|(flag, value)| {
                let value = self.param_value(&format!("{field}['{flag}']"), value)?;
                Some((flag.clone(), value))
            })
            .collect();
        (self.errors.len() == before).then_some(params)
    }

    /// One value of `script_params`.
    pub(crate) fn param_value(&mut self, field: &str, v: &Value) -> Option<ParamValue> {
        Some(match v {
            Value::Null => ParamValue::None,
            Value::Bool(b) => ParamValue::Bool(*b),
            // serde_json keeps `10` an integer and `10.0` or `1e5` a float, like Python.
            Value::Number(n) if n.is_f64() => ParamValue::Float(n.as_f64()?),
            Value::Number(_) => ParamValue::Int(self.int(field, v)?),
            Value::String(s) => ParamValue::Str(s.clone()),
            Value::Object(_) => ParamValue::Data(self.data_reference(field, v)?),
            Value::Array(_) => {
                self.expected(
                    field,
                    "a string, a number, true/false, null or a data reference",
                    v,
                );
                return None;
            }
        })
    }

    fn inputs(&mut self, field: &str, v: &Value) -> Option<Vec<DataReference>> {
        let Value::Array(items) = v else {
            self.expected(field, "a list of data references", v);
            return None;
        };
        let before = self.errors.len();
        let list: Vec<DataReference> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.data_reference(&format!("{field}[{i}]"), item))
            .collect();
        (self.errors.len() == before).then_some(list)
    }

    /// A [`DataReference`] object.
    pub(crate) fn data_reference(&mut self, field: &str, v: &Value) -> Option<DataReference> {
        let Value::Object(obj) = v else {
            self.expected(field, "a data reference object", v);
            return None;
        };
        let before = self.errors.len();
        self.unknown_keys(&format!("{field}."), obj, DATA_REFERENCE_FIELDS);
        let sub = |key: &str| format!("{field}.{key}");
        let datastore = match obj.get("datastore").filter(|v| !v.is_null()) {
            Some(v) => self.string(&sub("datastore"), v),
            None => {
                self.error(&sub("datastore"), "is required");
                None
            }
        };
        let get_string = |p: &mut Self, key: &str| {
            obj.get(key)
                .filter(|v| !v.is_null())
                .and_then(|v| p.string(&sub(key), v))
        };
        let path_on_datastore = get_string(self, "path_on_datastore").unwrap_or_default();
        let mode =
            get_string(self, "mode").map_or_else(|| "mount".to_owned(), |m| m.to_lowercase());
        let data_reference_name = get_string(self, "data_reference_name");
        let path_on_compute = get_string(self, "path_on_compute");
        let overwrite = match obj.get("overwrite").filter(|v| !v.is_null()) {
            Some(v) => self.bool(&sub("overwrite"), v).unwrap_or(false),
            None => false,
        };
        let reference = DataReference {
            datastore: datastore?,
            path_on_datastore,
            mode,
            data_reference_name,
            path_on_compute,
            overwrite,
        };
        (self.errors.len() == before).then_some(reference)
    }

    /// A `distributed_training` object, tagged by `type`.
    pub(crate) fn distributed_training(
        &mut self,
        field: &str,
        v: &Value,
    ) -> Option<DistributedTraining> {
        let Value::Object(obj) = v else {
            self.expected(field, "an object like {\"type\": \"Mpi\"}", v);
            return None;
        };
        let type_field = format!("{field}.type");
        let Some(kind) = obj.get("type").filter(|v| !v.is_null()) else {
            self.error(
                &type_field,
                "is required: one of Mpi, Gloo, Nccl, ParameterServer",
            );
            return None;
        };
        let kind = self.string(&type_field, kind)?;
        let Some(backend) = Backend::ALL
            .into_iter()
            .find(|b| b.class_name().eq_ignore_ascii_case(&kind))
        else {
            self.error(
                &type_field,
                format!("'{kind}' is not one of Mpi, Gloo, Nccl, ParameterServer"),
            );
            return None;
        };
        let before = self.errors.len();
        let known: &[&str] = match backend {
            Backend::Mpi => &["type", "process_count_per_node"],
            Backend::Gloo | Backend::Nccl => &["type"],
            Backend::ParameterServer => &["type", "worker_count", "parameter_server_count"],
        };
        self.unknown_keys(&format!("{field}."), obj, known);
        let count = |p: &mut Self, key: &str| {
            obj.get(key)
                .filter(|v| !v.is_null())
                .and_then(|v| p.count(&format!("{field}.{key}"), v))
                .unwrap_or(1)
        };
        let training = match backend {
            Backend::Mpi => DistributedTraining::Mpi {
                process_count_per_node: count(self, "process_count_per_node"),
            },
            Backend::Gloo => DistributedTraining::Gloo,
            Backend::Nccl => DistributedTraining::Nccl,
            Backend::ParameterServer => DistributedTraining::ParameterServer {
                worker_count: count(self, "worker_count"),
                parameter_server_count: count(self, "parameter_server_count"),
            },
        };
        (self.errors.len() == before).then_some(training)
    }
}

/// The known name closest to `unknown`, if one is close enough to be a likely typo.
fn closest<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let unknown = unknown.to_lowercase();
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&unknown, k), *k))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// A JSON value in a few words, for "expected …, got …".
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!("the string \"{head}…\"")
        }
        Value::String(s) => format!("the string \"{s}\""),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}
