//! The values a notebook computes with: Python's built-in types (the subset the
//! kernel evaluates) and Runboard's SDK objects.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::estimator::{
    DataReference, DistributedTraining, Estimator, Framework, python_float_repr,
};
use crate::run::RunId;

use super::environment::{CondaDependencies, Environment};
use super::error::PyError;

/// A mutable container shared between every name bound to it, as in Python.
pub(crate) type Shared<T> = Rc<RefCell<T>>;

/// One Python value.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Shared<Vec<Value>>),
    Tuple(Rc<[Value]>),
    Dict(Shared<Dict>),
    /// Elements in insertion order, each once (by Python equality).
    Set(Shared<Vec<Value>>),
    Range(Range),
    /// A built-in function or class.
    Builtin(Builtin),
    /// `receiver.name`, ready to be called.
    Method(Rc<(Value, &'static str)>),
    /// An imported module, by its dotted name (`os.path`, `azureml.core`).
    Module(&'static str),
    /// A Runboard SDK object.
    Obj(Rc<Obj>),
}

/// `range(start, stop, step)`; `step` is never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub start: i64,
    pub stop: i64,
    pub step: i64,
}

impl Range {
    pub fn len(self) -> i64 {
        let (start, stop, step) = (
            i128::from(self.start),
            i128::from(self.stop),
            i128::from(self.step),
        );
        let n = if step > 0 {
            (stop - start + step - 1) / step
        } else {
            (start - stop - step - 1) / -step
        };
        i64::try_from(n.max(0)).unwrap_or(i64::MAX)
    }

    pub fn get(self, i: i64) -> i64 {
        self.start + i * self.step
    }
}

/// A dict: entries in insertion order, keys compared with Python equality.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dict {
    pub entries: Vec<(Value, Value)>,
}

impl Dict {
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| py_eq(k, key))
            .map(|(_, v)| v)
    }

    /// Inserts or replaces; fails for an unhashable key.
    pub fn insert(&mut self, key: Value, value: Value) -> Result<(), PyError> {
        check_hashable(&key)?;
        match self.entries.iter_mut().find(|(k, _)| py_eq(k, &key)) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
        Ok(())
    }

    pub fn remove(&mut self, key: &Value) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| py_eq(k, key))?;
        Some(self.entries.remove(at).1)
    }
}

/// Built-in functions and classes, the `os`/`shutil` functions and the SDK classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Print,
    Len,
    Range,
    Str,
    Int,
    Float,
    Bool,
    Bytes,
    Dict,
    List,
    Tuple,
    Set,
    Sorted,
    Enumerate,
    Zip,
    Min,
    Max,
    Sum,
    Isinstance,
    Abs,
    Round,
    Repr,
    Type,
    OsPathJoin,
    OsPathExists,
    OsPathIsdir,
    OsPathIsfile,
    OsPathBasename,
    OsPathDirname,
    OsPathAbspath,
    OsGetcwd,
    OsMakedirs,
    OsListdir,
    ShutilCopy,
    Class(Class),
}

/// The SDK classes a notebook can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Workspace,
    Experiment,
    ComputeTarget,
    /// `Estimator` (`None`) or a framework preset.
    Estimator(Option<Framework>),
    ScriptRunConfig,
    Mpi,
    Gloo,
    Nccl,
    ParameterServer,
    Datastore,
    DataReference,
    Run,
    RunDetails,
    Environment,
    CondaDependencies,
    /// `env.python`, `env.docker`: not importable, never called.
    PythonSection,
    DockerSection,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Workspace => "Workspace",
            Class::Experiment => "Experiment",
            Class::ComputeTarget => "ComputeTarget",
            Class::Estimator(None) => "Estimator",
            Class::Estimator(Some(f)) => f.name(),
            Class::ScriptRunConfig => "ScriptRunConfig",
            Class::Mpi => "Mpi",
            Class::Gloo => "Gloo",
            Class::Nccl => "Nccl",
            Class::ParameterServer => "ParameterServer",
            Class::Datastore => "Datastore",
            Class::DataReference => "DataReference",
            Class::Run => "Run",
            Class::RunDetails => "RunDetails",
            Class::Environment => "Environment",
            Class::CondaDependencies => "CondaDependencies",
            Class::PythonSection => "PythonSection",
            Class::DockerSection => "DockerSection",
        }
    }
}

