import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { chromiumPath, needs } from "./requirements.js";

/** Debian's chromium, installed by .ci/run; the browser tests skip where it is absent. */
export const CHROMIUM = needs("chromium") ? chromiumPath() : undefined;

/** A headless chromium with a fresh profile folder, removed again when the browser closes. */
export async function launchBrowser(): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), "alignbench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM!,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  // Chromium may still be writing to its profile as the context closes: retried, and never an error of the test.
  context.on("close", () => {
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      // A folder left in the temporary directory is harmless.
    }
  });
  return context;
}

/**
 * One browser page for the tests of a describe block: opened before them and watched; afterwards no dialog
 * may have opened and no error been thrown or logged, and the browser is closed.
 */
export function watchedPage(): { readonly page: Page; readonly seen: PageWatch } {
  const state: { browser?: BrowserContext; page?: Page; seen?: PageWatch } = {};
  beforeAll(async () => {
    state.browser = await launchBrowser();
    state.page = await state.browser.newPage();
    state.seen = watch(state.page);
  });
  afterAll(async () => {
    expect(state.seen?.dialogs).toEqual([]);
    expect(state.seen?.errors).toEqual([]);
    await state.browser?.close();
  });
  return {
    get page() {
      return state.page!;
    },
    get seen() {
      return state.seen!;
    },
  };
}

/** What a page did that it should not: dialogs opened, errors thrown, console errors, requests made. */
export interface PageWatch {
  dialogs: string[];
  errors: string[];
  requests: string[];
}

export function watch(page: Page): PageWatch {
  const seen: PageWatch = { dialogs: [], errors: [], requests: [] };
  page.on("dialog", (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => seen.errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") seen.errors.push(message.text());
  });
  page.on("request", (request) => seen.requests.push(request.url()));
  return seen;
}

export async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  await page.waitForFunction(() => [...document.querySelectorAll(".chart-plot")].every((plot) => (plot as HTMLElement).dataset.rendered === "true"));
}
