// Playwright drives Debian's Chromium: Playwright's own browser downloads are not
// available on Runboard's machines (`cargo xtask test` installs the `chromium`
// package, see xtask/src/setup.rs).
import { defineConfig } from "@playwright/test";
import { chromiumArgs, chromiumPath } from "./lib/runboard.mjs";

export default defineConfig({
  testDir: "./tests",
  outputDir: "test-results",
  reporter: "list",
  // Tests run real jobs; a slow machine (two cores, shared) needs room.
  timeout: 90_000,
  expect: { timeout: 10_000 },
  // Each worker starts its own server on a free loopback port (tests/fixtures.ts) and
  // each test submits to its own experiment, so tests run in parallel; the machines
  // have two cores.
  workers: 2,
  fullyParallel: true,
  use: {
    browserName: "chromium",
    headless: true,
    // Kept as artifacts under test-results/, passing or not.
    screenshot: "on",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: chromiumPath,
      args: chromiumArgs,
    },
  },
});
