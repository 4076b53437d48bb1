// The model registry seen from a run: the run page links to the models registered
// from that run (a server-rendered page, `server/src/api/models_page.rs`).
import { test, expect } from "./fixtures";

const WRITE_MODEL = `
import os
os.makedirs("outputs", exist_ok=True)
with open("outputs/model.pkl", "wb") as f:
    f.write(b"weights")
print("saved", flush=True)
`;

test("a run page's Models link lists the models registered from that run", async ({ loggedIn: page, server }) => {
  const runId = server.submit("e2e-models", WRITE_MODEL);
  const other = server.submit("e2e-models", WRITE_MODEL);
  await server.waitForStatus(runId, ["Completed"]);
  await server.waitForStatus(other, ["Completed"]);
  for (const [name, run] of [["digits", runId], ["elsewhere", other]]) {
    const response = await fetch(`${server.url}/api/models`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name, run_id: run, path: "outputs/model.pkl" }),
    });
    expect(response.status, await response.text()).toBe(201);
  }

  await page.goto(`${server.url}/runs/${runId}`);
  await expect(page.locator("h1 .run-id")).toHaveText(runId);
  await page.locator(".run-head .actions").getByRole("link", { name: "Models", exact: true }).click();
  await expect(page).toHaveURL(`${server.url}/runs/${runId}/models`);
  await expect(page.getByRole("heading", { name: "Models from this run" })).toBeVisible();
  const table = page.getByRole("table");
  await expect(table.getByRole("link", { name: "digits" })).toBeVisible();
  // Only this run's models: the other run's is not listed.
  await expect(table.getByRole("link", { name: "elsewhere" })).toHaveCount(0);
  await expect(table.getByRole("row")).toHaveCount(2);

  // Back to the run.
  await page.getByRole("link", { name: `Back to run ${runId}` }).click();
  await expect(page.locator("h1 .run-id")).toHaveText(runId);
});
