// Runs the browser kernel's Python tests (notebook/py) in Pyodide under Node: the
// CPython the notebook's worker runs (3.14, emscripten), from frontend/node_modules.
// Usage: node notebook/js/test-in-pyodide.mjs  (from the checkout's root; exit 0 = passed)
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { loadPyodide } = await import(join(root, "frontend/node_modules/pyodide/pyodide.mjs"));
const py = await loadPyodide();
py.mountNodeFS("/checkout", root);
const ok = py.runPython(`
import sys, unittest
print("Pyodide", sys.version.split()[0], sys.platform)
suite = unittest.defaultTestLoader.discover("/checkout/notebook/py")
unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite).wasSuccessful()
`);
process.exit(ok ? 0 : 1);
