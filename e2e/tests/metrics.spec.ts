// Metrics and TensorBoard charts in a real browser: real Python jobs log with the
// azureml.core shim and with tensorboardX, and the charts grow while the run runs.
import type { Locator, Page } from "@playwright/test";
import { test, expect } from "./fixtures";

/** The number of points a chart draws (its `data-points`). */
async function pointsOf(plot: Locator): Promise<number> {
  return Number((await plot.getAttribute("data-points")) ?? "0");
}

/** Waits until the chart shows more than `than` points while the run is Running. */
async function growsWhileRunning(page: Page, plot: Locator, than: number): Promise<number> {
  await expect.poll(() => pointsOf(plot), { timeout: 20_000 }).toBeGreaterThan(than);
  const now = await pointsOf(plot);
  await expect(page.locator(".run-head .status")).toHaveText("Running");
  return now;
}

test("a job logging with Run.get_context().log in a loop shows its points while running", async ({
  loggedIn: page,
  server,
}, testInfo) => {
  const runId = server.submit(
    "e2e-metrics",
    `
import time
from azureml.core import Run
run = Run.get_context()
run.log("learning_rate", 0.01)
run.log_list("classes", ["cat", "dog"])
for i in range(240):
    run.log("loss", 2.0 / (i + 1))
    run.log("accuracy", 1 - 1.0 / (i + 2))
    time.sleep(0.05)
print("done", flush=True)
`,
  );
  await page.goto(`${server.url}/runs/${runId}?tab=metrics`);
  await expect(page.getByRole("link", { name: "Metrics", exact: true })).toHaveAttribute("aria-current", "page");
  await expect(page.locator(".run-head .status")).toHaveText("Running", { timeout: 30_000 });

  const loss = page.locator("figure.chart", { hasText: "loss" }).locator(".chart-plot");
  await expect(loss.locator("canvas")).toBeVisible({ timeout: 20_000 });
  const first = await growsWhileRunning(page, loss, 0);
  expect(first).toBeLessThan(240);
  const second = await growsWhileRunning(page, loss, first);
  await page.screenshot({ path: testInfo.outputPath("running.png") });
  expect(second).toBeGreaterThan(first);
  await expect(page.locator("figure.chart", { hasText: "accuracy" }).locator("canvas")).toBeVisible();
  // Values logged once, and non-numbers, are in the table.
  const values = page.locator("table.metric-values");
  await expect(values.locator("tr", { hasText: "learning_rate" })).toContainText("0.01");
  await expect(values.locator("tr", { hasText: "classes" })).toContainText("dog");

  // Log scale and the x axis rebuild the chart with every point.
  await page.getByLabel("Log scale").check();
  await page.getByTestId("x-axis").first().selectOption("relative");
  await expect(page.locator(".run-head .status")).toHaveText("Completed", { timeout: 40_000 });
  await expect.poll(() => pointsOf(loss), { timeout: 10_000 }).toBe(240);
  await expect(loss.locator("canvas")).toBeVisible();
});

test("a job writing tfevents with tensorboardX shows its scalars while running", { tag: "@release" }, async ({
  loggedIn: page,
  server,
}, testInfo) => {
  test.setTimeout(240_000);
  const runId = server.submit(
    "e2e-tensorboard",
    `
import time
import numpy as np
from tensorboardX import SummaryWriter
train = SummaryWriter("logs/train", flush_secs=1)
evaluation = SummaryWriter("logs/eval", flush_secs=1)
for i in range(200):
    train.add_scalar("loss/total", 2.0 / (i + 1), i)
    train.add_scalar("lr", 0.1, i)
    if i % 10 == 0:
        evaluation.add_scalar("loss/total", 2.5 / (i + 1), i)
        train.add_histogram("weights", np.random.randn(100), i)
    train.flush()
    evaluation.flush()
    time.sleep(0.06)
train.close()
evaluation.close()
print("done", flush=True)
`,
    { estimator: { pip_packages: ["tensorboardX"] } },
  );
  await page.goto(`${server.url}/runs/${runId}?tab=tensorboard`);
  // The environment (tensorboardX from PyPI) is built first.
  await expect(page.locator(".run-head .status")).toHaveText("Running", { timeout: 180_000 });

  const group = page.locator("section.chart-group", { has: page.locator("h2", { hasText: /^loss$/ }) });
  const total = group.locator("figure.chart", { hasText: "loss/total" }).locator(".chart-plot");
  await expect(total.locator("canvas")).toBeVisible({ timeout: 30_000 });
  const first = await growsWhileRunning(page, total, 0);
  const second = await growsWhileRunning(page, total, first);
  await total.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath("running.png") });
  expect(second).toBeGreaterThan(first);
  // One line per TensorBoard run: train and eval share the chart.
  await expect(total).toContainText("train");
  await expect(total).toContainText("eval");
  // Histograms are counted and listed.
  await expect(page.locator("section.other-summaries tr", { hasText: "weights" })).toContainText("histogram");

  await expect(page.locator(".run-head .status")).toHaveText("Completed", { timeout: 60_000 });
  await expect.poll(() => pointsOf(total), { timeout: 10_000 }).toBe(200 + 20);
});

test("the experiment page compares its runs: metric columns with last values, one metric overlaid", { tag: "@release" }, async ({
  loggedIn: page,
  server,
}, testInfo) => {
  const script = (scale: number) => `
from azureml.core import Run
run = Run.get_context()
for i in range(30):
    run.log("loss", ${scale} / (i + 1))
run.log("accuracy", ${1 - scale / 10})
run.log("note", "scale ${scale}")
`;
  const first = server.submit("e2e-compare", script(1));
  const second = server.submit("e2e-compare", script(2));
  for (const id of [first, second]) await server.waitForStatus(id, ["Completed"]);

  await page.goto(`${server.url}/experiments/e2e-compare`);
  await page.getByRole("button", { name: "Compare metrics" }).click();
  const table = page.locator("table.compare-table");
  // The first metrics by name are shown: accuracy, loss, note.
  await expect(table.locator("thead")).toContainText("accuracy");
  await expect(table.locator(`tr[data-run="${first}"] td[data-metric="accuracy"]`)).toHaveText("0.9");
  await expect(table.locator(`tr[data-run="${second}"] td[data-metric="accuracy"]`)).toHaveText("0.8");
  await expect(table.locator(`tr[data-run="${second}"] td[data-metric="loss"]`)).toHaveText("0.0666667");
  await expect(table.locator(`tr[data-run="${first}"] td[data-metric="note"]`)).toHaveText("scale 1");
  // A column can be hidden.
  await page.locator("fieldset.metric-columns").getByLabel("note").uncheck();
  await expect(table.locator("thead")).not.toContainText("note");

  // Loss, the one series, is overlaid for both runs; unticking a run drops its line.
  const plot = page.locator("section.overlay .chart-plot");
  await expect(page.getByTestId("overlay-metric")).toHaveValue("loss");
  await expect(plot).toHaveAttribute("data-lines", "2");
  await expect(plot).toHaveAttribute("data-points", "60");
  await expect(plot.locator("canvas")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("compare.png") });
  await page.getByLabel(`Overlay ${first}`).uncheck();
  await expect(plot).toHaveAttribute("data-lines", "1");
});
