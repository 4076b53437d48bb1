// Environments in a real browser: a run with pip_packages shows its resolved
// environment on the Overview, and the Environments page lists and deletes it.
import { test, expect } from "./fixtures";

test("a run's Overview shows its environment, which the Environments page lists and deletes", { tag: "@release" }, async ({
  loggedIn: page,
  server,
}, testInfo) => {
  test.setTimeout(240_000);
  const runId = server.submit("e2e-env", `import six\nprint("six", six.__version__, flush=True)\n`, {
    estimator: { pip_packages: ["six"] },
  });
  const details = await server.waitForStatus(runId, ["Completed", "Failed"], 180_000);
  expect(details.status).toBe("Completed");
  const hash: string = details.runDefinition.environment.hash;

  await page.goto(`${server.url}/runs/${runId}`);
  const env = page.getByTestId("environment");
  await expect(env).toContainText(hash);
  await expect(env.locator("summary")).toContainText(/\d+ packages/);
  await env.locator("summary").click();
  await expect(env.locator("ul.packages")).toContainText("six==");
  await expect(env.getByRole("link", { name: "system_logs/environment.txt" })).toHaveAttribute(
    "href",
    `/runs/${runId}?tab=logs&pane=system_logs%2Fenvironment.txt`,
  );
  await page.screenshot({ path: testInfo.outputPath("overview.png") });
  // The link opens the Logs tab on the build log's pane.
  await env.getByRole("link", { name: "system_logs/environment.txt" }).click();
  await expect(page.getByRole("button", { name: "Environment build" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".log")).toContainText("six");
  await page.goBack();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Environments" }).click();
  await expect(page).toHaveURL(`${server.url}/environments`);
  const row = page.locator(`tr.environment[data-hash="${hash}"]`);
  await expect(row).toContainText("six");
  await expect(row).toContainText(/KiB|MiB/);
  await page.screenshot({ path: testInfo.outputPath("environments.png") });

  // Dismissing the confirm keeps it; accepting deletes it.
  page.once("dialog", (dialog) => dialog.dismiss());
  await row.getByRole("button", { name: "Delete" }).click();
  await expect(row).toBeVisible();
  page.once("dialog", (dialog) => {
    expect(dialog.message()).toContain(hash);
    return dialog.accept();
  });
  await row.getByRole("button", { name: "Delete" }).click();
  await expect(page.locator("p.message")).toContainText(`Deleted ${hash}`);
  await expect(row).toHaveCount(0);
  const list = await server.api("/api/environments");
  expect(list.environments.map((e: { hash: string }) => e.hash)).not.toContain(hash);
});
