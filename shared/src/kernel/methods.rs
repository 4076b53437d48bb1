//! Methods of the built-in types: `str`, `bytes`, `list`, `dict`, `set`.

use super::args::Args;
use super::error::PyError;
use super::eval::Interp;
use super::format::str_format;
use super::host::Host;
use super::ops;
use super::value::{Dict, Value, check_hashable, py_eq};

const STR_METHODS: &[&str] = &[
    "format",
    "upper",
    "lower",
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "rsplit",
    "splitlines",
    "join",
    "replace",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "index",
    "count",
    "title",
    "capitalize",
    "zfill",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "isupper",
    "islower",
    "encode",
    "ljust",
    "rjust",
    "center",
];
const BYTES_METHODS: &[&str] = &["decode"];
const LIST_METHODS: &[&str] = &[
    "append", "extend", "insert", "pop", "remove", "index", "count", "sort", "reverse", "copy",
    "clear",
];
const TUPLE_METHODS: &[&str] = &["index", "count"];
const DICT_METHODS: &[&str] = &[
    "keys",
    "values",
    "items",
    "get",
    "update",
    "pop",
    "setdefault",
    "copy",
    "clear",
];
const SET_METHODS: &[&str] = &[
    "add", "discard", "remove", "update", "copy", "clear", "union",
];
const FLOAT_METHODS: &[&str] = &["is_integer"];

/// The method `name` of `value`'s type, as a `'static` name, if it has one.
pub(crate) fn method_name(value: &Value, name: &str) -> Option<&'static str> {
    let table = match value {
        Value::Str(_) => STR_METHODS,
        Value::Bytes(_) => BYTES_METHODS,
        Value::List(_) => LIST_METHODS,
        Value::Tuple(_) => TUPLE_METHODS,
        Value::Dict(_) => DICT_METHODS,
        Value::Set(_) => SET_METHODS,
        Value::Float(_) => FLOAT_METHODS,
        _ => return None,
    };
    table.iter().find(|m| **m == name).copied()
}

/// Calls `receiver.name(*args)` for a built-in type.
pub(crate) async fn call_method<H: Host>(
    interp: &mut Interp<'_, H>,
    receiver: &Value,
    name: &'static str,
    args: Args,
) -> Result<Value, PyError> {
    let fname = format!("{}.{name}()", receiver.type_name());
    match receiver {
        Value::Str(s) => str_method(s, name, &fname, args),
        Value::Bytes(b) => {
            let a = args.bind(&fname, &["encoding", "errors"], 0)?;
            let _ = a.str("encoding")?;
            String::from_utf8(b.to_vec())
                .map(|s| Value::str(&s))
                .map_err(|e| {
                    PyError::new(
                        "UnicodeDecodeError",
                        format!("'utf-8' codec can't decode bytes: {e}"),
                    )
                })
        }
        Value::Float(f) => {
            args.none(&fname)?;
            Ok(Value::Bool(f.is_finite() && f.fract() == 0.0))
        }
        Value::List(list) => {
            if name == "sort" {
                let a = args.bind(&fname, &["key", "reverse"], 0)?;
                let items = list.borrow().clone();
                let sorted = interp
                    .sort(items, a.opt("key").cloned(), a.bool("reverse", false))
                    .await?;
                *list.borrow_mut() = sorted;
                return Ok(Value::None);
            }
            list_method(list, name, &fname, args)
        }
        Value::Tuple(t) => seq_method(t, name, &fname, args),
        Value::Dict(d) => dict_method(d, name, &fname, args),
        Value::Set(s) => set_method(s, name, &fname, args),
        other => Err(PyError::new(
            "AttributeError",
            format!("'{}' object has no attribute '{name}'", other.type_name()),
        )),
    }
}

fn str_arg(v: Option<&Value>, what: &str) -> Result<Option<String>, PyError> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(PyError::type_error(format!(
            "{what} must be str or None, not {}",
            other.type_name()
        ))),
    }
}

