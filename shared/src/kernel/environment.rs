//! `Environment` (`azureml.core.Environment`) and `CondaDependencies`
//! (`azureml.core.conda_dependencies`): the SDK's way of describing a run's Python
//! environment, for `ScriptRunConfig(environment=env)` and
//! `Estimator(environment_definition=env)`.
//!
//! An environment is built in the notebook and travels to the server as Azure ML's
//! JSON form of it (`azureml_environment.json`), which the estimator folds into its
//! own fields (`estimator/parse/definition.rs`): one reading for the notebook, the CLI
//! and the REST API. What the SDK does that Runboard does not:
//! - `env.register(ws)` keeps nothing (it returns the environment); `Environment.get`
//!   and Azure ML's curated environments are refused, saying what to write instead;
//! - a new `Environment` (or `CondaDependencies.create()`) lists no packages: the SDK
//!   adds `azureml-defaults`, whose job Runboard's own `azureml` module does.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::{Value as Json, json};

pub(crate) use crate::environment::CondaDependencies;

use super::args::Args;
use super::error::PyError;
use super::eval::Interp;
use super::host::Host;
use super::os::file_error;
use super::value::{Class, Dict, Obj, Shared, Value};

/// An `Environment`'s state, shared by the environment and its `python` and `docker`
/// sections (`env.python.user_managed_dependencies = True` changes `env`).
#[derive(Debug)]
pub(crate) struct Environment {
    pub name: String,
    pub version: Option<String>,
    pub user_managed: bool,
    pub interpreter_path: String,
    /// `python.conda_dependencies`: shared with the `CondaDependencies` object
    /// assigned, so that adding a package to it later changes the environment too.
    pub conda: Shared<CondaDependencies>,
    /// `environment_variables`: a dict value, changed in place by `env.environment_variables['X'] = …`.
    pub variables: Value,
    pub docker_enabled: bool,
    pub base_image: Option<String>,
    pub base_dockerfile: Option<String>,
    pub shm_size: Option<String>,
}

impl Environment {
    fn new(name: String) -> Self {
        Self {
            name,
            version: None,
            user_managed: false,
            interpreter_path: "python".to_owned(),
            conda: Rc::new(RefCell::new(CondaDependencies::default())),
            variables: Value::dict(Dict::default()),
            docker_enabled: false,
            base_image: None,
            base_dockerfile: None,
            shm_size: None,
        }
    }

    /// Azure ML's JSON form (`azureml_environment.json`), as the estimator reads it.
    pub fn to_json(&self) -> Result<Json, String> {
        let conda = self.conda.borrow();
        let mut dependencies: Vec<Json> = conda.conda.iter().map(|p| json!(p)).collect();
        if !conda.pip.is_empty() {
            dependencies.push(json!({ "pip": conda.pip }));
        }
        Ok(json!({
            "name": self.name,
            "version": self.version,
            "python": {
                "userManagedDependencies": self.user_managed,
                "interpreterPath": self.interpreter_path,
                "condaDependencies": {
                    "name": "project_environment",
                    "channels": conda.channels,
                    "dependencies": dependencies,
                },
            },
            "environmentVariables": super::sdk::to_json(&self.variables)?,
            "docker": {
                "enabled": self.docker_enabled,
                "baseImage": self.base_image,
                "baseDockerfile": self.base_dockerfile,
                "shmSize": self.shm_size,
            },
        }))
    }
}

/// `repr(env)`: the JSON form, indented, as the SDK prints an environment.
pub(crate) fn write_repr(env: &Environment, out: &mut String) {
    match env.to_json() {
        Ok(j) => out.push_str(&serde_json::to_string_pretty(&j).unwrap_or_default()),
        Err(_) => {
            let _ = write!(out, "Environment(Name: {})", env.name);
        }
    }
}

/// `repr(conda_dependencies)`: the conda file it stands for.
pub(crate) fn write_conda_repr(conda: &CondaDependencies, out: &mut String) {
    out.push_str("name: project_environment\n");
    if !conda.channels.is_empty() {
        out.push_str("channels:\n");
        for c in &conda.channels {
            let _ = writeln!(out, "- {c}");
        }
    }
    out.push_str("dependencies:");
    for p in &conda.conda {
        let _ = write!(out, "\n- {p}");
    }
    if !conda.pip.is_empty() {
        out.push_str("\n- pip:");
        for p in &conda.pip {
            let _ = write!(out, "\n  - {p}");
        }
    }
}

