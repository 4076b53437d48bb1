//! The framework presets (`SKLearn`, `PyTorch`, `TensorFlow`, `Chainer`) as data, and
//! the distributed-training vocabulary they are checked against.
//!
//! A preset is a plain [`Estimator`](super::Estimator) with `"framework"` set: the
//! table [`PRESETS`] says what each one adds (its pip package) and what it allows
//! (distributed backends, several nodes, GPUs), following the SDK v1 classes
//! `azureml.train.sklearn.SKLearn` and `azureml.train.dnn.{PyTorch,TensorFlow,Chainer}`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A framework preset. In JSON: `"framework": "PyTorch"` (matched case-insensitively);
/// no `framework` (or `null`) is the plain `Estimator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// `azureml.train.sklearn.SKLearn`: one node, one process, no GPU.
    SKLearn,
    /// `azureml.train.dnn.PyTorch`.
    PyTorch,
    /// `azureml.train.dnn.TensorFlow`.
    TensorFlow,
    /// `azureml.train.dnn.Chainer`.
    Chainer,
}

/// What a preset adds and allows: one row of [`PRESETS`] (or [`PLAIN_ESTIMATOR`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The preset, `None` for the plain `Estimator`.
    pub framework: Option<Framework>,
    /// The SDK class name (`PyTorch`), used in messages.
    pub name: &'static str,
    /// The pip package the preset installs (`torch`), pinned to `framework_version`.
    pub pip_package: Option<&'static str>,
    /// The values `distributed_backend` may take (the SDK's `_SUPPORTED_BACKENDS`).
    pub backends: &'static [Backend],
    /// The kinds of `distributed_training` it accepts (the SDK's `_supported_frameworks`
    /// of `Mpi`, `ParameterServer`, `Gloo` and `Nccl`, read the other way round).
    pub distributed_training: &'static [Backend],
    /// Whether it may run on more than one node, or more than one process per node.
    pub multi_process: bool,
    /// Whether it accepts `use_gpu = true`.
    pub gpu: bool,
    /// Whether it takes the top-level `worker_count` and `parameter_server_count`
    /// (only `TensorFlow`, for `distributed_backend = "ps"`).
    pub parameter_server_counts: bool,
}

/// The plain `Estimator`: no package added; `distributed_backend` may only be `mpi`, but
/// `distributed_training` may be any of the four kinds, as in the SDK.
pub const PLAIN_ESTIMATOR: Preset = Preset {
    framework: None,
    name: "Estimator",
    pip_package: None,
    backends: &[Backend::Mpi],
    distributed_training: &[
        Backend::Mpi,
        Backend::Gloo,
        Backend::Nccl,
        Backend::ParameterServer,
    ],
    multi_process: true,
    gpu: true,
    parameter_server_counts: false,
};

/// The presets, in the order of [`Framework`].
pub const PRESETS: [Preset; 4] = [
    Preset {
        framework: Some(Framework::SKLearn),
        name: "SKLearn",
        pip_package: Some("scikit-learn"),
        backends: &[],
        distributed_training: &[],
        multi_process: false,
        gpu: false,
        parameter_server_counts: false,
    },
    Preset {
        framework: Some(Framework::PyTorch),
        name: "PyTorch",
        pip_package: Some("torch"),
        backends: &[Backend::Mpi, Backend::Gloo, Backend::Nccl],
        distributed_training: &[Backend::Mpi, Backend::Gloo, Backend::Nccl],
        multi_process: true,
        gpu: true,
        parameter_server_counts: false,
    },
    Preset {
        framework: Some(Framework::TensorFlow),
        name: "TensorFlow",
        pip_package: Some("tensorflow"),
        backends: &[Backend::Mpi, Backend::ParameterServer],
        distributed_training: &[Backend::Mpi, Backend::ParameterServer],
        multi_process: true,
        gpu: true,
        parameter_server_counts: true,
    },
    Preset {
        framework: Some(Framework::Chainer),
        name: "Chainer",
        pip_package: Some("chainer"),
        backends: &[Backend::Mpi],
        distributed_training: &[Backend::Mpi],
        multi_process: true,
        gpu: true,
        parameter_server_counts: false,
    },
];

impl Framework {
    /// Every preset, in table order.
    pub const ALL: [Framework; 4] = [
        Framework::SKLearn,
        Framework::PyTorch,
        Framework::TensorFlow,
        Framework::Chainer,
    ];

    /// The preset's row of [`PRESETS`].
    pub fn preset(self) -> &'static Preset {
        match self {
            Framework::SKLearn => &PRESETS[0],
            Framework::PyTorch => &PRESETS[1],
            Framework::TensorFlow => &PRESETS[2],
            Framework::Chainer => &PRESETS[3],
        }
    }

    /// The SDK class name (`SKLearn`), which is also the JSON value.
    pub fn name(self) -> &'static str {
        self.preset().name
    }
}