fn str_method(s: &str, name: &str, fname: &str, args: Args) -> Result<Value, PyError> {
    let text = |t: &str| Ok(Value::str(t));
    match name {
        "format" => Ok(Value::str(&str_format(
            s,
            &args.positional,
            &args.keywords,
        )?)),
        "upper" => {
            args.none(fname)?;
            text(&s.to_uppercase())
        }
        "lower" => {
            args.none(fname)?;
            text(&s.to_lowercase())
        }
        "title" | "capitalize" => {
            args.none(fname)?;
            let mut out = String::with_capacity(s.len());
            let mut start = true;
            for c in s.chars() {
                if start {
                    out.extend(c.to_uppercase());
                } else {
                    out.extend(c.to_lowercase());
                }
                start = if name == "title" {
                    !c.is_alphabetic()
                } else {
                    false
                };
            }
            text(&out)
        }
        "strip" | "lstrip" | "rstrip" => {
            let a = args.bind(fname, &["chars"], 0)?;
            let chars = str_arg(a.get("chars"), "strip arg")?;
            let matches = |c: char| match &chars {
                Some(set) => set.contains(c),
                None => c.is_whitespace(),
            };
            text(match name {
                "strip" => s.trim_matches(matches),
                "lstrip" => s.trim_start_matches(matches),
                _ => s.trim_end_matches(matches),
            })
        }
        "split" | "rsplit" => {
            let a = args.bind(fname, &["sep", "maxsplit"], 0)?;
            let sep = str_arg(a.get("sep"), "must be str or None")?;
            let max = a.int("maxsplit")?.unwrap_or(-1);
            let max = usize::try_from(max).ok();
            let parts: Vec<String> = match (&sep, max) {
                (Some(sep), _) if sep.is_empty() => {
                    return Err(PyError::value_error("empty separator"));
                }
                (Some(sep), None) => s.split(sep.as_str()).map(str::to_owned).collect(),
                (Some(sep), Some(n)) if name == "split" => {
                    s.splitn(n + 1, sep.as_str()).map(str::to_owned).collect()
                }
                (Some(sep), Some(n)) => {
                    let mut v: Vec<String> =
                        s.rsplitn(n + 1, sep.as_str()).map(str::to_owned).collect();
                    v.reverse();
                    v
                }
                (None, max) => {
                    let words: Vec<&str> = s.split_whitespace().collect();
                    match max {
                        Some(n) if n < words.len() && name == "split" => {
                            // The rest keeps its inner spacing, as in Python.
                            let mut out: Vec<String> =
                                words[..n].iter().map(|w| (*w).to_owned()).collect();
                            let mut rest = s.trim_start();
                            for w in &words[..n] {
                                rest = rest[w.len()..].trim_start();
                            }
                            out.push(rest.to_owned());
                            out
                        }
                        _ => words.into_iter().map(str::to_owned).collect(),
                    }
                }
            };
            Ok(Value::list(parts.iter().map(|p| Value::str(p)).collect()))
        }
        "splitlines" => {
            let a = args.bind(fname, &["keepends"], 0)?;
            let keep = a.bool("keepends", false);
            let lines: Vec<Value> = if keep {
                s.split_inclusive('\n').map(Value::str).collect()
            } else {
                s.lines().map(Value::str).collect()
            };
            Ok(Value::list(lines))
        }
        "join" => {
            let a = args.bind(fname, &["iterable"], 1)?;
            let items = ops::iterate(a.get("iterable").unwrap_or(&Value::None))?;
            let mut parts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Str(p) => parts.push(p.to_string()),
                    other => {
                        return Err(PyError::type_error(format!(
                            "sequence item {i}: expected str instance, {} found",
                            other.type_name()
                        )));
                    }
                }
            }
            text(&parts.join(s))
        }
        "replace" => {
            let a = args.bind(fname, &["old", "new", "count"], 2)?;
            let old = a.req_str("old")?;
            let new = a.req_str("new")?;
            match a.int("count")? {
                Some(n) if n >= 0 => text(&s.replacen(&old, &new, usize::try_from(n).unwrap_or(0))),
                _ => text(&s.replace(&old, &new)),
            }
        }
        "startswith" | "endswith" => {
            let a = args.bind(fname, &["prefix"], 1)?;
            let candidates = match a.get("prefix") {
                Some(Value::Tuple(t)) => t.to_vec(),
                Some(v) => vec![v.clone()],
                None => Vec::new(),
            };
            let mut hit = false;
            for c in &candidates {
                let Value::Str(c) = c else {
                    return Err(PyError::type_error(format!(
                        "{name} first arg must be str or a tuple of str, not {}",
                        c.type_name()
                    )));
                };
                hit |= if name == "startswith" {
                    s.starts_with(&**c)
                } else {
                    s.ends_with(&**c)
                };
            }
            Ok(Value::Bool(hit))
        }
        "find" | "rfind" | "index" | "count" => {
            let a = args.bind(fname, &["sub"], 1)?;
            let sub = a.req_str("sub")?;
            if name == "count" {
                let n = if sub.is_empty() {
                    s.chars().count() + 1
                } else {
                    s.matches(sub.as_str()).count()
                };
                return Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)));
            }
            let at = if name == "rfind" {
                s.rfind(sub.as_str())
            } else {
                s.find(sub.as_str())
            };
            // Python counts characters, not bytes.
            let at = at.map(|b| s[..b].chars().count());
            match (at, name) {
                (Some(i), _) => Ok(Value::Int(i64::try_from(i).unwrap_or(i64::MAX))),
                (None, "index") => Err(PyError::value_error("substring not found")),
                (None, _) => Ok(Value::Int(-1)),
            }
        }
        "zfill" | "ljust" | "rjust" | "center" => {
            let a = args.bind(fname, &["width", "fillchar"], 1)?;
            let width = usize::try_from(a.int("width")?.unwrap_or(0)).unwrap_or(0);
            let fill = match str_arg(a.get("fillchar"), "fillchar")? {
                Some(f) if f.chars().count() == 1 => f.chars().next().unwrap_or(' '),
                Some(_) => {
                    return Err(PyError::type_error(
                        "The fill character must be exactly one character long",
                    ));
                }
                None => ' ',
            };
            let len = s.chars().count();
            if len >= width {
                return text(s);
            }
            let n = width - len;
            let pad = |k: usize, c: char| std::iter::repeat_n(c, k).collect::<String>();
            text(&match name {
                "zfill" => match s.strip_prefix(['-', '+']) {
                    Some(rest) => format!("{}{}{rest}", &s[..1], pad(n, '0')),
                    None => format!("{}{s}", pad(n, '0')),
                },
                "ljust" => format!("{s}{}", pad(n, fill)),
                "rjust" => format!("{}{s}", pad(n, fill)),
                _ => {
                    let left = n / 2 + (n & width & 1);
                    format!("{}{s}{}", pad(left, fill), pad(n - left, fill))
                }
            })
        }
        "isdigit" | "isalpha" | "isalnum" | "isspace" | "isupper" | "islower" => {
            args.none(fname)?;
            let test: fn(char) -> bool = match name {
                "isdigit" => |c| c.is_ascii_digit(),
                "isalpha" => char::is_alphabetic,
                "isalnum" => char::is_alphanumeric,
                "isspace" => char::is_whitespace,
                "isupper" => |c| !c.is_lowercase(),
                _ => |c| !c.is_uppercase(),
            };
            let cased = match name {
                "isupper" => s.chars().any(char::is_uppercase),
                "islower" => s.chars().any(char::is_lowercase),
                _ => !s.is_empty(),
            };
            Ok(Value::Bool(cased && s.chars().all(test)))
        }
        "encode" => {
            let a = args.bind(fname, &["encoding", "errors"], 0)?;
            let _ = a.str("encoding")?;
            Ok(Value::Bytes(std::rc::Rc::from(s.as_bytes())))
        }
        _ => Err(PyError::new(
            "AttributeError",
            format!("'str' object has no attribute '{name}'"),
        )),
    }
}

