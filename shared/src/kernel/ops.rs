//! Operators, comparisons, subscripts and iteration on values, with Python's rules.

use std::cmp::Ordering;
use std::rc::Rc;

use ruff_python_ast::{CmpOp, Operator, UnaryOp};

use super::error::PyError;
use super::format::percent_format;
use super::value::{Num, Value, check_hashable, number, py_eq};

/// The most items a sequence built by the kernel may hold (`[0] * n`, `list(range(n))`).
const MAX_ITEMS: i64 = 10_000_000;

fn unsupported_operands(op: &str, a: &Value, b: &Value) -> PyError {
    PyError::type_error(format!(
        "unsupported operand type(s) for {op}: '{}' and '{}'",
        a.type_name(),
        b.type_name()
    ))
}

fn overflow() -> PyError {
    PyError::new(
        "OverflowError",
        "integers beyond 64 bits are not supported in Runboard notebooks",
    )
}

fn zero_division(message: &str) -> PyError {
    PyError::new("ZeroDivisionError", message)
}

pub(crate) fn op_symbol(op: Operator) -> &'static str {
    op.as_str()
}

/// `a <op> b`.
pub(crate) fn binary(op: Operator, a: &Value, b: &Value) -> Result<Value, PyError> {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return arithmetic(op, x, y).ok_or_else(|| unsupported_operands(op.as_str(), a, b))?;
    }
    let sym = op_symbol(op);
    match (op, a, b) {
        (Operator::Add, Value::Str(x), Value::Str(y)) => Ok(Value::str(&format!("{x}{y}"))),
        (Operator::Add, Value::Bytes(x), Value::Bytes(y)) => {
            Ok(Value::Bytes(Rc::from([&x[..], &y[..]].concat())))
        }
        (Operator::Add, Value::List(x), Value::List(y)) => {
            let mut items = x.borrow().clone();
            items.extend(y.borrow().iter().cloned());
            Ok(Value::list(items))
        }
        (Operator::Add, Value::Tuple(x), Value::Tuple(y)) => {
            Ok(Value::tuple(x.iter().chain(y.iter()).cloned().collect()))
        }
        (Operator::Mult, seq, Value::Int(n)) | (Operator::Mult, Value::Int(n), seq)
            if matches!(
                seq,
                Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)
            ) =>
        {
            repeat(seq, *n)
        }
        (Operator::Mod, Value::Str(fmt), args) => Ok(Value::str(&percent_format(fmt, args)?)),
        (Operator::BitOr, Value::Dict(x), Value::Dict(y)) => {
            let mut merged = x.borrow().clone();
            for (k, v) in &y.borrow().entries {
                merged.insert(k.clone(), v.clone())?;
            }
            Ok(Value::dict(merged))
        }
        (
            Operator::BitOr | Operator::BitAnd | Operator::Sub | Operator::BitXor,
            Value::Set(x),
            Value::Set(y),
        ) => {
            let (x, y) = (x.borrow(), y.borrow());
            let in_y = |v: &Value| y.iter().any(|w| py_eq(v, w));
            let in_x = |v: &Value| x.iter().any(|w| py_eq(v, w));
            let items: Vec<Value> = match op {
                Operator::BitOr => x
                    .iter()
                    .cloned()
                    .chain(y.iter().filter(|v| !in_x(v)).cloned())
                    .collect(),
                Operator::BitAnd => x.iter().filter(|v| in_y(v)).cloned().collect(),
                Operator::Sub => x.iter().filter(|v| !in_y(v)).cloned().collect(),
                _ => x
                    .iter()
                    .filter(|v| !in_y(v))
                    .chain(y.iter().filter(|v| !in_x(v)))
                    .cloned()
                    .collect(),
            };
            Ok(Value::Set(Rc::new(std::cell::RefCell::new(items))))
        }
        _ => Err(unsupported_operands(sym, a, b)),
    }
}

