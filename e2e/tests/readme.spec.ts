// The README's path, as a new user takes it: `cargo xtask run`'s server (its own
// arguments, a data folder relative to the checkout, the checkout as working
// directory), the "Sample notebook" link it prints, Run all.
import { realpathSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { test, expect } from "@playwright/test";
import { root, startReadmeServer } from "../lib/runboard.mjs";

test("the sample notebook that `cargo xtask run` prints runs all to Completed", { tag: "@release" }, async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  const server = await startReadmeServer();
  try {
    // The server says where its data lives, as an absolute path.
    const data = server.printedLine("Data");
    expect(isAbsolute(data)).toBe(true);
    expect(data).toBe(join(realpathSync(root), server.dataDir));

    await page.goto(server.printedLine("Sample notebook"));
    await expect(page).toHaveURL(`${server.url}/notebooks/Quickstart.ipynb`);
    await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
    await page.getByRole("button", { name: "Run all" }).click();

    const wait = page.locator('[data-cell="wait"] .nb-outputs');
    await expect(wait).toContainText("Execution Summary", { timeout: 120_000 });
    await expect(wait).toContainText("epoch 20: loss");
    await expect(wait).toContainText("Status: Completed");
    const card = page.locator('[data-cell="card"] .nb-run-card');
    await expect(card).toHaveAttribute("data-status", "Completed", { timeout: 30_000 });
    await expect(page.locator(".nb-outputs .nb-error")).toHaveCount(0);
    await page.screenshot({ path: testInfo.outputPath("readme-quickstart.png"), fullPage: true });
  } finally {
    await server.stop();
  }
});