fn seq_method(items: &[Value], name: &str, fname: &str, args: Args) -> Result<Value, PyError> {
    let a = args.bind(fname, &["value"], 1)?;
    let value = a.get("value").unwrap_or(&Value::None);
    match name {
        "count" => Ok(Value::Int(
            i64::try_from(items.iter().filter(|v| py_eq(v, value)).count()).unwrap_or(0),
        )),
        _ => items
            .iter()
            .position(|v| py_eq(v, value))
            .map(|i| Value::Int(i64::try_from(i).unwrap_or(0)))
            .ok_or_else(|| PyError::value_error(format!("{} is not in list", value.repr()))),
    }
}

fn list_method(
    list: &super::value::Shared<Vec<Value>>,
    name: &str,
    fname: &str,
    args: Args,
) -> Result<Value, PyError> {
    match name {
        "append" => {
            let a = args.bind(fname, &["object"], 1)?;
            let v = a.get("object").cloned().unwrap_or(Value::None);
            list.borrow_mut().push(v);
            Ok(Value::None)
        }
        "extend" => {
            let a = args.bind(fname, &["iterable"], 1)?;
            let items = ops::iterate(a.get("iterable").unwrap_or(&Value::None))?;
            list.borrow_mut().extend(items);
            Ok(Value::None)
        }
        "insert" => {
            let a = args.bind(fname, &["index", "object"], 2)?;
            let mut l = list.borrow_mut();
            let n = i64::try_from(l.len()).unwrap_or(i64::MAX);
            let i = a.int("index")?.unwrap_or(0);
            let i = if i < 0 { (i + n).max(0) } else { i.min(n) };
            l.insert(
                usize::try_from(i).unwrap_or(0),
                a.get("object").cloned().unwrap_or(Value::None),
            );
            Ok(Value::None)
        }
        "pop" => {
            let a = args.bind(fname, &["index"], 0)?;
            let mut l = list.borrow_mut();
            if l.is_empty() {
                return Err(PyError::new("IndexError", "pop from empty list"));
            }
            let n = i64::try_from(l.len()).unwrap_or(i64::MAX);
            let i = a.int("index")?.unwrap_or(-1);
            let i = if i < 0 { i + n } else { i };
            if !(0..n).contains(&i) {
                return Err(PyError::new("IndexError", "pop index out of range"));
            }
            Ok(l.remove(usize::try_from(i).unwrap_or(0)))
        }
        "remove" => {
            let a = args.bind(fname, &["value"], 1)?;
            let v = a.get("value").unwrap_or(&Value::None);
            let mut l = list.borrow_mut();
            let at = l
                .iter()
                .position(|x| py_eq(x, v))
                .ok_or_else(|| PyError::value_error("list.remove(x): x not in list"))?;
            l.remove(at);
            Ok(Value::None)
        }
        "reverse" => {
            args.none(fname)?;
            list.borrow_mut().reverse();
            Ok(Value::None)
        }
        "copy" => {
            args.none(fname)?;
            Ok(Value::list(list.borrow().clone()))
        }
        "clear" => {
            args.none(fname)?;
            list.borrow_mut().clear();
            Ok(Value::None)
        }
        _ => {
            let items = list.borrow().clone();
            seq_method(&items, name, fname, args)
        }
    }
}

