//! The built-in functions: `print`, `len`, `range`, conversions, `sorted`, `min`…,
//! and dispatch to the `os`/`shutil` functions and the SDK classes.

use std::cmp::Ordering;
use std::rc::Rc;

use super::args::Args;
use super::display::Output;
use super::error::PyError;
use super::eval::Interp;
use super::host::Host;
use super::ops;
use super::value::{Builtin, Dict, Num, Range, Value, check_hashable, number, py_eq};

impl<H: Host> Interp<'_, H> {
    pub async fn call_builtin(&mut self, b: Builtin, args: Args) -> Result<Value, PyError> {
        let fname = format!("{}()", b.name());
        match b {
            Builtin::Print => self.print(args),
            Builtin::Len => {
                let a = args.bind(&fname, &["obj"], 1)?;
                Ok(Value::Int(ops::len(a.get("obj").unwrap_or(&Value::None))?))
            }
            Builtin::Range => range(args),
            Builtin::Str => {
                let a = args.bind(&fname, &["object", "encoding"], 0)?;
                Ok(match (a.get("object"), a.str("encoding")?) {
                    (None, _) => Value::str(""),
                    (Some(Value::Bytes(b)), Some(_)) => Value::str(&String::from_utf8_lossy(b)),
                    (Some(v), _) => Value::str(&v.to_str()),
                })
            }
            Builtin::Repr => {
                let a = args.bind(&fname, &["obj"], 1)?;
                Ok(Value::str(&a.get("obj").unwrap_or(&Value::None).repr()))
            }
            Builtin::Int => to_int(args),
            Builtin::Float => {
                let a = args.bind(&fname, &["x"], 0)?;
                Ok(Value::Float(match a.get("x") {
                    None => 0.0,
                    Some(Value::Str(s)) => parse_float(s)?,
                    Some(v) => match number(v) {
                        Some(n) => n.as_f64(),
                        None => {
                            return Err(PyError::type_error(format!(
                                "float() argument must be a string or a real number, not '{}'",
                                v.type_name()
                            )));
                        }
                    },
                }))
            }
            Builtin::Bool => {
                let a = args.bind(&fname, &["x"], 0)?;
                Ok(Value::Bool(a.get("x").is_some_and(Value::truthy)))
            }
            Builtin::Bytes => {
                let a = args.bind(&fname, &["source", "encoding"], 0)?;
                Ok(Value::Bytes(match a.get("source") {
                    None => Rc::from(Vec::new()),
                    Some(Value::Str(s)) => {
                        if a.get("encoding").is_none() {
                            return Err(PyError::type_error("string argument without an encoding"));
                        }
                        Rc::from(s.as_bytes())
                    }
                    Some(v) => Rc::from(
                        ops::iterate(v)?
                            .iter()
                            .map(|x| match number(x) {
                                Some(Num::Int(i)) => u8::try_from(i).map_err(|_| {
                                    PyError::value_error("bytes must be in range(0, 256)")
                                }),
                                _ => Err(PyError::type_error(
                                    "'bytes' needs an iterable of integers",
                                )),
                            })
                            .collect::<Result<Vec<u8>, _>>()?,
                    ),
                }))
            }
            Builtin::List => {
                let a = args.bind(&fname, &["iterable"], 0)?;
                Ok(Value::list(match a.get("iterable") {
                    Some(v) => ops::iterate(v)?,
                    None => Vec::new(),
                }))
            }
            Builtin::Tuple => {
                let a = args.bind(&fname, &["iterable"], 0)?;
                Ok(Value::tuple(match a.get("iterable") {
                    Some(v) => ops::iterate(v)?,
                    None => Vec::new(),
                }))
            }
            Builtin::Set => {
                let a = args.bind(&fname, &["iterable"], 0)?;
                let mut items: Vec<Value> = Vec::new();
                if let Some(v) = a.get("iterable") {
                    for item in ops::iterate(v)? {
                        check_hashable(&item)?;
                        if !items.iter().any(|w| py_eq(w, &item)) {
                            items.push(item);
                        }
                    }
                }
                Ok(Value::Set(Rc::new(std::cell::RefCell::new(items))))
            }
            Builtin::Dict => to_dict(args),
            Builtin::Sorted => {
                let Args {
                    positional,
                    keywords,
                } = args;
                if positional.len() != 1 {
                    return Err(PyError::type_error(format!(
                        "sorted expected 1 argument, got {}",
                        positional.len()
                    )));
                }
                let a = Args {
                    positional: Vec::new(),
                    keywords,
                }
                .bind(&fname, &["key", "reverse"], 0)?;
                let items = ops::iterate(&positional[0])?;
                let sorted = self
                    .sort(items, a.opt("key").cloned(), a.bool("reverse", false))
                    .await?;
                Ok(Value::list(sorted))
            }
            Builtin::Enumerate => {
                let a = args.bind(&fname, &["iterable", "start"], 1)?;
                let start = a.int("start")?.unwrap_or(0);
                let items = ops::iterate(a.get("iterable").unwrap_or(&Value::None))?;
                Ok(Value::list(
                    items
                        .into_iter()
                        .zip(start..)
                        .map(|(v, i)| Value::tuple(vec![Value::Int(i), v]))
                        .collect(),
                ))
            }
            Builtin::Zip => {
                if let Some((k, _)) = args.keywords.first()
                    && k != "strict"
                {
                    return Err(PyError::type_error(format!(
                        "zip() got an unexpected keyword argument '{k}'"
                    )));
                }
                let lists = args
                    .positional
                    .iter()
                    .map(ops::iterate)
                    .collect::<Result<Vec<_>, _>>()?;
                let n = lists.iter().map(Vec::len).min().unwrap_or(0);
                Ok(Value::list(
                    (0..n)
                        .map(|i| Value::tuple(lists.iter().map(|l| l[i].clone()).collect()))
                        .collect(),
                ))
            }
            Builtin::Min | Builtin::Max => self.min_max(b, args).await,
            Builtin::Sum => {
                let a = args.bind(&fname, &["iterable", "start"], 1)?;
                let mut total = a.get("start").cloned().unwrap_or(Value::Int(0));
                if matches!(total, Value::Str(_)) {
                    return Err(PyError::type_error(
                        "sum() can't sum strings [use ''.join(seq) instead]",
                    ));
                }
                for item in ops::iterate(a.get("iterable").unwrap_or(&Value::None))? {
                    total = ops::binary(ruff_python_ast::Operator::Add, &total, &item)?;
                }
                Ok(total)
            }
            Builtin::Isinstance => {
                let a = args.bind(&fname, &["obj", "class_or_tuple"], 2)?;
                let obj = a.get("obj").unwrap_or(&Value::None);
                let classes = match a.get("class_or_tuple") {
                    Some(Value::Tuple(t)) => t.to_vec(),
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                };
                let mut result = false;
                for class in &classes {
                    result |= is_instance(obj, class)?;
                }
                Ok(Value::Bool(result))
            }
            Builtin::Abs => {
                let a = args.bind(&fname, &["x"], 1)?;
                let x = a.get("x").unwrap_or(&Value::None);
                match number(x) {
                    Some(Num::Int(i)) => i
                        .checked_abs()
                        .map(Value::Int)
                        .ok_or_else(|| PyError::new("OverflowError", "integer overflow")),
                    Some(Num::Float(f)) => Ok(Value::Float(f.abs())),
                    None => Err(PyError::type_error(format!(
                        "bad operand type for abs(): '{}'",
                        x.type_name()
                    ))),
                }
            }
            Builtin::Round => {
                let a = args.bind(&fname, &["number", "ndigits"], 1)?;
                let x = a.get("number").unwrap_or(&Value::None);
                let digits = a.int("ndigits")?;
                match (number(x), digits) {
                    (Some(Num::Int(i)), _) => Ok(Value::Int(i)),
                    (Some(Num::Float(f)), None) => {
                        let r = round_half_even(f);
                        if !r.is_finite() {
                            return Err(PyError::value_error("cannot convert float to integer"));
                        }
                        // Rounded and checked finite, so the cast keeps the value.
                        #[allow(clippy::cast_possible_truncation)]
                        Ok(Value::Int(r as i64))
                    }
                    (Some(Num::Float(f)), Some(d)) => {
                        // Python rounds the decimal representation; formatting does too.
                        let d = usize::try_from(d.max(0)).unwrap_or(0);
                        let text = format!("{f:.d$}");
                        Ok(Value::Float(text.parse().unwrap_or(f)))
                    }
                    (None, _) => Err(PyError::type_error(format!(
                        "type {} doesn't define __round__ method",
                        x.type_name()
                    ))),
                }
            }
            Builtin::Type => {
                let a = args.bind(&fname, &["object"], 1)?;
                let obj = a.get("object").unwrap_or(&Value::None);
                Ok(type_of(obj))
            }
            Builtin::OsPathJoin
            | Builtin::OsPathExists
            | Builtin::OsPathIsdir
            | Builtin::OsPathIsfile
            | Builtin::OsPathBasename
            | Builtin::OsPathDirname
            | Builtin::OsPathAbspath
            | Builtin::OsGetcwd
            | Builtin::OsMakedirs
            | Builtin::OsListdir
            | Builtin::ShutilCopy => self.call_os(b, args).await,
            Builtin::Class(class) => self.construct(class, args).await,
        }
    }

    fn print(&mut self, args: Args) -> Result<Value, PyError> {
        let Args {
            positional,
            keywords,
        } = args;
        let a = Args {
            positional: Vec::new(),
            keywords,
        }
        .bind("print()", &["sep", "end", "file", "flush"], 0)?;
        let text_arg = |name: &str, default: &str| match a.get(name) {
            None | Some(Value::None) => Ok(default.to_owned()),
            Some(Value::Str(s)) => Ok(s.to_string()),
            Some(v) => Err(PyError::type_error(format!(
                "{name} must be None or a string, not {}",
                v.type_name()
            ))),
        };
        let sep = text_arg("sep", " ")?;
        let end = text_arg("end", "\n")?;
        if a.opt("file").is_some() {
            return Err(PyError::unsupported("`print(file=…)` is"));
        }
        let mut text = positional
            .iter()
            .map(Value::to_str)
            .collect::<Vec<_>>()
            .join(&sep);
        text.push_str(&end);
        self.host.output(Output::Stdout { text });
        Ok(Value::None)
    }

    /// Sorts by `key(item)` (or the items), stably, as `sorted` does.
    pub async fn sort(
        &mut self,
        items: Vec<Value>,
        key: Option<Value>,
        reverse: bool,
    ) -> Result<Vec<Value>, PyError> {
        let mut keyed = Vec::with_capacity(items.len());
        for item in items {
            let k = match &key {
                Some(f) => {
                    self.call(
                        f.clone(),
                        Args {
                            positional: vec![item.clone()],
                            keywords: Vec::new(),
                        },
                    )
                    .await?
                }
                None => item.clone(),
            };
            keyed.push((k, item));
        }
        let mut error = None;
        keyed.sort_by(|(a, _), (b, _)| {
            let o = ops::order(a, b).unwrap_or_else(|| {
                error.get_or_insert_with(|| {
                    PyError::type_error(format!(
                        "'<' not supported between instances of '{}' and '{}'",
                        a.type_name(),
                        b.type_name()
                    ))
                });
                Ordering::Equal
            });
            if reverse { o.reverse() } else { o }
        });
        match error {
            Some(e) => Err(e),
            None => Ok(keyed.into_iter().map(|(_, v)| v).collect()),
        }
    }

    async fn min_max(&mut self, b: Builtin, args: Args) -> Result<Value, PyError> {
        let name = b.name();
        let Args {
            positional,
            keywords,
        } = args;
        let a = Args {
            positional: Vec::new(),
            keywords,
        }
        .bind(&format!("{name}()"), &["key", "default"], 0)?;
        let items = match positional.len() {
            0 => {
                return Err(PyError::type_error(format!(
                    "{name} expected at least 1 argument, got 0"
                )));
            }
            1 => ops::iterate(&positional[0])?,
            _ => positional,
        };
        if items.is_empty() {
            return a.get("default").cloned().ok_or_else(|| {
                PyError::value_error(format!("{name}() iterable argument is empty"))
            });
        }
        let key = a.opt("key").cloned();
        let mut best: Option<(Value, Value)> = None;
        for item in items {
            let k = match &key {
                Some(f) => {
                    self.call(
                        f.clone(),
                        Args {
                            positional: vec![item.clone()],
                            keywords: Vec::new(),
                        },
                    )
                    .await?
                }
                None => item.clone(),
            };
            let better = match &best {
                None => true,
                Some((best_key, _)) => {
                    let o = ops::order(&k, best_key).ok_or_else(|| {
                        PyError::type_error(format!(
                            "'{}' not supported between instances of '{}' and '{}'",
                            if b == Builtin::Min { "<" } else { ">" },
                            k.type_name(),
                            best_key.type_name()
                        ))
                    })?;
                    // The first of equal items wins, as in Python.
                    o == if b == Builtin::Min {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
            };
            if better {
                best = Some((k, item));
            }
        }
        Ok(best.map_or(Value::None, |(_, v)| v))
    }
}

fn range(args: Args) -> Result<Value, PyError> {
    if !args.keywords.is_empty() {
        return Err(PyError::type_error("range() takes no keyword arguments"));
    }
    let ints = args
        .positional
        .iter()
        .map(|v| match number(v) {
            Some(Num::Int(i)) => Ok(i),
            _ => Err(PyError::type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                v.type_name()
            ))),
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let (start, stop, step) = match ints[..] {
        [stop] => (0, stop, 1),
        [start, stop] => (start, stop, 1),
        [start, stop, step] => (start, stop, step),
        _ => {
            return Err(PyError::type_error(format!(
                "range expected at most 3 arguments, got {}",
                ints.len()
            )));
        }
    };
    if step == 0 {
        return Err(PyError::value_error("range() arg 3 must not be zero"));
    }
    Ok(Value::Range(Range { start, stop, step }))
}

fn to_int(args: Args) -> Result<Value, PyError> {
    let a = args.bind("int()", &["x", "base"], 0)?;
    let base = a.int("base")?;
    let Some(x) = a.get("x") else {
        return Ok(Value::Int(0));
    };
    match x {
        Value::Str(s) => {
            let text = s.trim().replace('_', "");
            let (negative, digits) = match text.strip_prefix('-') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, text.trim_start_matches('+').to_owned()),
            };
            let base = base.unwrap_or(10);
            let (digits, radix) = match (base, digits.get(..2)) {
                (0 | 16, Some("0x" | "0X")) => (&digits[2..], 16),
                (0 | 8, Some("0o" | "0O")) => (&digits[2..], 8),
                (0 | 2, Some("0b" | "0B")) => (&digits[2..], 2),
                (0, _) => (&digits[..], 10),
                (b, _) => (&digits[..], u32::try_from(b).unwrap_or(10)),
            };
            let invalid = || {
                PyError::value_error(format!(
                    "invalid literal for int() with base {base}: {}",
                    super::value::str_repr(s)
                ))
            };
            if digits.is_empty() || !(2..=36).contains(&radix) {
                return Err(invalid());
            }
            let n = i64::from_str_radix(digits, radix).map_err(|_| invalid())?;
            Ok(Value::Int(if negative { -n } else { n }))
        }
        _ if base.is_some() => Err(PyError::type_error(
            "int() can't convert non-string with explicit base",
        )),
        v => match number(v) {
            Some(Num::Int(i)) => Ok(Value::Int(i)),
            Some(Num::Float(f)) => {
                if !f.is_finite() {
                    return Err(PyError::new(
                        "OverflowError",
                        "cannot convert float infinity or NaN to integer",
                    ));
                }
                // Truncation toward zero is what int() does.
                #[allow(clippy::cast_possible_truncation)]
                Ok(Value::Int(f.trunc() as i64))
            }
            None => Err(PyError::type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                v.type_name()
            ))),
        },
    }
}