fn repeat(seq: &Value, n: i64) -> Result<Value, PyError> {
    let n = usize::try_from(n.max(0)).unwrap_or(0);
    let len = match seq {
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.borrow().len(),
        Value::Tuple(t) => t.len(),
        _ => 0,
    };
    if i64::try_from(len.saturating_mul(n)).unwrap_or(i64::MAX) > MAX_ITEMS * 10 {
        return Err(PyError::new("MemoryError", "the result would be too large"));
    }
    Ok(match seq {
        Value::Str(s) => Value::str(&s.repeat(n)),
        Value::Bytes(b) => Value::Bytes(Rc::from(b.repeat(n))),
        Value::List(l) => {
            let items = l.borrow();
            Value::list((0..n).flat_map(|_| items.iter().cloned()).collect())
        }
        Value::Tuple(t) => Value::tuple((0..n).flat_map(|_| t.iter().cloned()).collect()),
        _ => Value::None,
    })
}

/// Arithmetic on numbers; `None` when the operator does not apply to numbers.
fn arithmetic(op: Operator, x: Num, y: Num) -> Option<Result<Value, PyError>> {
    use Num::Int;
    let float = |f: f64| Ok(Value::Float(f));
    Some(match (op, x, y) {
        (Operator::Add, Int(a), Int(b)) => a.checked_add(b).map(Value::Int).ok_or_else(overflow),
        (Operator::Sub, Int(a), Int(b)) => a.checked_sub(b).map(Value::Int).ok_or_else(overflow),
        (Operator::Mult, Int(a), Int(b)) => a.checked_mul(b).map(Value::Int).ok_or_else(overflow),
        (Operator::Add, a, b) => float(a.as_f64() + b.as_f64()),
        (Operator::Sub, a, b) => float(a.as_f64() - b.as_f64()),
        (Operator::Mult, a, b) => float(a.as_f64() * b.as_f64()),
        (Operator::Div, a, b) => {
            if b.as_f64() == 0.0 {
                Err(zero_division("division by zero"))
            } else {
                float(a.as_f64() / b.as_f64())
            }
        }
        (Operator::FloorDiv, Int(a), Int(b)) => {
            if b == 0 {
                Err(zero_division("integer division or modulo by zero"))
            } else {
                a.checked_div_euclid(b)
                    .map(|_| Value::Int(floor_div(a, b)))
                    .ok_or_else(overflow)
            }
        }
        (Operator::FloorDiv, a, b) => {
            if b.as_f64() == 0.0 {
                Err(zero_division("float floor division by zero"))
            } else {
                float((a.as_f64() / b.as_f64()).floor())
            }
        }
        (Operator::Mod, Int(a), Int(b)) => {
            if b == 0 {
                Err(zero_division("integer modulo by zero"))
            } else {
                Ok(Value::Int(a.wrapping_sub(floor_div(a, b).wrapping_mul(b))))
            }
        }
        (Operator::Mod, a, b) => {
            let (a, b) = (a.as_f64(), b.as_f64());
            if b == 0.0 {
                Err(zero_division("float modulo"))
            } else {
                let r = a % b;
                float(if r != 0.0 && (r < 0.0) != (b < 0.0) {
                    r + b
                } else {
                    r
                })
            }
        }
        (Operator::Pow, Int(a), Int(b)) if b >= 0 => u32::try_from(b)
            .ok()
            .and_then(|b| a.checked_pow(b))
            .map(Value::Int)
            .ok_or_else(overflow),
        (Operator::Pow, a, b) => {
            let (a, b) = (a.as_f64(), b.as_f64());
            if a == 0.0 && b < 0.0 {
                Err(zero_division("0.0 cannot be raised to a negative power"))
            } else {
                float(a.powf(b))
            }
        }
        (Operator::BitAnd, Int(a), Int(b)) => Ok(Value::Int(a & b)),
        (Operator::BitOr, Int(a), Int(b)) => Ok(Value::Int(a | b)),
        (Operator::BitXor, Int(a), Int(b)) => Ok(Value::Int(a ^ b)),
        (Operator::LShift, Int(a), Int(b)) => u32::try_from(b)
            .ok()
            .and_then(|b| a.checked_shl(b))
            .filter(|r| r >> u32::try_from(b).unwrap_or(0) == a)
            .map(Value::Int)
            .ok_or_else(overflow),
        (Operator::RShift, Int(a), Int(b)) => u32::try_from(b)
            .map(|b| Value::Int(a >> b.min(63)))
            .map_err(|_| PyError::value_error("negative shift count")),
        _ => return None,
    })
}