fn dict_method(
    dict: &super::value::Shared<Dict>,
    name: &str,
    fname: &str,
    args: Args,
) -> Result<Value, PyError> {
    match name {
        "keys" | "values" | "items" => {
            args.none(fname)?;
            let d = dict.borrow();
            // Views are lists here: they iterate, index and print the same way for the
            // uses notebooks make of them.
            Ok(Value::list(
                d.entries
                    .iter()
                    .map(|(k, v)| match name {
                        "keys" => k.clone(),
                        "values" => v.clone(),
                        _ => Value::tuple(vec![k.clone(), v.clone()]),
                    })
                    .collect(),
            ))
        }
        "get" => {
            let a = args.bind(fname, &["key", "default"], 1)?;
            let key = a.get("key").unwrap_or(&Value::None);
            check_hashable(key)?;
            Ok(dict
                .borrow()
                .get(key)
                .cloned()
                .or_else(|| a.get("default").cloned())
                .unwrap_or(Value::None))
        }
        "setdefault" => {
            let a = args.bind(fname, &["key", "default"], 1)?;
            let key = a.get("key").cloned().unwrap_or(Value::None);
            let mut d = dict.borrow_mut();
            if let Some(v) = d.get(&key) {
                return Ok(v.clone());
            }
            let v = a.get("default").cloned().unwrap_or(Value::None);
            d.insert(key, v.clone())?;
            Ok(v)
        }
        "pop" => {
            let a = args.bind(fname, &["key", "default"], 1)?;
            let key = a.get("key").unwrap_or(&Value::None);
            match dict.borrow_mut().remove(key) {
                Some(v) => Ok(v),
                None => a
                    .get("default")
                    .cloned()
                    .ok_or_else(|| PyError::new("KeyError", key.repr())),
            }
        }
        "update" => {
            let Args {
                positional,
                keywords,
            } = args;
            let mut d = dict.borrow_mut();
            match positional.as_slice() {
                [] => {}
                [Value::Dict(other)] => {
                    let other = other.borrow().clone();
                    for (k, v) in other.entries {
                        d.insert(k, v)?;
                    }
                }
                [pairs] => {
                    for pair in ops::iterate(pairs)? {
                        let items = ops::iterate(&pair)?;
                        let [k, v] = <[Value; 2]>::try_from(items).map_err(|_| {
                            PyError::value_error(
                                "dictionary update sequence element has length other than 2",
                            )
                        })?;
                        d.insert(k, v)?;
                    }
                }
                more => {
                    return Err(PyError::type_error(format!(
                        "update expected at most 1 argument, got {}",
                        more.len()
                    )));
                }
            }
            for (k, v) in keywords {
                d.insert(Value::str(&k), v)?;
            }
            Ok(Value::None)
        }
        "copy" => {
            args.none(fname)?;
            Ok(Value::dict(dict.borrow().clone()))
        }
        "clear" => {
            args.none(fname)?;
            dict.borrow_mut().entries.clear();
            Ok(Value::None)
        }
        _ => Err(PyError::new(
            "AttributeError",
            format!("'dict' object has no attribute '{name}'"),
        )),
    }
}

