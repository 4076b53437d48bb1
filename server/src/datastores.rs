//! Datastores: in Runboard a datastore is a folder of the server,
//! `<data>/datastores/<name>/`, which a run's data references point at
//! ([`crate::runner::Runner::script_args`]). The SDK's `Datastore.upload` copies a folder or
//! file of the files area into one ([`upload`]); `runboard notebook run` sends its
//! local files one by one ([`put`]).
//!
//! The path checks are those of [`crate::files`], with the datastore's folder as the
//! root: nothing is read outside the files area nor written outside the datastore.
//! Every check is made before anything is written, so bad input changes nothing.

use std::path::{Path, PathBuf};

use runboard_shared::api::{DatastoreUpload, DatastoreUploaded};

use crate::files::{self, FilesError, Written};

/// Errors of a datastore upload; each message names the field that was wrong.
#[derive(Debug, thiserror::Error)]
pub enum DatastoreError {
    /// The datastore's name breaks the naming rule.
    #[error(
        "invalid datastore name '{0}': use 1 to 255 letters, digits and underscores (A-Z, a-z, 0-9, _), as Azure ML does"
    )]
    InvalidName(String),
    /// A path is absolute, goes up with `..`, or leads out through a link.
    #[error("{0}")]
    InvalidPath(String),
    /// `src` is not in the files area.
    #[error("{0}")]
    NotFound(String),
    /// A file is where a folder is needed, or a folder where a file is.
    #[error("{0}")]
    Conflict(String),
    /// Reading or writing failed.
    #[error("datastore I/O error: {0}")]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, DatastoreError>;

/// The folder holding every datastore of the data folder `data_dir`.
pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("datastores")
}

/// Checks a datastore name: 1 to 255 of `[A-Za-z0-9_]`, Azure ML's rule.
pub fn check_name(name: &str) -> Result<()> {
    let ok = (1..=255).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(DatastoreError::InvalidName(name.to_owned()))
    }
}

/// The folder of the datastore `name` (checked), which must be a folder if it exists.
fn folder(data_dir: &Path, name: &str) -> Result<PathBuf> {
    check_name(name)?;
    let dir = root(data_dir).join(name);
    if std::fs::symlink_metadata(&dir).is_ok() && !dir.is_dir() {
        return Err(DatastoreError::Conflict(format!(
            "datastore '{name}' is not a folder on the server ({})",
            dir.display()
        )));
    }
    Ok(dir)
}

/// `a/b`, or `b` when `a` is empty.
fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}/{b}")
    }
}

/// The check of `field`'s value `value` as a path inside the datastore.
fn normalize(field: &str, value: &str, name: &str) -> Result<String> {
    files::normalize(value).map_err(|_| {
        DatastoreError::InvalidPath(format!(
            "{field} '{value}' escapes the datastore '{name}': give a relative path without '..', such as mnist/train"
        ))
    })
}

/// Checks that `rel` can be written in the datastore folder `dir`; true when a file
/// is already there. `field` is the request's field that `rel` comes from.
fn check_write(dir: &Path, name: &str, field: &str, value: &str, rel: &str) -> Result<bool> {
    files::check_write(dir, rel).map_err(|e| datastore_error(e, name, field, value, rel))
}

fn datastore_error(
    e: FilesError,
    name: &str,
    field: &str,
    value: &str,
    rel: &str,
) -> DatastoreError {
    let at = if rel == value {
        format!("{field} '{value}'")
    } else {
        format!("{field} '{value}': '{rel}'")
    };
    match e {
        FilesError::Escapes(_) => DatastoreError::InvalidPath(format!(
            "{at} escapes the datastore '{name}' (a link on its way leads outside)"
        )),
        FilesError::Conflict { problem, .. } => {
            DatastoreError::Conflict(format!("{at} {problem} (in the datastore '{name}')"))
        }
        FilesError::NotFound(_) => {
            DatastoreError::NotFound(format!("{at} is not in the datastore '{name}'"))
        }
        FilesError::Io(e) => DatastoreError::Io(e),
    }
}