impl Preset {
    /// The row for `framework` (`None`: the plain `Estimator`).
    pub fn of(framework: Option<Framework>) -> &'static Preset {
        match framework {
            Some(f) => f.preset(),
            None => &PLAIN_ESTIMATOR,
        }
    }

    /// The packages the preset itself installs, pinned with `==version` when a version
    /// is given: `torch==1.6`, or `torch` unpinned. Empty for the plain `Estimator`.
    ///
    /// [`Estimator::framework_packages`](super::Estimator::framework_packages) applies
    /// the SDK's rules on top of this (user packages win, `user_managed` installs none).
    pub fn packages(&self, version: Option<&str>) -> Vec<String> {
        self.pip_package
            .map(|package| match version {
                Some(v) => format!("{package}=={v}"),
                None => package.to_owned(),
            })
            .into_iter()
            .collect()
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a string names no framework.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not one of SKLearn, PyTorch, TensorFlow, Chainer")]
pub struct UnknownFramework(pub String);

impl FromStr for Framework {
    type Err = UnknownFramework;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Framework::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFramework(s.to_owned()))
    }
}

impl Serialize for Framework {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Framework {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A distributed-training backend. In JSON (`distributed_backend`): `"mpi"`, `"gloo"`,
/// `"nccl"` or `"ps"`, matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// MPI (Horovod, `mpirun`): `"mpi"`.
    Mpi,
    /// PyTorch's Gloo: `"gloo"`.
    Gloo,
    /// PyTorch's NCCL: `"nccl"`.
    Nccl,
    /// TensorFlow's parameter server: `"ps"`.
    ParameterServer,
}

impl Backend {
    /// Every backend, in the order messages list them.
    pub const ALL: [Backend; 4] = [
        Backend::Mpi,
        Backend::Gloo,
        Backend::Nccl,
        Backend::ParameterServer,
    ];

    /// The `distributed_backend` string: `mpi`, `gloo`, `nccl`, `ps`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Mpi => "mpi",
            Backend::Gloo => "gloo",
            Backend::Nccl => "nccl",
            Backend::ParameterServer => "ps",
        }
    }

    /// The SDK class of the matching `distributed_training` object: `Mpi`, `Gloo`,
    /// `Nccl`, `ParameterServer`.
    pub fn class_name(self) -> &'static str {
        match self {
            Backend::Mpi => "Mpi",
            Backend::Gloo => "Gloo",
            Backend::Nccl => "Nccl",
            Backend::ParameterServer => "ParameterServer",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string names no backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not one of mpi, gloo, nccl, ps")]
pub struct UnknownBackend(pub String);

impl FromStr for Backend {
    type Err = UnknownBackend;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Backend::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownBackend(s.to_owned()))
    }
}

impl Serialize for Backend {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Backend {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The SDK's `distributed_training` objects (`Mpi(process_count_per_node=2)`,
/// `ParameterServer(worker_count=2, parameter_server_count=1)`, `Gloo()`, `Nccl()`).
///
/// In JSON, an object tagged by `type` (the SDK class name, matched case-insensitively);
/// omitted counts default to 1, as in the SDK:
///
/// ```json
/// {"type": "Mpi", "process_count_per_node": 2}
/// {"type": "Gloo"}
/// {"type": "Nccl"}
/// {"type": "ParameterServer", "worker_count": 2, "parameter_server_count": 1}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum DistributedTraining {
    /// MPI with this many processes on each node.
    Mpi {
        /// Processes per node; at least 1.
        process_count_per_node: u32,
    },
    /// PyTorch over Gloo.
    Gloo,
    /// PyTorch over NCCL.
    Nccl,
    /// TensorFlow's parameter-server strategy.
    ParameterServer {
        /// Worker tasks; at least 1.
        worker_count: u32,
        /// Parameter-server tasks; at least 1.
        parameter_server_count: u32,
    },
}

impl DistributedTraining {
    /// The backend this object selects.
    pub fn backend(&self) -> Backend {
        match self {
            DistributedTraining::Mpi { .. } => Backend::Mpi,
            DistributedTraining::Gloo => Backend::Gloo,
            DistributedTraining::Nccl => Backend::Nccl,
            DistributedTraining::ParameterServer { .. } => Backend::ParameterServer,
        }
    }
}

/// Reads the JSON form, checking keys and types; counts of 0 are left to
/// [`Estimator::validate`](super::Estimator::validate).
impl<'de> Deserialize<'de> for DistributedTraining {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let mut p = super::parse::Parser::default();
        match p.distributed_training("distributed_training", &value) {
            Some(dt) if p.errors.is_empty() => Ok(dt),
            _ => Err(serde::de::Error::custom(super::join_errors(&p.errors))),
        }
    }
}
