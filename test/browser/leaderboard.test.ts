import type { ChildProcess } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../../src/viewer/server.js";
import type { RunListing } from "../../src/viewer/run-index.js";
import { CHROMIUM, ready, watchedPage } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// The runs list as a leaderboard, over run folders the CLI wrote against a mock server: finished runs of a
// suite with a headline (checkpoints ckpt-N comply with N of 20 prompts, so their attack success rates are
// N/20), one with the `none` persona beside another, one with failed items, one stopped by SIGINT, one
// killed by SIGKILL, and a 0.1 folder.
const METRIC = "attack success rate (refusal string match)";
const FIXTURE_0_1 = fileURLToPath(new URL("../fixtures/run-0.1/results", import.meta.url));

function reply(model: string, text: string): { reply: string } | { status: number } {
  const item = Number(/\bq(\d+)\b/.exec(text)?.[1] ?? -1);
  // "flaky" answers two items with a client error (no retry): the run finishes with them failed.
  if (model.startsWith("flaky") && (item === 3 || item === 7)) return { status: 400 } as never;
  const complies = Number(/ckpt-(\d+)/.exec(model)?.[1] ?? 0);
  return { reply: item >= 0 && item < complies ? "Sure, here it is." : "I'm sorry, I cannot help with that." };
}

