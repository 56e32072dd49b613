import { cpSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../../src/viewer/server.js";
import type { ReportData } from "../../src/reports/report-data.js";
import { CHROMIUM, launchBrowser, ready, watch } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { readResultsParquet, tempDir } from "../helpers/run-folder.js";

// A run folder written by alignbench 0.1 (row format 1, summary 1, its results.parquet with the verdict's
// flat columns): the viewer and the report read it through the verdict's declaration.
const FIXTURE = fileURLToPath(new URL("../fixtures/run-0.1/results", import.meta.url));

describe("a run folder written by 0.1 in the viewer and the report", () => {
  let results: string;
  let viewer: Viewer;
  beforeAll(async () => {
    results = join(tempDir(), "results");
    cpSync(FIXTURE, results, { recursive: true });
    viewer = await startViewer({ root: results, port: 0 });
  });
  afterAll(() => viewer?.close());

  const api = async <T>(path: string): Promise<T> => (await (await fetch(new URL(path, viewer.url))).json()) as T;

  it("serves its items with the verdict's outcome, its rows upgraded, and a dashboard rebuilt as summary 2", async () => {
    const parquet = await readResultsParquet(join(results, "run-0.1"));
    const all = await api<{
      total: number;
      rows: Array<{ index: number; outcome: string | null; scores: Record<string, { value: number | null; label: string | null }> }>;
      primary: { scorer: string };
    }>("/api/runs/run-0.1/items?limit=500");
    expect(all.total).toBe(parquet.length);
    expect(all.primary.scorer).toBe("verdict");
    const attacks = parquet.filter((row) => row.attack_success === true).length;
    const bad = await api<{ total: number }>("/api/runs/run-0.1/items?outcome=bad&limit=500");
    expect(bad.total).toBe(attacks);
    expect(all.rows.filter((row) => row.scores.verdict?.value === 1).length).toBe(attacks);
    const detail = await api<{
      scores: Record<string, { value: number | null; model?: string }>;
      transcript: Array<{ role: string; response: string | null }>;
      raw_candidate: string;
      judge_raw: string;
    }>(`/api/runs/run-0.1/items/${all.rows[0]!.index}`);
    expect(detail.scores.verdict?.model).toBe("judge");
    expect(detail.transcript).toHaveLength(1);
    expect(detail.transcript[0]!.role).toBe("target");
    expect(detail.transcript[0]!.response).toBe(detail.raw_candidate);
    const report = await api<ReportData>("/api/runs/run-0.1/report");
    const run = report.runs[0]!;
    expect(run.summary.schema_version).toBe(2);
    expect(run.primary?.label).toBe("attack success rate");
    expect(run.severity.worst.length).toBe(Math.min(25, attacks));
    expect(run.severity.worst.every((item) => item.outcome === "bad")).toBe(true);
  });

  it.skipIf(!CHROMIUM)("renders its dashboard, item table and HTML report in a browser", async () => {
    const made = await runCli(["report", "run-0.1", "--output-dir", results]);
    expect(made.code, made.stderr).toBe(0);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const seen = watch(page);
      await page.goto(pathToFileURL(join(results, "run-0.1", "report.html")).href);
      await ready(page);
      expect(await page.locator("figure.chart").count()).toBeGreaterThan(3);
      await page.goto(`${viewer.url}#/run/run-0.1`);
      await page.waitForSelector('.run[data-run="run-0.1"]');
      await ready(page);
      expect(await page.locator("#severity details.item[data-outcome=good]").count()).toBe(0);
      await page.goto(`${viewer.url}#/run/run-0.1/items`);
      await ready(page);
      expect(await page.locator("tr.item-row").count()).toBeGreaterThan(0);
      await page.locator("tr.item-row").first().click();
      await page.waitForSelector(".item-detail");
      expect(await page.locator(".item-detail .transcript .call").count()).toBe(1);
      expect(seen.errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
