//! String formatting as Python does it: the format-spec mini-language (f-strings,
//! `str.format`, `format`), and printf-style `%`.

use crate::estimator::python_float_repr;

use super::error::PyError;
use super::value::{Num, Value, number};

/// A parsed format spec: `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
#[derive(Debug, Clone, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alternate: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

fn parse_spec(spec: &str) -> Result<Spec, PyError> {
    let bad = || PyError::value_error(format!("Invalid format specifier '{spec}'"));
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut s = Spec::default();
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        s.fill = Some(chars[0]);
        s.align = Some(chars[1]);
        i = 2;
    } else if chars.first().copied().is_some_and(is_align) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        s.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        s.alternate = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    if i > start {
        s.width = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| bad())?;
    }
    if let Some(&c @ (',' | '_')) = chars.get(i) {
        s.grouping = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(PyError::value_error("Format specifier missing precision"));
        }
        s.precision = Some(
            chars[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| bad())?,
        );
    }
    if let Some(&c) = chars.get(i) {
        s.kind = Some(c);
        i += 1;
    }
    if i != chars.len() {
        return Err(bad());
    }
    Ok(s)
}

/// Python's `format(value, spec)`.
pub(crate) fn format_value(value: &Value, spec: &str) -> Result<String, PyError> {
    if spec.is_empty() {
        return Ok(value.to_str());
    }
    let s = parse_spec(spec)?;
    match value {
        Value::Str(text) => {
            if !matches!(s.kind, None | Some('s')) {
                return Err(unknown_code(s.kind, "str"));
            }
            if s.sign.is_some() || s.grouping.is_some() || s.alternate {
                return Err(PyError::value_error(
                    "Sign, alternate form and grouping are not allowed in string format specifier",
                ));
            }
            let text: String = match s.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text.to_string(),
            };
            Ok(pad(&s, "", &text, '<'))
        }
        _ => match number(value) {
            // `bool` formats as a number only with a spec that says so.
            Some(_) if matches!(value, Value::Bool(_)) && s.kind.is_none() => {
                Ok(pad(&s, "", &value.to_str(), '<'))
            }
            Some(n) => format_number(n, &s),
            None => Err(PyError::type_error(format!(
                "unsupported format string passed to {}.__format__",
                value.type_name()
            ))),
        },
    }
}

fn unknown_code(kind: Option<char>, type_name: &str) -> PyError {
    PyError::value_error(format!(
        "Unknown format code '{}' for object of type '{type_name}'",
        kind.unwrap_or(' ')
    ))
}

fn format_number(n: Num, s: &Spec) -> Result<String, PyError> {
    let (negative, body) = match (n, s.kind) {
        (Num::Int(i), None | Some('d' | 'n')) => {
            if s.precision.is_some() {
                return Err(PyError::value_error(
                    "Precision not allowed in integer format specifier",
                ));
            }
            (i < 0, group(&i.unsigned_abs().to_string(), s.grouping))
        }
        (Num::Int(i), Some(k @ ('x' | 'X' | 'o' | 'b'))) => {
            let u = i.unsigned_abs();
            let (digits, prefix) = match k {
                'x' => (format!("{u:x}"), "0x"),
                'X' => (format!("{u:X}"), "0X"),
                'o' => (format!("{u:o}"), "0o"),
                _ => (format!("{u:b}"), "0b"),
            };
            let prefix = if s.alternate { prefix } else { "" };
            (i < 0, format!("{prefix}{digits}"))
        }
        (Num::Int(i), Some('c')) => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| PyError::new("OverflowError", "%c arg not in range(0x110000)"))?;
            (false, c.to_string())
        }
        (Num::Int(_), Some(k)) if !"eEfFgG%".contains(k) => {
            return Err(unknown_code(Some(k), "int"));
        }
        (Num::Float(_), Some(k)) if !"eEfFgGn%".contains(k) => {
            return Err(unknown_code(Some(k), "float"));
        }
        (n, kind) => {
            let x = n.as_f64();
            (
                x.is_sign_negative() && !x.is_nan(),
                float_body(x.abs(), kind, s.precision, s.alternate, s.grouping),
            )
        }
    };
    let sign = match (negative, s.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    };
    Ok(pad(s, sign, &body, '>'))
}

