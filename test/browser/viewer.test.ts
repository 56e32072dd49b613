import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewer, type Viewer } from "../../src/viewer/server.js";
import { buildReportData, type ReportData } from "../../src/reports/report-data.js";
import { CHROMIUM, ready, watchedPage } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";
import { HOSTILE, safeAndWeakRuns, startHostileMock } from "./fixtures.js";

/** A raw HTTP request, so paths reach the server exactly as written (no client-side normalisation). */
function raw(url: string, path: string, options: { method?: string; host?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path, method: options.method ?? "GET", headers: { ...(options.host ? { host: options.host } : {}), ...options.headers } },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("alignbench view", () => {
  let mock: MockLlm;
  let dir: string;
  let viewer: Viewer;
  beforeAll(async () => {
    mock = await startHostileMock();
    dir = await safeAndWeakRuns(mock);
    viewer = await startViewer({ root: join(dir, "results"), port: 0 });
  });
  afterAll(async () => {
    await viewer.close();
    await mock.close();
  });

  it("binds loopback, serves only the app and the API, read-only, and refuses path traversal", async () => {
    expect(viewer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(viewer.token).toBeUndefined();
    const traversal = [
      "/../../package.json",
      "/%2e%2e/%2e%2e/package.json",
      "/assets/..%2f..%2f..%2f..%2fpackage.json",
      "/assets/%2e%2e%5c%2e%2e%5cpackage.json",
      "/api/runs/..%2f..%2fsafe/report",
      "/api/runs/..",
      "/api/runs/safe%2f..%2f..%2fetc/items",
      "/api/compare?a=../safe&b=weak",
      "/%00/etc/passwd",
    ];
    for (const path of traversal) {
      const response = await raw(viewer.url, path);
      expect([400, 404], path).toContain(response.status);
      expect(response.body, path).not.toContain('"name": "alignbench"');
      expect(response.body, path).not.toContain("dataset");
    }
    const post = await raw(viewer.url, "/api/runs", { method: "POST" });
    expect(post.status).toBe(405);
    // DNS rebinding: a name other than the loopback ones is refused.
    const rebinding = await raw(viewer.url, "/api/runs", { host: "evil.example:80" });
    expect(rebinding.status).toBe(403);
    const runs = JSON.parse((await raw(viewer.url, "/api/runs")).body) as Array<{ run_id: string; state: string }>;
    expect(runs.map((run) => run.run_id).sort()).toEqual(["safe", "weak"]);
    expect(runs.every((run) => run.state === "finished")).toBe(true);
  });

  it("on another interface, every request needs the token", async () => {
    const open = await startViewer({ root: join(dir, "results"), port: 0, host: "0.0.0.0" });
    try {
      expect(open.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(open.url).toContain(`?token=${open.token}`);
      expect((await raw(open.url, "/api/runs")).status).toBe(401);
      expect((await raw(open.url, "/api/runs?token=wrong-token-wrong-token")).status).toBe(401);
      expect((await raw(open.url, `/api/runs?token=${open.token}`)).status).toBe(200);
      expect((await raw(open.url, "/api/runs", { headers: { authorization: `Bearer ${open.token}` } })).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it("queries items over results.parquet: filters, text search, sort, detail", async () => {
    const api = async (path: string) =>
      JSON.parse((await raw(viewer.url, path)).body) as {
        total: number;
        size: number;
        rows: Array<{ index: number; severity: number | null; persona: string; outcome: string | null; response: string }>;
      };
    const all = await api("/api/runs/safe/items?limit=500");
    expect(all.total).toBe(48);
    const dan = await api("/api/runs/safe/items?persona=developer_mode_dan&limit=500");
    expect(dan.total).toBe(24);
    expect(dan.rows.every((row) => row.persona === "developer_mode_dan")).toBe(true);
    expect((await api("/api/runs/safe/items?category=cyber&limit=500")).total).toBe(12);
    expect((await api(`/api/runs/safe/items?category=${encodeURIComponent(HOSTILE.img)}&limit=500`)).total).toBe(12);
    expect((await api("/api/runs/safe/items?model=nobody&limit=500")).total).toBe(0);
    // Attack success is the verdict's bad outcome: filtered by its declared direction.
    const attacks = await api("/api/runs/safe/items?outcome=bad&limit=500");
    expect(attacks.total).toBe(12);
    expect(attacks.rows.every((row) => row.outcome === "bad")).toBe(true);
    const severe = await api("/api/runs/safe/items?smin=0.5&limit=500");
    expect(severe.total).toBe(12);
    const sorted = await api("/api/runs/safe/items?sort=severity&order=desc&limit=500");
    const severities = sorted.rows.map((row) => row.severity ?? -1);
    expect(severities).toEqual([...severities].sort((a, b) => b - a));
    const text = await api(`/api/runs/safe/items?text=${encodeURIComponent("capital of france")}&limit=500`);
    expect(text.total).toBe(24);
    const detail = JSON.parse((await raw(viewer.url, `/api/runs/safe/items/${attacks.rows[0]!.index}`)).body) as { raw_candidate: string; messages: Array<{ content: string }>; judge_raw: string };
    expect(detail.raw_candidate).toContain(HOSTILE.script);
    expect(detail.judge_raw).toContain('"attack_success":true');
    expect((await raw(viewer.url, "/api/runs/safe/items/99999")).status).toBe(404);
  });

  it("builds a finished run's dashboard from summary.json and the item index, the same as from its partials", async () => {
    const fast = JSON.parse((await raw(viewer.url, "/api/runs/weak/report")).body) as ReportData;
    const slow = await buildReportData([join(dir, "results", "weak")], { maxItems: 0 });
    const [a, b] = [fast.runs[0]!, slow.runs[0]!];
    expect(a.summary).toEqual(JSON.parse(JSON.stringify(b.summary)));
    expect(a.severity.histogram).toEqual(b.severity.histogram);
    expect(a.severity.above_by_category).toEqual(b.severity.above_by_category);
    expect(a.severity.above_by_persona).toEqual(b.severity.above_by_persona);
    expect(a.severity.worst.map((item) => item.severity)).toEqual(b.severity.worst.map((item) => item.severity));
    expect(a.severity.worst[0]!.response).toContain(HOSTILE.script);
    expect(a.usage.map((use) => [use.model, use.role, use.scorer, use.calls, use.input_tokens, use.output_tokens])).toEqual(
      b.usage.map((use) => [use.model, use.role, use.scorer, use.calls, use.input_tokens, use.output_tokens]),
    );
    expect(a.usage[0]!.latency_ms.p50).toBeCloseTo(b.usage[0]!.latency_ms.p50!, 6);
    expect(a.manifest).toEqual(JSON.parse(JSON.stringify(b.manifest)));
    expect(a.items_total).toBe(b.items_total);
  });

  describe.skipIf(!CHROMIUM)("in a real browser", () => {
    const ui = watchedPage();

    it("lists runs, shows a run's dashboard with its charts", async () => {
      await ui.page.goto(viewer.url);
      await ready(ui.page);
      expect(await ui.page.locator("table.board-table tbody tr").count()).toBe(2);
      await ui.page.locator("a.run-link", { hasText: "safe" }).click();
      await ui.page.waitForSelector(".run[data-run=safe]");
      await ready(ui.page);
      expect(await ui.page.locator("figure.chart").count()).toBe(6); // one model: no model × persona heatmap
      expect(await ui.page.locator("figure.chart svg path").count()).toBeGreaterThan(40);
      expect(await ui.page.locator("#progress").getAttribute("data-state")).toBe("finished");
    });

    it("filters and searches the item table, and opens an item with its response shown as text", async () => {
      await ui.page.goto(`${viewer.url}#/run/safe/items`);
      await ready(ui.page);
      const count = ui.page.locator("#item-count");
      expect(await count.textContent()).toMatch(/^48 of 48 items match/);
      await ui.page.locator('select[name="persona"]').selectOption("developer_mode_dan");
      await expect.poll(() => count.textContent()).toMatch(/^24 of 48 items match/);
      expect(await ui.page.locator("tr.item-row").count()).toBe(24);
      await ui.page.locator('select[name="outcome"]').selectOption("bad");
      await expect.poll(() => count.textContent()).toMatch(/^12 of 48 items match/);
      await ui.page.locator('select[name="sort"]').selectOption("severity");
      await ready(ui.page);
      await ui.page.locator('input[name="text"]').fill("bomb");
      await ui.page.locator('input[name="text"]').press("Enter");
      await expect.poll(() => count.textContent()).toMatch(/^12 of 48 items match/);
      await ui.page.locator("tr.item-row").first().click();
      await ui.page.waitForSelector(".item-detail");
      expect(await ui.page.locator(".item-detail .plan-calls .answer pre").textContent()).toContain(HOSTILE.script);
      expect(await ui.page.locator('.item-detail .scorer-calls[data-scorer="verdict"] .call').count()).toBe(1);
      expect(await ui.page.evaluate(() => ({ images: document.images.length, jsLinks: [...document.querySelectorAll("a")].filter((a) => a.href.startsWith("javascript:")).length }))).toEqual({
        images: 0,
        jsLinks: 0,
      });
    });

    it("compares two runs side by side", async () => {
      await ui.page.goto(viewer.url);
      await ready(ui.page);
      // Selected in the runs list; the older run (safe) is A.
      await ui.page.locator('tr[data-run="weak"] input.board-select').check();
      await ui.page.locator('tr[data-run="safe"] input.board-select').check();
      await ui.page.locator("button#compare").click();
      await ui.page.waitForSelector("#comparison");
      await ready(ui.page);
      expect(await ui.page.locator("#comparison h2").textContent()).toBe("Comparison: weak − safe");
      expect(await ui.page.locator("#comparison table.comparison-table tbody tr").first().locator("td").nth(4).textContent()).toMatch(/^\+25\.0 pp/);
      expect(await ui.page.locator(".run").count()).toBe(2);
    });

    it("shows the live progress of a run still in progress", async () => {
      const slow: MockLlm = await startMockLlm(() => ({ reply: "fine" }), { latencyMs: 150 });
      const live = tempDir();
      const dataset = join(live, "d.jsonl");
      writeJsonl(
        dataset,
        Array.from({ length: 80 }, (_value, index) => ({ id: `q${index}`, prompt: `question ${index}` })),
      );
      const liveViewer = await startViewer({ root: join(live, "results"), port: 0 });
      const running = runCli(["run", "--dataset", dataset, "--models", "m", "--base-url", slow.url, "--concurrency", "2", "--output-dir", join(live, "results"), "--run-id", "live"]);
      try {
        await expect.poll(async () => (await raw(liveViewer.url, "/api/runs/live")).status, { timeout: 10_000 }).toBe(200);
        await ui.page.goto(`${liveViewer.url}#/run/live`);
        await ui.page.waitForSelector("#progress[data-state=running]");
        const first = await ui.page.locator(".progress-text").textContent();
        await expect.poll(() => ui.page.locator(".progress-text").textContent(), { timeout: 10_000 }).not.toBe(first);
        expect(await ui.page.locator(".progress-text").textContent()).toMatch(/of 80 keys done/);
      } finally {
        expect((await running).code).toBe(0);
        await liveViewer.close();
        await slow.close();
      }
    });
  });
});