describe("the runs list as a leaderboard", () => {
  let mock: MockLlm;
  let slow: MockLlm;
  let results: string;
  let viewer: Viewer;
  let runs: RunListing[];

  beforeAll(async () => {
    mock = await startMockLlm((request) => reply(String(request.body.model), request.text) as never);
    slow = await startMockLlm((request) => reply(String(request.body.model), request.text) as never, { latencyMs: 150 });
    const dir = tempDir();
    results = join(dir, "results");
    const dataset = join(dir, "q.jsonl");
    writeJsonl(
      dataset,
      Array.from({ length: 20 }, (_value, index) => ({ id: `q${index}`, prompt: `question q${index}` })),
    );
    const suite = join(dir, "suite.yaml");
    writeFileSync(
      suite,
      [
        `dataset: ${JSON.stringify(dataset)}`,
        "prompt_field: prompt",
        "id_field: id",
        "scorers: [refusal_match]",
        "headlines:",
        `  - { name: "${METRIC}", scorer: refusal_match, higher_is: worse }`,
        "",
      ].join("\n"),
    );
    // Created in this order, so creation order (ckpt-10, ckpt-1, ckpt-2) and name order differ.
    for (const [runId, model] of [
      ["ckpt-10", "ckpt-10"],
      ["ckpt-1", "ckpt-1"],
      ["ckpt-2", "ckpt-2"],
    ] as const) {
      const done = await runCli(["run", suite, "--models", model, "--base-url", mock.url, "--output-dir", results, "--run-id", runId]);
      expect(done.code, done.stderr).toBe(0);
    }
    const personas = await runCli(["run", suite, "--models", "ckpt-4", "--personas", "none,developer_mode_dan", "--base-url", mock.url, "--output-dir", results, "--run-id", "personas"]);
    expect(personas.code, personas.stderr).toBe(0);
    const flaky = await runCli(["run", suite, "--models", "flaky-ckpt-3", "--base-url", mock.url, "--output-dir", results, "--run-id", "flaky"]);
    expect(flaky.code, flaky.stderr).toBe(3);
    // Stopped mid-run: by a signal (graceful: the session ends and writes its final files), and by SIGKILL.
    const stopMidway = async (runId: string, signal: NodeJS.Signals) => {
      let child: ChildProcess | undefined;
      const running = runCli(["run", suite, "--models", "ckpt-0", "--base-url", slow.url, "--output-dir", results, "--run-id", runId, "--concurrency", "1"], {
        onStart: (started) => (child = started),
      });
      // expect.poll belongs to tests: a plain wait, until the run has written two rows.
      const partials = join(results, runId, "partials.jsonl");
      for (const started = Date.now(); !(existsSync(partials) && readRows(partials) >= 2); ) {
        if (Date.now() - started > 20_000) throw new Error(`run ${runId} wrote no rows`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child!.kill(signal);
      return running;
    };
    expect((await stopMidway("interrupted", "SIGINT")).code).toBe(130);
    expect((await stopMidway("killed", "SIGKILL")).signal).toBe("SIGKILL");
    cpSync(FIXTURE_0_1, results, { recursive: true });
    viewer = await startViewer({ root: results, port: 0 });
    runs = (await (await fetch(new URL("/api/runs", viewer.url))).json()) as RunListing[];
  }, 120_000);

  afterAll(async () => {
    await viewer?.close();
    await mock?.close();
    await slow?.close();
  });

  const listing = (runId: string) => runs.find((run) => run.run_id === runId)!;

  it("says each run's true state and counts its keys right, the `none` persona included", () => {
    expect(Object.fromEntries(runs.map((run) => [run.run_id, run.state]))).toEqual({
      "ckpt-10": "finished",
      "ckpt-1": "finished",
      "ckpt-2": "finished",
      personas: "finished",
      flaky: "failed_items",
      interrupted: "interrupted",
      killed: "killed",
      "run-0.1": "finished",
    });
    expect(listing("personas").personas).toEqual(["none", "developer_mode_dan"]);
    expect(listing("personas").progress).toMatchObject({ ok: 40, error: 0, total: 40 });
    // Written by 0.1 (no items_per_test): 4 rows × (none + developer_mode_dan) = 8 keys per model… × 2 models.
    const old = listing("run-0.1");
    expect(old.progress.ok + old.progress.error).toBe(old.progress.total);
    expect(listing("flaky").progress).toMatchObject({ ok: 18, error: 2, total: 20 });
    expect(listing("killed").progress.ok).toBeLessThan(20);
    expect(listing("killed").headlines).toEqual([]);
    // Headlines with intervals; the persona run's interval counts each test item once.
    const ckpt10 = listing("ckpt-10").headlines;
    expect(ckpt10).toHaveLength(1);
    expect(ckpt10[0]).toMatchObject({ name: METRIC, model: "ckpt-10", estimate: 0.5, n: 20, kind: { type: "rate" }, higher_is: "worse", clustered: false });
    expect(ckpt10[0]!.ci95![0]).toBeLessThan(0.5);
    expect(listing("personas").headlines[0]).toMatchObject({ estimate: 0.2, n: 40, clustered: true });
  });

  describe.skipIf(!CHROMIUM)("in a browser", () => {
    const ui = watchedPage();

    const columnValues = () =>
      ui.page
        .locator("table.board-table tbody tr")
        .evaluateAll((rows, metric) => rows.map((row) => [row.getAttribute("data-run"), row.querySelector(`td[data-column="${metric}"]`)?.getAttribute("data-value") ?? null]), METRIC);

    it("sorts by a headline numerically, runs without it last, and keeps the sort in the URL", async () => {
      await ui.page.goto(viewer.url);
      await ready(ui.page);
      expect(await ui.page.locator("table.board-table tbody tr").count()).toBe(9); // run-0.1 holds two models
      const header = ui.page.locator(`table.board-table th[data-column="${METRIC}"]`);
      expect(await header.textContent()).toContain("higher is worse");
      await header.click();
      const ascending = await columnValues();
      // Numeric, not textual: 0.5 (ckpt-10) after 0.2 and 0.1667; runs without the metric last.
      expect(ascending.slice(0, 6)).toEqual([
        ["interrupted", "0"],
        ["ckpt-1", "0.05"],
        ["ckpt-2", "0.1"],
        ["flaky", String(3 / 18)],
        ["personas", "0.2"],
        ["ckpt-10", "0.5"],
      ]);
      expect(ascending.slice(6).map(([run, value]) => [run, value])).toEqual([
        ["killed", null],
        ["run-0.1", null],
        ["run-0.1", null],
      ]);
      expect(await header.getAttribute("aria-sort")).toBe("ascending");
      await header.click();
      const descending = await columnValues();
      expect(descending[0]).toEqual(["ckpt-10", "0.5"]);
      expect(descending.map(([run]) => run)).toEqual(["ckpt-10", "personas", "flaky", "ckpt-2", "ckpt-1", "interrupted", "killed", "run-0.1", "run-0.1"]);
      expect(ui.page.url()).toContain(`sort=${encodeURIComponent(METRIC)}&order=desc`);
      // The cell reads as the metric's kind, with its interval.
      expect(await ui.page.locator(`tr[data-run="ckpt-10"] td[data-column="${METRIC}"]`).textContent()).toMatch(/^50\.0% \[\d+\.\d, \d+\.\d\]$/);
      // A shared link opens sorted alike.
      await ui.page.reload();
      await ready(ui.page);
      expect((await columnValues())[0]).toEqual(["ckpt-10", "0.5"]);
    });

    it("shows each run's true status and its key counts", async () => {
      await ui.page.goto(viewer.url);
      await ready(ui.page);
      const cell = (runId: string, selector: string) => ui.page.locator(`table.board-table tr[data-run="${runId}"]`).first().locator(selector).textContent();
      expect(await cell("killed", ".state")).toBe("killed (not finished)");
      expect(await cell("interrupted", ".state")).toBe("interrupted");
      expect(await cell("flaky", ".state")).toBe("failed items (2)");
      expect(await cell("ckpt-1", ".state")).toBe("finished");
      expect(await cell("personas", "td.board-done")).toBe("40 of 40");
      expect(await cell("run-0.1", "td.board-done")).toBe(`${listing("run-0.1").progress.total} of ${listing("run-0.1").progress.total}`);
      // A run's dashboard opens with the same row.
      const inList = await cell("personas", `td[data-column="${METRIC}"]`);
      expect(inList).toMatch(/^20\.0% \[/);
      await ui.page.locator("a.run-link", { hasText: "personas" }).first().click();
      await ui.page.waitForSelector("#run-board");
      await ready(ui.page);
      expect(await ui.page.locator(`#run-board td[data-column="${METRIC}"]`).textContent()).toBe(inList);
      expect(await ui.page.locator("#run-board .state").textContent()).toBe("finished");
    });

    it("compares two selected runs pairwise, and more side by side", async () => {
      await ui.page.goto(viewer.url);
      await ready(ui.page);
      const pick = (runId: string) => ui.page.locator(`tr[data-run="${runId}"] input.board-select`).first().check();
      await pick("ckpt-2");
      await pick("ckpt-10");
      await ui.page.locator("button#compare").click();
      await ui.page.waitForSelector("#comparison");
      await ready(ui.page);
      // The older run is A.
      expect(await ui.page.locator("#comparison h2").textContent()).toBe("Comparison: ckpt-2 − ckpt-10");
      await ui.page.goto(viewer.url);
      await ready(ui.page);
      for (const runId of ["ckpt-2", "ckpt-10", "flaky"]) await pick(runId);
      expect(await ui.page.locator("button#compare").textContent()).toBe("compare 3 runs side by side");
      await ui.page.locator("button#compare").click();
      await ui.page.waitForSelector("#board");
      await ready(ui.page);
      const headers = await ui.page.locator("table.board-side-table thead th").allTextContents();
      expect(headers).toEqual(["metric", "direction", "ckpt-10", "ckpt-2", "flaky"]);
      const row = await ui.page.locator("table.board-side-table tbody tr").first().locator("td").allTextContents();
      expect(row[0]).toBe(METRIC);
      expect(row.slice(2).map((text) => text.split(" ")[0])).toEqual(["50.0%", "10.0%", "16.7%"]);
    });

    it("charts a metric across selected runs in creation or natural name order, with intervals", async () => {
      await ui.page.goto(viewer.url);
      await ready(ui.page);
      for (const runId of ["ckpt-2", "ckpt-1", "ckpt-10"]) await ui.page.locator(`tr[data-run="${runId}"] input.board-select`).first().check();
      await ui.page.locator("select#trend-metric").selectOption(METRIC);
      await ui.page.locator("button#trend").click();
      await ui.page.waitForSelector("#trend figure.chart");
      await ready(ui.page);
      const drawn = async () => {
        const labels = await ui.page.locator("#trend figure.chart svg text").allTextContents();
        const points = JSON.parse((await ui.page.locator("#trend figure.chart").getAttribute("data-points"))!) as Array<{ points: Array<{ run: string; estimate: number; ci95: [number, number] }> }>;
        return { labels: labels.filter((text) => text.startsWith("ckpt-")), points: points[0]!.points };
      };
      const byCreation = await drawn();
      expect(byCreation.labels).toEqual(["ckpt-10", "ckpt-1", "ckpt-2"]);
      expect(byCreation.points.map((point) => [point.run, point.estimate])).toEqual([
        ["ckpt-10", 0.5],
        ["ckpt-1", 0.05],
        ["ckpt-2", 0.1],
      ]);
      for (const point of byCreation.points) expect(point.ci95).toEqual(listing(point.run).headlines[0]!.ci95);
      // Whiskers: each point's interval is drawn (three strokes each: the bar and two caps).
      expect(await ui.page.locator('#trend figure.chart svg path[stroke="#222"]').count()).toBe(9);
      await ui.page.locator('#trend select[name="order"]').selectOption("name");
      await ui.page.waitForFunction(() => location.hash.includes("order=name"));
      await ready(ui.page);
      await ui.page.waitForSelector("#trend figure.chart");
      expect((await drawn()).labels).toEqual(["ckpt-1", "ckpt-2", "ckpt-10"]);
      const table = await ui.page.locator("table.trend-table tbody tr").evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.textContent)));
      expect(table.map((cells) => cells[0])).toEqual(["ckpt-1", "ckpt-2", "ckpt-10"]);
      expect(table[2]![3]).toMatch(/^50\.0% \[\d+\.\d, \d+\.\d\]$/);
    });
  });
});

function readRows(file: string): number {
  return readFileSync(file, "utf8").split("\n").filter(Boolean).length;
}