/// The digits of a non-negative float for a format type.
fn float_body(
    x: f64,
    kind: Option<char>,
    precision: Option<usize>,
    alternate: bool,
    grouping: Option<char>,
) -> String {
    if !x.is_finite() {
        let text = if x.is_nan() { "nan" } else { "inf" };
        return if matches!(kind, Some('E' | 'F' | 'G')) {
            text.to_uppercase()
        } else {
            text.to_owned()
        };
    }
    let body = match kind {
        Some('f' | 'F') => fixed(x, precision.unwrap_or(6), alternate),
        Some('e' | 'E') => {
            let text = exponent(x, precision.unwrap_or(6), alternate);
            if kind == Some('E') {
                text.to_uppercase()
            } else {
                text
            }
        }
        Some('%') => format!("{}%", fixed(x * 100.0, precision.unwrap_or(6), alternate)),
        Some('g' | 'G' | 'n') => {
            let text = general(x, precision.unwrap_or(6), alternate, false);
            if kind == Some('G') {
                text.to_uppercase()
            } else {
                text
            }
        }
        _ => match precision {
            Some(p) => general(x, p, alternate, true),
            None => python_float_repr(x),
        },
    };
    match grouping {
        Some(sep) => {
            let end = body
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(body.len());
            format!("{}{}", group(&body[..end], Some(sep)), &body[end..])
        }
        None => body,
    }
}

fn fixed(x: f64, precision: usize, alternate: bool) -> String {
    let text = format!("{x:.precision$}");
    if alternate && precision == 0 {
        format!("{text}.")
    } else {
        text
    }
}

