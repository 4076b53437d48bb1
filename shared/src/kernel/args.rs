//! Binding a call's arguments to a function's parameters, with Python's errors.

use super::error::PyError;
use super::value::{Num, Value, number};

/// The arguments of one call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Args {
    pub positional: Vec<Value>,
    pub keywords: Vec<(String, Value)>,
}

/// Parameters bound by [`Args::bind`]: one slot per parameter, `None` when not given.
#[derive(Debug)]
pub(crate) struct Bound {
    function: String,
    names: &'static [&'static str],
    values: Vec<Option<Value>>,
}

impl Args {
    /// Binds to `params` (all positional-or-keyword); the first `required` must be
    /// given. `function` names the callee in errors (`makedirs()`).
    pub fn bind(
        self,
        function: &str,
        params: &'static [&'static str],
        required: usize,
    ) -> Result<Bound, PyError> {
        if self.positional.len() > params.len() {
            let takes = if required == params.len() {
                format!(
                    "{} positional argument{}",
                    params.len(),
                    plural(params.len())
                )
            } else {
                format!("from {required} to {} positional arguments", params.len())
            };
            return Err(PyError::type_error(format!(
                "{function} takes {takes} but {} were given",
                self.positional.len()
            )));
        }
        let mut values: Vec<Option<Value>> = vec![None; params.len()];
        for (slot, value) in values.iter_mut().zip(self.positional) {
            *slot = Some(value);
        }
        for (name, value) in self.keywords {
            let Some(i) = params.iter().position(|p| *p == name) else {
                return Err(PyError::type_error(format!(
                    "{function} got an unexpected keyword argument '{name}'"
                )));
            };
            if values[i].is_some() {
                return Err(PyError::type_error(format!(
                    "{function} got multiple values for argument '{name}'"
                )));
            }
            values[i] = Some(value);
        }
        let missing: Vec<String> = params[..required]
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(p, _)| format!("'{p}'"))
            .collect();
        if !missing.is_empty() {
            return Err(PyError::type_error(format!(
                "{function} missing {} required argument{}: {}",
                missing.len(),
                plural(missing.len()),
                join_names(&missing)
            )));
        }
        Ok(Bound {
            function: function.to_owned(),
            names: params,
            values,
        })
    }

    /// Fails unless the call has no arguments.
    pub fn none(self, function: &str) -> Result<(), PyError> {
        self.bind(function, &[], 0).map(|_| ())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`, as Python lists missing arguments.
fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Bound {
    fn index(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| *n == name)
            .unwrap_or(usize::MAX)
    }

    /// The argument `name`, if given (`None` is given as `Some(Value::None)`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(self.index(name)).and_then(Option::as_ref)
    }

    /// The argument `name`, treating an explicit `None` as not given.
    pub fn opt(&self, name: &str) -> Option<&Value> {
        self.get(name).filter(|v| !matches!(v, Value::None))
    }

    fn wrong_type(&self, name: &str, expected: &str, got: &Value) -> PyError {
        PyError::type_error(format!(
            "{}: argument '{name}' must be {expected}, not {}",
            self.function,
            got.type_name()
        ))
    }

    /// A string argument, if given and not `None`.
    pub fn str(&self, name: &str) -> Result<Option<String>, PyError> {
        match self.opt(name) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.to_string())),
            Some(other) => Err(self.wrong_type(name, "str", other)),
        }
    }

    /// A required string argument.
    pub fn req_str(&self, name: &str) -> Result<String, PyError> {
        self.str(name)?.ok_or_else(|| {
            PyError::type_error(format!(
                "{}: argument '{name}' must be str, not NoneType",
                self.function
            ))
        })
    }

    /// A boolean argument (any value, by truth), or `default`.
    pub fn bool(&self, name: &str, default: bool) -> bool {
        self.get(name).map_or(default, Value::truthy)
    }

    /// An integer argument, if given and not `None`.
    pub fn int(&self, name: &str) -> Result<Option<i64>, PyError> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => match number(v) {
                Some(Num::Int(i)) => Ok(Some(i)),
                _ => Err(self.wrong_type(name, "int", v)),
            },
        }
    }
}
