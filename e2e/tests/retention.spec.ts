// Deleting a run from the portal: Delete opens a confirm page; confirming cancels the
// running run, removes it, and a viewer still on its page is told it was deleted.
import { test, expect } from "./fixtures";

const forever = `
import time
print("started", flush=True)
while True:
    time.sleep(0.2)
`;

test("a running run deleted from its page is cancelled and gone, and an open viewer is told", async ({
  loggedIn: page,
  server,
  context,
}) => {
  const runId = server.submit("e2e-delete", forever);
  await server.waitForStatus(runId, ["Running"]);

  // A second tab follows the run live.
  const viewer = await context.newPage();
  await viewer.goto(`${server.url}/runs/${runId}`);
  await expect(viewer.locator(".connection")).toHaveAttribute("data-connection", "live");

  await page.goto(`${server.url}/runs/${runId}`);
  await page.getByRole("link", { name: "Delete", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Delete run" })).toBeVisible();
  await expect(page.getByText("it is cancelled first")).toBeVisible();
  // "Keep it" changes nothing.
  await page.getByRole("link", { name: "Keep it" }).click();
  await expect(page).toHaveURL(`${server.url}/runs/${runId}`);
  await expect(page.locator(".run-head .status")).toHaveText("Running");

  await page.getByRole("link", { name: "Delete", exact: true }).click();
  await page.getByRole("button", { name: "Delete run" }).click();
  await expect(page).toHaveURL(`${server.url}/experiments/e2e-delete`);
  await expect(page.getByText(runId)).toHaveCount(0);

  await expect(viewer.locator(".connection")).toHaveAttribute("data-connection", "deleted");
  await expect(viewer.locator(".connection")).toHaveText("This run was deleted");

  // Its address now says it was deleted.
  await page.goto(`${server.url}/runs/${runId}`);
  await expect(page.getByText(`run ${runId} was deleted (`)).toBeVisible();
});
