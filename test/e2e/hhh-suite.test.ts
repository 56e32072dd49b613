import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/metrics/summary.js";
import { breakdownOf, groupOf } from "../../src/reports/metric-kind.js";
import { runCli } from "../helpers/cli.js";
import { alignedResponse, misalignedResponse, readHhhItems, type HhhItem } from "../helpers/hhh-items.js";
import { isJudgeRequest, isPreflightRequest, startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";

// The built-in hhh suite end to end against a mock target that is aligned on some categories and not on
// others, and a mock judge: the per-category and overall scores are counted here by hand from the items.

const items = readHhhItems();
const byPrompt = new Map(items.map((item) => [item.prompt, item]));

/** The mock target's character: safe and not over-refusing, helpful except at formatting, dishonest, fair only on ambiguous questions. */
const behavesWell = (item: HhhItem) =>
  item.category === "safety" || (item.category === "helpfulness" && item.subcategory !== "formatting") || (item.category === "fairness" && item.subcategory === "ambiguous");

/** The item a judge prompt is about: the one whose request it quotes. */
const judgedItem = (text: string) => items.find((item) => text.includes(`USER REQUEST: "${item.prompt}"`));

const summaryOf = (folder: string) => JSON.parse(readFileSync(join(folder, "summary.json"), "utf8")) as RunSummary;

describe("hhh suite end to end against a mock target and judge", () => {
  let mock: MockLlm;
  const judged: string[] = [];
  beforeAll(async () => {
    mock = await startMockLlm((request) => {
      if (isPreflightRequest(request)) return { reply: "OK" };
      if (isJudgeRequest(request)) {
        const item = judgedItem(request.text);
        if (!item) return { reply: "not a judge prompt I know" };
        judged.push(item.id);
        // This judge disagrees with the string checks on the borderline safety items only.
        return { reply: item.subcategory === "borderline" ? "No" : "Yes" };
      }
      const messages = request.body.messages as Array<{ role: string; content: string }>;
      const item = byPrompt.get(messages.at(-1)!.content);
      if (!item) return { status: 400, json: { error: { message: "unknown prompt" } } };
      return { reply: behavesWell(item) ? alignedResponse(item) : misalignedResponse(item) };
    });
  });
  afterAll(() => mock.close());

  const count = (filter: (item: HhhItem) => boolean) => items.filter(filter).length;

  it("the items this test counts on: 28 safety, 28 helpfulness (6 formatting), 27 honesty, 29 fairness (10 ambiguous), 13 borderline", () => {
    expect([
      count((item) => item.category === "safety"),
      count((item) => item.category === "helpfulness"),
      count((item) => item.category === "honesty"),
      count((item) => item.category === "fairness"),
    ]).toEqual([28, 28, 27, 29]);
    expect([count((item) => item.subcategory === "formatting"), count((item) => item.subcategory === "ambiguous"), count((item) => item.subcategory === "borderline")]).toEqual([6, 10, 13]);
  });

  it("without a judge: the string checks alone, per category and overall, with Wilson intervals", async () => {
    const dir = tempDir();
    const result = await runCli(["run", "--suite", "hhh", "--models", "mock-target", "--base-url", mock.url, "--output-dir", dir, "--run-id", "plain"]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readPartials(join(dir, "plain"));
    expect(rows).toHaveLength(112);
    for (const row of rows) {
      const item = items.find((entry) => entry.id === row.test_id)!;
      expect(row.category).toBe(item.category);
      expect(row.scores!.hhh_expectation, row.test_id).toMatchObject({ value: behavesWell(item) ? 1 : 0, metrics: { judge: null } });
    }
    const summary = summaryOf(join(dir, "plain"));
    // By hand: safety 28/28, helpfulness 28 − 6 formatting = 22/28, honesty 0/27, fairness 10 ambiguous/29; overall 60/112.
    const expected: Record<string, [number, number]> = { safety: [28, 28], helpfulness: [22, 28], honesty: [0, 27], fairness: [10, 29] };
    const categories = breakdownOf(summary, "category", "model")!;
    for (const [category, [aligned, n]] of Object.entries(expected)) {
      const group = groupOf(categories, { category, model: "mock-target" })!;
      expect(group.scores.hhh_expectation!.aligned, category).toMatchObject({ estimate: aligned / n, n });
      const headline = summary.headlines.find((entry) => entry.name === `aligned: ${category}`)!;
      expect(headline, category).toMatchObject({ model: "mock-target", estimate: aligned / n, n, higher_is: "better" });
    }
    const overall = summary.headlines.find((entry) => entry.name === "aligned: overall")!;
    expect(overall).toMatchObject({ estimate: 60 / 112, n: 112 });
    // Wilson 95% bounds, computed independently in Python from the textbook formula (z = 1.959963984540054):
    // 60/112 → (0.44370351423722987, 0.6253563895437027); 22/28 → (0.6046141434627812, 0.8978753966710211).
    expect(overall.ci95![0]).toBeCloseTo(0.44370351423722987, 12);
    expect(overall.ci95![1]).toBeCloseTo(0.6253563895437027, 12);
    const helpfulness = summary.headlines.find((entry) => entry.name === "aligned: helpfulness")!;
    expect(helpfulness.ci95![0]).toBeCloseTo(0.6046141434627812, 12);
    expect(helpfulness.ci95![1]).toBeCloseTo(0.8978753966710211, 12);
    expect(result.stdout).toMatch(/aligned: honesty +mock-target +27 +0\.0%/);
  });

  it("with a judge: aligned needs the checks and the judge; both kept as their own metrics", async () => {
    const dir = tempDir();
    judged.length = 0;
    const result = await runCli(["run", "--suite", "hhh", "--models", "mock-target", "--judge-model", "mock-judge", "--base-url", mock.url, "--output-dir", dir, "--run-id", "judged"]);
    expect(result.code, result.stderr).toBe(0);
    // One judge call per item, each quoting its own request.
    expect(judged.sort()).toEqual(items.map((item) => item.id).sort());
    const summary = summaryOf(join(dir, "judged"));
    const safety = groupOf(breakdownOf(summary, "category", "model"), { category: "safety", model: "mock-target" })!.scores.hhh_expectation!;
    // Safety by hand: the 15 harmful items pass both; the judge says no on the 13 borderline ones, whose checks pass.
    expect(safety.aligned).toMatchObject({ estimate: 15 / 28, n: 28 });
    expect(safety.checks).toMatchObject({ estimate: 1, n: 28 });
    expect(safety.judge).toMatchObject({ estimate: 15 / 28, n: 28 });
    // Overall: 60 − 13 = 47 of 112; Wilson (0.33240040119345726, 0.5122148152994445) computed as above.
    const overall = summary.headlines.find((entry) => entry.name === "aligned: overall")!;
    expect(overall).toMatchObject({ estimate: 47 / 112, n: 112 });
    expect(overall.ci95![0]).toBeCloseTo(0.33240040119345726, 12);
    expect(overall.ci95![1]).toBeCloseTo(0.5122148152994445, 12);
    const rows = readPartials(join(dir, "judged"));
    const borderline = rows.find((row) => row.test_id === "hhh-safety-16")!;
    expect(borderline.scores!.hhh_expectation).toMatchObject({ value: 0, label: "not aligned: the judge found the expected behaviour missing", raw: "No", metrics: { checks: 1, judge: 0 } });
  });
});
