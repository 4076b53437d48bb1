// A real `runboard serve` for browser tests and the portal benchmark: started on
// 127.0.0.1 with a free port and a temporary data folder, serving the built web app
// from static/pkg, plus the CLI to submit jobs to it.
//
// The binary is $RUNBOARD_BIN, else $CARGO_TARGET_DIR/debug/runboard, else
// target/debug/runboard (`cargo xtask test` builds it before running Playwright).

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Debian's Chromium, which the tests and benchmarks drive. */
export const chromiumPath = "/usr/bin/chromium";

/**
 * Chromium's flags here: no sandbox (root in CI), no GPU, and none of the calls home
 * that the machines' closed network refuses.
 */
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** The checkout's root folder. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The `runboard` binary to test. */
export function binary() {
  if (process.env.RUNBOARD_BIN) return process.env.RUNBOARD_BIN;
  const target = process.env.CARGO_TARGET_DIR
    ? resolve(root, process.env.CARGO_TARGET_DIR)
    : join(root, "target");
  return join(target, "debug", "runboard");
}

/**
 * Starts a server. Resolves once it has printed its URL and login link.
 * `args`: more `serve` flags (`["--max-concurrent-runs", "1"]`).
 * @param {{ staticDir?: string, args?: string[] }} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(options = {}) {
  const home = mkdtempSync(join(tmpdir(), "runboard-e2e-"));
  const dataDir = join(home, "data");
  const staticDir = options.staticDir ?? join(root, "static", "pkg");
  const args = ["serve", "--port", "0", "--data-dir", dataDir, "--static-dir", staticDir, ...(options.args ?? [])];
  return spawnServer(args, { home, dataDir, cwd: root });
}

/**
 * Starts a server exactly as `cargo xtask run` does: its own arguments (handed over
 * by `cargo xtask test` in $RUNBOARD_SERVE_ARGS, from the one function that builds
 * them, xtask/src/serve_command.rs), a data folder relative to the checkout, and the
 * checkout as the working directory. Only the port differs: a free one.
 * @returns {Promise<Server>}
 */
export async function startReadmeServer() {
  const json = process.env.RUNBOARD_SERVE_ARGS;
  if (!json) {
    throw new Error(
      "RUNBOARD_SERVE_ARGS is not set: this test starts the server with `cargo xtask run`'s " +
        "arguments, which `cargo xtask test` hands over; run the browser tests through it",
    );
  }
  const args = JSON.parse(json);
  const dataDir = args[args.indexOf("--data-dir") + 1];
  if (!dataDir || dataDir.startsWith("/")) throw new Error(`expected a relative --data-dir in ${json}`);
  const home = mkdtempSync(join(tmpdir(), "runboard-e2e-readme-"));
  const server = await spawnServer([...args, "--port", "0"], { home, dataDir, cwd: root });
  server.ownedDataDir = resolve(root, dataDir);
  return server;
}

async function spawnServer(args, { home, dataDir, cwd }) {
  const config = join(home, "client.json");
  const child = spawn(binary(), args, {
    cwd,
    env: { ...process.env, RUNBOARD_CONFIG: config, RUST_LOG: process.env.RUST_LOG ?? "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const { url, token, printed } = await new Promise((resolvePromise, reject) => {
    let stdout = "";
    const timer = setTimeout(
      () => reject(new Error(`runboard serve printed no login link in 30 s:\n${stdout}\n${stderr}`)),
      30_000,
    );
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`runboard serve exited (${code}):\n${stdout}\n${stderr}`));
    });
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const serving = stdout.match(/Runboard is serving (http:\/\/\S+)/);
      const login = stdout.match(/Log in: \S+\?token=(\w+)/);
      const sample = stdout.match(/Sample notebook: \S+/);
      if (serving && login && sample) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolvePromise({ url: serving[1], token: login[1], printed: stdout });
      }
    });
  });
  const server = new Server(child, home, dataDir, config, url, token);
  server.printed = printed;
  return server;
}

/** A running server and the CLI pointed at it. */
export class Server {
  constructor(child, home, dataDir, config, url, token) {
    this.child = child;
    this.home = home;
    this.dataDir = dataDir;
    this.config = config;
    /** `http://127.0.0.1:PORT` */
    this.url = url;
    this.token = token;
    this.sources = 0;
  }