fn floor_div(a: i64, b: i64) -> i64 {
    let q = a.wrapping_div(b);
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// `-x`, `+x`, `~x`, `not x`.
pub(crate) fn unary(op: UnaryOp, v: &Value) -> Result<Value, PyError> {
    let bad = |sym: &str| {
        PyError::type_error(format!(
            "bad operand type for unary {sym}: '{}'",
            v.type_name()
        ))
    };
    match op {
        UnaryOp::Not => Ok(Value::Bool(!v.truthy())),
        UnaryOp::USub => match number(v) {
            Some(Num::Int(i)) => i.checked_neg().map(Value::Int).ok_or_else(overflow),
            Some(Num::Float(f)) => Ok(Value::Float(-f)),
            None => Err(bad("-")),
        },
        UnaryOp::UAdd => match number(v) {
            Some(Num::Int(i)) => Ok(Value::Int(i)),
            Some(Num::Float(f)) => Ok(Value::Float(f)),
            None => Err(bad("+")),
        },
        UnaryOp::Invert => match number(v) {
            Some(Num::Int(i)) => Ok(Value::Int(!i)),
            _ => Err(bad("~")),
        },
    }
}

/// `a <op> b` for one comparison of a chain.
pub(crate) fn compare(op: CmpOp, a: &Value, b: &Value) -> Result<bool, PyError> {
    Ok(match op {
        CmpOp::Eq => py_eq(a, b),
        CmpOp::NotEq => !py_eq(a, b),
        CmpOp::Is => identical(a, b),
        CmpOp::IsNot => !identical(a, b),
        CmpOp::In => contains(b, a)?,
        CmpOp::NotIn => !contains(b, a)?,
        CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE => {
            let ordering = order(a, b).ok_or_else(|| {
                PyError::type_error(format!(
                    "'{}' not supported between instances of '{}' and '{}'",
                    op.as_str(),
                    a.type_name(),
                    b.type_name()
                ))
            })?;
            match op {
                CmpOp::Lt => ordering == Ordering::Less,
                CmpOp::LtE => ordering != Ordering::Greater,
                CmpOp::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            }
        }
    })
}

/// `is`: the same object. Immutable values compare by value here, which matches what
/// `x is None`, `x is True` and small-int checks do in CPython.
fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => Rc::ptr_eq(x, y),
        (Value::Dict(x), Value::Dict(y)) => Rc::ptr_eq(x, y),
        (Value::Set(x), Value::Set(y)) => Rc::ptr_eq(x, y),
        (Value::Obj(x), Value::Obj(y)) => Rc::ptr_eq(x, y),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Bool(_), _) | (_, Value::Bool(_)) => false,
        (Value::Int(_), Value::Float(_)) | (Value::Float(_), Value::Int(_)) => false,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b) && py_eq(a, b),
    }
}

/// The order of two values, when Python defines one.
pub(crate) fn order(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return match (x, y) {
            (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
            (x, y) => x.as_f64().partial_cmp(&y.as_f64()),
        };
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bytes(x), Value::Bytes(y)) => Some(x.cmp(y)),
        (Value::List(x), Value::List(y)) => seq_order(&x.borrow(), &y.borrow()),
        (Value::Tuple(x), Value::Tuple(y)) => seq_order(x, y),
        _ => None,
    }
}

fn seq_order(a: &[Value], b: &[Value]) -> Option<Ordering> {
    for (x, y) in a.iter().zip(b) {
        if !py_eq(x, y) {
            return order(x, y);
        }
    }
    Some(a.len().cmp(&b.len()))
}