/// `1.500000e+00`: Rust's `{:e}` with Python's signed two-digit exponent.
fn exponent(x: f64, precision: usize, alternate: bool) -> String {
    let text = format!("{x:.precision$e}");
    let (mantissa, exp) = text.split_once('e').unwrap_or((&text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let dot = if alternate && precision == 0 { "." } else { "" };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}{dot}e{sign}{:02}", exp.abs())
}

/// Python's `g` type (and, with `repr_like`, the no-type form with a precision, which
/// keeps at least one digit after the point).
fn general(x: f64, precision: usize, alternate: bool, repr_like: bool) -> String {
    let p = precision.max(1);
    if x == 0.0 {
        return if repr_like { "0.0" } else { "0" }.to_owned();
    }
    let sci = format!("{:.*e}", p - 1, x);
    let exp: i64 = sci
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let p_i = i64::try_from(p).unwrap_or(i64::MAX);
    if (-4..p_i).contains(&exp) {
        let decimals = usize::try_from(p_i - 1 - exp).unwrap_or(0);
        let mut text = format!("{x:.decimals$}");
        if !alternate && text.contains('.') {
            text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
        }
        if repr_like && !text.contains('.') {
            text.push_str(".0");
        }
        text
    } else {
        let mut text = exponent(x, p - 1, alternate);
        if !alternate && let Some((mantissa, exp)) = text.split_once('e') {
            let mantissa = if mantissa.contains('.') {
                mantissa.trim_end_matches('0').trim_end_matches('.')
            } else {
                mantissa
            };
            text = format!("{mantissa}e{exp}");
        }
        text
    }
}

/// `1234567` → `1,234,567`.
fn group(digits: &str, sep: Option<char>) -> String {
    let Some(sep) = sep else {
        return digits.to_owned();
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Pads `sign + body` to the spec's width.
fn pad(s: &Spec, sign: &str, body: &str, default_align: char) -> String {
    let (fill, align) = if s.zero && s.align.is_none() {
        ('0', '=')
    } else {
        (s.fill.unwrap_or(' '), s.align.unwrap_or(default_align))
    };
    let len = sign.chars().count() + body.chars().count();
    if len >= s.width {
        return format!("{sign}{body}");
    }
    let n = s.width - len;
    let fill_n = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    match align {
        '<' => format!("{sign}{body}{}", fill_n(n)),
        '^' => format!("{}{sign}{body}{}", fill_n(n / 2), fill_n(n - n / 2)),
        '=' => {
            // Padding goes between the sign (and a 0x prefix) and the digits.
            let prefix_len = ["0x", "0X", "0o", "0b"]
                .iter()
                .find(|p| body.starts_with(*p))
                .map_or(0, |p| p.len());
            format!(
                "{sign}{}{}{}",
                &body[..prefix_len],
                fill_n(n),
                &body[prefix_len..]
            )
        }
        _ => format!("{}{sign}{body}", fill_n(n)),
    }
}

/// Python's `format % args`.
pub(crate) fn percent_format(format: &str, args: &Value) -> Result<String, PyError> {
    let (positional, mapping): (Vec<Value>, Option<&Value>) = match args {
        Value::Tuple(items) => (items.to_vec(), None),
        Value::Dict(_) => (vec![args.clone()], Some(args)),
        other => (vec![other.clone()], None),
    };
    let mut next = 0;
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let incomplete = || PyError::value_error("incomplete format");
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // %[(name)][flags][width][.precision]type
        let mut key = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some(')') => break,
                    Some(c) => name.push(c),
                    None => return Err(incomplete()),
                }
            }
            key = Some(name);
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.align = Some('<'),
                '0' => spec.zero = true,
                '+' => spec.sign = Some('+'),
                ' ' => {
                    if spec.sign.is_none() {
                        spec.sign = Some(' ');
                    }
                }
                '#' => spec.alternate = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        spec.width = width.parse().unwrap_or(0);
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut precision = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                precision.push(d);
                chars.next();
            }
            spec.precision = Some(precision.parse().unwrap_or(0));
        }
        let kind = chars.next().ok_or_else(incomplete)?;
        if kind == '%' && key.is_none() {
            out.push('%');
            continue;
        }
        let value = match (&key, mapping) {
            (Some(name), Some(Value::Dict(d))) => d
                .borrow()
                .get(&Value::str(name))
                .cloned()
                .ok_or_else(|| PyError::new("KeyError", super::value::str_repr(name)))?,
            (Some(_), _) => return Err(PyError::type_error("format requires a mapping")),
            (None, _) => {
                let v = positional
                    .get(next)
                    .cloned()
                    .ok_or_else(|| PyError::type_error("not enough arguments for format string"))?;
                next += 1;
                v
            }
        };
        if spec.align == Some('<') {
            spec.zero = false;
        }
        out.push_str(&percent_one(&value, kind, &mut spec)?);
    }
    if mapping.is_none() && next < positional.len() {
        return Err(PyError::type_error(
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

fn percent_one(value: &Value, kind: char, spec: &mut Spec) -> Result<String, PyError> {
    match kind {
        's' | 'r' | 'a' => {
            let text = if kind == 's' {
                value.to_str()
            } else {
                value.repr()
            };
            let text: String = match spec.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            spec.zero = false;
            Ok(pad(spec, "", &text, '>'))
        }
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'c' => {
            let n = match number(value) {
                Some(Num::Int(i)) => i,
                // `%d` truncates a float, as Python does.
                #[allow(clippy::cast_possible_truncation)]
                Some(Num::Float(f)) if f.is_finite() => f.trunc() as i64,
                _ => {
                    return Err(PyError::type_error(format!(
                        "%{kind} format: a real number is required, not {}",
                        value.type_name()
                    )));
                }
            };
            spec.kind = Some(match kind {
                'i' | 'u' => 'd',
                k => k,
            });
            let precision = spec.precision.take();
            let mut text = format_number(Num::Int(n), spec)?;
            if let Some(p) = precision {
                // `%.3d` pads the digits with zeros.
                let digits = text.trim_start_matches('-');
                if digits.len() < p {
                    let zeros = "0".repeat(p - digits.len());
                    text = if n < 0 {
                        format!("-{zeros}{digits}")
                    } else {
                        format!("{zeros}{digits}")
                    };
                }
            }
            Ok(text)
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let Some(n) = number(value) else {
                return Err(PyError::type_error(format!(
                    "must be real number, not {}",
                    value.type_name()
                )));
            };
            spec.kind = Some(kind);
            if spec.precision.is_none() {
                spec.precision = Some(6);
            }
            format_number(Num::Float(n.as_f64()), spec)
        }
        other => Err(PyError::value_error(format!(
            "unsupported format character '{other}'"
        ))),
    }
}

/// Python's `format.format(*args, **kwargs)`: `{}`, `{0}`, `{name}`, `{0[key]}`,
/// `{!r}`, `{:spec}` (with nested `{}` in the spec), `{{` and `}}`.
pub(crate) fn str_format(
    format: &str,
    args: &[Value],
    kwargs: &[(String, Value)],
) -> Result<String, PyError> {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut rest = format;
    while !rest.is_empty() {
        let Some(at) = rest.find(['{', '}']) else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at]);
        let brace = &rest[at..];
        if let Some(r) = brace.strip_prefix("{{") {
            out.push('{');
            rest = r;
            continue;
        }
        if let Some(r) = brace.strip_prefix("}}") {
            out.push('}');
            rest = r;
            continue;
        }
        if brace.starts_with('}') {
            return Err(PyError::value_error(
                "Single '}' encountered in format string",
            ));
        }
        // Find the matching `}`, allowing one level of nesting in the spec.
        let mut depth = 0;
        let mut end = None;
        for (i, c) in brace.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| PyError::value_error("expected '}' before end of string"))?;
        let field = &brace[1..end];
        rest = &brace[end + 1..];
        let (name_conv, spec) = match field.find(':') {
            Some(i) => (&field[..i], &field[i + 1..]),
            None => (field, ""),
        };
        let (name, conversion) = match name_conv.split_once('!') {
            Some((n, c)) => (n, Some(c)),
            None => (name_conv, None),
        };
        let value = field_value(name, args, kwargs, &mut auto)?;
        let value = match conversion {
            None => value,
            Some("s") => Value::str(&value.to_str()),
            Some("r" | "a") => Value::str(&value.repr()),
            Some(c) => {
                return Err(PyError::value_error(format!(
                    "Unknown conversion specifier {c}"
                )));
            }
        };
        let spec = if spec.contains('{') {
            str_format(spec, args, kwargs)?
        } else {
            spec.to_owned()
        };
        out.push_str(&format_value(&value, &spec)?);
    }
    Ok(out)
}

