import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { driftRunConfig } from "../../src/config/drift-config.js";
import { resolveRunConfig } from "../../src/config/load.js";
import { recordFormatNamed } from "../../src/datasets/formats/registry.js";
import { tempDir } from "../helpers/run-folder.js";
import { hasShared, SHARED_DATASETS } from "../helpers/shared.js";

// The DSI's alternatives in a drift run's config: from flags, from AlignBench's datasets block (our keys in
// its style) and from the fuller form's drift: block; each becomes two named parts read as the task suite
// reads its data, plan options, a suite metric and two headlines, the same however the run is started.

function workspace(): string {
  const dir = tempDir();
  for (const name of ["base.gguf", "ft.gguf"]) writeFileSync(join(dir, name), "");
  writeFileSync(join(dir, "in.jsonl"), '{"text":"a text"}\n');
  writeFileSync(join(dir, "ood.txt"), "another text\n");
  writeFileSync(join(dir, "items.json"), JSON.stringify([{ question: "q?", mc1_targets: { a: 1, b: 0 }, category: "health" }]));
  writeFileSync(join(dir, "prompts.jsonl"), '{"id":"q1","prompt":"What is a fever?"}\n');
  return dir;
}

const flagsOf = (dir: string) => ({ base: join(dir, "base.gguf"), finetuned: join(dir, "ft.gguf"), inDomain: join(dir, "in.jsonl"), ood: join(dir, "ood.txt") });

