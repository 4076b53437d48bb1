// The notebook's kernel is CPython (Pyodide) in the page's Web Worker: real Python
// in cells, and the same `azureml` package as scripts, against a real server and
// real jobs.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";
import { root, startServer } from "../lib/runboard.mjs";

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

function outputOf(page: Page, cell: string) {
  return page.locator(`[data-cell="${cell}"] .nb-outputs`);
}

const PYTHON = `import json, re, datetime, collections

class Shape:
    def __init__(self, name, sides):
        self.name, self.sides = name, sides
    def __repr__(self):
        return f"Shape({self.name!r}, {self.sides})"

def parse(line):
    m = re.match(r"(\\w+):(\\d+)", line)
    if not m:
        raise ValueError(f"bad line {line!r}")
    return Shape(m.group(1), int(m.group(2)))

shapes, errors = [], []
for line in ["square:4", "oops", "triangle:3", "hexagon:6"]:
    try:
        shapes.append(parse(line))
    except ValueError as e:
        errors.append(str(e))

by_sides = {s.name: s.sides for s in shapes}
even = [s.name for s in shapes if s.sides % 2 == 0]
counts = collections.Counter(len(s.name) for s in shapes)
total = sum(s.sides for s in shapes)
with open("shapes.json", "w") as f:
    json.dump(by_sides, f)
with open("shapes.json") as f:
    back = json.load(f)
largest = max(shapes, key=lambda s: s.sides)
day = datetime.date(2024, 2, 28) + datetime.timedelta(days=1)
print(f"parsed {len(shapes)}, errors {errors}, even {even}, total {total}")
print(f"largest {largest}, round trip {back == by_sides}, counts {sorted(counts.items())}, day {day.isoformat()}")
`;

const COMPUTE = `from azureml.core import Workspace
from azureml.core.compute import ComputeTarget, AmlCompute
from azureml.core.compute_target import ComputeTargetException

ws = Workspace.from_config()
cluster_name = "cpu-cluster"
try:
    compute_target = ComputeTarget(workspace=ws, name=cluster_name)
except ComputeTargetException:
    compute_config = AmlCompute.provisioning_configuration(vm_size='STANDARD_D2_V2', max_nodes=4)
    compute_target = ComputeTarget.create(ws, cluster_name, compute_config)
print("compute target:", compute_target.name)
`;

const SCRIPT = `%%writefile scoring/train.py
import argparse
from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
args = parser.parse_args()
run = Run.get_context()
run.log("lr", args.lr)
run.log("score", 1 - abs(args.lr - 0.1))
print(f"trained with lr {args.lr}", flush=True)
`;

const SUBMIT = `import os
from azureml.core import Experiment, ScriptRunConfig
from azureml.core.runconfig import RunConfiguration

rc = RunConfiguration()
rc.environment.python.user_managed_dependencies = True
src = ScriptRunConfig(source_directory="scoring", script="train.py", arguments=["--lr", 0.1],
                      run_config=rc, compute_target=compute_target)
exp = Experiment(workspace=ws, name="e2e-pykernel")
run = exp.submit(src)
run.wait_for_completion(show_output=True)["status"]
`;

const SWEEP = `runs = []
for lr in [0.01, 0.1, 0.5]:
    config = ScriptRunConfig(source_directory="scoring", script="train.py", arguments=["--lr", lr], run_config=rc)
    runs.append(exp.submit(config))
for r in runs:
    r.wait_for_completion()
best = max(runs, key=lambda r: r.get_metrics()['score'])
print("best lr:", best.get_metrics()["lr"], "of", len(runs))
`;