/// `POST /api/datastores/{name}/upload`: copies `src` (a folder of the files area
/// under `area`, its files recursively; or one file) into the datastore `name` under
/// `target_path`. Without `overwrite`, files already there are kept and listed in
/// `skipped`. Paths in the answer are relative to `src` (a single file: its name).
pub fn upload(data_dir: &Path, name: &str, request: &DatastoreUpload) -> Result<DatastoreUploaded> {
    let dir = folder(data_dir, name)?;
    let target = normalize("target_path", &request.target_path, name)?;
    let area = files::root(data_dir);
    let src = &request.src;
    let sources = files::files_under(&area, src).map_err(|e| match e {
        FilesError::Escapes(at) if at == *src => DatastoreError::InvalidPath(format!(
            "src '{src}' escapes the files area: give a relative path inside it, such as project/data"
        )),
        FilesError::Escapes(at) => DatastoreError::InvalidPath(format!(
            "src '{src}': '{at}' is a link that leads outside the files area"
        )),
        FilesError::NotFound(_) => {
            DatastoreError::NotFound(format!("src '{src}': no file or folder there in the files area"))
        }
        FilesError::Conflict { problem, .. } => {
            DatastoreError::Conflict(format!("src '{src}' {problem}"))
        }
        FilesError::Io(e) => DatastoreError::Io(e),
    })?;
    let value = &request.target_path;
    // Check every destination before writing any.
    let mut plan = Vec::with_capacity(sources.len());
    for (rel, real) in sources {
        let dest = join(&target, &rel);
        let exists = check_write(&dir, name, "target_path", value, &dest)?;
        plan.push((rel, real, dest, exists));
    }
    let mut answer = DatastoreUploaded::default();
    std::fs::create_dir_all(&dir)?;
    for (rel, real, dest, exists) in plan {
        if exists && !request.overwrite {
            answer.skipped.push(rel);
            continue;
        }
        let mut file = std::fs::File::open(&real)?;
        match files::write_from(&dir, &dest, &mut file, request.overwrite)
            .map_err(|e| datastore_error(e, name, "target_path", value, &dest))?
        {
            Written::Kept => answer.skipped.push(rel),
            Written::Created | Written::Replaced => answer.files.push(rel),
        }
    }
    Ok(answer)
}

/// `PUT /api/datastores/{name}/files/{*path}`: writes `data` to the file `path` of
/// the datastore `name` (folders on the way created). Without `overwrite` a file
/// already there is kept and listed in `skipped`.
pub fn put(
    data_dir: &Path,
    name: &str,
    path: &str,
    data: &[u8],
    overwrite: bool,
) -> Result<DatastoreUploaded> {
    let dir = folder(data_dir, name)?;
    let rel = normalize("path", path, name)?;
    if rel.is_empty() {
        return Err(DatastoreError::InvalidPath(format!(
            "path '{path}' names the datastore '{name}' itself: give a file path inside it, such as mnist/train.csv"
        )));
    }
    let exists = check_write(&dir, name, "path", path, &rel)?;
    let mut answer = DatastoreUploaded::default();
    if exists && !overwrite {
        answer.skipped.push(rel);
        return Ok(answer);
    }
    std::fs::create_dir_all(&dir)?;
    match files::write_from(&dir, &rel, &mut &*data, overwrite)
        .map_err(|e| datastore_error(e, name, "path", path, &rel))?
    {
        Written::Kept => answer.skipped.push(rel),
        Written::Created | Written::Replaced => answer.files.push(rel),
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_azure_ml_rule() {
        for good in ["workspaceblobstore", "a", "A_1", &"x".repeat(255)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a-b", "a.b", "..", "a/b", "é", &"x".repeat(256)] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(e.contains("letters, digits and underscores"), "{e}");
        }
    }
}
