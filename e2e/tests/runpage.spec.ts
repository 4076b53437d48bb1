// The run page costs the same for any run size: it starts from the logs' tails and
// sampled series (`GET /api/runs/{id}/view`), reads earlier log lines as the reader
// asks, searches a whole log on the server, and follows the websocket after that.
import { test, expect } from "./fixtures";

test("a run with 60,000 points is charted from samples that stand for every point", async ({
  loggedIn: page,
  server,
}) => {
  const runId = server.submit("e2e-runpage", "print('points follow', flush=True)\n");
  await server.waitForStatus(runId, ["Completed"]);
  for (let b = 0; b < 3; b++) {
    const values = Array.from({ length: 20_000 }, (_, i) => Math.sin((b * 20_000 + i) / 500));
    const response = await fetch(`${server.url}/api/runs/${runId}/metrics`, {
      method: "POST",
      headers: { Authorization: `Bearer ${server.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ metrics: [{ name: "wave", values }] }),
    });
    expect(response.status).toBe(200);
  }
  await page.goto(`${server.url}/runs/${runId}?tab=metrics`);
  const plot = page.locator("figure.chart", { hasText: "wave" }).locator(".chart-plot");
  await expect(plot.locator("canvas")).toBeVisible({ timeout: 20_000 });
  await expect(plot).toHaveAttribute("data-logged", "60000");
  // At most min, max and last of 1,000 slices are drawn, not 60,000 points.
  const drawn = Number(await plot.getAttribute("data-points"));
  expect(drawn).toBeGreaterThan(1000);
  expect(drawn).toBeLessThanOrEqual(3000);
});

test("the logs tab shows the tail first, reads earlier lines on request, and searches on the server", async ({
  loggedIn: page,
  server,
}) => {
  const runId = server.submit("e2e-runpage", "for i in range(30000):\n    print(f'line {i}')\n");
  await server.waitForStatus(runId, ["Completed"]);
  await page.goto(`${server.url}/runs/${runId}?tab=logs`);
  const log = page.locator(".log");
  await expect(log.locator(".ln").last()).toHaveText("line 29999", { timeout: 20_000 });
  // Only the tail (64 KiB, about 6,000 lines) came: the first line is not there.
  const shown = await log.locator(".ln").count();
  expect(shown).toBeLessThan(10_000);
  await expect(log.locator(".ln").first()).not.toHaveText("line 0");
  // Earlier lines, range by range, until the file's start.
  const earlier = page.getByRole("button", { name: "Load earlier lines" });
  for (let i = 0; i < 20 && (await earlier.isVisible()); i++) {
    const before = await log.locator(".ln").count();
    await earlier.click();
    await expect.poll(() => log.locator(".ln").count()).toBeGreaterThan(before);
  }
  await expect(earlier).toBeHidden();
  await expect(log.locator(".ln").first()).toHaveText("line 0");
  const lines = await log.locator(".ln").allTextContents();
  expect(lines).toEqual(Array.from({ length: 30_000 }, (_, i) => `line ${i}`));

  // Searching is the server's: its page lists every matching line of the whole log.
  await page.getByRole("searchbox", { name: "Search this log" }).fill("line 2999");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page).toHaveURL(/\/log-search\?path=user_logs%2Fstd_log\.txt&q=line\+2999$/);
  const matches = page.getByRole("list", { name: "Matching lines" }).locator("li");
  await expect(matches).toHaveCount(11);
  await expect(matches.first()).toHaveText("line 3000line 2999");
  await expect(page.getByRole("status")).toContainText("11 lines contain it");
});
