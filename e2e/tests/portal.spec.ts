// The run portal in a real browser against a real server and real Python jobs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test, expect, logLines } from "./fixtures";

/** A job that prints `count` numbered lines, `delay` seconds apart. */
const numbered = (count: number, delay: number) => `
import time
for i in range(${count}):
    print(f"line {i:05d} of ${count}", flush=True)
    time.sleep(${delay})
print("all lines written", flush=True)
`;

test("a submitted run's log lines appear while it runs", { tag: "@release" }, async ({ loggedIn: page, server }, testInfo) => {
  const runId = server.submit("e2e-live", numbered(40, 0.15));
  await page.goto(`${server.url}/runs/${runId}`);
  await expect(page.locator("h1 .run-id")).toHaveText(runId);
  await page.getByRole("link", { name: "Logs", exact: true }).click();
  await expect(page).toHaveURL(/\?tab=logs$/);

  const log = page.locator(".log");
  await expect(log.locator(".ln", { hasText: "line 00001 of 40" })).toBeVisible();
  // Seen while the job still runs: the page is live, not loaded after the fact.
  await expect(page.locator(".run-head .status")).toHaveText("Running");
  await expect(page.locator(".connection")).toHaveAttribute("data-connection", "live");
  await page.screenshot({ path: testInfo.outputPath("running.png") });
  const early = (await logLines(page)).length;
  expect(early).toBeLessThan(40);

  await expect(log.locator(".ln", { hasText: "all lines written" })).toBeVisible({ timeout: 30_000 });
  await expect(page.locator(".run-head .status")).toHaveText("Completed", { timeout: 15_000 });
  const lines = await logLines(page);
  for (let i = 0; i < 40; i++) {
    expect(lines.filter((l) => l === `line ${String(i).padStart(5, "0")} of 40`)).toHaveLength(1);
  }
  // The timeline shows every status the run went through.
  await expect(page.locator(".timeline li .step-name")).toHaveText([
    "Queued",
    "Preparing",
    "Starting",
    "Running",
    "Finalizing",
    "Completed",
  ]);
});

test("a run cancelled from its page ends Canceled", async ({ loggedIn: page, server }) => {
  const runId = server.submit("e2e-cancel", numbered(300, 0.1));
  await page.goto(`${server.url}/runs/${runId}`);
  await expect(page.locator(".run-head .status")).toHaveText("Running", { timeout: 30_000 });
  const cancel = page.getByRole("button", { name: "Cancel run" });
  await expect(cancel).toBeEnabled();
  await cancel.click();
  await expect(page.locator(".run-head .status")).toHaveText("Canceled", { timeout: 20_000 });
  await expect(cancel).toBeDisabled();
  await expect(page.locator(".timeline li .step-name").last()).toHaveText("Canceled");
  await expect(page.locator(".timeline li .step-name", { hasText: "CancelRequested" })).toHaveCount(1);
  expect((await server.api(`/api/runs/${runId}`)).status).toBe("Canceled");
});