/// `float("…")`, as Python reads it.
pub(crate) fn parse_float(s: &str) -> Result<f64, PyError> {
    let text = s.trim().replace('_', "");
    let lower = text.to_ascii_lowercase();
    let special = match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = special {
        return Ok(if lower.starts_with('-') { -v } else { v });
    }
    text.parse::<f64>().map_err(|_| {
        PyError::value_error(format!(
            "could not convert string to float: {}",
            super::value::str_repr(s)
        ))
    })
}

fn to_dict(args: Args) -> Result<Value, PyError> {
    let mut dict = Dict::default();
    match args.positional.len() {
        0 => {}
        1 => match &args.positional[0] {
            Value::Dict(d) => dict = d.borrow().clone(),
            other => {
                for (i, pair) in ops::iterate(other)?.into_iter().enumerate() {
                    let items = ops::iterate(&pair)?;
                    let [k, v] = <[Value; 2]>::try_from(items).map_err(|items| {
                        PyError::value_error(format!(
                            "dictionary update sequence element #{i} has length {}; 2 is required",
                            items.len()
                        ))
                    })?;
                    dict.insert(k, v)?;
                }
            }
        },
        n => {
            return Err(PyError::type_error(format!(
                "dict expected at most 1 argument, got {n}"
            )));
        }
    }
    for (k, v) in args.keywords {
        dict.insert(Value::str(&k), v)?;
    }
    Ok(Value::dict(dict))
}

