//! The Python package a run's script imports as `azureml.core` (`Run.get_context()`
//! and its logging methods), shipped inside the binary and written to
//! `<data>/python/` at start; the runner puts that folder on `PYTHONPATH`.

use std::path::{Path, PathBuf};

/// The package's files: path under the shim folder, contents.
const FILES: [(&str, &str); 4] = [
    (
        "azureml/__init__.py",
        include_str!("../../python/azureml/__init__.py"),
    ),
    (
        "azureml/exceptions/__init__.py",
        include_str!("../../python/azureml/exceptions/__init__.py"),
    ),
    (
        "azureml/core/__init__.py",
        include_str!("../../python/azureml/core/__init__.py"),
    ),
    (
        "azureml/core/run.py",
        include_str!("../../python/azureml/core/run.py"),
    ),
];

/// Writes the package under `<data_dir>/python` (replacing an older one) and
/// returns that folder.
pub fn install(data_dir: &Path) -> std::io::Result<PathBuf> {
    let root = data_dir.join("python");
    for (path, text) in FILES {
        let file = root.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::read_to_string(&file).ok().as_deref() != Some(text) {
            std::fs::write(&file, text)?;
        }
    }
    Ok(root)
}