/// Static methods of `Environment` and `CondaDependencies`.
pub(crate) fn class_attr(class: Class, name: &str) -> Option<&'static str> {
    Some(match (class, name) {
        (Class::Environment, "from_conda_specification") => "from_conda_specification",
        (Class::Environment, "from_pip_requirements") => "from_pip_requirements",
        (Class::Environment, "get") => "get",
        (Class::Environment, "list") => "list",
        (Class::CondaDependencies, "create") => "create",
        _ => return None,
    })
}

fn env_obj(env: Environment) -> Value {
    Value::obj(Obj::Environment(Rc::new(RefCell::new(env))))
}

fn conda_obj(conda: CondaDependencies) -> Value {
    Value::obj(Obj::CondaDependencies(Rc::new(RefCell::new(conda))))
}

/// A list of strings given as `what` (`pip_packages`); `None` is an empty list.
fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, PyError> {
    match v {
        None | Some(Value::None) => Ok(Vec::new()),
        Some(list @ (Value::List(_) | Value::Tuple(_) | Value::Set(_))) => {
            super::ops::iterate(list)?
                .into_iter()
                .map(|item| match item {
                    Value::Str(s) => Ok(s.to_string()),
                    other => Err(PyError::type_error(format!(
                        "{what} must be a list of str, not a list holding {}",
                        other.type_name()
                    ))),
                })
                .collect()
        }
        Some(other) => Err(PyError::type_error(format!(
            "{what} must be a list of str, not {}",
            other.type_name()
        ))),
    }
}

impl<H: Host> Interp<'_, H> {
    /// `Environment(name)` and `CondaDependencies()`.
    pub fn call_environment_class(&mut self, class: Class, args: Args) -> Result<Value, PyError> {
        match class {
            Class::Environment => {
                let a = args.bind("Environment()", &["name"], 1)?;
                Ok(env_obj(Environment::new(a.req_str("name")?)))
            }
            _ => {
                let a = args.bind(
                    "CondaDependencies()",
                    &["conda_dependencies_file_path", "_underlying_structure"],
                    0,
                )?;
                if a.opt("conda_dependencies_file_path").is_some() {
                    return Err(PyError::unsupported(
                        "`CondaDependencies(conda_dependencies_file_path=…)` is",
                    )
                    .with_hint(
                        "read the file with Environment.from_conda_specification(name, file_path)",
                    ));
                }
                Ok(conda_obj(CondaDependencies::default()))
            }
        }
    }

    /// `Environment.from_conda_specification(name, file_path)` and the other static
    /// methods of [`class_attr`].
    pub async fn call_environment_static(
        &mut self,
        class: Class,
        name: &'static str,
        args: Args,
    ) -> Result<Value, PyError> {
        let fname = format!("{}.{name}()", class.name());
        match (class, name) {
            (Class::Environment, "from_conda_specification" | "from_pip_requirements") => {
                let a = args.bind(&fname, &["name", "file_path"], 2)?;
                let path = a.req_str("file_path")?;
                let area = self.resolve(&path)?;
                let data = self
                    .host
                    .read_file(&area)
                    .await
                    .map_err(|e| file_error(e, &path))?;
                let text = String::from_utf8(data)
                    .map_err(|_| PyError::value_error(format!("{path} is not UTF-8 text")))?;
                let conda = if name == "from_conda_specification" {
                    CondaDependencies::from_yaml(&text).map_err(|e| {
                        PyError::value_error(format!("{path} is not a conda environment file: {e}"))
                    })?
                } else {
                    CondaDependencies {
                        pip: crate::environment::requirement_lines(&text),
                        ..CondaDependencies::default()
                    }
                };
                let mut env = Environment::new(a.req_str("name")?);
                env.conda = Rc::new(RefCell::new(conda));
                Ok(env_obj(env))
            }
            (Class::Environment, "get" | "list") => Err(PyError::unsupported(&format!(
                "`Environment.{name}()` (registered and curated environments) is"
            ))
            .with_hint(
                "Runboard keeps no registered environments: build one with Environment(name), \
                 Environment.from_conda_specification(name, file_path) or \
                 Environment.from_pip_requirements(name, file_path)",
            )),
            _ => {
                let a = args.bind(
                    &fname,
                    &[
                        "conda_packages",
                        "pip_packages",
                        "python_version",
                        "pin_sdk_version",
                        "pip_indexurl",
                    ],
                    0,
                )?;
                if a.opt("pip_indexurl").is_some() {
                    return Err(PyError::unsupported(
                        "`CondaDependencies.create(pip_indexurl=…)` (another package index) is",
                    )
                    .with_hint("environments are built from the server's package index"));
                }
                let mut conda = CondaDependencies {
                    conda: strings(a.get("conda_packages"), "conda_packages")?,
                    pip: strings(a.get("pip_packages"), "pip_packages")?,
                    ..CondaDependencies::default()
                };
                if let Some(version) = a.str("python_version")? {
                    conda.conda.insert(0, format!("python={version}"));
                }
                Ok(conda_obj(conda))
            }
        }
    }
}