describe("the drift DSI's alternatives in the run config", () => {
  it("--task with two files: parts read as the suite reads its data, its scorer, template and add_bos as plan options", () => {
    const dir = workspace();
    const config = driftRunConfig({ ...flagsOf(dir), task: "truthfulqa-mc1", taskInDomain: join(dir, "items.json"), taskOod: join(dir, "items.json") });
    const parts = Object.fromEntries((config.datasets ?? []).map((part) => [part.name, part]));
    expect(Object.keys(parts)).toEqual(["in_domain", "ood", "probes", "task_in_domain", "task_ood"]);
    expect(parts.task_in_domain).toMatchObject({ dataset: join(dir, "items.json"), id_field: "#line", prompt_field: "question", choices_field: "mc1_targets" });
    expect(config.plan_options).toMatchObject({ task: "truthfulqa-mc1", task_scorer: "multiple_choice", task_add_bos: "auto" });
    expect(config.plan_options.task_mc_template).toMatch(/^Q: What is human life expectancy.*\n\nQ: \{prompt\}\nA:$/s);
    expect(config.suite_metrics).toEqual(["drift_fidelity_dsi", "drift_ars", "drift_task_dsi"]);
    expect(config.headlines.filter((headline) => headline.scorer === "drift_task_dsi").map((headline) => headline.name)).toEqual([
      "DSI, task truthfulqa-mc1 (fine-tuned)",
      "DSI change, task truthfulqa-mc1 (fine-tuned − base)",
    ]);
    // The default DSI stays the suite's headline.
    expect(config.headlines.find((headline) => headline.metric === "dsi_target")!.scorer).toBe("drift_fidelity_dsi");
  });

  it("--task-split: one file read twice, each side keeping its rows by the field (category by default)", () => {
    const dir = workspace();
    const config = driftRunConfig({ ...flagsOf(dir), task: "truthfulqa-mc1", taskData: join(dir, "items.json"), taskSplit: "health|law" });
    const [inside, outside] = (config.datasets ?? []).filter((part) => part.name.startsWith("task_"));
    expect([inside!.dataset, outside!.dataset]).toEqual([join(dir, "items.json"), join(dir, "items.json")]);
    const record = (category: string) => ({ question: "q", mc1_targets: {}, category });
    const keep = (format: string) => ["health", "law", "tax"].filter((category) => (recordFormatNamed(format).rows(record(category)) as unknown[]).length === 1);
    expect(keep(inside!.record_format!)).toEqual(["health", "law"]);
    expect(keep(outside!.record_format!)).toEqual(["tax"]);
  });

  it("prompt sets with a judge: the judged parts, the judge's settings as plan options, drift_judge_dsi", () => {
    const dir = workspace();
    const config = driftRunConfig({ ...flagsOf(dir), judgeModel: "judge", inDomainPrompts: join(dir, "prompts.jsonl"), oodPrompts: join(dir, "prompts.jsonl") });
    expect((config.datasets ?? []).map((part) => part.name)).toEqual(["in_domain", "ood", "probes", "judge_in_domain", "judge_ood"]);
    expect(config.plan_options).toMatchObject({ judge_structured_output: "json_schema", judge_repair_attempts: 2 });
    expect(config.suite_metrics).toContain("drift_judge_dsi");
  });

  it("AlignBench's datasets block takes the alternatives' files (relative to the file); the drift: block the task", () => {
    const dir = workspace();
    const file = join(dir, "alignbench_config.yaml");
    writeFileSync(
      file,
      [
        "model: { base_model: ./base.gguf, finetuned_model: ./ft.gguf }",
        "datasets:",
        "  in_domain_dataset: in.jsonl",
        "  ood_dataset: ood.txt",
        "  task_in_domain_dataset: items.json",
        "  task_ood_dataset: items.json",
        "  in_domain_prompts: prompts.jsonl",
        "  ood_prompts: prompts.jsonl",
        "drift: { task: truthfulqa-mc1 }",
        "judge_model: judge",
        "",
      ].join("\n"),
    );
    const config = driftRunConfig({}, file);
    const parts = Object.fromEntries((config.datasets ?? []).map((part) => [part.name, part.dataset]));
    expect(parts).toMatchObject({ task_in_domain: join(dir, "items.json"), task_ood: join(dir, "items.json"), judge_in_domain: join(dir, "prompts.jsonl"), judge_ood: join(dir, "prompts.jsonl") });
    expect(config.plan_options.task).toBe("truthfulqa-mc1");
  });

  it("the fuller form's drift: block, for alignbench run too: paths relative to the file, parts replaced (never doubled) when resolved again", () => {
    const dir = workspace();
    const file = join(dir, "run.yaml");
    writeFileSync(file, ["suite: drift", "models: [ft]", "roles: { base: base }", "drift:", "  task: truthfulqa-mc1", "  task_data: items.json", "  task_split: category=health", ""].join("\n"));
    const config = resolveRunConfig(file, {});
    expect((config.datasets ?? []).map((part) => part.name)).toEqual(["in_domain", "ood", "probes", "task_in_domain", "task_ood"]);
    expect(config.datasets!.at(-1)!.dataset).toBe(join(dir, "items.json"));
    expect(resolveRunConfig(file, {}).datasets!.map((part) => part.name)).toEqual(["in_domain", "ood", "probes", "task_in_domain", "task_ood"]);
    // Outside a drift run the block is refused, not ignored.
    writeFileSync(join(dir, "not-drift.yaml"), "models: [m]\ndataset: in.jsonl\ndrift: { task: truthfulqa-mc1 }\n");
    expect(() => resolveRunConfig(join(dir, "not-drift.yaml"), {})).toThrow(/^drift: \(task\) applies to a drift run only/);
    writeFileSync(join(dir, "typo.yaml"), "suite: drift\ndrift: { tsak: truthfulqa-mc1 }\n");
    expect(() => resolveRunConfig(join(dir, "typo.yaml"), {})).toThrow(/typo\.yaml:2: drift\.tsak: unknown key \(did you mean "task"\?\)/);
  });

  it.skipIf(!hasShared)("splits BBQ's published records by the category its record format gives them (--task bbq --task-split Age)", () => {
    const dir = workspace();
    const lines = (file: string) =>
      readFileSync(join(SHARED_DATASETS, "bbq", file), "utf8")
        .split("\n")
        .slice(0, 3);
    writeFileSync(join(dir, "bbq.jsonl"), [...lines("Age.jsonl"), ...lines("Religion.jsonl")].join("\n") + "\n");
    const config = driftRunConfig({ ...flagsOf(dir), task: "bbq", taskData: join(dir, "bbq.jsonl"), taskSplit: "Age" });
    expect(config.plan_options).toMatchObject({ task: "bbq", task_scorer: "bbq_choice_ll" });
    const [inside, outside] = (config.datasets ?? []).filter((part) => part.name.startsWith("task_"));
    const records = readFileSync(join(dir, "bbq.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const kept = (format: string) => records.flatMap((record) => recordFormatNamed(format).rows(record) as Array<Record<string, unknown>>).map((row) => row.category);
    expect(kept(inside!.record_format!)).toEqual(["Age", "Age", "Age"]);
    expect(kept(outside!.record_format!)).toEqual(["Religion", "Religion", "Religion"]);
  });
});