test("an output file downloads byte for byte", async ({ loggedIn: page, server }) => {
  const runId = server.submit(
    "e2e-download",
    `
import os
os.makedirs("outputs/model", exist_ok=True)
data = bytes((i * 7 + 3) % 256 for i in range(300_000))
open("outputs/model/weights.bin", "wb").write(data)
open("outputs/notes.txt", "w").write("accuracy 0.93\\n")
print("saved", len(data), flush=True)
`,
  );
  await server.waitForStatus(runId, ["Completed"]);
  await page.goto(`${server.url}/runs/${runId}?tab=outputs`);
  const row = page.locator("tr.file", { hasText: "weights.bin" });
  await expect(row).toContainText("293.0 KiB");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    row.getByRole("link", { name: /Download/ }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("weights.bin");
  const got = readFileSync(await download.path());
  const expected = readFileSync(join(server.dataDir, "runs", runId, "wd", "outputs", "model", "weights.bin"));
  expect(got.length).toBe(300_000);
  expect(got.equals(expected)).toBe(true);

  // A text file previews in the page.
  await page.getByRole("button", { name: "notes.txt" }).click();
  await expect(page.locator(".preview-text")).toHaveText("accuracy 0.93\n");
});

test("a run's address opens directly in a fresh tab, and asks to log in without the cookie", async ({
  loggedIn: page,
  server,
  browser,
}) => {
  const runId = server.submit("e2e-deeplink", numbered(3, 0));
  await server.waitForStatus(runId, ["Completed"]);

  // A fresh tab of the logged-in browser: the server answers the deep link with the
  // app, which shows the run.
  const tab = await page.context().newPage();
  const response = await tab.goto(`${server.url}/runs/${runId}`);
  expect(response?.status()).toBe(200);
  expect(response?.headers()["cache-control"]).toBe("no-cache");
  await expect(tab.locator("h1 .run-id")).toHaveText(runId);
  await expect(tab.locator(".run-head .status")).toHaveText("Completed");
  await expect(tab.locator("pre.tail")).toContainText("all lines written");
  await tab.getByRole("link", { name: "Snapshot" }).click();
  await tab.getByRole("button", { name: "train.py" }).click();
  await expect(tab.locator(".preview-text")).toContainText("for i in range(3)");

  // A browser without the cookie gets the login page, and the token logs it in.
  const stranger = await browser.newContext();
  const fresh = await stranger.newPage();
  await fresh.goto(`${server.url}/runs/${runId}`);
  await expect(fresh.getByRole("heading", { name: "Log in to Runboard" })).toBeVisible();
  await expect(fresh.locator(".login")).toContainText("runboard token");
  await fresh.getByLabel("Or paste the token").fill(server.token);
  await fresh.getByRole("button", { name: "Log in" }).click();
  await expect(fresh).toHaveURL(`${server.url}/runs/${runId}`);
  await expect(fresh.locator("h1 .run-id")).toHaveText(runId);
  await stranger.close();
});

test("after going offline and online mid-run, every log line is shown exactly once", async ({
  loggedIn: page,
  server,
}, testInfo) => {
  const count = 150;
  const sockets: string[] = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  const runId = server.submit("e2e-offline", numbered(count, 0.04));
  await page.goto(`${server.url}/runs/${runId}?tab=logs`);
  await expect(page.locator(".log .ln", { hasText: "line 00010" })).toBeVisible({ timeout: 30_000 });

  await page.context().setOffline(true);
  await expect(page.locator(".connection")).toHaveAttribute("data-connection", "offline");
  await expect(page.locator(".connection")).toContainText("Offline");
  await page.screenshot({ path: testInfo.outputPath("offline.png") });
  // The job goes on writing while the page is offline.
  await page.waitForTimeout(1500);
  await page.context().setOffline(false);
  await expect(page.locator(".connection")).toHaveAttribute("data-connection", "live", { timeout: 15_000 });

  await server.waitForStatus(runId, ["Completed"], 60_000);
  await expect(page.locator(".log .ln", { hasText: "all lines written" })).toBeVisible({ timeout: 15_000 });
  const lines = await logLines(page);
  const numberedLines = lines.filter((l) => /^line \d{5} of/.test(l));
  for (let i = 0; i < count; i++) {
    const want = `line ${String(i).padStart(5, "0")} of ${count}`;
    expect(lines.filter((l) => l === want), want).toHaveLength(1);
  }
  expect(numberedLines).toHaveLength(count);

  // The page really reconnected, asking for what came after the last event it had.
  expect(sockets.length).toBeGreaterThanOrEqual(2);
  // The first socket starts where `GET /api/runs/{id}/view` said (the page starts
  // from the run's present, not its first event); the later ones after it.
  const after = (u: string) => Number(new URL(u).searchParams.get("after"));
  expect(sockets[0]).toMatch(/\/events\?after=\d+$/);
  const resumed = sockets.slice(1).map(after);
  expect(Math.max(...resumed)).toBeGreaterThan(after(sockets[0]));
});

test("a tqdm-style progress bar is one line that updates", async ({ loggedIn: page, server }) => {
  const runId = server.submit(
    "e2e-tqdm",
    `
import sys, time
print("before bar", flush=True)
for i in range(301):
    filled = i * 20 // 300
    sys.stderr.write(f"\\r{i * 100 // 300:3d}%|{'#' * filled:<20}| {i}/300 [00:0{i % 10}<00:00, 99.0it/s]")
    sys.stderr.flush()
    time.sleep(0.005)
sys.stderr.write("\\n")
print("after bar", flush=True)
`,
  );
  await page.goto(`${server.url}/runs/${runId}?tab=logs`);
  await expect(page.locator(".log .ln", { hasText: "after bar" })).toBeVisible({ timeout: 30_000 });
  const lines = await logLines(page);
  const bars = lines.filter((l) => l.includes("it/s"));
  expect(bars).toEqual(["100%|####################| 300/300 [00:00<00:00, 99.0it/s]"]);
  expect(lines.indexOf("before bar")).toBe(lines.indexOf(bars[0]) - 1);
  expect(lines[lines.indexOf(bars[0]) + 1]).toBe("after bar");
});

test("experiments list their runs, which filter by status", async ({ loggedIn: page, server }) => {
  const runId = server.submit("e2e-list", numbered(2, 0));
  await server.waitForStatus(runId, ["Completed"]);
  await page.goto(server.url);
  const row = page.locator("table.experiments tr", { hasText: "e2e-list" });
  await expect(row).toContainText("Completed 1");
  await row.getByRole("link", { name: "e2e-list" }).click();
  await expect(page).toHaveURL(`${server.url}/experiments/e2e-list`);
  const runs = page.locator("table.runs tbody tr");
  await expect(runs).toHaveCount(1);
  await expect(runs.first()).toContainText(runId);
  await page.getByLabel("Status").selectOption("Failed");
  await expect(page).toHaveURL(`${server.url}/experiments/e2e-list?status=Failed`);
  await expect(page.getByText("No runs match.")).toBeVisible();
  await page.getByLabel("Status").selectOption("");
  await expect(runs).toHaveCount(1);
  await runs.first().getByRole("link").click();
  await expect(page.locator("h1 .run-id")).toHaveText(runId);
});

test("tags are edited on the Overview, and Copy link copies the run's address", async ({
  loggedIn: page,
  server,
}) => {
  const runId = server.submit("e2e-tags", numbered(2, 0));
  await server.waitForStatus(runId, ["Completed"]);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  await page.goto(`${server.url}/runs/${runId}`);

  await page.getByLabel("Tag", { exact: true }).fill("stage");
  await page.getByLabel("Value").fill("baseline");
  await page.getByRole("button", { name: "Set tag" }).click();
  const tags = page.locator("table.tags");
  await expect(tags).toContainText("stage");
  await expect(tags).toContainText("baseline");
  expect((await server.api(`/api/runs/${runId}`)).tags).toEqual({ stage: "baseline" });
  await page.getByRole("button", { name: "Remove tag stage" }).click();
  await expect(page.getByText("No tags.")).toBeVisible();
  expect((await server.api(`/api/runs/${runId}`)).tags).toEqual({});

  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.locator(".actions .message")).toHaveText("Link copied.");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${server.url}/runs/${runId}`);

  // An address naming no run says so.
  await page.goto(`${server.url}/runs/nothing_1700000000_0000abcd`);
  await expect(page.getByRole("heading", { name: "No such run" })).toBeVisible();
});

test("the Models link opens the model registry's page", async ({ loggedIn: page, server }) => {
  await page.goto(server.url);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Models" }).click();
  await expect(page).toHaveURL(`${server.url}/models`);
  await expect(page.getByRole("heading", { name: "Models" })).toBeVisible();
});
