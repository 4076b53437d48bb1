// The notebook pages in Chromium: the kernel runs in a Web Worker (CPython in Pyodide), against a
// real server, real Python jobs and the files area.
import { readFileSync } from "node:fs";
import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";

/** A notebook (nbformat 4.5) of code cells, each `[id, source]`. */
function notebook(cells: [string, string][]): string {
  return JSON.stringify({
    cells: cells.map(([id, source]) => ({
      cell_type: "code",
      execution_count: null,
      id,
      metadata: {},
      outputs: [],
      source,
    })),
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  });
}

/** A cell's source as nbformat stores it: a string or a list of lines. */
function sourceOf(cell: { source: string | string[] }): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** The text of a cell's outputs. */
function outputOf(page: Page, cell: string) {
  return page.locator(`[data-cell="${cell}"] .nb-outputs`);
}

async function openNotebook(page: Page, url: string, path: string) {
  await page.goto(`${url}/notebooks/${path}`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
}

test("Quickstart runs all in the browser: estimator table, streamed log, metrics, download, run card Completed", { tag: "@release" }, async ({
  loggedIn: page,
  server,
}, testInfo) => {
  // From the portal to the file browser, then the seeded Quickstart.
  await page.getByRole("link", { name: "Notebooks" }).click();
  await expect(page).toHaveURL(`${server.url}/tree`);
  await page.getByRole("link", { name: "Quickstart.ipynb" }).click();
  await expect(page).toHaveURL(`${server.url}/notebooks/Quickstart.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  // Markdown cells are rendered.
  await expect(page.locator(".nb-markdown h1")).toHaveText("Runboard quickstart");

  await page.getByRole("button", { name: "Run all" }).click();
  await expect(outputOf(page, "setup")).toContainText("Compute targets: [");
  await expect(page.locator('[data-cell="estimator"] .nb-estimator caption')).toHaveText("Estimator");
  await expect(page.locator('[data-cell="estimator"] .nb-estimator')).toContainText("entry_script");
  const wait = outputOf(page, "wait");
  await expect(wait).toContainText("Streaming user_logs/std_log.txt", { timeout: 60_000 });
  await expect(wait).toContainText("Execution Summary", { timeout: 60_000 });
  for (let epoch = 1; epoch <= 20; epoch++) {
    await expect(wait).toContainText(`epoch ${epoch}: loss`);
  }
  await expect(wait).toContainText("Status: Completed");
  await expect(outputOf(page, "metrics")).toContainText("epochs logged: 20");
  await expect(outputOf(page, "download")).toContainText("['model.json']");
  const card = page.locator('[data-cell="card"] .nb-run-card');
  await expect(card).toHaveAttribute("data-status", "Completed", { timeout: 30_000 });
  await expect(card.locator(".status")).toHaveText("Completed");
  await expect(card.locator(".nb-card-tail")).toContainText("saved outputs/model.json");
  // Execution counts in order, no cell left running.
  await expect(page.locator('[data-cell="card"] .nb-prompt')).toHaveText("[9]:");
  await expect(page.locator('.nb-cell[data-state="running"]')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("quickstart.png"), fullPage: true });

  // Autosaved with its outputs, in Jupyter's format; the downloaded file is there.
  await expect(page.locator(".nb-save-state")).toHaveAttribute("data-saved", "true", { timeout: 15_000 });
  const saved = JSON.parse(await server.fileText("Quickstart.ipynb"));
  const waitCell = saved.cells.find((c: { id: string }) => c.id === "wait");
  expect(waitCell.execution_count).toBe(6);
  expect(waitCell.outputs[0].text.join("")).toContain("epoch 20: loss");
  expect(waitCell.metadata.runboard).toBeUndefined();
  expect(JSON.parse(await server.fileText("outputs/model.json"))).toHaveProperty("w");
});

test("a reload while a cell waits on a run re-attaches and shows every log line once", { tag: "@release" }, async ({
  loggedIn: page,
  server,
}, testInfo) => {
  const count = 120;
  await server.putFile(
    "reattach/slow.ipynb",
    notebook([
      ["folder", "import os\nos.makedirs('job', exist_ok=True)"],
      [
        "script",
        `%%writefile job/train.py\nimport time\nfor i in range(${count}):\n    print(f"line {i:05d}", flush=True)\n    time.sleep(0.06)\nprint("all lines written", flush=True)\n`,
      ],
      [
        "submit",
        "from azureml.core import Workspace, Experiment\nfrom azureml.train.estimator import Estimator\n" +
          "ws = Workspace.from_config()\n" +
          "est = Estimator(source_directory='job', entry_script='train.py', compute_target='local', user_managed=True)\n" +
          "run = Experiment(ws, 'e2e-reattach').submit(est)\n" +
          "run.wait_for_completion(show_output=True)\nprint('after the wait')",
      ],
      ["later", "print(run.get_status())"],
    ]),
  );
  await openNotebook(page, server.url, "reattach/slow.ipynb");
  await page.getByRole("button", { name: "Run all" }).click();
  const out = outputOf(page, "submit");
  // The log streams into the cell while the run is still going.
  await expect(out).toContainText("line 00010", { timeout: 60_000 });
  expect(await out.textContent()).not.toContain("all lines written");
  // The wait is saved in the notebook (at once, or right after a save already on its
  // way), so a reload knows what to follow.
  let runId = "";
  await expect
    .poll(
      async () => {
        const saved = JSON.parse(await server.fileText("reattach/slow.ipynb"));
        runId = saved.cells[2].metadata.runboard?.waiting?.run?.run_id ?? "";
        return runId;
      },
      { timeout: 3_000 },
    )
    .toMatch(/^e2e-reattach_/);
  expect((await server.api(`/api/runs/${runId}`)).status).toBe("Running");

  await page.reload();
  await expect(page.locator('[data-cell="submit"]')).toHaveAttribute("data-state", "running", { timeout: 30_000 });
  await expect(page.locator('[data-cell="submit"] .nb-prompt')).toHaveText("[*]:");
  await expect(out).toContainText("Execution Summary", { timeout: 60_000 });
  const text = (await out.textContent()) ?? "";
  for (let i = 0; i < count; i++) {
    const line = `line ${String(i).padStart(5, "0")}`;
    expect(text.split(line).length - 1, line).toBe(1);
  }
  expect(text.split("all lines written").length - 1).toBe(1);
  expect(text.split("RunId: ").length - 1).toBe(2); // the header and the summary, once each
  await page.screenshot({ path: testInfo.outputPath("reattached.png"), fullPage: true });
  await expect(page.locator('[data-cell="submit"]')).toHaveAttribute("data-state", "idle");

  // The variable the cell bound names the run again in the new session.
  await page.locator('[data-cell="later"]').click();
  await page.keyboard.press("Control+Enter");
  await expect(outputOf(page, "later")).toContainText("Completed");
  await expect(page.locator(".nb-save-state")).toHaveAttribute("data-saved", "true", { timeout: 15_000 });
  const after = JSON.parse(await server.fileText("reattach/slow.ipynb"));
  expect(after.cells[2].metadata.runboard).toBeUndefined();
});

test("a notebook exported and uploaded again has identical cells", async ({ loggedIn: page, server }) => {
  await openNotebook(page, server.url, "Quickstart.ipynb");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export .ipynb" }).click(),
  ]);
  expect(download.suggestedFilename()).toBe("Quickstart.ipynb");
  const exported = readFileSync(await download.path());

  await page.goto(`${server.url}/tree`);
  await page.getByTestId("upload").setInputFiles({
    name: "Imported.ipynb",
    mimeType: "application/x-ipynb+json",
    buffer: exported,
  });
  await expect(page.locator(".nb-uploads li")).toContainText("uploaded");
  await expect(page.locator(".nb-uploads progress")).toHaveAttribute("value", String(exported.length));
  await page.getByRole("link", { name: "Imported.ipynb" }).click();
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });

  const original = JSON.parse(await server.fileText("Quickstart.ipynb"));
  const imported = JSON.parse(await server.fileText("Imported.ipynb"));
  expect(imported.cells).toEqual(original.cells);
  // And the page shows them: the same ids, kinds and sources in order.
  const shown = await page.locator(".nb-cell").evaluateAll((cells) =>
    cells.map((c) => [c.getAttribute("data-cell"), c.getAttribute("data-kind")]),
  );
  expect(shown).toEqual(original.cells.map((c: { id: string; cell_type: string }) => [c.id, c.cell_type]));
  const setup = await page.locator('[data-cell="setup"] textarea').inputValue();
  expect(setup).toBe(original.cells[1].source.join(""));
});

test("keyboard: Esc, B, typing, Shift+Enter runs; D,D deletes; a shell command says why not", async ({
  loggedIn: page,
  server,
}) => {
  await server.putFile("keys.ipynb", notebook([["first", "x = 40"]]));
  await openNotebook(page, server.url, "keys.ipynb");
  await page.locator('[data-cell="first"] textarea').click();
  await page.keyboard.press("Shift+Enter");
  // The last cell ran, and a new cell below is being edited.
  await expect(page.locator(".nb-cell")).toHaveCount(2);
  await expect(page.locator(".nb-cells")).toHaveAttribute("data-mode", "edit");
  await page.keyboard.type("x + 2");
  await page.keyboard.press("Control+Enter");
  const second = page.locator(".nb-cell").nth(1);
  await expect(second.locator(".nb-result")).toContainText("42");
  await expect(second.locator(".nb-prompt")).toHaveText("[2]:");
  // Command mode: B adds below, typing there, then what the browser's CPython cannot
  // run (a shell command; the Rust kernel refused `class` here, CPython runs it).
  await expect(page.locator(".nb-cells")).toHaveAttribute("data-mode", "command");
  await page.keyboard.press("b");
  await expect(page.locator(".nb-cell")).toHaveCount(3);
  await page.keyboard.press("Enter");
  await page.keyboard.type("!ls");
  await page.keyboard.press("Control+Enter");
  await expect(page.locator(".nb-cell").nth(2).locator(".nb-error")).toContainText(
    "UsageError: shell commands (`!ls`) cannot run in the browser kernel",
  );
  // D, D deletes the selected cell.
  await page.keyboard.press("d");
  await page.keyboard.press("d");
  await expect(page.locator(".nb-cell")).toHaveCount(2);
  // Syntax highlighting of the first cell.
  await expect(page.locator('[data-cell="first"] .nb-highlight .tok-number')).toHaveText("40");
});

/** Runs one cell from command mode (Ctrl+Enter). */
async function runCell(page: Page, cell: string) {
  await page.locator(`[data-cell="${cell}"]`).click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
}

test("Interrupt stops a cell waiting on a run and a looping cell, keeping the variables", { tag: "@release" }, async ({
  loggedIn: page,
  server,
}) => {
  await server.putFile(
    "interrupt.ipynb",
    notebook([
      [
        "setup",
        "import os\nos.makedirs('sleeper', exist_ok=True)\nfrom azureml.core import Workspace, Experiment\n" +
          "from azureml.train.estimator import Estimator\nws = Workspace.from_config()\nkept = 41",
      ],
      ["script", "%%writefile sleeper/train.py\nimport time\nprint('sleeping', flush=True)\ntime.sleep(60)\n"],
      [
        "wait",
        "run = Experiment(ws, 'e2e-interrupt').submit(Estimator(source_directory='sleeper', entry_script='train.py', user_managed=True))\n" +
          "run.wait_for_completion(show_output=True)",
      ],
      ["after", "kept + 1"],
      ["loop", "n = 0\nprint('looping', flush=True)\nwhile True:\n    n += 1"],
      ["kept", "print('n counted', n > 1000)\nkept"],
    ]),
  );
  await openNotebook(page, server.url, "interrupt.ipynb");
  // The server's COOP/COEP headers make the page cross-origin isolated, so it shares
  // an interrupt counter with the kernel's worker.
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-isolated", "true");
  for (const cell of ["setup", "script", "wait"]) {
    await page.locator(`[data-cell="${cell}"]`).click();
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+Enter");
  }
  await expect(outputOf(page, "wait")).toContainText("sleeping", { timeout: 60_000 });
  await page.getByRole("button", { name: "Interrupt" }).click();
  await expect(outputOf(page, "wait")).toContainText("KeyboardInterrupt", { timeout: 5_000 });
  // The session lives on: variables are kept.
  await page.locator('[data-cell="after"]').click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
  await expect(outputOf(page, "after")).toContainText("42");

  // A loop that never awaits the server reads the shared counter at each step: it
  // stops with KeyboardInterrupt, as in Jupyter, and the session keeps its variables.
  await runCell(page, "loop");
  await expect(page.locator('[data-cell="loop"]')).toHaveAttribute("data-state", "running");
  // Counting has begun (an interrupt sent sooner stops the cell before it counts).
  await expect(outputOf(page, "loop")).toContainText("looping");
  await page.waitForTimeout(500);
  await page.keyboard.press("i");
  await page.keyboard.press("i");
  await expect(outputOf(page, "loop")).toContainText("KeyboardInterrupt", { timeout: 5_000 });
  await expect(outputOf(page, "loop")).not.toContainText("restarted");
  await runCell(page, "kept");
  await expect(outputOf(page, "kept")).toContainText("n counted True");
  await expect(outputOf(page, "kept")).toContainText("41");

  // Interrupt pressed in the same instant as the run, before the worker has even
  // received the cell, still stops that cell (and does not restart the kernel).
  await page.locator('[data-cell="loop"]').click();
  await page.keyboard.press("Escape");
  await page.evaluate(() => {
    const key = (key: string, ctrlKey = false) =>
      document.body.dispatchEvent(new KeyboardEvent("keydown", { key, ctrlKey, bubbles: true }));
    key("Enter", true);
    key("i");
    key("i");
  });
  await expect(outputOf(page, "loop")).toContainText("KeyboardInterrupt", { timeout: 5_000 });
  await expect(outputOf(page, "loop")).not.toContainText("restarted");
  // And an interrupt meant for an ended cell does not reach the next one.
  await runCell(page, "kept");
  await expect(outputOf(page, "kept")).toContainText("41");
  await expect(outputOf(page, "kept")).not.toContainText("KeyboardInterrupt");
});

test("without cross-origin isolation, Interrupt restarts a kernel stuck in a loop", async ({
  loggedIn: page,
  server,
}) => {
  await server.putFile(
    "loop.ipynb",
    notebook([
      ["setup", "kept = 41\nprint('set')"],
      ["loop", "n = 0\nwhile True:\n    n += 1"],
      ["fresh", "print('fresh kernel')\nkept"],
    ]),
  );
  // The page as a server without the COOP/COEP headers would send it (plain HTTP on
  // another host than localhost is never isolated either): no shared memory.
  await page.route("**/notebooks/loop.ipynb", async (route) => {
    const response = await route.fetch();
    await route.fulfill({ status: response.status(), contentType: "text/html", body: await response.text() });
  });
  await openNotebook(page, server.url, "loop.ipynb");
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-isolated", "false");
  await runCell(page, "setup");
  await expect(outputOf(page, "setup")).toContainText("set");
  // The loop cannot see the message: after the grace period the kernel restarts.
  await runCell(page, "loop");
  await expect(page.locator('[data-cell="loop"]')).toHaveAttribute("data-state", "running");
  await page.keyboard.press("i");
  await page.keyboard.press("i");
  await expect(outputOf(page, "loop")).toContainText("the kernel was restarted", { timeout: 10_000 });
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 30_000 });
  await runCell(page, "fresh");
  await expect(outputOf(page, "fresh")).toContainText("fresh kernel");
  await expect(outputOf(page, "fresh")).toContainText("NameError: name 'kept' is not defined");
});

test("an Environment read from a conda file in the files area installs its packages for a ScriptRunConfig", async ({
  loggedIn: page,
  server,
}) => {
  await server.putFile("envdemo/conda.yml", "name: six-env\ndependencies:\n  - python=3.11\n  - pip:\n    - six==1.16.0\n");
  await server.putFile("envdemo/src/job.py", "import os, six\nprint('six', six.__version__, os.environ['GREETING'])\n");
  await server.putFile(
    "envdemo/env.ipynb",
    notebook([
      [
        "env",
        "from azureml.core import Workspace, Experiment, Environment, ScriptRunConfig\n" +
          "ws = Workspace.from_config()\n" +
          "env = Environment.from_conda_specification(name='six-env', file_path='conda.yml')\n" +
          "env.environment_variables['GREETING'] = 'hello'\n" +
          // `pip_packages` is an iterator in the SDK (the Rust kernel gave a list).
          "print(list(env.python.conda_dependencies.pip_packages))",
      ],
      [
        "run",
        "src = ScriptRunConfig(source_directory='src', script='job.py', environment=env)\n" +
          "run = Experiment(ws, 'e2e-env').submit(src)\n" +
          "run.wait_for_completion(show_output=True)['status']",
      ],
    ]),
  );
  await openNotebook(page, server.url, "envdemo/env.ipynb");
  await page.getByRole("button", { name: "Run all" }).click();
  await expect(outputOf(page, "env")).toContainText("['six==1.16.0']");
  await expect(outputOf(page, "run")).toContainText("six 1.16.0 hello", { timeout: 120_000 });
  await expect(outputOf(page, "run")).toContainText("'Completed'", { timeout: 30_000 });
});

test("files: a dropped file uploads with progress, a datastore upload feeds a run, bad notebooks say why", async ({
  loggedIn: page,
  server,
}) => {
  await page.goto(`${server.url}/tree`);
  // Drop a file on the page, as from the desktop.
  const transfer = await page.evaluateHandle(() => {
    const data = new DataTransfer();
    data.items.add(new File(["a,b\n1,2\n"], "table.csv", { type: "text/csv" }));
    return data;
  });
  await page.locator(".nb-files").dispatchEvent("drop", { dataTransfer: transfer });
  await expect(page.locator(".nb-uploads li")).toContainText("uploaded");
  await expect(page.getByRole("link", { name: "table.csv" })).toBeVisible();
  expect(await server.fileText("table.csv")).toBe("a,b\n1,2\n");

  await server.putFile(
    "data-demo.ipynb",
    notebook([
      [
        "upload",
        "import os, shutil\nos.makedirs('data', exist_ok=True)\nshutil.copy('table.csv', 'data/table.csv')\n" +
          "from azureml.core import Workspace, Experiment\nfrom azureml.train.estimator import Estimator\n" +
          "ws = Workspace.from_config()\nds = ws.get_default_datastore()\n" +
          "ds.upload(src_dir='data', target_path='tables', overwrite=True)",
      ],
      ["script", "os.makedirs('reader', exist_ok=True)"],
      ["write", "%%writefile reader/train.py\nimport sys, os\nprint(open(os.path.join(sys.argv[2], 'table.csv')).read())\n"],
      [
        "run",
        "run = Experiment(ws, 'e2e-datastore').submit(Estimator(source_directory='reader', entry_script='train.py', " +
          "script_params={'--data': ds.path('tables').as_mount()}, user_managed=True))\nrun.wait_for_completion(show_output=True);",
      ],
    ]),
  );
  await openNotebook(page, server.url, "data-demo.ipynb");
  await page.getByRole("button", { name: "Run all" }).click();
  await expect(outputOf(page, "upload")).toContainText("Uploaded 1 files");
  await expect(outputOf(page, "run")).toContainText("Execution Summary", { timeout: 60_000 });
  await expect(outputOf(page, "run")).toContainText("1,2");

  // A file that is not a notebook, and one that is not there.
  await server.putFile("broken.ipynb", "{not json");
  await page.goto(`${server.url}/notebooks/broken.ipynb`);
  await expect(page.getByRole("alert")).toContainText("broken.ipynb cannot be opened: not a Jupyter notebook");
  await page.goto(`${server.url}/notebooks/missing.ipynb`);
  await expect(page.getByRole("alert")).toContainText("There is no notebook missing.ipynb");
  expect(await server.fileText("broken.ipynb")).toBe("{not json");
});

test("a cell waiting on a run survives the network dropping: every line once", async ({
  loggedIn: page,
  server,
  context,
}) => {
  const count = 100;
  await server.putFile(
    "offline.ipynb",
    notebook([
      ["folder", "import os\nos.makedirs('offline', exist_ok=True)"],
      [
        "script",
        `%%writefile offline/train.py\nimport time\nfor i in range(${count}):\n    print(f"line {i:05d}", flush=True)\n    time.sleep(0.05)\n`,
      ],
      [
        "wait",
        "from azureml.core import Workspace, Experiment\nfrom azureml.train.estimator import Estimator\n" +
          "run = Experiment(Workspace.from_config(), 'e2e-offline').submit(Estimator(source_directory='offline', entry_script='train.py', user_managed=True))\n" +
          "run.wait_for_completion(show_output=True);",
      ],
    ]),
  );
  await openNotebook(page, server.url, "offline.ipynb");
  await page.getByRole("button", { name: "Run all" }).click();
  const out = outputOf(page, "wait");
  await expect(out).toContainText("line 00005", { timeout: 60_000 });
  await context.setOffline(true);
  await page.waitForTimeout(2_000);
  await context.setOffline(false);
  await expect(out).toContainText("Execution Summary", { timeout: 60_000 });
  const text = (await out.textContent()) ?? "";
  for (let i = 0; i < count; i++) {
    const line = `line ${String(i).padStart(5, "0")}`;
    expect(text.split(line).length - 1, line).toBe(1);
  }
});

test("file browser: new folder, rename, new notebook inside it, delete", async ({ loggedIn: page, server }) => {
  await page.goto(`${server.url}/tree`);
  await page.getByRole("button", { name: "New folder" }).click();
  await expect(page.getByRole("link", { name: "Untitled Folder/" })).toBeVisible();
  page.once("dialog", (dialog) => dialog.accept("projects"));
  await page.getByRole("button", { name: "Rename Untitled Folder" }).click();
  await page.getByRole("link", { name: "projects/" }).click();
  await expect(page).toHaveURL(`${server.url}/tree/projects`);

  await page.getByRole("button", { name: "New notebook" }).click();
  await expect(page).toHaveURL(`${server.url}/notebooks/projects/Untitled.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  await page.locator(".nb-cell textarea").first().click();
  await page.keyboard.type("import os\nos.getcwd()");
  await page.keyboard.press("Shift+Enter");
  await expect(page.locator(".nb-cell").first().locator(".nb-result")).toContainText("'/drive/projects'");
  await expect(page.locator(".nb-save-state")).toHaveAttribute("data-saved", "true", { timeout: 15_000 });
  const saved = JSON.parse(await server.fileText("projects/Untitled.ipynb"));
  expect(saved.nbformat_minor).toBe(5);
  expect(saved.cells[0].source.join("")).toBe("import os\nos.getcwd()");

  await page.getByRole("link", { name: "projects" }).first().click();
  await expect(page.getByRole("link", { name: "Untitled.ipynb" })).toBeVisible();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete Untitled.ipynb" }).click();
  await expect(page.getByRole("link", { name: "Untitled.ipynb" })).toHaveCount(0);
  const listing = await server.api("/api/files/projects");
  expect(listing.files).toEqual([]);
});

test("a notebook changed on disk while open is not overwritten without asking", async ({ loggedIn: page, server }) => {
  await server.putFile("shared.ipynb", notebook([["a", "x = 1"]]));
  await openNotebook(page, server.url, "shared.ipynb");
  await page.waitForTimeout(500); // the page notes the file as it read it
  // Someone else saves it (another tab, `runboard notebook run`).
  await server.putFile("shared.ipynb", notebook([["a", "x = 'changed elsewhere'"]]));
  await page.locator('[data-cell="a"] textarea').click();
  await page.keyboard.type(" + 1");
  const banner = page.locator(".nb-conflict");
  await expect(banner).toContainText("changed on disk", { timeout: 10_000 });
  await page.waitForTimeout(2_500); // an autosave tick
  expect(sourceOf(JSON.parse(await server.fileText("shared.ipynb")).cells[0])).toBe("x = 'changed elsewhere'");

  await banner.getByRole("button", { name: "Reload from disk" }).click();
  await expect(page.locator('[data-cell="a"] textarea')).toHaveValue("x = 'changed elsewhere'");
  await expect(page.locator(".nb-conflict")).toHaveCount(0);

  // Changed again elsewhere; this time the page's version wins, when asked to.
  await page.waitForTimeout(500);
  await server.putFile("shared.ipynb", notebook([["a", "x = 'third'"]]));
  await page.locator('[data-cell="a"] textarea').click();
  await page.keyboard.type(" + ''");
  await page.locator(".nb-conflict").getByRole("button", { name: "Overwrite with this page" }).click();
  await expect(page.locator(".nb-save-state")).toHaveAttribute("data-saved", "true", { timeout: 10_000 });
  expect(sourceOf(JSON.parse(await server.fileText("shared.ipynb")).cells[0])).toBe("x = 'changed elsewhere' + ''");
});