/// `item in container`.
pub(crate) fn contains(container: &Value, item: &Value) -> Result<bool, PyError> {
    Ok(match container {
        Value::Str(s) => match item {
            Value::Str(sub) => s.contains(&**sub),
            _ => {
                return Err(PyError::type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    item.type_name()
                )));
            }
        },
        Value::Bytes(b) => match item {
            Value::Bytes(sub) => sub.is_empty() || b.windows(sub.len()).any(|w| w == &sub[..]),
            _ => false,
        },
        Value::List(l) => l.borrow().iter().any(|v| py_eq(v, item)),
        Value::Tuple(t) => t.iter().any(|v| py_eq(v, item)),
        Value::Set(s) => s.borrow().iter().any(|v| py_eq(v, item)),
        Value::Dict(d) => d.borrow().get(item).is_some(),
        Value::Range(r) => match number(item) {
            Some(Num::Int(i)) => {
                let n = r.len();
                n > 0 && (i - r.start) % r.step == 0 && (0..n).contains(&((i - r.start) / r.step))
            }
            _ => false,
        },
        other => {
            return Err(PyError::type_error(format!(
                "argument of type '{}' is not iterable",
                other.type_name()
            )));
        }
    })
}

/// `len(v)`.
pub(crate) fn len(v: &Value) -> Result<i64, PyError> {
    let n = match v {
        Value::Str(s) => s.chars().count(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.borrow().len(),
        Value::Tuple(t) => t.len(),
        Value::Dict(d) => d.borrow().entries.len(),
        Value::Set(s) => s.borrow().len(),
        Value::Range(r) => return Ok(r.len()),
        other => {
            return Err(PyError::type_error(format!(
                "object of type '{}' has no len()",
                other.type_name()
            )));
        }
    };
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The items `for x in v` goes through.
pub(crate) fn iterate(v: &Value) -> Result<Vec<Value>, PyError> {
    Ok(match v {
        Value::Str(s) => s
            .chars()
            .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
            .collect(),
        Value::Bytes(b) => b.iter().map(|&c| Value::Int(i64::from(c))).collect(),
        Value::List(l) => l.borrow().clone(),
        Value::Tuple(t) => t.to_vec(),
        Value::Dict(d) => d.borrow().entries.iter().map(|(k, _)| k.clone()).collect(),
        Value::Set(s) => s.borrow().clone(),
        Value::Range(r) => {
            let n = r.len();
            if n > MAX_ITEMS {
                return Err(PyError::new(
                    "MemoryError",
                    format!("a range of {n} items is too large to materialize"),
                ));
            }
            (0..n).map(|i| Value::Int(r.get(i))).collect()
        }
        other => {
            return Err(PyError::type_error(format!(
                "'{}' object is not iterable",
                other.type_name()
            )));
        }
    })
}

/// A sequence index, negative counting from the end; `None` when out of range.
fn index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if i < 0 { i + len } else { i };
    (0..len)
        .contains(&i)
        .then(|| usize::try_from(i).ok())
        .flatten()
}

fn int_index(key: &Value, what: &str) -> Result<i64, PyError> {
    match key {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        other => Err(PyError::type_error(format!(
            "{what} indices must be integers or slices, not {}",
            other.type_name()
        ))),
    }
}

/// `v[key]`.
pub(crate) fn subscript(v: &Value, key: &Value) -> Result<Value, PyError> {
    let out_of_range =
        |what: &str| PyError::new("IndexError", format!("{what} index out of range"));
    match v {
        Value::List(l) => {
            let l = l.borrow();
            let i = int_index(key, "list")?;
            index(i, l.len())
                .map(|i| l[i].clone())
                .ok_or_else(|| out_of_range("list"))
        }
        Value::Tuple(t) => {
            let i = int_index(key, "tuple")?;
            index(i, t.len())
                .map(|i| t[i].clone())
                .ok_or_else(|| out_of_range("tuple"))
        }
        Value::Str(s) => {
            let i = int_index(key, "string")?;
            let chars: Vec<char> = s.chars().collect();
            index(i, chars.len())
                .map(|i| Value::str(chars[i].encode_utf8(&mut [0; 4])))
                .ok_or_else(|| out_of_range("string"))
        }
        Value::Bytes(b) => {
            let i = int_index(key, "byte")?;
            index(i, b.len())
                .map(|i| Value::Int(i64::from(b[i])))
                .ok_or_else(|| out_of_range("index"))
        }
        Value::Range(r) => {
            let i = int_index(key, "range")?;
            let n = usize::try_from(r.len()).unwrap_or(usize::MAX);
            index(i, n)
                .map(|i| Value::Int(r.get(i64::try_from(i).unwrap_or(0))))
                .ok_or_else(|| PyError::new("IndexError", "range object index out of range"))
        }
        Value::Dict(d) => {
            check_hashable(key)?;
            d.borrow()
                .get(key)
                .cloned()
                .ok_or_else(|| PyError::new("KeyError", key.repr()))
        }
        other => Err(PyError::type_error(format!(
            "'{}' object is not subscriptable",
            other.type_name()
        ))),
    }
}

/// `v[key] = value`.
pub(crate) fn set_item(v: &Value, key: Value, value: Value) -> Result<(), PyError> {
    match v {
        Value::List(l) => {
            let mut l = l.borrow_mut();
            let i = int_index(&key, "list")?;
            let i = index(i, l.len())
                .ok_or_else(|| PyError::new("IndexError", "list assignment index out of range"))?;
            l[i] = value;
            Ok(())
        }
        Value::Dict(d) => d.borrow_mut().insert(key, value),
        other => Err(PyError::type_error(format!(
            "'{}' object does not support item assignment",
            other.type_name()
        ))),
    }
}

/// `v[lower:upper:step]`.
pub(crate) fn slice(
    v: &Value,
    lower: Option<i64>,
    upper: Option<i64>,
    step: Option<i64>,
) -> Result<Value, PyError> {
    let step = step.unwrap_or(1);
    if step == 0 {
        return Err(PyError::value_error("slice step cannot be zero"));
    }
    let pick = |len: usize| -> Vec<usize> {
        let n = i64::try_from(len).unwrap_or(i64::MAX);
        let clamp = |i: i64, lo: i64, hi: i64| {
            let i = if i < 0 { i + n } else { i };
            i.clamp(lo, hi)
        };
        let mut out = Vec::new();
        if step > 0 {
            let (start, stop) = (
                lower.map_or(0, |i| clamp(i, 0, n)),
                upper.map_or(n, |i| clamp(i, 0, n)),
            );
            let mut i = start;
            while i < stop {
                out.push(usize::try_from(i).unwrap_or(0));
                i += step;
            }
        } else {
            let (start, stop) = (
                lower.map_or(n - 1, |i| clamp(i, -1, n - 1)),
                upper.map_or(-1, |i| clamp(i, -1, n - 1)),
            );
            let mut i = start;
            while i > stop {
                out.push(usize::try_from(i).unwrap_or(0));
                i += step;
            }
        }
        out
    };
    Ok(match v {
        Value::List(l) => {
            let l = l.borrow();
            Value::list(pick(l.len()).into_iter().map(|i| l[i].clone()).collect())
        }
        Value::Tuple(t) => Value::tuple(pick(t.len()).into_iter().map(|i| t[i].clone()).collect()),
        Value::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            Value::str(
                &pick(chars.len())
                    .into_iter()
                    .map(|i| chars[i])
                    .collect::<String>(),
            )
        }
        Value::Bytes(b) => Value::Bytes(Rc::from(
            pick(b.len()).into_iter().map(|i| b[i]).collect::<Vec<u8>>(),
        )),
        Value::Range(_) => Value::list(
            pick(usize::try_from(len(v)?).unwrap_or(0))
                .into_iter()
                .map(|i| subscript(v, &Value::Int(i64::try_from(i).unwrap_or(0))))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(PyError::type_error(format!(
                "'{}' object is not subscriptable",
                other.type_name()
            )));
        }
    })
}
