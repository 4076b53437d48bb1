// The notebook's kernel: CPython (Pyodide) in a module Web Worker.
//
// `cargo xtask frontend` fills the two bundle names below (each double-braced name becomes
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
// thread), so it is ignored.
import { loadPyodide } from "{{pyodide/pyodide.mjs}}";

const PYODIDE_MODULE = "{{pyodide/pyodide.mjs}}";
const KERNEL_MODULE = "{{runboard_kernel.py}}";
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

function pump() {
  if (!kernel && !startError) return;
  while (queue.length > 0) {
    const text = queue.shift();
    if (startError) {
      self.postMessage(failed(text, startError));
      continue;
    }
    // Whatever the page stored while no cell ran is not meant for this one.
    if (interrupts) Atomics.store(interrupts, 0, 0);
    try {
      kernel.handle(text);
    } catch (e) {
      console.error("runboard kernel: a cell broke the kernel", e);
      self.postMessage(failed(text, `the kernel failed: ${e}`));
    }
  }
}

async function fetchOk(url, what) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} for ${url}`);
  return response;
}

/** The SDK's wheel from the server's index, unpacked into site-packages. */
async function installSdk(py) {
  const index = await (await fetchOk(SDK_INDEX, "the SDK's index")).text();
  const href = /href="([^"#]+\.whl)/.exec(index);
  if (!href) throw new Error(`the SDK's index at ${SDK_INDEX} names no wheel`);
  const wheel = await (await fetchOk(new URL(href[1], self.location.href), "the SDK's wheel")).arrayBuffer();
  py.unpackArchive(wheel, "wheel");
}

async function start() {
  const started = performance.now();
  const indexURL = new URL(PYODIDE_MODULE.replace(/[^/]*$/, ""), self.location.href).href;
  const [py, source] = await Promise.all([
    loadPyodide({ indexURL, fullStdLib: false }),
    fetchOk(KERNEL_MODULE, "the kernel module").then((r) => r.text()),
  ]);
  const loaded = performance.now();
  await installSdk(py);
  const installed = performance.now();
  py.FS.writeFile(`${py.runPython("import sysconfig; sysconfig.get_paths()['purelib']")}/runboard_kernel.py`, source);
  if (interrupts) py.setInterruptBuffer(interrupts);
  pyodide = py;
  kernel = py.pyimport("runboard_kernel").browser_kernel((text) => self.postMessage(text));
  self.postMessage(JSON.stringify({ type: "ready" }));
  const ready = performance.now();
  console.info(
    `runboard kernel: ready in ${Math.round(ready - started)} ms (CPython ${Math.round(loaded - started)} ms, ` +
      `the SDK ${Math.round(installed - loaded)} ms, the kernel ${Math.round(ready - installed)} ms)`,
  );
  pump();
}

start().catch((e) => {
  console.error("runboard kernel: failed to start", e);
  // The page learns it at its first cell, which fails with the reason.
  startError = `the Python kernel could not start: ${e}`;
  self.postMessage(JSON.stringify({ type: "ready" }));
  const ready = performance.now();
  console.info(
    `runboard kernel: ready in ${Math.round(ready - started)} ms (CPython ${Math.round(loaded - started)} ms, ` +
      `the SDK ${Math.round(installed - loaded)} ms, the kernel ${Math.round(ready - installed)} ms)`,
  );
  pump();
});
