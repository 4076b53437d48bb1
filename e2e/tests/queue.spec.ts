// Admission control in the portal: a run waiting for a free slot says its place in
// line, on its page (kept live by its events) and in the runs table.
import { test, expect } from "@playwright/test";
import { startServer, type Server } from "../lib/runboard.mjs";

const userManaged = { estimator: { user_managed: true } };

async function cancel(server: Server, runId: string): Promise<number> {
  const response = await fetch(`${server.url}/api/runs/${runId}/cancel`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.token}` },
  });
  return response.status;
}

test("a queued run shows its place in line, live, on its page and in the runs table", async ({ page }) => {
  // A server of its own: one run at a time.
  const server = await startServer({ args: ["--max-concurrent-runs", "1"] });
  try {
    await page.goto(server.loginUrl);
    const holding = server.submit("e2e-queue", "import time\nprint('holding', flush=True)\ntime.sleep(120)\n", userManaged);
    const second = server.submit("e2e-queue", "print('second')\n", userManaged);
    const third = server.submit("e2e-queue", "print('third')\n", userManaged);
    await server.waitForStatus(holding, ["Running"]);

    await page.goto(`${server.url}/runs/${third}`);
    const badge = page.locator(".run-head .status");
    await expect(badge).toHaveText("Queued (2nd in line)");
    await expect(badge).toHaveAttribute("data-status", "Queued");

    // The second leaves the line: the third's page moves up without a reload.
    expect(await cancel(server, second)).toBe(200);
    await expect(badge).toHaveText("Queued (1st in line)");

    await page.goto(`${server.url}/experiments/e2e-queue`);
    const row = (id: string) => page.locator("tr", { hasText: id }).locator(".status");
    await expect(row(third)).toHaveText("Queued (1st in line)");
    await expect(row(second)).toHaveText("Canceled");
    await expect(row(holding)).toHaveText("Running");

    // The slot frees: the third runs and completes.
    expect(await cancel(server, holding)).toBe(202);
    await page.goto(`${server.url}/runs/${third}`);
    await expect(badge).toHaveText("Completed", { timeout: 30_000 });
    const steps = page.locator(".timeline li .step-name");
    await expect(steps.first()).toHaveText("Queued");
    await expect(steps.nth(1)).toHaveText("Preparing");
    await expect(steps.last()).toHaveText("Completed");
  } finally {
    await server.stop();
  }
});
