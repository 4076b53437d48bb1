//! The notebook's browser kernel (`notebook/py/runboard_kernel.py`): its Python tests
//! run in this machine's CPython and in Pyodide itself (the CPython 3.14 of the
//! notebook's Web Worker, under Node, from `frontend/node_modules`). The kernel in
//! Chromium against a server is `e2e/tests/pykernel.spec.ts`.

use std::path::PathBuf;
use std::process::Command;

fn checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_kernels_python_tests_pass_in_cpython() {
    let out = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s", "notebook/py"])
        .current_dir(checkout())
        .output()
        .expect("python3 runs (Debian's python3 is part of the setup)");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("\nOK"), "{text}");
}

#[test]
fn the_kernels_python_tests_pass_in_pyodide() {
    let root = checkout();
    assert!(
        root.join("frontend/node_modules/pyodide/pyodide.mjs")
            .is_file(),
        "Pyodide is missing: run `cargo xtask frontend` (or `npm ci` in frontend/) first"
    );
    let out = Command::new("node")
        .arg("notebook/js/test-in-pyodide.mjs")
        .current_dir(&root)
        .output()
        .expect("node runs (the setup installs nodejs for the frontend)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Pyodide 3.14") && text.contains("emscripten"),
        "{text}"
    );
    assert!(text.contains("\nOK"), "{text}");
}
