//! The SDK v1 `Estimator`: what a run is asked to do, its validation, and its
//! `script_params` → argv rules.
//!
//! FIXME(helper): this is the interface the server codes against; the full parameter
//! checks, presets and tests are being written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One field's error. Validation returns every field error at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field, with the SDK's name (`entry_script`, `script_params['--lr']`).
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

/// A value of `script_params`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataReference {
    /// Datastore name.
    pub datastore: String,
    /// Path inside the datastore (empty for its root).
    #[serde(default)]
    pub path_on_datastore: String,
    /// `mount` or `download`.
    #[serde(default = "default_mode")]
    pub mode: String,
}

fn default_mode() -> String {
    "mount".to_owned()
}

/// `script_params`: flag → value, in the order written.
pub type ScriptParams = Vec<(String, ParamValue)>;

/// The SDK v1 `Estimator` (and the presets' extra fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimator {
    /// Local folder holding the training code.
    pub source_directory: String,
    /// Compute target name; `local` by default.
    pub compute_target: Option<String>,
    /// Script to run, relative to `source_directory`.
    pub entry_script: String,
    /// Arguments for the entry script, in order.
    #[serde(default, with = "ordered_params")]
    pub script_params: ScriptParams,
    /// Environment variables set for the script.
    #[serde(default)]
    pub environment_variables: BTreeMap<String, String>,
    /// Maximum duration in seconds.
    pub max_run_duration_seconds: Option<u64>,
}

impl Estimator {
    /// Parses the JSON form, returning every field error at once.
    pub fn from_json(text: &str) -> Result<Self, Vec<FieldError>> {
        serde_json::from_str(text).map_err(|e| {
            vec![FieldError {
                field: "estimator".into(),
                message: e.to_string(),
            }]
        })
    }
}

/// `script_params` → argv with the SDK's rules. `data_path` gives the path on the
/// compute of a data reference.
pub fn script_argv(params: &[(String, ParamValue)], data_path: &dyn Fn(&DataReference) -> String) -> Vec<String> {
    let mut argv = Vec::new();
    for (flag, value) in params {
        match value {
            ParamValue::None => {}
            ParamValue::Str(s) if s.is_empty() => argv.push(flag.clone()),
            ParamValue::Str(s) => argv.extend([flag.clone(), s.clone()]),
            ParamValue::Bool(b) => argv.extend([flag.clone(), if *b { "True" } else { "False" }.into()]),
            ParamValue::Int(i) => argv.extend([flag.clone(), i.to_string()]),
            ParamValue::Float(f) => argv.extend([flag.clone(), f.to_string()]),
            ParamValue::Data(d) => argv.extend([flag.clone(), data_path(d)]),
        }
    }
    argv
}

mod ordered_params {
    use super::ParamValue;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeMap};

    pub fn serialize<S: Serializer>(params: &[(String, ParamValue)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(params.len()))?;
        for (k, v) in params {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, ParamValue)>, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        map.into_iter()
            .map(|(k, v)| Ok((k, serde_json::from_value(v).map_err(serde::de::Error::custom)?)))
            .collect()
    }

}
