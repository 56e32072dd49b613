import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/run-folder.js";

// `alignbench drift` on bad input: one clear line naming the flag or the file, line and field; exit 2; no
// stack trace; no run folder.

describe("alignbench drift: bad input", () => {
  it("missing flags, bad paths, empty text sets and a bad AlignBench config each give one clear line and exit 2", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "base.gguf"), "");
    writeFileSync(join(dir, "ft.gguf"), "");
    writeFileSync(join(dir, "in.jsonl"), '{"text":"a text"}\n');
    writeFileSync(join(dir, "empty.jsonl"), "");
    writeFileSync(join(dir, "config.yaml"), ["model:", "  base_model: ./base.gguf", "  finetuned_model: ./ft.gguf", "datasets:", "  in_domain: in.jsonl", ""].join("\n"));
    const models = ["--base", join(dir, "base.gguf"), "--finetuned", join(dir, "ft.gguf")];
    const texts = ["drift", ...models, "--in-domain", join(dir, "in.jsonl"), "--ood", join(dir, "in.jsonl")];
    writeFileSync(join(dir, "items.json"), JSON.stringify([{ question: "q?", mc1_targets: { a: 1, b: 0 } }]));
    const cases: Array<[string[], RegExp]> = [
      [["drift"], /^alignbench: give the fine-tuned model\(s\): --finetuned/],
      [["drift", "--finetuned", join(dir, "ft.gguf")], /^alignbench: give the base model: --base M/],
      [["drift", ...models, "--in-domain", join(dir, "in.jsonl")], /^alignbench: give the out-of-domain texts: --ood FILE/],
      [["drift", "--base", join(dir, "nope.gguf"), "--finetuned", join(dir, "ft.gguf")], /^alignbench: --base: no such file or folder .*nope\.gguf/],
      [["drift", ...models, "--in-domain", join(dir, "in.jsonl"), "--ood", join(dir, "empty.jsonl")], /^alignbench: --ood: .*empty\.jsonl is empty/],
      [
        ["drift", "--config", join(dir, "config.yaml")],
        /^alignbench: .*config\.yaml:5: datasets\.in_domain: unknown key \(AlignBench's datasets block has in_domain_dataset, ood_dataset, probe_dataset, task_in_domain_dataset, task_ood_dataset, in_domain_prompts, ood_prompts\)/,
      ],
      [["drift", "--config", join(dir, "missing.yaml")], /^alignbench: .*missing\.yaml/],
      // The DSI's alternatives (--task, prompt sets with a judge).
      [[...texts, "--task", "nope"], /^alignbench: --task nope: unknown suite "nope"/],
      [[...texts, "--task", "xstest"], /^alignbench: --task xstest: the suite is not scored by log-likelihood \(scorers: xstest_classifier, xstest_string_match\)/],
      [[...texts, "--task", "truthfulqa-mc1"], /^alignbench: --task truthfulqa-mc1: give --task-in-domain FILE and --task-ood FILE .*or --task-split FIELD=VALUE/],
      [[...texts, "--task", "truthfulqa-mc1", "--task-in-domain", join(dir, "in.jsonl")], /one file alone is not a comparison/],
      [[...texts, "--task", "truthfulqa-mc1", "--task-in-domain", join(dir, "no.json"), "--task-ood", join(dir, "items.json")], /^alignbench: --task-in-domain: no such file .*no\.json/],
      [[...texts, "--task", "truthfulqa-mc1", "--task-in-domain", join(dir, "items.json"), "--task-ood", join(dir, "empty.jsonl")], /^alignbench: --task-ood: .*empty\.jsonl is empty/],
      [[...texts, "--task", "bbq", "--task-split", "category=Age"], /^alignbench: --task bbq: the suite has no dataset of its own to split: give it with --task-data FILE/],
      [[...texts, "--task-split", "category=Age"], /^alignbench: --task-split: name the task too: --task SUITE/],
      [[...texts, "--in-domain-prompts", join(dir, "in.jsonl"), "--ood-prompts", join(dir, "in.jsonl")], /^alignbench: the judge-score DSI .* needs a judge model: pass --judge-model M/],
      [[...texts, "--in-domain-prompts", join(dir, "in.jsonl"), "--judge-model", "j"], /give both --in-domain-prompts FILE and --ood-prompts FILE/],
      [[...texts, "--in-domain-prompts", join(dir, "in.jsonl"), "--ood-prompts", join(dir, "empty.jsonl"), "--judge-model", "j"], /^alignbench: --ood-prompts: .*empty\.jsonl is empty/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli([...args, "--output-dir", dir, "--no-progress"]);
      expect(result.code, `${args.join(" ")}\n${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
  }, 120_000);

  it("refuses a task on models without log-likelihoods before the first item, and a split with an empty side, naming each", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "in.jsonl"), '{"text":"a text"}\n');
    writeFileSync(join(dir, "items.json"), JSON.stringify([{ question: "q?", mc1_targets: { a: 1, b: 0 } }]));
    const args = ["drift", "--base", "anthropic:claude-base", "--finetuned", "anthropic:claude-ft", "--in-domain", join(dir, "in.jsonl"), "--ood", join(dir, "in.jsonl")];
    const task = ["--task", "truthfulqa-mc1", "--task-in-domain", join(dir, "items.json"), "--task-ood", join(dir, "items.json")];
    // No preflight: the plan's check is what refuses (nothing is sent to the API).
    const result = await runCli([...args, ...task, "--output-dir", dir, "--no-progress", "--no-preflight"], { env: { ANTHROPIC_API_KEY: "not-used" } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^alignbench: --task truthfulqa-mc1: model "anthropic:claude-ft" \(provider anthropic\) cannot score log-likelihoods/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    // A split that leaves one side empty is named by its side and its rule.
    writeFileSync(join(dir, "items.json"), JSON.stringify([{ question: "q?", mc1_targets: { a: 1, b: 0 }, category: "health" }]));
    const split = ["--task", "truthfulqa-mc1", "--task-data", join(dir, "items.json"), "--task-split", "category=law"];
    const empty = await runCli([...args, ...split, "--output-dir", dir, "--no-progress", "--no-preflight"], { env: { ANTHROPIC_API_KEY: "not-used" } });
    expect(empty.code, empty.stderr).toBe(2);
    expect(empty.stderr).toMatch(
      /items\.json: has no test cases: record format drift_task_split:in:category=law gave no rows \(the in-domain side of --task-split category=law: rows whose category is law\)/,
    );
  }, 60_000);
});
