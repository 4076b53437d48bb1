//! Runboard's SDK v1 Python package (the `azureml` namespace, `server/python/`), built
//! into the binary. Jobs import it from `<data>/python/` ([`install`], which the runner
//! puts on `PYTHONPATH`); any other Python installs it as the wheel `runboard-azureml`
//! from the server's PEP 503 index ([`wheel`], served by `api::sdk_index`).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

/// The package's files, as in `server/python/`.
static PACKAGE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/python");

/// The distribution's name on the index (PEP 503 normalised).
pub const DISTRIBUTION: &str = "runboard-azureml";

/// The package's version: the server's, so a client installs the SDK of its server.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every Python file of the package: its path (`azureml/core/run.py`) and contents.
/// Caches and compiled files are left out.
pub fn files() -> Vec<(String, &'static [u8])> {
    fn walk(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static [u8])>) {
        for file in dir.files() {
            let path = file.path().to_string_lossy().into_owned();
            if path.ends_with(".py") || path.ends_with(".typed") {
                out.push((path, file.contents()));
            }
        }
        for sub in dir.dirs() {
            if sub.path().file_name().is_some_and(|n| n != "__pycache__") {
                walk(sub, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&PACKAGE, &mut out);
    out.sort();
    out
}

/// Writes the package under `<data_dir>/python` (replacing older files) and returns
/// that folder.
pub fn install(data_dir: &Path) -> std::io::Result<PathBuf> {
    let root = data_dir.join("python");
    for (path, contents) in files() {
        let file = root.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        if std::fs::read(&file).ok().as_deref() != Some(contents) {
            std::fs::write(&file, contents)?;
        }
    }
    Ok(root)
}

/// A built wheel.
#[derive(Debug, Clone)]
pub struct Wheel {
    /// `runboard_azureml-<version>-py3-none-any.whl`.
    pub file_name: String,
    /// The zip archive.
    pub bytes: Vec<u8>,
    /// Its SHA-256, hex, for the index's `#sha256=` fragment.
    pub sha256: String,
}

/// The package as a wheel (PEP 427): the files, then `METADATA`, `WHEEL`,
/// `top_level.txt` and `RECORD` (each file's SHA-256 and size) in `.dist-info`.
pub fn wheel() -> Wheel {
    let name = DISTRIBUTION.replace('-', "_");
    let dist_info = format!("{name}-{VERSION}.dist-info");
    let metadata = format!(
        "Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {VERSION}\n\
         Summary: Runboard's Azure ML SDK v1 (azureml.core, azureml.train): submit and \
         follow runs on a Runboard server\nRequires-Python: >=3.8\n"
    );
    let wheel_meta =
        "Wheel-Version: 1.0\nGenerator: runboard\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let mut entries: Vec<(String, Vec<u8>)> =
        files().into_iter().map(|(p, c)| (p, c.to_vec())).collect();
    entries.push((format!("{dist_info}/METADATA"), metadata.into_bytes()));
    entries.push((format!("{dist_info}/WHEEL"), wheel_meta.as_bytes().to_vec()));
    entries.push((format!("{dist_info}/top_level.txt"), b"azureml\n".to_vec()));
    let mut record = String::new();
    for (path, data) in &entries {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data));
        record += &format!("{path},sha256={digest},{}\n", data.len());
    }
    record += &format!("{dist_info}/RECORD,,\n");
    entries.push((format!("{dist_info}/RECORD"), record.into_bytes()));

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (path, data) in &entries {
        // Writing to memory cannot fail but for a bug; the wheel would then be refused
        // by pip's hash check rather than served half-built.
        if zip.start_file(path.as_str(), options).is_ok() {
            let _ = zip.write_all(data);
        }
    }
    let bytes = zip
        .finish()
        .map(std::io::Cursor::into_inner)
        .unwrap_or_default();
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    Wheel {
        file_name: format!("{name}-{VERSION}-py3-none-any.whl"),
        bytes,
        sha256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wheel_holds_the_package_and_a_record_of_every_file() {
        let wheel = wheel();
        assert_eq!(
            wheel.file_name,
            format!("runboard_azureml-{VERSION}-py3-none-any.whl")
        );
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(wheel.bytes)).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().into_owned())
            .collect();
        for expected in [
            "azureml/__init__.py",
            "azureml/core/__init__.py",
            "azureml/core/run.py",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        let mut record = String::new();
        std::io::Read::read_to_string(
            &mut archive
                .by_name(&format!("runboard_azureml-{VERSION}.dist-info/RECORD"))
                .unwrap(),
            &mut record,
        )
        .unwrap();
        // Every file but RECORD itself is listed with its hash and size.
        assert_eq!(record.lines().count(), names.len());
        assert!(record.contains("azureml/core/run.py,sha256="));
        assert!(!names.iter().any(|n| n.contains("__pycache__")));
    }
}
