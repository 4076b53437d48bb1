// The Python kernel starts from the bundle's memory snapshot (`pyodide-snapshot-<hash>.bin`,
// made at bundle time by `notebook/js/make-snapshot.mjs`), not by its fallback, a plain
// start; and the restored interpreter is a working one: the modules the snapshot
// imported are there, the SDK installed after the restore imports, the session keeps
// its names, a long cell is interrupted, and the snapshot file is served immutable.
import { test, expect } from "./fixtures";

test("the kernel is restored from the bundle's snapshot and works", { tag: "@release" }, async ({ loggedIn: page, server }) => {
  await server.putFile(
    "snap.ipynb",
    JSON.stringify({
      cells: [
        ["modules", "import sys\nsorted(m for m in ('tarfile', 'http.client', 'sysconfig') if m in sys.modules)"],
        ["sdk", "from azureml.core import Workspace\nws = Workspace.from_config()\nprint(type(ws).__name__, sys.platform)"],
        ["loop", "n = 0\nprint('looping', flush=True)\nwhile True:\n    n += 1"],
        ["after", "n > 0, type(ws).__name__"],
      ].map(([id, source]) => ({ cell_type: "code", execution_count: null, id, metadata: {}, outputs: [], source })),
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
  const starts: string[] = [];
  const snapshots: { url: string; status: number; cache: string }[] = [];
  page.on("console", (m) => {
    if (m.text().startsWith("runboard kernel:")) starts.push(m.text());
  });
  page.on("response", (r) => {
    if (/\/pyodide-snapshot-[0-9a-f]{16}\.bin$/.test(r.url())) {
      snapshots.push({ url: r.url(), status: r.status(), cache: r.headers()["cache-control"] ?? "" });
    }
  });
  await page.goto(`${server.url}/notebooks/snap.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  await expect.poll(() => starts.join("\n")).toContain("ready in");
  expect(starts.join("\n")).toContain("CPython from its snapshot");
  expect(starts.join("\n")).not.toContain("did not load");
  expect(snapshots).toHaveLength(1);
  expect(snapshots[0].status).toBe(200);
  expect(snapshots[0].cache).toContain("immutable");

  const cell = (id: string) => page.locator(`[data-cell="${id}"]`);
  const run = async (id: string) => {
    await cell(id).locator("textarea").click();
    await page.keyboard.press("Shift+Enter");
  };
  await run("modules");
  await expect(cell("modules").locator(".nb-result")).toContainText("['http.client', 'sysconfig', 'tarfile']");
  await run("sdk");
  await expect(cell("sdk").locator(".nb-outputs")).toContainText("Workspace emscripten");
  await run("loop");
  await expect(cell("loop")).toHaveAttribute("data-state", "running");
  // Counting has begun (an interrupt sent sooner stops the cell before `n = 0`).
  await expect(cell("loop").locator(".nb-outputs")).toContainText("looping");
  await page.getByRole("button", { name: "Interrupt" }).click();
  await expect(cell("loop").locator(".nb-outputs")).toContainText("KeyboardInterrupt", { timeout: 10_000 });
  await run("after");
  await expect(cell("after").locator(".nb-result")).toContainText("(True, 'Workspace')");
});

test("a snapshot that does not load leaves a kernel started the slow way, which works", async ({
  loggedIn: page,
  server,
}) => {
  await server.putFile(
    "nosnap.ipynb",
    JSON.stringify({
      cells: [{ cell_type: "code", execution_count: null, id: "c", metadata: {}, outputs: [], source: "import json\njson.dumps([i * i for i in range(4)])" }],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
  const starts: string[] = [];
  page.on("console", (m) => {
    if (m.text().startsWith("runboard kernel:")) starts.push(m.text());
  });
  // The worker's requests go through the page's routes in Chromium: the snapshot's
  // bytes arrive corrupted.
  await page.context().route(/\/pyodide-snapshot-[0-9a-f]{16}\.bin$/, (route) =>
    route.fulfill({ status: 200, contentType: "application/octet-stream", body: Buffer.alloc(1024, 7) }),
  );
  await page.goto(`${server.url}/notebooks/nosnap.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 90_000 });
  await expect.poll(() => starts.join("\n"), { timeout: 30_000 }).toContain("ready in");
  expect(starts.join("\n")).toContain("the memory snapshot did not load");
  expect(starts.join("\n")).toContain("CPython started without its snapshot");
  await page.locator('[data-cell="c"] textarea').click();
  await page.keyboard.press("Shift+Enter");
  await expect(page.locator('[data-cell="c"] .nb-result')).toContainText("'[0, 1, 4, 9]'");
});
