// `cargo xtask bench portal`: in Chromium, the time from navigation start to the
// first log line on screen, for the run portal (`/runs/<id>?tab=logs`) and for a
// plain HTML page served by the same server (`static/bench/baseline.html`), each
// loaded cold (a new browser context: empty cache) while the same job runs.
//
// Prints one JSON object: {"portal_ms": [...], "baseline_ms": [...]}. Run by
// xtask/src/portal.rs, which builds what it needs first.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "@playwright/test";
import { chromiumArgs, chromiumPath, root, startServer } from "../lib/runboard.mjs";

const ROUNDS = Number(process.env.ROUNDS ?? 7);

// Records when the first log line is on screen: the first `.ln` inside the log
// element, one animation frame after it enters the DOM (so it has been laid out
// and painted), in ms since navigation start.
const probe = (selector) => {
  window.__firstLine = new Promise((resolve) => {
    const seen = () => {
      if (document.querySelector(selector)) {
        observer.disconnect();
        requestAnimationFrame(() => resolve(performance.now()));
        return true;
      }
      return false;
    };
    const observer = new MutationObserver(seen);
    observer.observe(document, { childList: true, subtree: true });
  });
};

const manifest = JSON.parse(readFileSync(join(root, "static/pkg/manifest.json"), "utf8"));
const baselinePath = manifest["bench/baseline.html"];
if (!baselinePath) throw new Error("static/pkg/manifest.json names no bench/baseline.html");

const server = await startServer();
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
try {
  // A job that keeps writing for longer than the measurement.
  const runId = server.submit(
    "bench-portal",
    "import time\nfor i in range(100000):\n    print(f'step {i} loss {1/(i+1):.5f}', flush=True)\n    time.sleep(0.05)\n",
  );
  await server.waitForStatus(runId, ["Running"]);
  // Let the first lines be written.
  await new Promise((r) => setTimeout(r, 500));

  const measure = async (url, selector) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // Log in as `?token=` does: the server answers a session cookie, kept by the context.
    await context.request.get(server.loginUrl, { maxRedirects: 0 });
    const page = await context.newPage();
    await page.addInitScript(probe, selector);
    await page.goto(url);
    const ms = await page.evaluate(() => window.__firstLine);
    await context.close();
    return Math.round(ms);
  };
  const portal = [];
  const baseline = [];
  // Alternate, so both see the same machine load; the first round warms the server.
  await measure(`${server.url}/runs/${runId}?tab=logs`, ".log .ln");
  for (let i = 0; i < ROUNDS; i++) {
    portal.push(await measure(`${server.url}/runs/${runId}?tab=logs`, ".log .ln"));
    baseline.push(await measure(`${server.url}/${baselinePath}?run=${runId}`, "#log .ln"));
  }
  server.cli(["cancel", runId]);
  console.log(JSON.stringify({ portal_ms: portal, baseline_ms: baseline }));
} finally {
  await browser.close();
  await server.stop();
}
