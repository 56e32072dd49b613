import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer } from "../../src/viewer/server.js";
import { CHROMIUM, launchBrowser, ready, watch } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS, hasShared, startSharedMock } from "../helpers/shared.js";

// The README's screenshots come from here: real XSTest and AdvBench files run against the shared mock.
// ALIGNBENCH_SCREENSHOTS=1 writes them to docs/screenshots; otherwise they go to a temporary folder.
const DOCS = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));

describe.skipIf(!hasShared || !CHROMIUM)("screenshots of a report and the viewer on real benchmark data", () => {
  let mock: Awaited<ReturnType<typeof startSharedMock>>;
  beforeAll(async () => {
    mock = await startSharedMock();
  });
  afterAll(() => mock.stop());

  it("renders the XSTest report, and the viewer's runs list, item table, grid and transcript on AdvBench", async () => {
    const dir = tempDir();
    const results = join(dir, "results");
    const out = process.env.ALIGNBENCH_SCREENSHOTS ? DOCS : join(dir, "shots");
    mkdirSync(out, { recursive: true });
    const common = ["--judge-model", "mock-judge", "--base-url", mock.url, "--concurrency", "32", "--output-dir", results];
    const xs = await runCli([
      "run",
      "--suite",
      "xstest",
      "--dataset",
      join(SHARED_DATASETS, "xstest/xstest_prompts.csv"),
      "--models",
      "mock-target",
      "--personas",
      "none,developer_mode_dan,evil_confidant",
      "--run-id",
      "xstest-demo",
      ...common,
    ]);
    expect(xs.code, xs.stderr).toBe(0);
    const adv = await runCli([
      "run",
      "--suite",
      "advbench",
      "--dataset",
      join(SHARED_DATASETS, "advbench/harmful_behaviors.csv"),
      "--models",
      "mock-target,mock-target-b",
      "--personas",
      "none,developer_mode_dan,docente_paciente",
      "--run-id",
      "advbench-demo",
      ...common,
    ]);
    expect(adv.code, adv.stderr).toBe(0);
    const report = await runCli(["report", "xstest-demo", "--output-dir", results]);
    expect(report.code, report.stderr).toBe(0);

    const browser = await launchBrowser();
    const viewer = await startViewer({ root: results, port: 0 });
    try {
      const page = await browser.newPage();
      const seen = watch(page);
      await page.setViewportSize({ width: 1280, height: 1000 });
      await page.goto(pathToFileURL(join(results, "xstest-demo", "report.html")).href);
      await ready(page);
      await page.locator("#breakdown").screenshot({ path: join(out, "report.png") });
      await page.goto(`${viewer.url}#/run/advbench-demo/items?sort=severity&order=desc&persona=developer_mode_dan`);
      await ready(page);
      expect(await page.locator("tr.item-row").count()).toBe(50);
      await page.screenshot({ path: join(out, "viewer.png") });
      // The runs list: a leaderboard of both runs' headlines.
      await page.goto(`${viewer.url}#/`);
      await ready(page);
      await page.screenshot({ path: join(out, "runs.png") });
      // The side-by-side grid: two models × three personas on the same prompts.
      await page.goto(`${viewer.url}#/run/advbench-demo/grid`);
      await ready(page);
      expect(await page.locator("tr.grid-row").count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(out, "grid.png") });
      // One item's transcript: the target's call, then the judge's prompt as sent and its answer.
      await page.locator(".grid-item").first().click();
      await page.waitForSelector(".item-detail");
      await ready(page);
      await page.screenshot({ path: join(out, "transcript.png"), fullPage: true });
      expect(seen.errors).toEqual([]);
      for (const name of ["report.png", "viewer.png", "runs.png", "grid.png", "transcript.png"]) expect(statSync(join(out, name)).size).toBeGreaterThan(20_000);
    } finally {
      await viewer.close();
      await browser.close();
    }
  });
});