test("real Python in the browser kernel: the language, the compute-target cell, ScriptRunConfig, a sweep", async ({
  loggedIn: page,
  server,
}, testInfo) => {
  test.setTimeout(240_000);
  await server.putFile(
    "py/real.ipynb",
    notebook([
      ["python", PYTHON],
      ["compute", COMPUTE],
      ["folder", "import os\nos.makedirs('scoring', exist_ok=True)"],
      ["script", SCRIPT],
      ["submit", SUBMIT],
      ["sweep", SWEEP],
    ]),
  );
  await page.goto(`${server.url}/notebooks/py/real.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  await page.getByRole("button", { name: "Run all" }).click();

  await expect(outputOf(page, "python")).toContainText(
    "parsed 3, errors [\"bad line 'oops'\"], even ['square', 'hexagon'], total 13",
  );
  await expect(outputOf(page, "python")).toContainText(
    "largest Shape('hexagon', 6), round trip True, counts [(6, 1), (7, 1), (8, 1)], day 2024-02-29",
  );
  await expect(outputOf(page, "compute")).toContainText("compute target: local");
  await expect(outputOf(page, "script")).toContainText("Writing scoring/train.py");
  await expect(outputOf(page, "submit")).toContainText("trained with lr 0.1", { timeout: 90_000 });
  await expect(outputOf(page, "submit")).toContainText("'Completed'", { timeout: 30_000 });
  await expect(outputOf(page, "sweep")).toContainText("best lr: 0.1 of 3", { timeout: 150_000 });
  await expect(page.locator(".nb-error")).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("pykernel.png"), fullPage: true });

  // What the cells wrote is in the files area, beside the notebook.
  expect(JSON.parse(await server.fileText("py/shapes.json"))).toEqual({ square: 4, triangle: 3, hexagon: 6 });
  expect(await server.fileText("py/scoring/train.py")).toContain("run.log(\"score\"");
});

test("errors are Python's, with the cell's traceback; shell commands say why not", async ({ loggedIn: page, server }) => {
  await server.putFile(
    "py/errors.ipynb",
    notebook([
      ["fails", "def inner():\n    return {}['missing']\n\ninner()"],
      ["shell", "!ls"],
    ]),
  );
  await page.goto(`${server.url}/notebooks/py/errors.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  await page.locator('[data-cell="fails"]').click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
  const error = page.locator('[data-cell="fails"] .nb-error');
  await expect(error).toHaveAttribute("data-ename", "KeyError");
  await expect(error).toContainText("return {}['missing']");
  await expect(error).toContainText("KeyError: 'missing'");
  await page.locator('[data-cell="shell"]').click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
  await expect(page.locator('[data-cell="shell"] .nb-error')).toContainText("UsageError: shell commands (`!ls`) cannot run");
});

test("files a cell writes, copies and deletes are so in the files area when it ends", async ({ loggedIn: page, server }) => {
  await server.putFile("sync/data.csv", "a,b\n1,2\n");
  await server.putFile(
    "sync/files.ipynb",
    notebook([
      [
        "write",
        "import os, shutil\nos.makedirs('out/deep', exist_ok=True)\nshutil.copy('data.csv', 'out/deep/copy.csv')\n" +
          "with open('out/note.txt', 'w') as f:\n    f.write('hello')\nsorted(os.listdir('out'))",
      ],
      ["delete", "os.remove('out/note.txt')\nshutil.rmtree('out/deep')\nos.getcwd()"],
    ]),
  );
  await page.goto(`${server.url}/notebooks/sync/files.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  await page.locator('[data-cell="write"]').click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
  await expect(outputOf(page, "write")).toContainText("['deep', 'note.txt']");
  expect(await server.fileText("sync/out/deep/copy.csv")).toBe("a,b\n1,2\n");
  expect(await server.fileText("sync/out/note.txt")).toBe("hello");

  await page.locator('[data-cell="delete"]').click();
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Enter");
  await expect(outputOf(page, "delete")).toContainText("'/drive/sync'");
  const listing = await server.api("/api/files/sync");
  expect(listing.files.map((f: { path: string }) => f.path).sort()).toEqual(["sync/data.csv", "sync/files.ipynb"]);
  expect(listing.folders).toEqual(["sync/out"]);
});

/** The seed's snippets and the SDK v1 how-to and tutorial cells, verbatim: the
 * notebook `server/tests/it/notebook.rs` also runs headless. */
const SDK_V1_CELLS = readFileSync(join(root, "server/tests/fixtures/sdk-v1-cells.ipynb"), "utf8");

/** A notebook's code cells as `{id: {count, outputs}}`, with what differs from one run
 * to the next (run ids, the server's address and folders, times, the status of a run
 * still starting) replaced by names. */
function comparable(text: string) {
  const nb = JSON.parse(text);
  const cells: Record<string, unknown> = {};
  for (const cell of nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code")) {
    const outputs = JSON.stringify(cell.outputs)
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, "URL")
      .replace(/sklearn-mnist_\d+_[0-9a-f]{8}/g, "RUN")
      .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "TIME")
      .replace(/\/tmp\/[^'"\s\\]*/g, "PATH")
      .replace(/(Status: |\\"status\\": ?\\"|"status":")(Queued|Preparing|Starting|Running)/g, "$1LIVE");
    cells[cell.id] = { count: cell.execution_count, outputs: JSON.parse(outputs) };
  }
  return cells;
}

test("the seed's snippets and the SDK v1 how-to cells run verbatim, with the outputs of a headless run", async ({
  loggedIn: page,
  server,
}) => {
  test.setTimeout(300_000);
  await server.putFile("sdk-v1/cells.ipynb", SDK_V1_CELLS);
  await page.goto(`${server.url}/notebooks/sdk-v1/cells.ipynb`);
  await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
  await page.getByRole("button", { name: "Run all" }).click();
  await expect(outputOf(page, "details")).toContainText("['linear', 'rbf']", { timeout: 240_000 });
  await expect(page.locator(".nb-error")).toHaveCount(0);
  await expect(page.locator('.nb-cell[data-state="running"]')).toHaveCount(0);
  // The page saves after each cell.
  await expect
    .poll(async () => JSON.parse(await server.fileText("sdk-v1/cells.ipynb")).cells.at(-1).outputs.length, {
      timeout: 20_000,
    })
    .toBeGreaterThan(0);
  const browser = comparable(await server.fileText("sdk-v1/cells.ipynb"));

  // The same notebook, headless, on a server of its own (so the runs it lists are its own).
  const other = await startServer();
  try {
    await other.putFile("sdk-v1/cells.ipynb", SDK_V1_CELLS);
    other.cli(["notebook", "run", "sdk-v1/cells.ipynb"]);
    const headless = comparable(await other.fileText("sdk-v1/cells.ipynb"));
    expect(Object.keys(browser)).toHaveLength(15);
    expect(browser).toEqual(headless);
  } finally {
    await other.stop();
  }
});

/** The tests' upstream package index (server/tests/fixtures/pip_index.py): wheels it
 * builds itself, PEP 691 listings, on a free loopback port. */
async function startPipIndex() {
  const child = spawn("python3", [join(root, "server/tests/fixtures/pip_index.py")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on (\d+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`the fixture index exited (${code}): ${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

test("%pip install of a pure-Python package through the server, then import; a binary one says why not", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const index = await startPipIndex();
  const home = mkdtempSync(join(tmpdir(), "runboard-e2e-pip-"));
  const config = join(home, "runboard.toml");
  writeFileSync(config, `[pip]\nindex_url = "${index.url}/simple/"\n`);
  const server = await startServer({ args: ["--config", config] });
  try {
    await page.goto(server.loginUrl);
    await server.putFile(
      "pip/install.ipynb",
      notebook([
        ["install", "%pip install pipdemo"],
        ["use", "import pipdemo\npipdemo.hello()"],
        ["binary", "%pip install binonly"],
      ]),
    );
    await page.goto(`${server.url}/notebooks/pip/install.ipynb`);
    await expect(page.locator(".nb-kernel")).toHaveAttribute("data-kernel", "ready", { timeout: 60_000 });
    await page.getByRole("button", { name: "Run all" }).click();
    await expect(outputOf(page, "install")).toContainText("Collecting pipdep>=1.5 (from pipdemo==1.0)", {
      timeout: 30_000,
    });
    await expect(outputOf(page, "install")).toContainText("Successfully installed pipdemo-1.0 pipdep-2.0");
    await expect(outputOf(page, "use")).toContainText("'hello from pipdemo 1.0 and pipdep 2.0'");
    const error = page.locator('[data-cell="binary"] .nb-error');
    await expect(error).toHaveAttribute("data-ename", "UsageError");
    await expect(error).toContainText("binonly has no pure-Python wheel");
    await expect(error).toContainText("binary packages such as numpy belong in the job's environment");
    await expect(page.locator('[data-cell="install"] .nb-error')).toHaveCount(0);
    await expect(page.locator('[data-cell="use"] .nb-error')).toHaveCount(0);
  } finally {
    await server.stop();
    index.stop();
  }
});