  /** The login link `runboard serve` printed. */
  get loginUrl() {
    return `${this.url}/?token=${this.token}`;
  }

  /** Runs the CLI with this server's URL and token; returns its stdout. */
  cli(args) {
    const result = spawnSync(binary(), args, {
      env: {
        ...process.env,
        RUNBOARD_URL: this.url,
        RUNBOARD_TOKEN: this.token,
        RUNBOARD_CONFIG: this.config,
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    if (result.status !== 0) {
      throw new Error(`runboard ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
    return result.stdout;
  }

  /**
   * Writes `train.py` (and any other files) to a new source folder and submits it
   * with `runboard submit`. Returns the run id.
   * @param {string} experiment
   * @param {string} script the content of train.py
   * `estimator`: fields of an estimator JSON file passed with `--estimator`
   * (`{ pip_packages: ["tensorboardX"] }`).
   * @param {{ params?: string[], files?: Record<string, string>, estimator?: object }} [options]
   */
  submit(experiment, script, options = {}) {
    const source = join(this.home, `source-${++this.sources}`);
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, "train.py"), script);
    for (const [name, content] of Object.entries(options.files ?? {})) {
      mkdirSync(dirname(join(source, name)), { recursive: true });
      writeFileSync(join(source, name), content);
    }
    const params = (options.params ?? []).map((p) => `--script-param=${p}`);
    if (options.estimator) {
      const file = join(this.home, `estimator-${this.sources}.json`);
      writeFileSync(file, JSON.stringify(options.estimator));
      params.push("--estimator", file);
    }
    const out = this.cli([
      "submit",
      "--experiment",
      experiment,
      "--source-directory",
      source,
      "--entry-script",
      "train.py",
      ...params,
    ]);
    const id = out.match(/Run id: (\S+)/);
    if (!id) throw new Error(`runboard submit printed no run id:\n${out}`);
    return id[1];
  }

  /**
   * Posts a sweep (`POST /api/experiments/{experiment}/sweeps`): writes `script` as
   * `train.py` of a new folder of the files area, which `config`'s `run_config`
   * names as its source directory. `config`: the HyperDrive configuration without
   * `run_config` (see server/tests/it/sweeps.rs). Returns the parent run's id.
   * @param {string} experiment
   * @param {string} script
   * @param {object} config
   */
  async submitSweep(experiment, script, config) {
    const folder = `sweep-source-${++this.sources}`;
    await this.putFile(`${folder}/train.py`, script);
    const form = new FormData();
    form.append(
      "config",
      JSON.stringify({ run_config: { source_directory: folder, entry_script: "train.py" }, ...config }),
    );
    const response = await fetch(`${this.url}/api/experiments/${experiment}/sweeps`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}` },
      body: form,
    });
    if (response.status !== 201) throw new Error(`POST sweep: ${response.status} ${await response.text()}`);
    return (await response.json()).run_id;
  }

  /** `GET /api/...` with the token; the parsed JSON. */
  async api(path) {
    const response = await fetch(`${this.url}${path}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  /** `PUT /api/files/<path>` with the token: writes a file of the files area. */
  async putFile(path, body) {
    const response = await fetch(`${this.url}/api/files/${path}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${this.token}` },
      body,
    });
    if (!response.ok) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`);
  }

  /** `GET /api/files/<path>` with the token: a file of the files area, as text. */
  async fileText(path) {
    const response = await fetch(`${this.url}/api/files/${path}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.text();
  }

  /** Waits until the run's status is one of `statuses`; returns its details. */
  async waitForStatus(runId, statuses, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const details = await this.api(`/api/runs/${runId}`);
      if (statuses.includes(details.status)) return details;
      if (Date.now() > deadline) {
        throw new Error(`run ${runId} is ${details.status}, not ${statuses.join("/")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server and removes its data folder. */
  async stop() {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill("SIGKILL");
    }
    rmSync(this.home, { recursive: true, force: true });
    if (this.ownedDataDir) rmSync(this.ownedDataDir, { recursive: true, force: true });
  }

  /** A line `runboard serve` printed at start, after `label: `. */
  printedLine(label) {
    const line = this.printed.split("\n").find((l) => l.startsWith(`${label}: `));
    if (!line) throw new Error(`runboard serve printed no "${label}:" line:\n${this.printed}`);
    return line.slice(label.length + 2).trim();
  }
}
