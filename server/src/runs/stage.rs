//! What a submission checks and unpacks before anything is created: the compute
//! target, the source snapshot (sent, or packed from the files area), the
//! environment and the entry script. A staged snapshot sits in `<data>/incoming/`
//! and disappears when dropped; [`Staged::place`] moves it under the new run.

use std::path::{Path, PathBuf};

use runboard_shared::environment::env_spec;
use runboard_shared::estimator::{Estimator, FieldError};
use runboard_shared::run::RunId;

use super::RunError;
use super::definition::Environment;
use crate::runner::Runner;
use crate::snapshot;

/// The compute target an estimator names (`local` when none), or the field error
/// saying which targets exist.
pub fn target(runner: &Runner, estimator: &Estimator) -> Result<String, FieldError> {
    let target = estimator
        .compute_target
        .clone()
        .unwrap_or_else(|| "local".to_owned());
    if runner.target(&target).is_err() {
        return Err(FieldError::new(
            "compute_target",
            format!(
                "unknown compute target '{target}'; this server has: {}",
                runner.target_names().join(", ")
            ),
        ));
    }
    Ok(target)
}

/// A source snapshot unpacked aside and checked.
#[derive(Debug)]
pub struct Staged {
    incoming: tempfile::TempDir,
    /// The run's environment; `None` for a `user_managed` run.
    pub environment: Option<Environment>,
    /// The interpreter the run's job starts.
    pub python: String,
}

/// Unpacks `archive` (or, without one, the files-area folder the estimator's
/// `source_directory` names) aside, and checks the environment and the entry script.
pub async fn stage(
    runner: &Runner,
    estimator: &Estimator,
    archive: Option<bytes::Bytes>,
) -> Result<Staged, RunError> {
    let archive = match archive {
        Some(archive) => archive,
        None => pack_from_files_area(runner, &estimator.source_directory).await?,
    };
    // Unpack into a temporary folder that disappears on any error below.
    let incoming_root = runner.config.data_dir.join("incoming");
    std::fs::create_dir_all(&incoming_root).map_err(RunError::internal)?;
    let incoming = tempfile::TempDir::new_in(&incoming_root).map_err(RunError::internal)?;
    let limit = runner.config.max_snapshot_bytes;
    let dst = incoming.path().to_owned();
    tokio::task::spawn_blocking(move || snapshot::unpack(archive.as_ref(), &dst, limit))
        .await
        .map_err(RunError::internal)??;
    let environment = environment_for(runner, estimator, incoming.path())
        .map_err(|e| RunError::Environment(vec![e]))?;
    let entry = incoming.path().join(&estimator.entry_script);
    if !snapshot::is_inside(Path::new(&estimator.entry_script)) || !entry.is_file() {
        return Err(RunError::Fields(vec![FieldError::new(
            "entry_script",
            format!(
                "'{}' is not a file inside source_directory '{}'",
                estimator.entry_script, estimator.source_directory
            ),
        )]));
    }
    let python = match &environment {
        Some(environment) => runner
            .envs
            .root
            .join(&environment.hash)
            .join("bin/python")
            .display()
            .to_string(),
        None => runner.config.python.clone(),
    };
    Ok(Staged {
        incoming,
        environment,
        python,
    })
}

impl Staged {
    /// Makes the new run's folder, closed to jobs ([`crate::jobuser::create_run_dir`]),
    /// and moves the snapshot in as its `snapshot/`; on failure, neither is left
    /// behind. Returns the folder.
    pub fn place(self, runner: &Runner, run_id: &RunId) -> Result<PathBuf, RunError> {
        let run_dir = runner.run_dir(run_id);
        crate::jobuser::create_run_dir(&run_dir, "").map_err(RunError::internal)?;
        let keep = self.incoming.keep();
        if let Err(e) = std::fs::rename(&keep, run_dir.join("snapshot")) {
            let _ = std::fs::remove_dir_all(&keep);
            let _ = std::fs::remove_dir_all(&run_dir);
            return Err(RunError::internal(e));
        }
        Ok(run_dir)
    }
}

/// A submission without a snapshot (the browser's notebook): packs the files-area
/// folder `source_directory` names, as the CLI packs a local one.
async fn pack_from_files_area(
    runner: &Runner,
    source_directory: &str,
) -> Result<bytes::Bytes, RunError> {
    let missing = || RunError::Invalid {
        code: "invalid_multipart",
        message: format!(
            "multipart field 'snapshot' (a tar.gz of source_directory) is missing, and source_directory '{source_directory}' is not a folder of the server's files area"
        ),
    };
    let relative = Path::new(source_directory);
    // A named folder only: the area's root holds every notebook and project.
    let named = relative
        .components()
        .any(|c| matches!(c, std::path::Component::Normal(_)));
    if source_directory.starts_with('/') || !snapshot::is_inside(relative) || !named {
        return Err(missing());
    }
    let folder = crate::files::folder(
        &crate::files::root(&runner.config.data_dir),
        source_directory,
    )
    .map_err(|e| match e {
        crate::files::FilesError::Io(e) => RunError::internal(e),
        _ => missing(),
    })?;
    let limit = runner.config.max_snapshot_bytes;
    let archive = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        snapshot::pack(&folder, limit, &mut out).map(|()| out)
    })
    .await
    .map_err(RunError::internal)??;
    Ok(archive.into())
}

/// The run's environment, checked at submit time so that a bad request changes
/// nothing; `None` for a `user_managed` run.
fn environment_for(
    runner: &Runner,
    estimator: &Estimator,
    snapshot_dir: &Path,
) -> Result<Option<Environment>, FieldError> {
    if let Some(image) = &estimator.custom_docker_image
        && !runner.docker
    {
        return Err(FieldError::new(
            "custom_docker_image",
            format!(
                "'{image}' cannot run: this compute target has no Docker engine (`docker info` failed); \
                 leave custom_docker_image unset to run in a virtual environment"
            ),
        ));
    }
    let read = |field: &str, path: &Option<String>| -> Result<Option<String>, FieldError> {
        let Some(path) = path else { return Ok(None) };
        let file = snapshot_dir.join(path);
        if !snapshot::is_inside(Path::new(path)) || !file.is_file() {
            return Err(FieldError::new(
                field,
                format!(
                    "'{path}' is not a file inside source_directory '{}'",
                    estimator.source_directory
                ),
            ));
        }
        std::fs::read_to_string(&file)
            .map(Some)
            .map_err(|e| FieldError::new(field, format!("'{path}' is not readable text: {e}")))
    };
    let requirements = read("pip_requirements_file", &estimator.pip_requirements_file)?;
    let conda_file = read(
        "conda_dependencies_file",
        &estimator.conda_dependencies_file,
    )?;
    let spec = env_spec(
        estimator,
        requirements.as_deref(),
        conda_file.as_deref(),
        runner.envs.conda_mode(),
    )?;
    Ok(spec.map(|spec| Environment {
        hash: runner.envs.hash(&spec),
        spec,
    }))
}
