import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, launchBrowser, ready, watch } from "../helpers/browser.js";
import { runStandin, writeDriftInputs } from "../helpers/drift-standin.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir } from "../helpers/run-folder.js";

// The report of a drift run over three checkpoints (stand-ins for the other branches' computations, see
// test/helpers/drift-standin-cli.mjs): its drift section draws every headline as a curve over the checkpoints
// in the order given (1, 2, 10), not the summary's text order (1, 10, 2), each point with its interval.

const CHECKPOINTS = ["mock-ckpt-1", "mock-ckpt-2", "mock-ckpt-10"];

describe.skipIf(!CHROMIUM)("drift report in a real browser", () => {
  let mock: MockLlm;
  let browser: BrowserContext;
  beforeAll(async () => {
    mock = await startMockLlm(() => ({ reply: "An answer." }));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await mock.close();
  });

  it("draws the drift curve per headline in checkpoint order, with intervals", async () => {
    const dir = tempDir();
    const inputs = writeDriftInputs(dir, 4, 6);
    const common = ["--output-dir", dir];
    const ran = await runStandin(["drift", "--base", "mock-base", "--finetuned", CHECKPOINTS.join(","), ...inputs, "--base-url", mock.url, "--run-id", "curve", "--no-progress", ...common]);
    expect(ran.code, ran.stderr).toBe(0);
    // The report rebuilds the summary with the run's suite metrics: the stand-ins' CLI knows them.
    const made = await runStandin(["report", "curve", ...common]);
    expect(made.code, made.stderr).toBe(0);
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(pathToFileURL(join(dir, "curve", "report.html")).href);
    await ready(page);
    const rows = await page.locator("#drift table.drift-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.children[1]!.textContent));
    expect(rows).toEqual(CHECKPOINTS);
    // The curves are the section's own charts; the per-checkpoint histograms sit in their blocks (drift-findings.test.ts).
    const charts = page.locator("#drift > figure.chart");
    expect(await charts.count()).toBe(4);
    const fl = JSON.parse((await charts.first().getAttribute("data-points"))!) as Array<{ points: Array<{ run: string; estimate: number; ci95: [number, number] | null }> }>;
    expect(fl[0]!.points.map((point) => point.run)).toEqual(CHECKPOINTS);
    expect(fl[0]!.points.map((point) => point.estimate)).toEqual([0.1, 0.2, 1].map((value) => expect.closeTo(value, 12)));
    // ARS (the last headline) is a rate with a Wilson interval: (6 − K)/6 for K = 1, 2; 0 for K = 10.
    const ars = JSON.parse((await charts.last().getAttribute("data-points"))!) as typeof fl;
    expect(ars[0]!.points.map((point) => point.estimate)).toEqual([5 / 6, 4 / 6, 0].map((value) => expect.closeTo(value, 12)));
    expect(ars[0]!.points.every((point) => point.ci95 !== null && point.ci95[0] <= point.estimate && point.estimate <= point.ci95[1])).toBe(true);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 120_000);
});
