// Makes the Python kernel's memory snapshot at bundle time (`cargo xtask frontend`,
// `xtask/src/pykernel.rs`): CPython in Pyodide, started under Node, with the standard
// library modules that the kernel (`notebook/py/runboard_kernel.py`) and the SDK
// (`server/python/azureml`) import already imported, then its whole wasm memory
// written to a file. The notebook's worker (`pykernel.js`) passes that file to
// `loadPyodide({_loadSnapshot})`, which restores the memory instead of starting the
// interpreter and importing: that start is almost all of the time to open a notebook.
//
// The snapshot holds no SDK and no kernel module (the worker installs the wheel the
// server's `/simple/` index serves, as before) and no JavaScript object but Pyodide's
// own: it is made before `import js`. Pyodide's filesystem lives in JavaScript, not in
// the wasm memory, so it is not in the snapshot; the worker writes its files after the
// restore.
//
// Usage: node notebook/js/make-snapshot.mjs PYODIDE_DIR OUT_FILE
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

// What the kernel and the SDK import at start, beyond what Pyodide's start imports
// (listed 2026-12-04 by importing `runboard_kernel`, `azureml.core`, `azureml.train`,
// `azureml.widgets` and `azureml._browser` in Pyodide and comparing `sys.modules`),
// and a few modules cells often import. A module missing here is imported when first
// needed, as without a snapshot: the list only decides what is already done.
const MODULES = [
  // the kernel and the SDK
  "datetime", "email.message", "email.parser", "email.utils", "hashlib", "http.client",
  "ipaddress", "numbers", "quopri", "tarfile", "urllib.error", "urllib.parse",
  "urllib.request", "urllib.response", "uuid",
  // cells
  "collections", "copy", "csv", "dataclasses", "glob", "itertools", "json", "math",
  "pathlib", "pprint", "random", "re", "shutil", "textwrap", "typing", "zipfile",
];

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error("usage: node make-snapshot.mjs PYODIDE_DIR OUT_FILE");
  process.exit(2);
}
const indexURL = resolve(dir) + "/";
const { loadPyodide } = await import(pathToFileURL(join(indexURL, "pyodide.mjs")).href);
const started = Date.now();
const py = await loadPyodide({
  indexURL,
  fullStdLib: false,
  _makeSnapshot: true,
  // What a browser's Pyodide sees, rather than this Node process's script path.
  _sysExecutable: "/home/pyodide/this.program",
  env: { _: "./this.program" },
});
py.runPython(`import ${MODULES.join(", ")}`);
// What the worker does after the restore, done once here on a wheel of one file in a
// folder of its own, so that what it imports is imported already: unpacking a wheel,
// finding site-packages (`sysconfig`) and the import system's fresh look at it
// (`importlib.metadata`).
py.runPython(`
import io, zipfile
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as wheel:
    wheel.writestr("snapshot_probe/__init__.py", "")
with open("/tmp/snapshot-probe.whl", "wb") as f:
    f.write(buffer.getvalue())
`);
py.unpackArchive(py.FS.readFile("/tmp/snapshot-probe.whl"), "wheel", { extractDir: "/tmp/snapshot-probe" });
py.runPython(`
import importlib, sysconfig
sysconfig.get_paths()["purelib"]
importlib.invalidate_caches()
del buffer, wheel, f
`);
// Nothing of the start is left to collect later.
py.runPython("import gc; gc.collect()");
const snapshot = py.makeMemorySnapshot();
writeFileSync(out, snapshot);
console.error(
  `make-snapshot: ${snapshot.length} B of memory with ${MODULES.length} modules imported, ` +
    `in ${Date.now() - started} ms`,
);