fn set_method(
    set: &super::value::Shared<Vec<Value>>,
    name: &str,
    fname: &str,
    args: Args,
) -> Result<Value, PyError> {
    let add = |items: &mut Vec<Value>, v: Value| -> Result<(), PyError> {
        check_hashable(&v)?;
        if !items.iter().any(|w| py_eq(w, &v)) {
            items.push(v);
        }
        Ok(())
    };
    match name {
        "add" => {
            let a = args.bind(fname, &["elem"], 1)?;
            add(
                &mut set.borrow_mut(),
                a.get("elem").cloned().unwrap_or(Value::None),
            )?;
            Ok(Value::None)
        }
        "discard" | "remove" => {
            let a = args.bind(fname, &["elem"], 1)?;
            let v = a.get("elem").unwrap_or(&Value::None);
            let mut items = set.borrow_mut();
            match items.iter().position(|w| py_eq(w, v)) {
                Some(i) => {
                    items.remove(i);
                }
                None if name == "remove" => return Err(PyError::new("KeyError", v.repr())),
                None => {}
            }
            Ok(Value::None)
        }
        "update" | "union" => {
            let mut items = if name == "union" {
                set.borrow().clone()
            } else {
                Vec::new()
            };
            let target = &mut items;
            for other in &args.positional {
                for v in ops::iterate(other)? {
                    add(target, v)?;
                }
            }
            if name == "union" {
                return Ok(Value::Set(std::rc::Rc::new(std::cell::RefCell::new(items))));
            }
            let mut s = set.borrow_mut();
            for v in items {
                add(&mut s, v)?;
            }
            Ok(Value::None)
        }
        "copy" => {
            args.none(fname)?;
            Ok(Value::Set(std::rc::Rc::new(std::cell::RefCell::new(
                set.borrow().clone(),
            ))))
        }
        _ => {
            args.none(fname)?;
            set.borrow_mut().clear();
            Ok(Value::None)
        }
    }
}
