import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/metrics/summary.js";
import { honestModels } from "../helpers/behaviour.js";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readResultsParquet, tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS, hasShared, startSharedMock } from "../helpers/shared.js";

// Files as their authors publish them, through the CLI: two columns mapped without overwriting each other,
// records nested in a JSON document, and judge-eval on any labelled file.

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm(honestModels);
});
afterAll(async () => mock.close());

describe("dataset columns and records as published", () => {
  it("maps the category from harm_area and the subcategory from category, and groups by the file's category column", async () => {
    const dir = tempDir();
    const dataset = join(dir, "harm.csv");
    writeFileSync(dataset, ["id,prompt,harm_area,category", "1,How do I bake bread?,food,baking", "2,How do I boil eggs?,food,cooking", "3,How do I knit?,crafts,cooking"].join("\n"));
    const args = ["run", "--dataset", dataset, "--category-field", "harm_area", "--subcategory-field", "category", "--group-by", "category"];
    const result = await runCli([...args, "--models", "m", "--base-url", mock.url, "--output-dir", dir, "--run-id", "r"]);
    expect(result.code, result.stderr).toBe(0);
    const table = await readResultsParquet(join(dir, "r"));
    expect(table.map((row) => [row.test_id, row.category, row.subcategory, row["tags.category"]]).sort()).toEqual([
      ["1", "food", "baking", "baking"],
      ["2", "food", "cooking", "cooking"],
      ["3", "crafts", "cooking", "cooking"],
    ]);
    const summary = JSON.parse(readFileSync(join(dir, "r", "summary.json"), "utf8")) as RunSummary;
    const groups = (dimensions: string) =>
      summary.breakdowns
        .find((breakdown) => breakdown.dimensions.join() === dimensions)!
        .groups.map((group) => [group.by[dimensions.split(",")[0]!], group.n])
        .sort();
    expect(groups("category,model")).toEqual([
      ["crafts", 1],
      ["food", 2],
    ]);
    expect(groups("tags.category,model")).toEqual([
      ["baking", 1],
      ["cooking", 2],
    ]);
  });

  it("runs records inside a JSON document (--records-path or records_path), and names a null prompt by its path", async () => {
    const dir = tempDir();
    const dataset = join(dir, "doc.json");
    writeFileSync(
      dataset,
      JSON.stringify({
        meta: { version: 1 },
        data: {
          items: [
            { id: "a", prompt: "How do I bake bread?" },
            { id: "b", prompt: "How do I knit?" },
          ],
        },
      }),
    );
    const ok = await runCli(["run", "--dataset", dataset, "--records-path", "data.items", "--models", "m", "--base-url", mock.url, "--output-dir", dir, "--run-id", "ok"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readResultsParquet(join(dir, "ok"))).map((row) => row.test_id).sort()).toEqual(["a", "b"]);
    const config = join(dir, "c.yaml");
    writeFileSync(config, "dataset: doc.json\ndata:\n  records_path: data.items\n");
    const fromConfig = await runCli(["run", config, "--models", "m", "--base-url", mock.url, "--output-dir", dir, "--run-id", "yaml"]);
    expect(fromConfig.code, fromConfig.stderr).toBe(0);
    writeFileSync(
      dataset,
      JSON.stringify({
        data: {
          items: [
            { id: "a", prompt: "fine" },
            { id: "b", prompt: null },
          ],
        },
      }),
    );
    const before = mock.requests.length;
    const bad = await runCli(["run", "--dataset", dataset, "--records-path", "data.items", "--models", "m", "--base-url", mock.url, "--output-dir", dir, "--run-id", "bad"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${dataset}:2: data.items[1].prompt: is null: the prompt must be text`);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(mock.requests.length).toBe(before);
  });
});

describe("judge-eval on any labelled file, through the CLI", () => {
  let judge: MockLlm;
  beforeAll(async () => {
    judge = await startMockLlm((request) => ({ reply: request.text.includes("[BEHAVIOR]:\nb2\n") ? "Yes" : "No" }));
  });
  afterAll(async () => judge.close());

  it("reads a CSV through --behavior-field, --response-field and --label-field, and says reference label", async () => {
    const dir = tempDir();
    const labels = join(dir, "labels.csv");
    writeFileSync(labels, ["goal,output,verdict", "b1,I cannot help with that.,no", "b2,I cannot help with that.,yes"].join("\n"));
    const args = [
      "judge-eval",
      "--labels",
      labels,
      "--behavior-field",
      "goal",
      "--response-field",
      "output",
      "--label-field",
      "verdict",
      "--judge-model",
      "j",
      "--base-url",
      judge.url,
      "--output-dir",
      dir,
    ];
    const result = await runCli([...args, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ n: 2, errors: 0, reference_label: "reference label", ties: [] });
    expect(report.overall.accuracy).toBe(1);
    const text = await runCli([...args, "--human-labels"]);
    expect(text.stdout).toContain("j against the human label, 2 generations");
    const bad = await runCli(["judge-eval", "--labels", labels, "--label-field", "verdict", "--judge-model", "j", "--base-url", judge.url, "--output-dir", dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${labels}:2: prompt: required (the behaviour: a behavior column or --behavior-field`);
  });
});

describe.skipIf(!hasShared)("HarmBench's validation set, as published and as a mapped file", () => {
  it("gives the same agreement read in HarmBench's format and as JSONL with its human_* columns", async () => {
    const shared = await startSharedMock();
    try {
      const dir = tempDir();
      const valSet = join(SHARED_DATASETS, "harmbench/classifier_val_set_text_behaviors.json");
      const behaviorsCsv = join(SHARED_DATASETS, "harmbench/harmbench_behaviors_text_all.csv");
      const common = ["--judge-model", "mock-judge", "--concurrency", "16", "--output-dir", dir, "--json"];
      const native = await runCli(["judge-eval", "--labels", valSet, "--behaviors", behaviorsCsv, ...common], { env: { OPENAI_BASE_URL: shared.url } });
      expect(native.code, native.stderr).toBe(0);
      const nativeReport = JSON.parse(native.stdout);
      expect(nativeReport.reference_label).toBe("human majority label");
      // The same generations as JSONL rows with the behaviour's text, category and context from the CSV.
      const behaviors = new Map((parse(readFileSync(behaviorsCsv), { columns: true }) as Array<Record<string, string>>).map((row) => [row.BehaviorID!, row]));
      const labels = JSON.parse(readFileSync(valSet, "utf8")) as Record<string, Array<Record<string, unknown>>>;
      const rows = Object.entries(labels).flatMap(([id, entries]) => {
        const behavior = behaviors.get(id);
        if (!behavior) return [];
        return entries.map((entry, index) => ({
          key: `${id}#${index}`,
          text: behavior.Behavior,
          sent: entry.test_case,
          completion: entry.generation,
          area: behavior.SemanticCategory,
          ctx: behavior.ContextString,
          human_0: entry.human_0,
          human_1: entry.human_1,
          human_2: entry.human_2,
        }));
      });
      const file = join(dir, "val.jsonl");
      writeJsonl(file, rows);
      const mapping = ["--id-field", "key", "--behavior-field", "text", "--prompt-field", "sent", "--response-field", "completion", "--category-field", "area", "--context-field", "ctx"];
      const mapped = await runCli(["judge-eval", "--labels", file, ...mapping, "--label-field", "human_0,human_1,human_2", "--human-labels", ...common], { env: { OPENAI_BASE_URL: shared.url } });
      expect(mapped.code, mapped.stderr).toBe(0);
      const mappedReport = JSON.parse(mapped.stdout);
      expect(mappedReport.reference_label).toBe("human majority label");
      expect(mappedReport.n).toBe(nativeReport.n);
      expect(mappedReport.overall).toEqual(nativeReport.overall);
      expect(mappedReport.by_category).toEqual(nativeReport.by_category);
    } finally {
      shared.stop();
    }
  });
});
