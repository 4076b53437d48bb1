// The notebook's kernel: CPython (Pyodide) in a module Web Worker.
//
// `cargo xtask frontend` fills the bundle names below (each double-braced name becomes
// the absolute URL of that file's hashed copy) and serves this file as
// `pykernel-<hash>.js`; the notebook page starts it from its
// `<meta name="runboard-kernel">`. It speaks the page's protocol
// (`runboard_shared::cell::worker`: JSON text messages, `ready` first, then one
// `done` per `run` or `attach`), and hands every message to `runboard_kernel.py`,
// which runs the cells. Everything is loaded from the server: no internet is needed.
//
// Interrupt: the page shares an `Int32Array` over a `SharedArrayBuffer` right after
// `ready` and stores 2 (SIGINT) in it; Pyodide reads it between bytecodes
// (`setInterruptBuffer`) and raises KeyboardInterrupt in the running cell. The
// `interrupt` message itself cannot be read while a cell runs (the cell holds this
// thread), so it is ignored. The page resets the buffer when a cell's `done` reaches
// it, so an interrupt stored before this worker began the cell still stops it.
import { loadPyodide } from "{{pyodide/pyodide.mjs}}";

const PYODIDE_MODULE = "{{pyodide/pyodide.mjs}}";
const KERNEL_MODULE = "{{runboard_kernel.py}}";
const SNAPSHOT = "{{pyodide-snapshot.bin}}";
// The SDK package, as the server publishes it (PEP 503).
const SDK_INDEX = "/simple/runboard-azureml/";

const queue = [];
let interrupts = null;
let kernel = null;
let pyodide = null;

// Installed before the first await: a message posted while Pyodide loads is kept.
self.onmessage = (event) => {
  if (typeof event.data !== "string") {
    if (event.data instanceof Int32Array) {
      interrupts = event.data;
      if (pyodide) pyodide.setInterruptBuffer(interrupts);
    }
    return;
  }
  let message;
  try {
    message = JSON.parse(event.data);
  } catch (e) {
    console.warn("runboard kernel: unreadable message", event.data);
    return;
  }
  if (message.type === "interrupt") return;
  queue.push(event.data);
  pump();
};

let startError = null;

/** A `done` that fails the message's cell with `why`. */
function failed(text, why) {
  let cell = "";
  try {
    cell = JSON.parse(text).cell ?? "";
  } catch (e) {}
  return JSON.stringify({
    type: "done",
    cell,
    execution_count: 0,
    result: null,
    error: { ename: "KernelError", message: why, line: null },
  });
}

let pumping = false;

/** Runs the queued messages in order, one at a time. Before each, the files area's
 * listing is fetched here, asynchronously, and handed to the kernel: a synchronous
 * request from Python costs several times as much in a worker (issue 11's 200-line
 * cell). Should the fetch fail, the kernel asks again itself and reports the error. */
async function pump() {
  if ((!kernel && !startError) || pumping) return;
  pumping = true;
  try {
    while (queue.length > 0) {
      const text = queue.shift();
      if (startError) {
        self.postMessage(failed(text, startError));
        continue;
      }
      const listing = await fetchListing();
      try {
        kernel.handle(text, listing);
      } catch (e) {
        console.error("runboard kernel: a cell broke the kernel", e);
        self.postMessage(failed(text, `the kernel failed: ${e}`));
      }
    }
  } finally {
    pumping = false;
  }
}

/** `GET /api/files` as text, or null when it did not answer 200. */
async function fetchListing() {
  try {
    const response = await fetch("/api/files", { credentials: "same-origin", cache: "no-store" });
    return response.ok ? await response.text() : null;
  } catch (e) {
    return null;
  }
}

async function fetchOk(url, what, cache = "no-store") {
  const response = await fetch(url, { credentials: "same-origin", cache });
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} for ${url}`);
  return response;
}

/** The SDK's wheel from the server's index (not hashed: asked for every time). */
async function fetchSdk() {
  const index = await (await fetchOk(SDK_INDEX, "the SDK's index")).text();
  const href = /href="([^"#]+\.whl)/.exec(index);
  if (!href) throw new Error(`the SDK's index at ${SDK_INDEX} names no wheel`);
  return (await fetchOk(new URL(href[1], self.location.href), "the SDK's wheel")).arrayBuffer();
}

/** CPython restored from the bundle's memory snapshot (made by
 * `notebook/js/make-snapshot.mjs` when the bundle was built: the interpreter started
 * and the standard library modules the kernel and the SDK need imported), so none of
 * that start is done here. Should the snapshot not load, CPython starts without it. */
async function loadCPython(indexURL) {
  try {
    const snapshot = fetchOk(SNAPSHOT, "the kernel's memory snapshot", "default").then((r) =>
      r.arrayBuffer(),
    );
    return [await loadPyodide({ indexURL, fullStdLib: false, _loadSnapshot: snapshot }), "from its snapshot"];
  } catch (e) {
    console.warn("runboard kernel: the memory snapshot did not load; starting CPython without it", e);
    return [await loadPyodide({ indexURL, fullStdLib: false }), "started without its snapshot"];
  }
}

async function start() {
  const started = performance.now();
  const indexURL = new URL(PYODIDE_MODULE.replace(/[^/]*$/, ""), self.location.href).href;
  const took = (promise) => promise.then((value) => [value, performance.now() - started]);
  // The SDK's wheel and the kernel module download while CPython loads.
  const [[[py, how], cpythonMs], [wheel, sdkMs], [source]] = await Promise.all([
    took(loadCPython(indexURL)),
    took(fetchSdk()),
    took(fetchOk(KERNEL_MODULE, "the kernel module", "default").then((r) => r.text())),
  ]);
  const loaded = performance.now();
  py.unpackArchive(wheel, "wheel");
  py.FS.writeFile(`${py.runPython("import sysconfig; sysconfig.get_paths()['purelib']")}/runboard_kernel.py`, source);
  // The import system's listings of site-packages may date from the snapshot.
  py.runPython("import importlib; importlib.invalidate_caches()");
  if (interrupts) py.setInterruptBuffer(interrupts);
  pyodide = py;
  kernel = py.pyimport("runboard_kernel").browser_kernel((text) => self.postMessage(text));
  self.postMessage(JSON.stringify({ type: "ready" }));
  const ready = performance.now();
  console.info(
    `runboard kernel: ready in ${Math.round(ready - started)} ms (CPython ${how} ${Math.round(cpythonMs)} ms, ` +
      `the SDK's wheel downloaded ${Math.round(sdkMs)} ms, all loaded ${Math.round(loaded - started)} ms, ` +
      `the SDK and the kernel installed and imported ${Math.round(ready - loaded)} ms)`,
  );
  pump();
}

start().catch((e) => {
  console.error("runboard kernel: failed to start", e);
  // The page learns it at its first cell, which fails with the reason.
  startError = `the Python kernel could not start: ${e}`;
  self.postMessage(JSON.stringify({ type: "ready" }));
  pump();
});