/// `obj.name` for an environment, one of its sections, or conda dependencies; `None`
/// when there is no such attribute. Methods come back as bound methods.
pub(crate) fn attr(this: &Value, o: &Obj, name: &str) -> Option<Value> {
    let method = |m: &'static str| Some(Value::method(this.clone(), m));
    let text = |s: &Option<String>| s.as_deref().map_or(Value::None, Value::str);
    match o {
        Obj::Environment(env) => {
            let e = env.borrow();
            match name {
                "name" => Some(Value::str(&e.name)),
                "version" => Some(text(&e.version)),
                "environment_variables" => Some(e.variables.clone()),
                "python" => Some(Value::obj(Obj::PythonSection(env.clone()))),
                "docker" => Some(Value::obj(Obj::DockerSection(env.clone()))),
                "register" => method("register"),
                _ => None,
            }
        }
        Obj::PythonSection(env) => {
            let e = env.borrow();
            match name {
                "user_managed_dependencies" => Some(Value::Bool(e.user_managed)),
                "interpreter_path" => Some(Value::str(&e.interpreter_path)),
                "conda_dependencies" => Some(Value::obj(Obj::CondaDependencies(e.conda.clone()))),
                _ => None,
            }
        }
        Obj::DockerSection(env) => {
            let e = env.borrow();
            match name {
                "enabled" => Some(Value::Bool(e.docker_enabled)),
                "base_image" => Some(text(&e.base_image)),
                "base_dockerfile" => Some(text(&e.base_dockerfile)),
                "shm_size" => Some(text(&e.shm_size)),
                _ => None,
            }
        }
        Obj::CondaDependencies(conda) => {
            let c = conda.borrow();
            let list =
                |items: &[String]| Some(Value::list(items.iter().map(|s| Value::str(s)).collect()));
            match name {
                "conda_packages" => list(&c.conda),
                "pip_packages" => list(&c.pip),
                "conda_channels" => list(&c.channels),
                "add_pip_package" => method("add_pip_package"),
                "add_conda_package" => method("add_conda_package"),
                "add_channel" => method("add_channel"),
                "remove_pip_package" => method("remove_pip_package"),
                "remove_conda_package" => method("remove_conda_package"),
                "serialize_to_string" => method("serialize_to_string"),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether `o` is one of this module's objects.
pub(crate) fn is_environment_obj(o: &Obj) -> bool {
    matches!(
        o,
        Obj::Environment(_)
            | Obj::PythonSection(_)
            | Obj::DockerSection(_)
            | Obj::CondaDependencies(_)
    )
}

/// `env.register(ws)`, `conda.add_pip_package('x')`, … (the methods [`attr`] binds).
pub(crate) fn call_method(this: &Value, o: &Obj, name: &str, args: Args) -> Result<Value, PyError> {
    let fname = format!("{}.{name}()", o.class().name());
    match (o, name) {
        (Obj::Environment(_), "register") => {
            args.bind(&fname, &["workspace"], 1).map(|_| this.clone())
        }
        (Obj::CondaDependencies(conda), _) => (|| {
            let a = args.bind(&fname, &["name"], 1)?;
            let item = a.req_str("name")?;
            let mut c = conda.borrow_mut();
            let (list, add) = match name {
                "add_pip_package" => (&mut c.pip, true),
                "add_conda_package" => (&mut c.conda, true),
                "add_channel" => (&mut c.channels, true),
                "remove_pip_package" => (&mut c.pip, false),
                "remove_conda_package" => (&mut c.conda, false),
                _ => {
                    drop(c);
                    let mut out = String::new();
                    write_conda_repr(&conda.borrow(), &mut out);
                    return Ok(Value::str(&out));
                }
            };
            if add {
                if !list.contains(&item) {
                    list.push(item);
                }
            } else {
                list.retain(|p| p != &item);
            }
            Ok(Value::None)
        })(),
        _ => Err(PyError::new(
            "AttributeError",
            format!("'{}' object has no attribute '{name}'", o.class().name()),
        )),
    }
}

/// `obj.name = value` for an environment or one of its sections: `None` for another
/// object (attributes of other SDK objects cannot be set).
pub(crate) fn set_attr(o: &Obj, name: &str, value: Value) -> Option<Result<(), PyError>> {
    let text = |v: &Value, what: &str| match v {
        Value::None => Ok(None),
        Value::Str(s) => Ok(Some(s.to_string())),
        other => Err(PyError::type_error(format!(
            "{what} must be a str or None, not {}",
            other.type_name()
        ))),
    };
    let flag = |v: &Value, what: &str| match v {
        Value::Bool(b) => Ok(*b),
        other => Err(PyError::type_error(format!(
            "{what} must be True or False, not {}",
            other.type_name()
        ))),
    };
    let read_only = || {
        Err(PyError::new(
            "AttributeError",
            format!(
                "'{}' object attribute '{name}' cannot be set",
                o.class().name()
            ),
        ))
    };
    Some(match o {
        Obj::Environment(env) => {
            let mut e = env.borrow_mut();
            match name {
                "name" => text(&value, "name").and_then(|n| {
                    e.name = n.ok_or_else(|| PyError::type_error("name must be a str"))?;
                    Ok(())
                }),
                "version" => text(&value, "version").map(|v| e.version = v),
                "environment_variables" => match value {
                    Value::Dict(_) => {
                        e.variables = value;
                        Ok(())
                    }
                    other => Err(PyError::type_error(format!(
                        "environment_variables must be a dict, not {}",
                        other.type_name()
                    ))),
                },
                "python" | "docker" => read_only(),
                _ => return None,
            }
        }
        Obj::PythonSection(env) => {
            let mut e = env.borrow_mut();
            match name {
                "user_managed_dependencies" => flag(&value, name).map(|b| e.user_managed = b),
                "interpreter_path" => text(&value, name)
                    .map(|p| e.interpreter_path = p.unwrap_or_else(|| "python".to_owned())),
                "conda_dependencies" => match &value {
                    Value::Obj(c) => match &**c {
                        Obj::CondaDependencies(conda) => {
                            e.conda = conda.clone();
                            Ok(())
                        }
                        other => Err(PyError::type_error(format!(
                            "conda_dependencies must be a CondaDependencies, not {}",
                            other.class().name()
                        ))),
                    },
                    other => Err(PyError::type_error(format!(
                        "conda_dependencies must be a CondaDependencies, not {}",
                        other.type_name()
                    ))),
                },
                _ => return None,
            }
        }
        Obj::DockerSection(env) => {
            let mut e = env.borrow_mut();
            match name {
                "enabled" => flag(&value, name).map(|b| e.docker_enabled = b),
                "base_image" => text(&value, name).map(|v| e.base_image = v),
                "base_dockerfile" => text(&value, name).map(|v| e.base_dockerfile = v),
                "shm_size" => text(&value, name).map(|v| e.shm_size = v),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The JSON of an environment given where an `Environment` is expected.
pub(crate) fn definition_json(v: &Value) -> Result<Json, String> {
    match v {
        Value::Obj(o) => match &**o {
            Obj::Environment(env) => env.borrow().to_json(),
            other => Err(format!(
                "expected an Environment, got {}",
                other.class().name()
            )),
        },
        other => Err(format!(
            "expected an Environment, got {}",
            other.type_name()
        )),
    }
}
