//! `script_params` and the argv the entry script receives, with the SDK's rules.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `script_params`: flag → value, in the order written.
pub type ScriptParams = Vec<(String, ParamValue)>;

/// A value of `script_params`. In JSON: `null`, a boolean, a number, a string, or a
/// [`DataReference`] object. `10` stays an [`Int`](ParamValue::Int) and `10.0` a
/// [`Float`](ParamValue::Float), as they would in Python.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// `None`: the pair is dropped.
    None,
    /// A boolean, printed as Python prints it (`True`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float, printed as Python's `repr` (`0.8`, `1e-05`).
    Float(f64),
    /// A string; `""` gives the bare flag.
    Str(String),
    /// A data reference, replaced by its path on the compute.
    Data(DataReference),
}

/// A reference to data in a datastore (`ds.as_mount()`, `ds.path('x').as_download()`).
///
/// JSON: `{"datastore": "workspaceblobstore", "path_on_datastore": "mnist",
/// "mode": "mount"}`; only `datastore` is required. The other keys are
/// `data_reference_name`, `path_on_compute` and `overwrite`, as in the SDK's
/// `DataReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataReference {
    /// Datastore name; not empty.
    pub datastore: String,
    /// Path inside the datastore (empty for its root); no `..` component.
    pub path_on_datastore: String,
    /// `mount` (the default), `download` or `upload`, in lower case.
    pub mode: String,
    /// The SDK's `data_reference_name`; [`DataReference::name`] falls back to the
    /// datastore name, as `Datastore.as_mount()` does.
    pub data_reference_name: Option<String>,
    /// Where the data should appear on the compute, when the user chose it.
    pub path_on_compute: Option<String>,
    /// For `upload`: whether to overwrite existing data.
    pub overwrite: bool,
}

/// The data reference modes, in the order messages list them.
pub const DATA_MODES: [&str; 3] = ["mount", "download", "upload"];

impl DataReference {
    /// A reference to `path_on_datastore` in `datastore`, mounted.
    pub fn new(datastore: &str, path_on_datastore: &str) -> Self {
        Self {
            datastore: datastore.to_owned(),
            path_on_datastore: path_on_datastore.to_owned(),
            mode: "mount".to_owned(),
            data_reference_name: None,
            path_on_compute: None,
            overwrite: false,
        }
    }

    /// The reference's name: `data_reference_name`, else the datastore name.
    pub fn name(&self) -> &str {
        self.data_reference_name
            .as_deref()
            .unwrap_or(&self.datastore)
    }
}

/// Reads the JSON form, checking keys and types; the value rules (a known `mode`, no
/// `..`) are [`Estimator::validate`](super::Estimator::validate)'s.
impl<'de> Deserialize<'de> for DataReference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let mut p = super::parse::Parser::default();
        match p.data_reference("data_reference", &value) {
            Some(r) if p.errors.is_empty() => Ok(r),
            _ => Err(serde::de::Error::custom(super::join_errors(&p.errors))),
        }
    }
}

/// Writes the JSON form that [`ParamValue`]'s `Deserialize` reads back.
impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ParamValue::None => s.serialize_none(),
            ParamValue::Bool(b) => s.serialize_bool(*b),
            ParamValue::Int(i) => s.serialize_i64(*i),
            // JSON has no NaN or infinity (serde_json would write `null`, which reads
            // back as None and drops the pair). Their Python repr as a string gives
            // the same argv, so write that.
            ParamValue::Float(f) if !f.is_finite() => s.serialize_str(&python_float_repr(*f)),
            ParamValue::Float(f) => s.serialize_f64(*f),
            ParamValue::Str(v) => s.serialize_str(v),
            ParamValue::Data(r) => r.serialize(s),
        }
    }
}

/// Reads the JSON form: `10` is an `Int`, `10.0` a `Float`, an object a data reference.
impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let mut p = super::parse::Parser::default();
        match p.param_value("script_params", &value) {
            Some(v) if p.errors.is_empty() => Ok(v),
            _ => Err(serde::de::Error::custom(super::join_errors(&p.errors))),
        }
    }
}

/// `script_params` → argv with the SDK's rules. `data_path` gives the path on the
/// compute of a data reference.
///
/// Each pair gives the flag as written then its value as a separate entry
/// (`--epochs`, `10`); a `""` value gives the bare flag; a `None` value drops the pair;
/// booleans print as `True`/`False`, floats as Python's `repr`, and a data reference
/// as `data_path(reference)`.
pub fn script_argv(
    params: &[(String, ParamValue)],
    data_path: &dyn Fn(&DataReference) -> String,
) -> Vec<String> {
    let mut argv = Vec::new();
    for (flag, value) in params {
        let value = match value {
            ParamValue::None => continue,
            ParamValue::Str(s) if s.is_empty() => {
                argv.push(flag.clone());
                continue;
            }
            ParamValue::Str(s) => s.clone(),
            ParamValue::Bool(b) => python_bool_repr(*b).to_owned(),
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(f) => python_float_repr(*f),
            ParamValue::Data(d) => data_path(d),
        };
        argv.push(flag.clone());
        argv.push(value);
    }
    argv
}

/// A boolean as Python prints it: `True`, `False`.
pub fn python_bool_repr(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A float as Python's `repr` (and `str`) prints it: the shortest digits that read
/// back to the same float, in positional notation when the decimal exponent is in
/// `-4..16` (`0.0001`, `1.0`, `1000000000000000.0`) and in scientific notation
/// otherwise, with a signed exponent of at least two digits (`1e-05`, `1e+16`,
/// `1.5e+300`); `inf`, `-inf`, `nan`.
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr, in the
    // layout `d.ddde-5`; only the layout has to change.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        let (int, frac) = if exponent >= 0 {
            let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
            if digits.len() > int_len {
                let (int, frac) = digits.split_at(int_len);
                (int.to_owned(), frac.to_owned())
            } else {
                (format!("{digits:0<int_len$}"), "0".to_owned())
            }
        } else {
            let zeros = usize::try_from(-exponent - 1).unwrap_or(0);
            ("0".to_owned(), format!("{}{digits}", "0".repeat(zeros)))
        };
        format!("{sign}{int}.{frac}")
    } else {
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.abs())
    }
}

/// Expands `$NAME` and `${NAME}` in `text` with `lookup`, as a shell would for one
/// word, so that script parameters such as `'$AZ_BATCHAI_PYTORCH_INIT_METHOD'` reach
/// the script expanded (the SDK ran them through a shell). Unknown names and a lone
/// `$` are kept as written.
pub fn expand_vars(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        let valid = !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit());
        match lookup(name).filter(|_| valid) {
            Some(value) => {
                out.push_str(&value);
                rest = &after[len..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod expand_tests {
    use super::expand_vars;

    fn check(text: &str, expect: &str) {
        let lookup = |k: &str| match k {
            "INIT" => Some("tcp://10.0.0.4:6105".to_owned()),
            "RANK" => Some("3".to_owned()),
            _ => None,
        };
        assert_eq!(expand_vars(text, &lookup), expect, "{text:?}");
    }

    #[test]
    fn variables_expand_like_a_shell_word() {
        check("$INIT", "tcp://10.0.0.4:6105");
        check("${INIT}", "tcp://10.0.0.4:6105");
        check("rank-$RANK.log", "rank-3.log");
        check("${RANK}x", "3x");
        check("$RANKx", "$RANKx");
        check("$UNKNOWN", "$UNKNOWN");
        check("cost: 5$", "cost: 5$");
        check("$", "$");
        check("${INIT", "${INIT");
        check("$1", "$1");
        check("no variables", "no variables");
    }
}
