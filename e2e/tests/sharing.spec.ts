// Read-only share links in a real browser: a fresh browser context (no session) opens
// the link, sees the run live, and nothing else; revoked or expired links stop working.
import { test, expect, logLines } from "./fixtures";
import type { Server } from "../lib/runboard.mjs";

/** A job that prints `count` numbered lines, `delay` seconds apart. */
const numbered = (count: number, delay: number) => `
import time
for i in range(${count}):
    print(f"line {i:05d} of ${count}", flush=True)
    time.sleep(${delay})
print("all lines written", flush=True)
`;

/** A call of the API as the server's admin (the server token). */
async function asAdmin(server: Server, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response;
}

test("a share link opened without a session shows its run live and nothing else, until revoked", async ({
  loggedIn: page,
  server,
  browser,
}) => {
  const other = server.submit("e2e-private", numbered(1, 0));
  const runId = server.submit("e2e-shared", numbered(60, 0.15));
  await server.waitForStatus(other, ["Completed"]);

  // The run page's Share button opens the run's share page, which makes a link,
  // shows it once and lists it.
  await page.goto(`${server.url}/runs/${runId}`);
  await expect(page.getByText("Submitted by")).toBeVisible();
  await page.getByRole("link", { name: "Share", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Share this run" })).toBeVisible();
  await expect(page.getByText("No share links.")).toBeVisible();
  await page.getByRole("button", { name: "Create link" }).click();
  const field = page.getByLabel("New share link");
  await expect(field).toHaveValue(new RegExp(`^${server.url}/s/[0-9a-f]{64}$`));
  const url = await field.inputValue();
  await expect(page.getByRole("button", { name: /^Revoke link / })).toHaveCount(1);

  // A stranger's browser: the link opens the run, whose log arrives while it runs.
  const stranger = await browser.newContext();
  const tab = await stranger.newPage();
  await tab.goto(url);
  await expect(tab).toHaveURL(`${server.url}/runs/${runId}`);
  await expect(tab.locator("h1 .run-id")).toHaveText(runId);
  await tab.getByRole("link", { name: "Logs", exact: true }).click();
  await expect(tab.locator(".log .ln", { hasText: "line 00001 of 60" })).toBeVisible({ timeout: 30_000 });
  // Seen while the job still runs: the shared page is live, not loaded after the fact.
  await expect(tab.locator(".run-head .status")).toHaveText("Running");
  await expect(tab.locator(".connection")).toHaveAttribute("data-connection", "live");
  const early = (await logLines(tab)).length;
  expect(early).toBeLessThan(60);
  await expect(tab.locator(".log .ln", { hasText: "all lines written" })).toBeVisible({ timeout: 30_000 });
  expect((await logLines(tab)).filter((l) => l.startsWith("line ")).length).toBe(60);

  // Its files and details are readable; everything else answers 401 or 403.
  const request = stranger.request;
  expect((await request.get(`${server.url}/api/runs/${runId}`)).status()).toBe(200);
  expect(
    (await request.get(`${server.url}/api/runs/${runId}/files/user_logs/std_log.txt`)).status(),
  ).toBe(200);
  const refused: [string, string][] = [
    ["GET", "/api/experiments"],
    ["GET", "/api/runs"],
    ["GET", `/api/runs/${other}`],
    ["GET", `/api/runs/${other}/events`],
    ["GET", `/api/runs/${runId}/snapshot`],
    ["GET", "/api/files"],
    ["GET", "/api/files/Quickstart.ipynb"],
    ["PUT", "/api/files/evil.txt"],
    ["POST", "/api/experiments/e2e-shared/runs"],
    ["POST", `/api/runs/${runId}/cancel`],
    ["PATCH", `/api/runs/${runId}/tags`],
    ["POST", `/api/runs/${runId}/share-links`],
    ["GET", "/api/environments"],
    ["GET", "/api/sessions"],
    ["GET", "/api/tokens"],
  ];
  for (const [method, path] of refused) {
    const response = await request.fetch(`${server.url}${path}`, { method, data: method === "GET" ? undefined : "{}" });
    expect([401, 403], `${method} ${path}`).toContain(response.status());
  }

  // The stranger cannot reach the share page either.
  const sharePage = await request.get(`${server.url}/runs/${runId}/share`, { maxRedirects: 0 });
  expect([302, 303, 403], "GET /runs/{id}/share as a share session").toContain(sharePage.status());

  // Revoked on the share page: the stranger's session ends and the link no longer opens.
  const links = await (await asAdmin(server, "GET", `/api/runs/${runId}/share-links`)).json();
  expect(links.links).toHaveLength(1);
  await page.goto(`${server.url}/runs/${runId}/share`);
  await page.getByRole("button", { name: `Revoke link ${links.links[0].id}` }).click();
  await expect(page.getByText("No share links.")).toBeVisible();
  expect((await request.get(`${server.url}/api/runs/${runId}`)).status()).toBe(401);
  const again = await tab.goto(url);
  expect(again?.status()).toBe(410);
  await expect(tab.getByRole("heading", { name: "Share link not valid" })).toBeVisible();
  await stranger.close();
});

test("an expired share link no longer opens, and its session has ended", async ({ server, browser }) => {
  const runId = server.submit("e2e-expiring", numbered(2, 0));
  await server.waitForStatus(runId, ["Completed"]);
  // 0.004 hours: 14.4 seconds, room for a first page load on a busy machine.
  const created = await asAdmin(server, "POST", `/api/runs/${runId}/share-links`, { expires_in_hours: 0.004 });
  expect(created.status).toBe(201);
  const { url, expires_utc } = await created.json();

  const stranger = await browser.newContext();
  const tab = await stranger.newPage();
  await tab.goto(url);
  await expect(tab.locator("h1 .run-id")).toHaveText(runId);
  await expect(tab.locator("pre.tail")).toContainText("all lines written");

  // Past the expiry the link names (plus a second: it is given to the second).
  await tab.waitForTimeout(Math.max(0, Date.parse(expires_utc) - Date.now()) + 1_000);
  expect((await stranger.request.get(`${server.url}/api/runs/${runId}`)).status()).toBe(401);
  const expired = await tab.goto(url);
  expect(expired?.status()).toBe(410);
  await stranger.close();
});

test("the Account page lists this browser's session and logs out", async ({ loggedIn: page, server }) => {
  await page.goto(`${server.url}/`);
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page.getByRole("heading", { name: "Account" })).toBeVisible();
  await expect(page.getByText("this browser")).toBeVisible();
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(`${server.url}/login`);
  expect((await page.request.get(`${server.url}/api/session`)).status()).toBe(401);
});
