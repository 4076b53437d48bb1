// A sweep (HyperDrive) in a real browser: the server-rendered sweep page fills live
// while the sweep runs, lists the children best first by the primary metric with a
// chart per parameter, and shows why the Bandit policy stopped a child; the runs table
// groups the children under their parent.
import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";

/**
 * The score is a table lookup of the parameters (server/tests/it/sweeps.rs's script):
 * `a` in {1, 3} scores 0.81..0.82, `a` = 2 scores 0.31..0.32. Logged 10 times,
 * 0.4 s apart.
 */
const TRAIN_PY = `
import argparse, time
from azureml.core import Run
parser = argparse.ArgumentParser()
parser.add_argument("--a", type=int)
parser.add_argument("--b", type=int)
args = parser.parse_args()
score = {1: 0.90, 2: 0.30, 3: 0.80}[args.a] + 0.01 * args.b
run = Run.get_context()
for step in range(10):
    run.log("score", score)
    time.sleep(0.4)
`;

/**
 * A grid of 6 children, 3 at a time, in the grid's order (b turns fastest): the first
 * three, (1,1) (1,2) (3,1), are good; of the next three, (2,1) and (2,2) score below
 * the best child's at the same interval minus 0.15, so Bandit stops them (the hand
 * computation of server/tests/it/sweeps.rs).
 */
const CONFIG = {
  hyperparameter_sampling: {
    sampling: "grid",
    parameter_space: { "--a": ["choice", [[1, 3, 2]]], "--b": ["choice", [[1, 2]]] },
  },
  policy: { kind: "bandit", slack_amount: 0.15, evaluation_interval: 1, delay_evaluation: 2 },
  primary_metric_name: "score",
  primary_metric_goal: "maximize",
  max_total_runs: 6,
  max_concurrent_runs: 3,
};

/** What the sweep page shows at one instant: rows, and whether it still reloads. */
async function snapshot(page: Page) {
  try {
    return await page.evaluate(() => ({
      rows: document.querySelectorAll("table.children tbody tr").length,
      live: document.body.textContent!.includes("reloads every 2 seconds"),
    }));
  } catch {
    // The page was reloading.
    return null;
  }
}

test("the sweep page fills live, sorts by the metric, shows why a child was stopped; the runs table groups the children", async ({
  loggedIn: page,
  server,
}) => {
  test.setTimeout(180_000);
  const parent = await server.submitSweep("e2e-sweep", TRAIN_PY, CONFIG);

  // The run page of the sweep links to its sweep page.
  await page.goto(`${server.url}/runs/${parent}`);
  await page.getByRole("link", { name: "Sweep", exact: true }).click();
  await expect(page).toHaveURL(`${server.url}/runs/${parent}/sweep`);
  await expect(page.getByRole("heading", { name: `Sweep ${parent}` })).toBeVisible();

  // Live: children appear while the sweep still runs (the page reloads itself), before
  // all six exist.
  let first: { rows: number; live: boolean } | null = null;
  await expect
    .poll(
      async () => {
        const now = await snapshot(page);
        if (now && now.rows > 0 && first === null) first = now;
        return first;
      },
      { timeout: 60_000 },
    )
    .not.toBeNull();
  expect(first!.live).toBe(true);
  expect(first!.rows).toBeLessThan(6);

  // The page keeps reloading until the sweep has ended, then stops.
  await expect(page.getByText("The sweep has ended.")).toBeVisible({ timeout: 120_000 });
  await expect(page.locator("strong.status")).toHaveText("Completed");
  const rows = page.locator("table.children tbody tr");
  await expect(rows).toHaveCount(6);

  // Sorted by the primary metric, best first.
  const metrics = (await page.locator("table.children tbody td.num").allTextContents()).map(Number);
  expect(metrics.length).toBe(6);
  expect(metrics).toEqual([...metrics].sort((x, y) => y - x));
  expect(metrics[0]).toBeCloseTo(0.92, 9);

  // The stopped children, with why, in the table and in their own list.
  const stopped = page.locator("ul.stopped li");
  await expect(stopped).toHaveCount(2);
  for (const item of await stopped.allTextContents()) {
    expect(item).toMatch(/: BanditPolicy at interval \d+/);
  }
  await expect(rows.filter({ hasText: "BanditPolicy at interval" })).toHaveCount(2);
  await expect(rows.filter({ hasText: "BanditPolicy at interval" }).first()).toContainText("Canceled");

  // One chart per parameter, a dot per child with a metric.
  await expect(page.getByRole("img", { name: "score against --a" })).toBeVisible();
  await expect(page.getByRole("img", { name: "score against --b" })).toBeVisible();
  await expect(page.locator("svg.scatter").first().locator("circle")).toHaveCount(6);
  await page.screenshot({ path: test.info().outputPath("sweep-page.png"), fullPage: true });

  // The experiment's runs table: the parent first with its children count, its six
  // children right under it.
  await page.goto(`${server.url}/experiments/e2e-sweep`);
  const table = page.locator("table.runs tbody tr");
  await expect(table).toHaveCount(7);
  await expect(table.first()).toContainText(parent);
  await expect(table.first()).toContainText("6 children");
  await expect(page.locator("table.runs tbody tr.child")).toHaveCount(6);
  await expect(table.first()).not.toHaveClass(/child/);

  // A child's run page has no Sweep link (it is not a sweep).
  await page.locator("table.runs tbody tr.child a").first().click();
  await expect(page.locator(".facts")).toContainText("local");
  await expect(page.getByRole("link", { name: "Share", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sweep", exact: true })).toBeHidden();
});