fn round_half_even(f: f64) -> f64 {
    let r = f.round();
    if (f - f.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - f.signum()
    } else {
        r
    }
}

/// `type(x)`: the built-in type, or the SDK class.
fn type_of(v: &Value) -> Value {
    let b = match v {
        Value::Bool(_) => Builtin::Bool,
        Value::Int(_) => Builtin::Int,
        Value::Float(_) => Builtin::Float,
        Value::Str(_) => Builtin::Str,
        Value::Bytes(_) => Builtin::Bytes,
        Value::List(_) => Builtin::List,
        Value::Tuple(_) => Builtin::Tuple,
        Value::Dict(_) => Builtin::Dict,
        Value::Set(_) => Builtin::Set,
        Value::Range(_) => Builtin::Range,
        Value::Obj(o) => Builtin::Class(o.class()),
        Value::Builtin(b) if b.is_type() => Builtin::Type,
        other => return Value::str(&format!("<class '{}'>", other.type_name())),
    };
    Value::Builtin(b)
}

fn is_instance(obj: &Value, class: &Value) -> Result<bool, PyError> {
    let Value::Builtin(b) = class else {
        return Err(PyError::type_error(
            "isinstance() arg 2 must be a type, a tuple of types, or a union",
        ));
    };
    if !b.is_type() {
        return Err(PyError::type_error(
            "isinstance() arg 2 must be a type, a tuple of types, or a union",
        ));
    }
    Ok(match (b, obj) {
        // `bool` is a subclass of `int`.
        (Builtin::Int, Value::Bool(_) | Value::Int(_)) => true,
        (Builtin::Class(c), Value::Obj(o)) => {
            let mine = o.class();
            mine == *c
                // Every preset is an `Estimator`.
                || (matches!(c, super::value::Class::Estimator(None))
                    && matches!(mine, super::value::Class::Estimator(_)))
        }
        (b, v) => matches!(type_of(v), Value::Builtin(t) if t == *b),
    })
}
