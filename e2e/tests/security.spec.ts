// The browser cannot be turned against the server, in Chromium with a logged-in
// session: a page of another origin (another port of 127.0.0.1, the same site for
// cookies) cannot submit a run or follow one; files a job wrote never run a script
// on the server's origin; a markdown cell's javascript: link is not clickable; and
// the app's pages work under their Content-Security-Policy.
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConsoleMessage, Page } from "@playwright/test";
import { test, expect } from "./fixtures";

/** A page of another origin: a tiny HTTP server on 127.0.0.1:<free port>. */
async function otherOrigin(): Promise<{ url: string; server: HttpServer }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end("<!doctype html><title>Another site</title><p>Nothing to see here.</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

/**
 * What a page's script can do to the server with the browser's cookie: submit a run
 * (the folder `csrf` of the files area, as the notebook does) and follow a run's
 * events. Runs in the browser.
 */
async function attack({ serverUrl, experiment, runId }: { serverUrl: string; experiment: string; runId: string }) {
  const form = new FormData();
  form.append("estimator", JSON.stringify({ entry_script: "train.py", source_directory: "csrf" }));
  let submit: string;
  try {
    const response = await fetch(`${serverUrl}/api/experiments/${experiment}/runs`, {
      method: "POST",
      credentials: "include",
      body: form,
    });
    submit = String(response.status);
  } catch (error) {
    submit = `failed: ${error}`;
  }
  const socket = await new Promise<string>((resolve) => {
    const ws = new WebSocket(`${serverUrl.replace("http", "ws")}/api/runs/${runId}/events?after=0`);
    ws.onmessage = () => {
      ws.close();
      resolve("message");
    };
    ws.onerror = () => resolve("error");
    ws.onclose = () => resolve("closed");
    setTimeout(() => resolve("timeout"), 15_000);
  });
  return { submit, socket };
}

/** Console messages that report a Content-Security-Policy violation. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (message: ConsoleMessage) => {
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) seen.push(message.text());
  });
  return seen;
}

/** The runs of `experiment`, from the API. */
async function runsOf(server: { api(path: string): Promise<any> }, experiment: string) {
  const list = await server.api("/api/runs");
  return list.runs.filter((run: { experiment: string }) => run.experiment === experiment);
}

test("a page of another port cannot submit or follow a run with the logged-in cookie", async ({
  loggedIn: page,
  server,
}) => {
  await server.putFile("csrf/train.py", "print('this job should never run')\n");
  const runId = server.submit("e2e-followed", "print('hello')\n");
  await server.waitForStatus(runId, ["Completed"]);
  const other = await otherOrigin();
  try {
    await page.goto(`${other.url}/`);
    const result = await page.evaluate(attack, { serverUrl: server.url, experiment: "csrf", runId });
    // The browser sent the POST with the cookie (a multipart form needs no CORS
    // preflight) but does not let the page read the answer; what counts is that the
    // server started nothing. The websocket never opened.
    expect(result.submit).toMatch(/^failed/);
    expect(["error", "closed"]).toContain(result.socket);
    expect(await runsOf(server, "csrf")).toEqual([]);
  } finally {
    other.server.close();
  }

  // The same script on the server's own page works: the request was a valid one.
  await page.goto(`${server.url}/`);
  const own = await page.evaluate(attack, { serverUrl: server.url, experiment: "own-page", runId });
  expect(own).toEqual({ submit: "201", socket: "message" });
  expect(await runsOf(server, "own-page")).toHaveLength(1);
});

test("HTML and SVG a job wrote run no script on the server's origin", async ({ loggedIn: page, server }) => {
  const marker = (kind: string) => `localStorage.setItem("pwned", "${kind}"); document.title = "pwned";`;
  const runId = server.submit(
    "e2e-outputs",
    `
import os, shutil
os.makedirs("outputs", exist_ok=True)
for name in ["x.html", "x.svg", "x.txt"]:
    shutil.copy(name, os.path.join("outputs", name))
`,
    {
      files: {
        "x.html": `<!doctype html><title>x</title><script>${marker("html")}</script>`,
        "x.svg": `<svg xmlns="http://www.w3.org/2000/svg"><script>${marker("svg")}</script></svg>`,
        "x.txt": `<script>${marker("txt")}</script>`,
      },
    },
  );
  await server.waitForStatus(runId, ["Completed"]);
  const url = (name: string) => `${server.url}/api/runs/${runId}/files/outputs/${name}`;

  // Opened in a tab with the session: downloaded, not shown.
  for (const name of ["x.html", "x.svg"]) {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.goto(url(name)).catch(() => null),
    ]);
    expect(download.suggestedFilename()).toBe(name);
  }
  // The same from the snapshot.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.goto(`${server.url}/api/runs/${runId}/snapshot/x.html`).catch(() => null),
  ]);
  expect(download.suggestedFilename()).toBe("x.html");
  // A text file is shown as text, its "script" as characters.
  const text = await page.goto(url("x.txt"));
  expect(text?.headers()["content-type"]).toBe("text/plain; charset=utf-8");
  expect(text?.headers()["content-security-policy"]).toBe("sandbox");
  await expect(page.locator("body")).toContainText('<script>localStorage.setItem("pwned"');

  // Nothing ran on the server's origin.
  await page.goto(`${server.url}/`);
  await expect(page.getByRole("heading", { name: "Experiments" })).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem("pwned"))).toBeNull();
  expect(await page.title()).not.toBe("pwned");

  // The portal's Outputs tab still previews the text file (read through fetch).
  await page.goto(`${server.url}/runs/${runId}?tab=outputs`);
  await page.getByRole("button", { name: "x.txt" }).click();
  await expect(page.locator(".preview-text")).toContainText("<script>");
  expect(await page.evaluate(() => localStorage.getItem("pwned"))).toBeNull();
});