/// An SDK object.
#[derive(Debug)]
pub(crate) enum Obj {
    Workspace,
    ComputeTarget {
        name: String,
    },
    Experiment {
        name: String,
    },
    /// An `Estimator` (or preset), or a `ScriptRunConfig` turned into one.
    Estimator {
        class: Class,
        estimator: Box<Estimator>,
        /// The arguments as given, for display.
        args: Vec<(String, Value)>,
    },
    Distributed(DistributedTraining),
    Datastore {
        name: String,
    },
    DataRef(DataReference),
    Run(RunHandle),
    RunDetails(RunHandle),
    Environment(Shared<Environment>),
    /// `env.python` and `env.docker`: views of their environment.
    PythonSection(Shared<Environment>),
    DockerSection(Shared<Environment>),
    CondaDependencies(Shared<CondaDependencies>),
}

/// What a `Run` object knows without asking the server.
#[derive(Debug, Clone)]
pub(crate) struct RunHandle {
    pub id: RunId,
    pub experiment: String,
    pub portal_url: String,
}

impl Obj {
    pub fn class(&self) -> Class {
        match self {
            Obj::Workspace => Class::Workspace,
            Obj::ComputeTarget { .. } => Class::ComputeTarget,
            Obj::Experiment { .. } => Class::Experiment,
            Obj::Estimator { class, .. } => *class,
            Obj::Distributed(d) => match d {
                DistributedTraining::Mpi { .. } => Class::Mpi,
                DistributedTraining::Gloo => Class::Gloo,
                DistributedTraining::Nccl => Class::Nccl,
                DistributedTraining::ParameterServer { .. } => Class::ParameterServer,
            },
            Obj::Datastore { .. } => Class::Datastore,
            Obj::DataRef(_) => Class::DataReference,
            Obj::Run(_) => Class::Run,
            Obj::RunDetails(_) => Class::RunDetails,
            Obj::Environment(_) => Class::Environment,
            Obj::PythonSection(_) => Class::PythonSection,
            Obj::DockerSection(_) => Class::DockerSection,
            Obj::CondaDependencies(_) => Class::CondaDependencies,
        }
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::from(items))
    }

    pub fn dict(dict: Dict) -> Value {
        Value::Dict(Rc::new(RefCell::new(dict)))
    }

    pub fn obj(obj: Obj) -> Value {
        Value::Obj(Rc::new(obj))
    }

    pub fn method(receiver: Value, name: &'static str) -> Value {
        Value::Method(Rc::new((receiver, name)))
    }

    /// Python's `type(x).__name__`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Range(_) => "range",
            Value::Builtin(Builtin::Class(_)) => "type",
            Value::Builtin(b) if b.is_type() => "type",
            Value::Builtin(_) => "builtin_function_or_method",
            Value::Method(_) => "method",
            Value::Module(_) => "module",
            Value::Obj(o) => o.class().name(),
        }
    }

    /// Python's truth value.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !d.borrow().entries.is_empty(),
            Value::Set(s) => !s.borrow().is_empty(),
            Value::Range(r) => r.len() > 0,
            Value::Builtin(_) | Value::Method(_) | Value::Module(_) | Value::Obj(_) => true,
        }
    }

    /// Python's `str(x)`.
    pub fn to_str(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            _ => self.repr(),
        }
    }

    /// Python's `repr(x)`. The SDK's objects print as the SDK prints them; a data
    /// reference as the environment variable the script would have received
    /// (`$AZUREML_DATAREFERENCE_workspaceblobstore`).
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out, 0);
        out
    }

    fn write_repr(&self, out: &mut String, depth: usize) {
        if depth > 50 {
            out.push_str("...");
            return;
        }
        match self {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&python_float_repr(*f)),
            Value::Str(s) => out.push_str(&str_repr(s)),
            Value::Bytes(b) => out.push_str(&bytes_repr(b)),
            Value::List(l) => {
                if let Ok(items) = l.try_borrow() {
                    write_seq(out, "[", "]", &items, depth);
                } else {
                    out.push_str("[...]");
                }
            }
            Value::Tuple(t) => {
                if t.len() == 1 {
                    out.push('(');
                    t[0].write_repr(out, depth + 1);
                    out.push_str(",)");
                } else {
                    write_seq(out, "(", ")", t, depth);
                }
            }
            Value::Set(s) => {
                let items = s.borrow();
                if items.is_empty() {
                    out.push_str("set()");
                } else {
                    write_seq(out, "{", "}", &items, depth);
                }
            }
            Value::Dict(d) => {
                let Ok(d) = d.try_borrow() else {
                    out.push_str("{...}");
                    return;
                };
                out.push('{');
                for (i, (k, v)) in d.entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.write_repr(out, depth + 1);
                    out.push_str(": ");
                    v.write_repr(out, depth + 1);
                }
                out.push('}');
            }
            Value::Range(r) => {
                if r.step == 1 {
                    let _ = write!(out, "range({}, {})", r.start, r.stop);
                } else {
                    let _ = write!(out, "range({}, {}, {})", r.start, r.stop, r.step);
                }
            }
            Value::Builtin(Builtin::Class(c)) => {
                let _ = write!(out, "<class '{}'>", c.name());
            }
            Value::Builtin(b) if b.is_type() => {
                let _ = write!(out, "<class '{}'>", b.name());
            }
            Value::Builtin(b) => {
                let _ = write!(out, "<built-in function {}>", b.name());
            }
            Value::Method(m) => {
                let _ = write!(out, "<bound method {}.{}>", m.0.type_name(), m.1);
            }
            Value::Module(name) => {
                let _ = write!(out, "<module '{name}'>");
            }
            Value::Obj(o) => o.write_repr(out),
        }
    }
}

