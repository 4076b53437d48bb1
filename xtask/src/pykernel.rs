//! The notebook's Python kernel in the bundle (`cargo xtask frontend`):
//! - Pyodide (CPython in WebAssembly), from npm's `pyodide` package as
//!   `frontend/package-lock.json` pins it, copied under `pyodide-<hash>/` with its
//!   own file names (Pyodide finds its files by name beside `pyodide.mjs`; the hash of
//!   the folder covers them all, so the folder is as immutable as a hashed file);
//! - CPython's memory once started, as `pyodide-snapshot-<hash>.bin`, made by
//!   `notebook/js/make-snapshot.mjs` under Node from that same Pyodide (see that
//!   script), and kept in `target/pyodide-snapshot/` under the hash of what it is made
//!   from (Pyodide's files and the script), so it is made again only when one changes;
//!   its `.gz` and `.br` (gzip 9, brotli 11: minutes for 31 MB) are made once and kept
//!   beside it, whatever the build's own compression;
//! - `notebook/py/runboard_kernel.py`, the cell runner, as `runboard_kernel-<hash>.py`;
//! - `notebook/js/pykernel.js`, the module worker, with each `{{name}}` replaced by
//!   the URL of that bundle file, as `pykernel-<hash>.js`. The notebook page's
//!   template names it (`{{pykernel.js}}`); the portal's page names none of these.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The files of npm's `pyodide` package that the worker loads (the rest are its
/// TypeScript types, source maps, a CommonJS build and demo pages).
pub(crate) const PYODIDE_FILES: [&str; 5] = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
];

/// The worker's source name in the bundle (`{{pykernel.js}}` in templates).
pub(crate) const WORKER: &str = "pykernel.js";
/// The cell runner's source name in the bundle.
const KERNEL_MODULE: &str = "runboard_kernel.py";
/// The memory snapshot's source name in the bundle.
pub(crate) const SNAPSHOT: &str = "pyodide-snapshot.bin";
/// The script that makes it.
const SNAPSHOT_SCRIPT: &str = "notebook/js/make-snapshot.mjs";

/// Writes Pyodide's folder, the memory snapshot, the kernel module and the worker into
/// `out`, and notes them in `manifest` (Pyodide's files as `pyodide/<file>`). Returns
/// the snapshot's compressed copies it wrote (paths relative to `out`), which the
/// bundle step does not compress again.
pub(crate) fn bundle(
    root: &Path,
    out: &Path,
    manifest: &mut BTreeMap<String, String>,
) -> Result<Vec<String>> {
    let package = root.join("frontend/node_modules/pyodide");
    let mut files = Vec::new();
    for name in PYODIDE_FILES {
        let path = package.join(name);
        let bytes = fs::read(&path).with_context(|| {
            format!(
                "reading {} (npm's pyodide, from frontend/package-lock.json)",
                path.display()
            )
        })?;
        files.push((name, bytes));
    }
    let parts: Vec<&[u8]> = files.iter().map(|(_, b)| b.as_slice()).collect();
    let folder = format!("pyodide-{}", super::frontend::content_hash(&parts));
    fs::create_dir_all(out.join(&folder))?;
    for (name, bytes) in &files {
        let rel = format!("{folder}/{name}");
        super::frontend::write_new(&out.join(&rel), bytes)?;
        manifest.insert(format!("pyodide/{name}"), rel);
    }

    let kept = snapshot(root, &package, &parts)?;
    let snapshot = fs::read(&kept).with_context(|| format!("reading {}", kept.display()))?;
    add_hashed(out, manifest, SNAPSHOT, &snapshot)?;
    let mut precompressed = Vec::new();
    for ext in [".gz", ".br"] {
        let rel = format!("{}{ext}", manifest[SNAPSHOT]);
        let from = kept.with_file_name(format!("{}{ext}", file_name(&kept)));
        fs::copy(&from, out.join(&rel))
            .with_context(|| format!("copying {} into the bundle", from.display()))?;
        precompressed.push(rel);
    }

    let module = fs::read(root.join("notebook/py").join(KERNEL_MODULE))
        .context("reading notebook/py/runboard_kernel.py")?;
    add_hashed(out, manifest, KERNEL_MODULE, &module)?;

    let worker = fs::read_to_string(root.join("notebook/js").join(WORKER))
        .context("reading notebook/js/pykernel.js")?;
    let worker =
        super::frontend::fill_template(&worker, manifest).context("in notebook/js/pykernel.js")?;
    add_hashed(out, manifest, WORKER, worker.as_bytes())?;
    Ok(precompressed)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The memory snapshot of the Pyodide in `package` (whose files are `pyodide_files`),
/// as a file under `target/pyodide-snapshot/` with its `.gz` and `.br` beside it: the
/// ones kept there when its inputs are unchanged, else new ones.
fn snapshot(root: &Path, package: &Path, pyodide_files: &[&[u8]]) -> Result<PathBuf> {
    let script = fs::read(root.join(SNAPSHOT_SCRIPT))
        .with_context(|| format!("reading {SNAPSHOT_SCRIPT}"))?;
    let mut inputs = pyodide_files.to_vec();
    inputs.push(&script);
    let key = super::frontend::content_hash(&inputs);
    let dir = crate::target_dir().join("pyodide-snapshot");
    let name = format!("{key}.bin");
    let kept = dir.join(&name);
    // The compressed copies are written last: with them there, all is there.
    if dir.join(format!("{name}.br")).is_file() {
        return Ok(kept);
    }
    crate::step("frontend: the Python kernel's memory snapshot (Node; then gzip and brotli, once)");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // Older snapshots are of other inputs: only the newest is kept.
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.is_file() {
            fs::remove_file(&path)?;
        }
    }
    let status = Command::new("node")
        .arg(root.join(SNAPSHOT_SCRIPT))
        .arg(package)
        .arg(&kept)
        .status()
        .context("starting node (the setup installs nodejs for the frontend)")?;
    if !status.success() {
        bail!("{SNAPSHOT_SCRIPT} failed ({status})");
    }
    let bytes = fs::read(&kept).with_context(|| format!("reading {}", kept.display()))?;
    super::frontend::write_compressed(&dir, &name, &bytes, super::frontend::Compression::Best)?;
    Ok(kept)
}

fn add_hashed(
    out: &Path,
    manifest: &mut BTreeMap<String, String>,
    name: &str,
    bytes: &[u8],
) -> Result<()> {
    let hashed = super::frontend::hashed_name(name, &super::frontend::content_hash(&[bytes]));
    super::frontend::write_new(&out.join(&hashed), bytes)?;
    manifest.insert(name.to_owned(), hashed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_names_only_pyodide_its_snapshot_and_the_kernel_module() {
        let root = crate::project_root();
        let worker = fs::read_to_string(root.join("notebook/js").join(WORKER)).unwrap();
        let manifest = BTreeMap::from([
            (
                "pyodide/pyodide.mjs".to_owned(),
                "pyodide-ab12/pyodide.mjs".to_owned(),
            ),
            (
                KERNEL_MODULE.to_owned(),
                "runboard_kernel-ab12.py".to_owned(),
            ),
            (SNAPSHOT.to_owned(), "pyodide-snapshot-ab12.bin".to_owned()),
        ]);
        let filled = super::super::frontend::fill_template(&worker, &manifest).unwrap();
        assert!(filled.contains("from \"/pyodide-ab12/pyodide.mjs\""));
        assert!(filled.contains("\"/runboard_kernel-ab12.py\""));
        assert!(filled.contains("\"/pyodide-snapshot-ab12.bin\""));
        assert!(!filled.contains("{{"));
    }
}