test("a markdown cell's javascript: link is not clickable, an https link is", async ({ loggedIn: page, server }) => {
  const violations = cspViolations(page);
  const cell = (id: string, cell_type: string, source: string) => ({
    cell_type,
    id,
    metadata: {},
    source,
    ...(cell_type === "code" ? { execution_count: null, outputs: [] } : {}),
  });
  await server.putFile(
    "links.ipynb",
    JSON.stringify({
      cells: [
        cell(
          "md",
          "markdown",
          "# Links\n\n[bad](javascript:document.title='pwned') [ok](https://example.com/) " +
            "[sneaky](<java\tscript:document.title='pwned'>)\n\n<img src=x onerror=\"document.title='pwned'\">",
        ),
        cell("code", "code", "1 + 1"),
      ],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
  await page.goto(`${server.url}/notebooks/links.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  const markdown = page.locator('[data-cell="md"] .nb-markdown');
  await expect(markdown.locator("h1")).toHaveText("Links");
  await expect(markdown.locator("a")).toHaveCount(1);
  await expect(markdown.locator("a")).toHaveAttribute("href", "https://example.com/");
  await expect(markdown.locator('a[href^="javascript"]')).toHaveCount(0);
  await expect(markdown).toContainText("bad");
  await expect(markdown).toContainText("sneaky");
  // Raw HTML is text.
  await expect(markdown.locator("img")).toHaveCount(0);
  await expect(markdown).toContainText("<img src=x");
  await markdown.getByText("bad").click();
  expect(await page.title()).not.toBe("pwned");

  // The kernel (a module worker under the page's policy) runs a cell.
  await page.getByRole("button", { name: "Run all" }).click();
  await expect(page.locator('[data-cell="code"] .nb-outputs')).toContainText("2");
  expect(violations).toEqual([]);
});

test("the portal's pages and the chart module work under their Content-Security-Policy", async ({
  loggedIn: page,
  server,
}) => {
  const violations = cspViolations(page);
  const runId = server.submit(
    "e2e-csp",
    `
from azureml.core import Run
run = Run.get_context()
for i in range(20):
    run.log("loss", 1.0 / (i + 1))
print("logged", flush=True)
`,
  );
  await server.waitForStatus(runId, ["Completed"]);
  const response = await page.goto(`${server.url}/runs/${runId}?tab=metrics`);
  const policy = response?.headers()["content-security-policy"] ?? "";
  expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(response?.headers()["x-content-type-options"]).toBe("nosniff");
  // The chart module is imported on demand; the run's websocket feeds it.
  const loss = page.locator("figure.chart", { hasText: "loss" }).locator(".chart-plot");
  await expect(loss.locator("canvas")).toBeVisible({ timeout: 20_000 });
  await expect.poll(async () => Number(await loss.getAttribute("data-points")), { timeout: 20_000 }).toBe(20);
  await page.goto(`${server.url}/runs/${runId}?tab=logs`);
  await expect(page.locator(".log .ln", { hasText: "logged" })).toBeVisible();
  expect(violations).toEqual([]);
});
