// Part of `cargo xtask bench scale` (server/benches/runpage/mod.rs): in Chromium, the
// time from navigation start until a run page reaches a state, each page loaded cold
// (a new browser context: empty cache), on a server the bench started and filled.
//
// Input (environment): BENCH_URL, BENCH_TOKEN, BENCH_PAGES (JSON: [{name, path,
// ready, arg, rounds?, timeout?}], `ready` one of the states below, with its `arg`),
// ROUNDS (default 3). Prints one JSON object: {name: [ms, …], …}; a load that did not
// reach its state within its timeout (ms, default 300,000) is `null`.
import { chromium } from "@playwright/test";
import { chromiumArgs, chromiumPath } from "../lib/runboard.mjs";

const url = process.env.BENCH_URL;
const token = process.env.BENCH_TOKEN;
const pages = JSON.parse(process.env.BENCH_PAGES ?? "[]");
const rounds = Number(process.env.ROUNDS ?? 3);

// The states, as functions (the pages' Content-Security-Policy forbids evaluating
// strings).
const READY = {
  // A chart with `arg` points is drawn (the page before the run view: no sampling).
  points: (arg) =>
    [...document.querySelectorAll(".chart-plot")].some(
      (p) => p.getAttribute("data-points") === String(arg) && p.querySelector("canvas"),
    ),
  // A chart whose lines stand for `arg` points is drawn.
  charts: (arg) =>
    [...document.querySelectorAll(".chart-plot")].some(
      (p) => p.getAttribute("data-logged") === String(arg) && p.querySelector("canvas"),
    ),
  // The log shows a line `arg`.
  line: (arg) => [...document.querySelectorAll(".log .ln")].some((l) => l.textContent === arg),
  // The run's header and at least `arg` steps of its timeline.
  paint: (arg) => !!document.querySelector(".run-head .run-id") && document.querySelectorAll(".timeline li").length >= arg,
};

const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
const result = {};
try {
  for (const { name, path, ready, arg, rounds: own, timeout } of pages) {
    result[name] = [];
    for (let i = 0; i < (own ?? rounds); i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.request.get(`${url}/?token=${token}`, { maxRedirects: 0 });
      const page = await context.newPage();
      await page.goto(`${url}${path}`);
      // Polled once per animation frame; the time is taken one frame after the state
      // is reached, so it has been laid out and painted.
      try {
        await page.waitForFunction(READY[ready], arg, { timeout: timeout ?? 300_000, polling: "raf" });
        const ms = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
        result[name].push(Math.round(ms));
      } catch (e) {
        console.error(`${name}: ${e.message.split("\n")[0]}`);
        result[name].push(null);
      }
      await context.close();
    }
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
