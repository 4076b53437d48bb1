//! The model registry's files: a version is the folder `<data>/models/<name>/<version>/`
//! holding a copy of what was registered (a run's file or folder, or uploaded files),
//! so that deleting the run never breaks the model. Copies are made into
//! `<data>/models/.incoming/` first and moved into place only once the store has given
//! the version its number; any failure removes both.

use std::path::{Component, Path, PathBuf};

use runboard_shared::api::RunFile;

/// What can go wrong registering or reading a model's files.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The name breaks the naming rule.
    #[error(
        "model name {0:?} is not valid: use 1 to 255 letters, digits, '-', '_' or '.', starting with a letter or digit"
    )]
    BadName(String),
    /// The path to register is not a run file or folder under `outputs/` or `logs/`.
    #[error("{0}")]
    BadPath(String),
    /// Nothing at the path.
    #[error("no file or folder '{0}' in run {1}")]
    Missing(String, String),
    /// A link, a FIFO or a device where a file was expected.
    #[error("'{0}' is not a regular file or folder; models hold only regular files")]
    NotRegular(String),
    /// Reading or writing files failed.
    #[error("model files: {0}")]
    Io(#[from] std::io::Error),
}

type Result<T, E = ModelError> = std::result::Result<T, E>;

/// The folder of every model.
pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// The folder of one version.
pub fn version_dir(data_dir: &Path, name: &str, version: u32) -> PathBuf {
    root(data_dir).join(name).join(version.to_string())
}

/// Azure ML's model name rule: 1–255 of letters, digits, `-`, `_`, `.`, starting with a
/// letter or digit.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ModelError::BadName(name.to_owned()))
    }
}

/// The relative path's normal parts, refusing `..`, absolute paths and empty ones.
fn parts(path: &str) -> Option<Vec<String>> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.starts_with('/') {
        return None;
    }
    let mut out = Vec::new();
    for c in Path::new(trimmed).components() {
        match c {
            Component::Normal(p) => out.push(p.to_str()?.to_owned()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A new staging folder under `<data>/models/.incoming/`.
pub fn staging(data_dir: &Path) -> Result<tempfile::TempDir> {
    let incoming = root(data_dir).join(".incoming");
    std::fs::create_dir_all(&incoming)?;
    Ok(tempfile::tempdir_in(incoming)?)
}

/// Copies the run's `outputs/…` or `logs/…` file or folder `path` (in `run_dir`'s
/// working folder) into `stage`, under its own name; returns that name. Links, FIFOs
/// and devices are refused, so nothing outside the run is ever read.
pub fn copy_from_run(run_dir: &Path, run_id: &str, path: &str, stage: &Path) -> Result<String> {
    let bad = || {
        ModelError::BadPath(format!(
            "path '{path}' is not a file or folder of the run: give one under outputs/ or logs/, such as outputs/model.pkl"
        ))
    };
    let parts = parts(path).ok_or_else(bad)?;
    if !matches!(parts[0].as_str(), "outputs" | "logs") || parts.len() < 2 {
        return Err(bad());
    }
    let wd = run_dir.join("wd");
    let mut source = wd.clone();
    for (i, part) in parts.iter().enumerate() {
        source.push(part);
        match std::fs::symlink_metadata(&source) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ModelError::Missing(path.to_owned(), run_id.to_owned()));
            }
            Err(e) => return Err(e.into()),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(ModelError::NotRegular(parts[..=i].join("/")));
            }
            Ok(_) => {}
        }
    }
    let name = parts.last().cloned().ok_or_else(bad)?;
    copy_tree(&wd, &parts.join("/"), &stage.join(&name))?;
    Ok(name)
}

/// Copies the file or folder `rel` of the run's working folder `wd` to `to`. Files are
/// read through [`crate::confined::open`], the one safe way to read a run folder: a
/// file the job swaps for a link out or a FIFO after the checks is refused, not read.
fn copy_tree(wd: &Path, rel: &str, to: &Path) -> Result<()> {
    let from = wd.join(rel);
    let meta = std::fs::symlink_metadata(&from)?;
    if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        let mut entries: Vec<_> = std::fs::read_dir(&from)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name();
            let rel = format!("{rel}/{}", name.to_string_lossy());
            copy_tree(wd, &rel, &to.join(&name))?;
        }
        Ok(())
    } else if meta.is_file() {
        let mut opened = crate::confined::open(wd, Path::new(rel)).map_err(|e| match e {
            crate::confined::ConfinedError::Io(e) => ModelError::Io(e),
            _ => ModelError::NotRegular(rel.to_owned()),
        })?;
        std::io::copy(&mut opened.file, &mut std::fs::File::create(to)?)?;
        Ok(())
    } else {
        Err(ModelError::NotRegular(rel.to_owned()))
    }
}

/// Writes an uploaded file (`name` may hold `/`) into `stage`; returns the first part
/// of its path, the registered file or folder's name.
pub fn write_upload(stage: &Path, name: &str, data: &[u8]) -> Result<String> {
    let parts = parts(name).ok_or_else(|| {
        ModelError::BadPath(format!(
            "uploaded file name '{name}' must be a relative path without '..'"
        ))
    })?;
    let mut target = stage.to_path_buf();
    for part in &parts {
        target.push(part);
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&target, data)?;
    Ok(parts[0].clone())
}

/// Moves a staged version into its place.
pub fn place(stage: tempfile::TempDir, data_dir: &Path, name: &str, version: u32) -> Result<()> {
    let target = version_dir(data_dir, name, version);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::rename(stage.keep(), &target)?;
    Ok(())
}

/// The files of a version, relative to its folder, sorted.
pub fn files(dir: &Path) -> Result<Vec<RunFile>> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<RunFile>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let meta = std::fs::symlink_metadata(entry.path())?;
            let path = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if meta.is_dir() {
                walk(&entry.path(), &format!("{path}/"), out)?;
            } else if meta.is_file() {
                out.push(RunFile {
                    path,
                    size: meta.len(),
                });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// A version's files as one zip archive, in memory.
pub fn zip(dir: &Path) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for file in files(dir)? {
        zip.start_file(file.path.as_str(), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&std::fs::read(dir.join(&file.path))?)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// A file of a version, refusing paths that leave its folder.
pub fn file(dir: &Path, path: &str) -> Option<PathBuf> {
    let parts = parts(path)?;
    let mut full = dir.to_path_buf();
    for part in parts {
        full.push(part);
    }
    std::fs::symlink_metadata(&full)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|_| full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_azure_ml_s_rule() {
        for ok in ["mnist", "sklearn-model_v2.1", "9lives", &"a".repeat(255)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-x",
            ".hidden",
            "has space",
            "a/b",
            "ü",
            &"a".repeat(256),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_relative_paths_without_dot_dot_name_files() {
        assert_eq!(
            parts("outputs/model.pkl"),
            Some(vec!["outputs".into(), "model.pkl".into()])
        );
        assert_eq!(
            parts("outputs/model/"),
            Some(vec!["outputs".into(), "model".into()])
        );
        for bad in ["", "/etc/passwd", "outputs/../../token", "../x", "/"] {
            assert_eq!(parts(bad), None, "{bad}");
        }
    }
}