fn field_value(
    name: &str,
    args: &[Value],
    kwargs: &[(String, Value)],
    auto: &mut usize,
) -> Result<Value, PyError> {
    let head_end = name.find(['[', '.']).unwrap_or(name.len());
    let (head, mut tail) = name.split_at(head_end);
    let mut value = if head.is_empty() {
        let v = args.get(*auto).cloned().ok_or_else(|| {
            PyError::new(
                "IndexError",
                format!(
                    "Replacement index {} out of range for positional args tuple",
                    *auto
                ),
            )
        })?;
        *auto += 1;
        v
    } else if let Ok(i) = head.parse::<usize>() {
        args.get(i).cloned().ok_or_else(|| {
            PyError::new(
                "IndexError",
                format!("Replacement index {i} out of range for positional args tuple"),
            )
        })?
    } else {
        kwargs
            .iter()
            .find(|(k, _)| k == head)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| PyError::new("KeyError", super::value::str_repr(head)))?
    };
    while !tail.is_empty() {
        if tail.starts_with('.') {
            return Err(PyError::unsupported(
                "attribute access inside `str.format` fields is",
            ));
        }
        let close = tail
            .find(']')
            .ok_or_else(|| PyError::value_error("Missing ']' in format string"))?;
        let key = &tail[1..close];
        tail = &tail[close + 1..];
        let key = match key.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::str(key),
        };
        value = super::ops::subscript(&value, &key)?;
    }
    Ok(value)
}