impl Obj {
    fn write_repr(&self, out: &mut String) {
        match self {
            Obj::Workspace => out.push_str(
                "Workspace.create(name='runboard', subscription_id='', resource_group='')",
            ),
            Obj::ComputeTarget { name } => {
                let _ = write!(out, "ComputeTarget(workspace=runboard, name={name})");
            }
            Obj::Experiment { name } => {
                let _ = write!(out, "Experiment(Name: {name},\nWorkspace: runboard)");
            }
            Obj::Estimator { class, .. } => {
                let _ = write!(out, "<{} object>", class.name());
            }
            Obj::Distributed(d) => match d {
                DistributedTraining::Mpi {
                    process_count_per_node,
                } => {
                    let _ = write!(out, "Mpi(process_count_per_node={process_count_per_node})");
                }
                DistributedTraining::Gloo => out.push_str("Gloo()"),
                DistributedTraining::Nccl => out.push_str("Nccl()"),
                DistributedTraining::ParameterServer {
                    worker_count,
                    parameter_server_count,
                } => {
                    let _ = write!(
                        out,
                        "ParameterServer(worker_count={worker_count}, \
                         parameter_server_count={parameter_server_count})"
                    );
                }
            },
            Obj::Datastore { name } => {
                let _ = write!(out, "Datastore(name={name})");
            }
            Obj::DataRef(d) => {
                let _ = write!(out, "$AZUREML_DATAREFERENCE_{}", d.name());
            }
            Obj::Run(r) => out.push_str(&run_repr(r, None)),
            Obj::RunDetails(r) => {
                let _ = write!(out, "RunDetails(run_id={})", r.id);
            }
            Obj::Environment(env) => super::environment::write_repr(&env.borrow(), out),
            Obj::PythonSection(env) => {
                let _ = write!(out, "<PythonSection of Environment {}>", env.borrow().name);
            }
            Obj::DockerSection(env) => {
                let _ = write!(out, "<DockerSection of Environment {}>", env.borrow().name);
            }
            Obj::CondaDependencies(c) => super::environment::write_conda_repr(&c.borrow(), out),
        }
    }
}

/// The SDK's `repr` of a `Run`.
pub(crate) fn run_repr(run: &RunHandle, status: Option<&str>) -> String {
    let mut out = format!(
        "Run(Experiment: {},\nId: {},\nType: azureml.scriptrun",
        run.experiment, run.id
    );
    if let Some(status) = status {
        let _ = write!(out, ",\nStatus: {status}");
    }
    out.push(')');
    out
}

fn write_seq(out: &mut String, open: &str, close: &str, items: &[Value], depth: usize) {
    out.push_str(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out, depth + 1);
    }
    out.push_str(close);
}

/// A string as Python's `repr` writes it: single quotes unless the text holds a single
/// quote and no double quote.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Bytes as Python's `repr` writes them: `b'...'`.
pub(crate) fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(char::from(quote));
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(char::from(c));
            }
            0x20..=0x7e => out.push(char::from(c)),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(char::from(quote));
    out
}

