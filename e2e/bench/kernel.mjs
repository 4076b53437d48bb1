// `cargo xtask bench kernel`, the browser's half: the notebook kernel (CPython in
// Pyodide, in its Web Worker; then the older Rust kernel, `?kernel=rust`) running the
// benchmark's 200-line cell in Chromium, timed
// by the notebook page from posting the cell to the worker to its end
// (`data-elapsed-ms`), after one warm-up run, ROUNDS times in one session.
//
// Usage: node bench/kernel.mjs CELL_FILE. Prints one JSON object:
// {"browser_ms": [...], "load_ms": N, "warm_load_ms": N, "downloaded_bytes": N,
// "rust_browser_ms": [...], "rust_load_ms": N, "rust_downloaded_bytes": N} — load_ms:
// opening the notebook until the kernel is ready (the worker's download, compile and
// start), cold; warm_load_ms: the same with the HTTP cache filled.
import { readFileSync } from "node:fs";
import { chromium } from "@playwright/test";
import { chromiumArgs, chromiumPath, startServer } from "../lib/runboard.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 21);

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
  const context = await browser.newContext();
  // Log in as `?token=` does: the server answers a session cookie, kept by the context.
  await context.request.get(server.loginUrl, { maxRedirects: 0 });
  const python = await measure(context, "");
  // The same notebook again in the same context: the kernel's files come from the
  // HTTP cache (hashed names, immutable).
  const warm = await measure(context, "", 0);
  const rust = await measure(await browser.newContext(), "?kernel=rust");
  console.log(
    JSON.stringify({
      browser_ms: python.times,
      load_ms: python.loadMs,
      warm_load_ms: warm.loadMs,
      downloaded_bytes: python.bytes,
      rust_browser_ms: rust.times,
      rust_load_ms: rust.loadMs,
      rust_downloaded_bytes: rust.bytes,
    }),
  );
} finally {
  await browser.close();
  await server.stop();
}

/** Opens the notebook (`query` picks the kernel) until the kernel is ready, then runs
 * the cell `rounds` + 1 times; the page's bytes as sent (compressed). */
async function measure(context, query, rounds = ROUNDS) {
  await context.request.get(server.loginUrl, { maxRedirects: 0 });
  const page = await context.newPage();
  let bytes = 0;
  page.on("response", (response) => {
    const length = Number(response.headers()["content-length"] ?? 0);
    if (!response.fromServiceWorker()) bytes += length;
  });
  // Requests of the kernel's worker are the page's too (Chromium reports them).
  const opened = Date.now();
  await page.goto(`${server.url}/notebooks/bench/kernel.ipynb${query}`);
  await page.locator('.nb-kernel[data-kernel="ready"]').waitFor({ timeout: 120_000 });
  const loadMs = Date.now() - opened;
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
  return { times, loadMs, bytes };
}
