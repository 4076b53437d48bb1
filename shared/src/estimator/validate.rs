//! The rules an [`Estimator`]'s values must follow: the SDK's own checks (from
//! `azureml.train._estimator_helper` and the preset classes) plus the ones Runboard
//! needs to run the job safely (paths stay inside `source_directory`, environment
//! variable names are valid).

use super::argv::{DATA_MODES, DataReference, ParamValue};
use super::preset::{Backend, DistributedTraining, Preset};
use super::{Estimator, FieldError};
use crate::grammar;

/// A preset that allows everything: the rules used when `framework` could not be read,
/// so that its error is not followed by guesses about the preset meant.
const ANY_PRESET: Preset = Preset {
    framework: None,
    name: "Estimator",
    pip_package: None,
    backends: &Backend::ALL,
    distributed_training: &Backend::ALL,
    multi_process: true,
    gpu: true,
    parameter_server_counts: true,
};

/// The values `vm_priority` may take.
const VM_PRIORITIES: [&str; 2] = ["dedicated", "lowpriority"];

/// Appends every rule broken by `e` to `errors`, in field order. With
/// `check_preset == false` the preset's rules are skipped (used when `framework`
/// itself could not be read, so its rules would be guesses).
pub(crate) fn validate(e: &Estimator, check_preset: bool, errors: &mut Vec<FieldError>) {
    let mut err = |field: &str, message: String| errors.push(FieldError::new(field, message));
    let preset = if check_preset {
        Preset::of(e.framework)
    } else {
        &ANY_PRESET
    };
    let name = preset.name;

    match (&e.framework_version, e.framework) {
        (Some(_), None) if check_preset => err(
            "framework_version",
            "only a framework preset takes a version; set framework to SKLearn, PyTorch, \
             TensorFlow or Chainer"
                .to_owned(),
        ),
        (Some(v), _) if !is_version(v) => err(
            "framework_version",
            format!("'{v}' is not a version like 1.6 or 0.20.3"),
        ),
        _ => {}
    }

    if e.source_directory.is_empty() {
        err("source_directory", "must not be empty".to_owned());
    }
    if e.compute_target.as_deref() == Some("") {
        err("compute_target", "must not be empty when given".to_owned());
    }
    if let Some(p) = &e.vm_priority
        && !VM_PRIORITIES.contains(&p.as_str())
    {
        err(
            "vm_priority",
            format!("'{p}' is not one of {}", VM_PRIORITIES.join(", ")),
        );
    }
    if let Some(problem) = relative_path_problem(&e.entry_script) {
        err("entry_script", problem);
    }

    for (flag, value) in &e.script_params {
        let field = format!("script_params['{flag}']");
        if flag.is_empty() {
            err(&field, "a flag must not be empty".to_owned());
        }
        if let ParamValue::Data(d) = value {
            data_reference(&field, d, &mut err);
        }
    }

    // Distribution.
    for (field, count) in [
        ("node_count", e.node_count),
        ("process_count_per_node", e.process_count_per_node),
    ] {
        if count == 0 {
            err(field, format!("must be at least 1, got {count}"));
        } else if count > 1 && !preset.multi_process {
            err(
                field,
                format!("{name} does not support {field} > 1, got {count}"),
            );
        }
    }
    for (field, count) in [
        ("worker_count", e.worker_count),
        ("parameter_server_count", e.parameter_server_count),
    ] {
        match count {
            None => {}
            Some(_) if !preset.parameter_server_counts => err(
                field,
                format!("{name} does not take {field}; only the TensorFlow preset does"),
            ),
            Some(0) => err(field, "must be at least 1, got 0".to_owned()),
            Some(_) => {}
        }
    }
    if let Some(backend) = e.distributed_backend
        && !preset.backends.contains(&backend)
    {
        err(
            "distributed_backend",
            unsupported(
                name,
                &format!("'{backend}'"),
                preset.backends,
                Backend::as_str,
            ),
        );
    }
    if let Some(training) = &e.distributed_training {
        let kind = training.backend();
        if !preset.distributed_training.contains(&kind) {
            err(
                "distributed_training",
                unsupported(
                    name,
                    kind.class_name(),
                    preset.distributed_training,
                    Backend::class_name,
                ),
            );
        }
        distributed_training(e, training, &mut err);
    }
    let distributed = e.distributed_backend.is_some() || e.distributed_training.is_some();
    if !distributed && preset.multi_process && (e.node_count > 1 || e.process_count_per_node > 1) {
        err(
            "distributed_backend",
            "is required when node_count or process_count_per_node > 1: set \
             distributed_backend or distributed_training"
                .to_owned(),
        );
    }

    // Environment.
    if e.use_gpu && !preset.gpu {
        err("use_gpu", format!("{name} does not support GPUs"));
    }
    match &e.custom_docker_image {
        Some(image) if image.is_empty() => {
            err(
                "custom_docker_image",
                "must not be empty when given".to_owned(),
            );
        }
        Some(image) if let Some(p) = grammar::docker_image_problem(image) => {
            err("custom_docker_image", p);
        }
        Some(_) if !e.use_docker => err(
            "custom_docker_image",
            "is not allowed when use_docker is false".to_owned(),
        ),
        _ => {}
    }
    let given = |names: &[(&'static str, bool)]| -> Vec<&'static str> {
        names.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect()
    };
    if e.user_managed {
        let found = given(&[
            ("conda_packages", !e.conda_packages.is_empty()),
            ("pip_packages", !e.pip_packages.is_empty()),
            (
                "conda_dependencies_file",
                e.conda_dependencies_file.is_some(),
            ),
            ("pip_requirements_file", e.pip_requirements_file.is_some()),
        ]);
        if !found.is_empty() {
            err(
                "user_managed",
                format!(
                    "a user-managed environment installs nothing, so {} must not be given",
                    found.join(" and ")
                ),
            );
        }
    }
    for (field, list) in [
        ("conda_packages", &e.conda_packages),
        ("pip_packages", &e.pip_packages),
    ] {
        let problem = if field == "pip_packages" {
            grammar::pip_requirement_problem
        } else {
            grammar::conda_spec_problem
        };
        for (i, package) in list.iter().enumerate() {
            if let Some(p) = problem(package) {
                err(&format!("{field}[{i}]"), p);
            }
        }
    }
    if let Some(file) = &e.conda_dependencies_file {
        if let Some(problem) = relative_path_problem(file) {
            err("conda_dependencies_file", problem);
        }
        let found = given(&[
            ("conda_packages", !e.conda_packages.is_empty()),
            ("pip_packages", !e.pip_packages.is_empty()),
            ("pip_requirements_file", e.pip_requirements_file.is_some()),
        ]);
        if !found.is_empty() {
            err(
                "conda_dependencies_file",
                format!(
                    "cannot be combined with {}: the conda file lists every package",
                    found.join(" and ")
                ),
            );
        }
    }
    if let Some(file) = &e.pip_requirements_file
        && let Some(problem) = relative_path_problem(file)
    {
        err("pip_requirements_file", problem);
    }
    for (key, value) in &e.environment_variables {
        let field = format!("environment_variables['{key}']");
        if !is_env_name(key) {
            err(
                &field,
                format!(
                    "'{key}' is not a valid environment variable name (letters, digits and \
                     '_', not starting with a digit)"
                ),
            );
        }
        if value.contains('\0') {
            err(&field, "must not contain a NUL character".to_owned());
        }
    }
    for (i, input) in e.inputs.iter().enumerate() {
        data_reference(&format!("inputs[{i}]"), input, &mut err);
    }
    if let Some(size) = &e.shm_size
        && !is_shm_size(size)
    {
        err(
            "shm_size",
            format!("'{size}' is not a size like 2g, 512m or 1024 (digits, then b, k, m or g)"),
        );
    }
    if e.max_run_duration_seconds == Some(0) {
        err(
            "max_run_duration_seconds",
            "must be positive, got 0".to_owned(),
        );
    }
}

fn distributed_training(
    e: &Estimator,
    training: &DistributedTraining,
    err: &mut impl FnMut(&str, String),
) {
    let counts: &[(&str, u32, Option<u32>)] = match training {
        DistributedTraining::Mpi {
            process_count_per_node,
        } => &[(
            "process_count_per_node",
            *process_count_per_node,
            (e.process_count_per_node != 1).then_some(e.process_count_per_node),
        )],
        DistributedTraining::Gloo | DistributedTraining::Nccl => &[],
        DistributedTraining::ParameterServer {
            worker_count,
            parameter_server_count,
        } => &[
            ("worker_count", *worker_count, e.worker_count),
            (
                "parameter_server_count",
                *parameter_server_count,
                e.parameter_server_count,
            ),
        ],
    };
    for &(key, inner, top_level) in counts {
        if inner == 0 {
            err(
                &format!("distributed_training.{key}"),
                "must be at least 1, got 0".to_owned(),
            );
        }
        // The SDK lets the object win silently; two different numbers for one setting
        // are more likely a mistake, so say so.
        if let Some(top) = top_level
            && top != inner
        {
            err(
                key,
                format!(
                    "{top} conflicts with distributed_training.{key} {inner}; give it only in \
                     distributed_training"
                ),
            );
        }
    }
    if let Some(backend) = e.distributed_backend
        && backend != training.backend()
    {
        err(
            "distributed_training",
            format!(
                "{} conflicts with distributed_backend '{backend}'; give only \
                 distributed_training",
                training.backend().class_name()
            ),
        );
    }
}

fn data_reference(field: &str, d: &DataReference, err: &mut impl FnMut(&str, String)) {
    if d.datastore.is_empty() {
        err(
            &format!("{field}.datastore"),
            "must not be empty".to_owned(),
        );
    }
    if has_parent_component(&d.path_on_datastore) {
        err(
            &format!("{field}.path_on_datastore"),
            format!("must not go up with '..', got '{}'", d.path_on_datastore),
        );
    }
    if !DATA_MODES.contains(&d.mode.as_str()) {
        err(
            &format!("{field}.mode"),
            format!("'{}' is not one of {}", d.mode, DATA_MODES.join(", ")),
        );
    }
    if d.data_reference_name.as_deref() == Some("") {
        err(
            &format!("{field}.data_reference_name"),
            "must not be empty when given".to_owned(),
        );
    }
}

/// "PyTorch does not support 'ps'; it supports mpi, gloo, nccl".
fn unsupported(
    preset: &str,
    what: &str,
    allowed: &[Backend],
    show: fn(Backend) -> &'static str,
) -> String {
    if allowed.is_empty() {
        format!("{preset} does not support distributed training")
    } else {
        let allowed: Vec<&str> = allowed.iter().map(|b| show(*b)).collect();
        format!(
            "{preset} does not support {what}; it supports {}",
            allowed.join(", ")
        )
    }
}

/// Why `path` is not a relative path inside the source directory, if it is not.
fn relative_path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("must not be empty".to_owned());
    }
    let bytes = path.as_bytes();
    let absolute = path.starts_with(['/', '\\'])
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':');
    (absolute || has_parent_component(path))
        .then(|| format!("must be a relative path inside source_directory, got '{path}'"))
}

/// Whether `path` has a `..` component (with `/` or `\` as separators).
fn has_parent_component(path: &str) -> bool {
    path.split(['/', '\\']).any(|c| c == "..")
}

/// `^[A-Za-z_][A-Za-z0-9_]*$`, the names a POSIX shell can set.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `^\d+[bkmg]?$`, case-insensitively: Docker's `--shm-size`.
fn is_shm_size(size: &str) -> bool {
    let digits = size.trim_end_matches(|c: char| "bkmgBKMG".contains(c));
    let unit_len = size.len() - digits.len();
    unit_len <= 1 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A version as pip pins it: starts with a digit, then digits, letters and `.+!*_-`.
fn is_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+!*_-".contains(c))
}