impl Builtin {
    /// Whether Python treats it as a type (usable with `isinstance`).
    pub fn is_type(self) -> bool {
        matches!(
            self,
            Builtin::Range
                | Builtin::Str
                | Builtin::Int
                | Builtin::Float
                | Builtin::Bool
                | Builtin::Bytes
                | Builtin::Dict
                | Builtin::List
                | Builtin::Tuple
                | Builtin::Set
                | Builtin::Enumerate
                | Builtin::Zip
                | Builtin::Type
                | Builtin::Class(_)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Print => "print",
            Builtin::Len => "len",
            Builtin::Range => "range",
            Builtin::Str => "str",
            Builtin::Int => "int",
            Builtin::Float => "float",
            Builtin::Bool => "bool",
            Builtin::Bytes => "bytes",
            Builtin::Dict => "dict",
            Builtin::List => "list",
            Builtin::Tuple => "tuple",
            Builtin::Set => "set",
            Builtin::Sorted => "sorted",
            Builtin::Enumerate => "enumerate",
            Builtin::Zip => "zip",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Sum => "sum",
            Builtin::Isinstance => "isinstance",
            Builtin::Abs => "abs",
            Builtin::Round => "round",
            Builtin::Repr => "repr",
            Builtin::Type => "type",
            Builtin::OsPathJoin => "join",
            Builtin::OsPathExists => "exists",
            Builtin::OsPathIsdir => "isdir",
            Builtin::OsPathIsfile => "isfile",
            Builtin::OsPathBasename => "basename",
            Builtin::OsPathDirname => "dirname",
            Builtin::OsPathAbspath => "abspath",
            Builtin::OsGetcwd => "getcwd",
            Builtin::OsMakedirs => "makedirs",
            Builtin::OsListdir => "listdir",
            Builtin::ShutilCopy => "copy",
            Builtin::Class(c) => c.name(),
        }
    }

    /// The built-in names every cell sees without an import.
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "print" => Builtin::Print,
            "len" => Builtin::Len,
            "range" => Builtin::Range,
            "str" => Builtin::Str,
            "int" => Builtin::Int,
            "float" => Builtin::Float,
            "bool" => Builtin::Bool,
            "bytes" => Builtin::Bytes,
            "dict" => Builtin::Dict,
            "list" => Builtin::List,
            "tuple" => Builtin::Tuple,
            "set" => Builtin::Set,
            "sorted" => Builtin::Sorted,
            "enumerate" => Builtin::Enumerate,
            "zip" => Builtin::Zip,
            "min" => Builtin::Min,
            "max" => Builtin::Max,
            "sum" => Builtin::Sum,
            "isinstance" => Builtin::Isinstance,
            "abs" => Builtin::Abs,
            "round" => Builtin::Round,
            "repr" => Builtin::Repr,
            "type" => Builtin::Type,
            _ => return None,
        })
    }
}

/// Python's `==`.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::None, Value::None) => true,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => Rc::ptr_eq(x, y) || seq_eq(&x.borrow(), &y.borrow()),
        (Value::Tuple(x), Value::Tuple(y)) => seq_eq(x, y),
        (Value::Set(x), Value::Set(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|v| y.iter().any(|w| py_eq(v, w)))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.entries.len() == y.entries.len()
                && x.entries
                    .iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (Value::Range(x), Value::Range(y)) => x == y,
        (Value::Builtin(x), Value::Builtin(y)) => x == y,
        (Value::Module(x), Value::Module(y)) => x == y,
        (Value::Obj(x), Value::Obj(y)) => match (&**x, &**y) {
            (Obj::Run(r), Obj::Run(s)) => r.id == s.id,
            (Obj::Workspace, Obj::Workspace) => true,
            (Obj::Experiment { name: m }, Obj::Experiment { name: n })
            | (Obj::ComputeTarget { name: m }, Obj::ComputeTarget { name: n })
            | (Obj::Datastore { name: m }, Obj::Datastore { name: n }) => m == n,
            (Obj::DataRef(c), Obj::DataRef(d)) => c == d,
            (Obj::Distributed(c), Obj::Distributed(d)) => c == d,
            _ => Rc::ptr_eq(x, y),
        },
        (Value::Method(x), Value::Method(y)) => Rc::ptr_eq(x, y),
        _ => match (number(a), number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

fn seq_eq(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| py_eq(x, y))
}

/// A number as an exact integer or a float, for arithmetic and comparisons.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            // Python converts exactly when it can; i64 → f64 rounds like float(x).
            #[allow(clippy::cast_precision_loss)]
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// `bool`, `int` and `float` as numbers.
pub(crate) fn number(v: &Value) -> Option<Num> {
    match v {
        Value::Bool(b) => Some(Num::Int(i64::from(*b))),
        Value::Int(i) => Some(Num::Int(*i)),
        Value::Float(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

impl PartialEq for Num {
    fn eq(&self, other: &Self) -> bool {
        match (*self, *other) {
            (Num::Int(a), Num::Int(b)) => a == b,
            (a, b) => a.as_f64() == b.as_f64(),
        }
    }
}

/// Fails with Python's `TypeError` for a value that cannot be a dict key or set member.
pub(crate) fn check_hashable(v: &Value) -> Result<(), PyError> {
    match v {
        Value::List(_) | Value::Dict(_) | Value::Set(_) => Err(PyError::new(
            "TypeError",
            format!("unhashable type: '{}'", v.type_name()),
        )),
        Value::Tuple(items) => items.iter().try_for_each(check_hashable),
        _ => Ok(()),
    }
}
