// Test fixtures: one real `runboard serve` per Playwright worker (a temporary data
// folder each), and a `page` that has logged in through the `?token=` link, as a
// user does.
import { test as base, expect, type Page } from "@playwright/test";
import { startServer, type Server } from "../lib/runboard.mjs";

export { expect };

export const test = base.extend<{ loggedIn: Page }, { server: Server }>({
  server: [
    async ({}, use) => {
      const server = await startServer();
      await use(server);
      await server.stop();
    },
    { scope: "worker" },
  ],
  loggedIn: async ({ page, server }, use) => {
    await page.goto(server.loginUrl);
    // The server set the cookie and dropped the token from the address.
    await expect(page).toHaveURL(`${server.url}/`);
    await use(page);
  },
});

/** The texts of the lines shown in the log view. */
export async function logLines(page: Page): Promise<string[]> {
  return page.locator(".log .ln").allTextContents();
}
