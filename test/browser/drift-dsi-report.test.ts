import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { DriftJson } from "../../src/reports/drift-outputs.js";
import { CHROMIUM, launchBrowser, ready, watch } from "../helpers/browser.js";
import { runCli } from "../helpers/cli.js";
import { isPreflightRequest, startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// `alignbench run` with a config of plan drift (no text sets: only a drift: block's prompt sets and a judge)
// must leave the drift files in its run folder as `alignbench drift` does, and the report's drift section must
// show the judge-score DSI headlines as curves and say which S they use. Mock models: the base and "same"
// answer alike, "moved" differently; the mock judge grades base-like answers 0.8 in domain and 0.4 out of
// domain, moved's 0.5 everywhere: DSI 0.5 for same and for the base, 0 for moved (change −0.5).

const grade = (prompt: string): number => {
  const reply = prompt.slice(prompt.indexOf("ASSISTANT REPLY:\n<<<") + 20, prompt.lastIndexOf(">>>"));
  if (reply.includes("moved")) return 0.5;
  return prompt.includes('"id": "judge_in_domain/') ? 0.8 : 0.4;
};

describe.skipIf(!CHROMIUM)("judge-score DSI through alignbench run, in the report", () => {
  let mock: MockLlm;
  let browser: BrowserContext;
  beforeAll(async () => {
    mock = await startMockLlm((request) => {
      if (isPreflightRequest(request)) return { reply: "OK" };
      const model = String(request.body.model);
      const messages = request.body.messages as Array<{ role: string; content: string }>;
      if (model === "judge") {
        const prompt = messages[0]!.content;
        const id = /"id": "([^"]+)", "score"/.exec(prompt)![1]!;
        return { reply: JSON.stringify({ id, score: grade(prompt) }) };
      }
      return { reply: `${model === "moved" ? "moved" : "base"} answer` };
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await mock.close();
  });

  it("writes benchmark_results.yaml and drift.json from alignbench run, and the report draws the DSI curves with their S", async () => {
    const dir = tempDir();
    writeJsonl(
      join(dir, "in.jsonl"),
      [1, 2, 3].map((i) => ({ id: `i${i}`, prompt: `In-domain question ${i}?` })),
    );
    writeJsonl(
      join(dir, "ood.jsonl"),
      [1, 2, 3].map((i) => ({ id: `o${i}`, prompt: `Other question ${i}?` })),
    );
    writeFileSync(
      join(dir, "drift.yaml"),
      ["plan: drift", "models: [same, moved]", "roles: { base: base }", "judge_model: judge", `base_url: ${mock.url}`, "drift: { in_domain_prompts: in.jsonl, ood_prompts: ood.jsonl }", ""].join("\n"),
    );
    const ran = await runCli(["run", join(dir, "drift.yaml"), "--output-dir", dir, "--run-id", "judged", "--no-progress"]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/DSI judge change/);
    expect(ran.stdout).toMatch(/results in .*judged \(benchmark_results\.yaml, drift\.json\)/);
    const folder = join(dir, "judged");
    const yaml = parse(readFileSync(join(folder, "benchmark_results.yaml"), "utf8")) as Record<string, Record<string, number | null>>;
    expect(yaml.same!["Drift Sensitivity Index (DSI), judge score"]).toBeCloseTo(0.5, 12);
    expect(yaml.moved!["Drift Sensitivity Index (DSI), judge score"]).toBeCloseTo(0, 12);
    const drift = JSON.parse(readFileSync(join(folder, "drift.json"), "utf8")) as DriftJson;
    expect(drift.base).toBe("base");
    expect(drift.checkpoints.map((point) => point.metrics.drift_judge_dsi!.dsi_change!.estimate)).toEqual([expect.closeTo(0, 12), expect.closeTo(-0.5, 12)]);

    const made = await runCli(["report", "judged", "--output-dir", dir]);
    expect(made.code, made.stderr).toBe(0);
    expect(existsSync(join(folder, "report.html"))).toBe(true);
    const page = await browser.newPage();
    const seen = watch(page);
    await page.goto(pathToFileURL(join(folder, "report.html")).href);
    await ready(page);
    expect(await page.locator("#drift p.dsi-scores").textContent()).toBe("DSI = (S_in − S_ood) / S_in per model. DSI, judge score: S = the judge's 0–1 grade of the answers.");
    const rows = await page.locator("#drift table.drift-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.children[1]!.textContent));
    expect(rows).toEqual(["same", "moved"]);
    const charts = page.locator("#drift > figure.chart");
    expect(await charts.count()).toBe(2);
    const change = JSON.parse((await charts.last().getAttribute("data-points"))!) as Array<{ points: Array<{ run: string; estimate: number }> }>;
    expect(change[0]!.points.map((point) => [point.run, point.estimate])).toEqual([
      ["same", expect.closeTo(0, 12)],
      ["moved", expect.closeTo(-0.5, 12)],
    ]);
    expect(seen.errors).toEqual([]);
    await page.close();
  }, 120_000);
});
