// `cargo xtask bench kernel`, the browser's half: the notebook kernel (CPython in
// Pyodide, restored from its memory snapshot in its Web Worker) in Chromium against a
// real server over loopback, beside the baseline of a plain Pyodide start
// (`loadPyodide` from the same files, no snapshot, nothing else), measured
// alternately so that both see the same load:
// - opening the notebook until the kernel is ready (`data-kernel="ready"`), cold: a new
//   browser context each time (an empty HTTP cache), OPENS times each;
// - the same, warm: again in the last cold open's context (the kernel's files come from
//   the HTTP cache: hashed names, immutable), OPENS times each;
// - the bytes the cold and the warm open downloaded until the kernel was ready
//   (response bodies as sent: compressed; from the HTTP cache: 0);
// - the benchmark's 200-line cell, timed by the notebook page from posting the cell to
//   the worker to its end (`data-elapsed-ms`), after one warm-up run, ROUNDS times in
//   the first cold open's session.
// The Python worker's own account of its start ("runboard kernel: ready in …", from
// the worker's console) is kept for each open.
//
// - the baseline: `loadPyodide({indexURL})` in a notebook page (the files the kernel
//   loads, from the same server), cold and warm as above.
//
// Usage: node bench/kernel.mjs CELL_FILE. Prints one JSON object:
// {"python": KERNEL, "plain": {"cold_ms": [...], "warm_ms": [...]}}, KERNEL =
// {"cell_ms": [...], "cold_ms": [...], "warm_ms": [...], "cold_bytes": N,
// "warm_bytes": N, "phases": [...]}.
import { readFileSync } from "node:fs";
import { chromium } from "@playwright/test";
import { chromiumArgs, chromiumPath, startServer } from "../lib/runboard.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 21);
const OPENS = Number(process.env.OPENS ?? 3);
const KERNELS = { python: "" };

const cell = readFileSync(process.argv[2], "utf8");
const server = await startServer();
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
try {
  await server.putFile(
    "bench/kernel.ipynb",
    JSON.stringify({
      cells: [{ cell_type: "code", execution_count: null, id: "bench", metadata: {}, outputs: [], source: cell }],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
  const results = {};
  const contexts = {};
  for (const name of Object.keys(KERNELS)) {
    results[name] = { cell_ms: [], cold_ms: [], warm_ms: [], cold_bytes: 0, warm_bytes: 0, phases: [] };
  }
  const plain = { cold_ms: [], warm_ms: [] };
  let plainContext;
  for (let open = 0; open < OPENS; open++) {
    await plainContext?.close();
    plainContext = await browser.newContext();
    plain.cold_ms.push(await plainLoad(plainContext));
    for (const [name, query] of Object.entries(KERNELS)) {
      // A new context: an empty HTTP cache.
      const context = await browser.newContext();
      await contexts[name]?.close();
      contexts[name] = context;
      const m = await measure(context, query, open === 0 ? ROUNDS : 0);
      const r = results[name];
      r.cold_ms.push(m.loadMs);
      r.phases.push(...m.phases.map((p) => `cold: ${p}`));
      if (open === 0) {
        r.cell_ms = m.times;
        r.cold_bytes = m.bytes;
      }
    }
  }
  for (let open = 0; open < OPENS; open++) {
    plain.warm_ms.push(await plainLoad(plainContext));
    for (const [name, query] of Object.entries(KERNELS)) {
      // The same context again: the kernel's files come from the HTTP cache.
      const m = await measure(contexts[name], query, 0);
      const r = results[name];
      r.warm_ms.push(m.loadMs);
      r.phases.push(...m.phases.map((p) => `warm: ${p}`));
      if (open === 0) r.warm_bytes = m.bytes;
    }
  }
  results.plain = plain;
  console.log(JSON.stringify(results));
} finally {
  await browser.close();
  await server.stop();
}

/** Opens the notebook (`query` picks the kernel) until the kernel is ready, then runs
 * the cell `rounds` + 1 times; the page's bytes as sent (compressed). */
async function measure(context, query, rounds = ROUNDS) {
  // Log in as `?token=` does: the server answers a session cookie, kept by the context.
  await context.request.get(server.loginUrl, { maxRedirects: 0 });
  const page = await context.newPage();
  const sizes = [];
  const phases = [];
  // Response bodies as they came over the wire (compressed); an answer from the HTTP
  // cache counts 0 (a `content-length` header would count it again).
  page.on("requestfinished", (request) =>
    sizes.push(request.sizes().then((s) => s.responseBodySize, () => 0)),
  );
  // The worker's console reaches the page's listeners in Chromium.
  page.on("console", (message) => {
    const text = message.text();
    if (text.startsWith("runboard kernel: ready") && !phases.includes(text)) phases.push(text);
  });
  page.on("worker", (worker) =>
    worker.on("console", (message) => {
      const text = message.text();
      if (text.startsWith("runboard kernel: ready") && !phases.includes(text)) phases.push(text);
    }),
  );
  // Requests of the kernel's worker are the page's too (Chromium reports them).
  const opened = Date.now();
  await page.goto(`${server.url}/notebooks/bench/kernel.ipynb${query}`);
  await page.locator('.nb-kernel[data-kernel="ready"]').waitFor({ timeout: 120_000 });
  const loadMs = Date.now() - opened;
  const bytes = (await Promise.all(sizes)).reduce((sum, n) => sum + n, 0);
  const times = [];
  const cellBox = page.locator('[data-cell="bench"]');
  for (let round = 0; round <= rounds; round++) {
    await cellBox.locator("textarea").click();
    await page.keyboard.press("Control+Enter");
    await page.locator('[data-cell="bench"][data-state="idle"]').waitFor();
    const count = await cellBox.locator(".nb-prompt").textContent();
    if (count !== `[${round + 1}]:`) {
      const out = await cellBox.locator(".nb-outputs").textContent();
      throw new Error(`round ${round}: the cell shows ${count}; output: ${out}`);
    }
    const errors = await cellBox.locator(".nb-error").count();
    if (errors) throw new Error(`the cell failed: ${await cellBox.locator(".nb-error").textContent()}`);
    const ms = Number(await cellBox.getAttribute("data-elapsed-ms"));
    if (round > 0) times.push(ms); // round 0 warms up
  }
  await page.close();
  return { times, loadMs, bytes, phases };
}

/** The baseline: a plain `loadPyodide` of the kernel's own Pyodide files (found in the
 * worker's source), in a notebook page of the server, from the call to ready (ms). */
async function plainLoad(context) {
  await context.request.get(server.loginUrl, { maxRedirects: 0 });
  const page = await context.newPage();
  await page.goto(`${server.url}/tree`);
  const ms = await page.evaluate(async () => {
    const worker = document.querySelector('meta[name="runboard-kernel"]').getAttribute("content");
    const source = await (await fetch(worker)).text();
    const module = source.match(/\/pyodide-[0-9a-f]{16}\/pyodide\.mjs/)[0];
    const indexURL = new URL(module.replace(/[^/]*$/, ""), location.href).href;
    const started = performance.now();
    const { loadPyodide } = await import(module);
    const py = await loadPyodide({ indexURL, fullStdLib: false });
    if (py.runPython("1 + 1") !== 2) throw new Error("Pyodide did not run");
    return performance.now() - started;
  });
  await page.close();
  return Math.round(ms);
}
