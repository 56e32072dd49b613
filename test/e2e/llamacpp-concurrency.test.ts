import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// Log-likelihoods must not depend on how many items run at once. node-llama-cpp's default batching mixed
// several sequences' prompts in one llama.cpp batch, which returned wrong logits for some of them (hundreds of
// nats off for a few TruthfulQA choices at --concurrency 8, a different set each run); alignbench batches
// multi-token evaluations one sequence at a time (llamacpp-batching.ts). The runs use truthfulqa-mc2 with
// the short "Q: …\nA:" context it had before the 6-shot one: 8 sequences of ≈ 20–60 tokens each fill shared
// batches with pieces of several sequences, which is what went wrong (5 to 11 of 60 items, before the fix).

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const DATASET = join(SHARED_DATASETS, "truthfulqa/mc_task.json");
// Float32 rounding of a different batch split (a long text over several batches) moves a sum by ≈ 1e-6.
const TOLERANCE = 1e-4;
const ITEMS = 60;

describe.skipIf(!needs("llama", "shared"))("multiple-choice log-likelihoods on a local model (stories260K)", () => {
  it("agree item by item at --concurrency 1 and --concurrency 8", async () => {
    const dir = tempDir();
    const suite = join(dir, "short-context.yaml");
    writeFileSync(suite, 'include: truthfulqa-mc2\nmc_template: "Q: {prompt}\\nA:"\n');
    const runOnce = async (concurrency: number) => {
      const runId = `c${concurrency}`;
      const args = ["run", "--suite", suite, "--dataset", DATASET, "--limit", String(ITEMS), "--models", `llamacpp:${STORIES}`];
      const result = await runCli([...args, "--concurrency", String(concurrency), "--output-dir", dir, "--run-id", runId, "--no-progress"]);
      expect(result.code, result.stderr).toBe(0);
      const rows = readPartials(join(dir, runId));
      expect(rows).toHaveLength(ITEMS);
      const manifest = JSON.parse(readFileSync(join(dir, runId, "manifest.json"), "utf8")) as { config: { add_bos: unknown; concurrency: number } };
      expect(manifest.config).toMatchObject({ add_bos: "auto", concurrency });
      return new Map(
        rows.map((row) => {
          const raw = JSON.parse(row.scores!.multiple_choice_mass!.raw!) as { loglikelihoods: number[]; bos: boolean };
          // stories260K's vocabulary (Llama SPM) adds a beginning-of-sequence token: auto keeps it.
          expect(raw.bos).toBe(true);
          return [row.test_id, raw.loglikelihoods];
        }),
      );
    };
    const one = await runOnce(1);
    const eight = await runOnce(8);
    let largest = 0;
    for (const [id, values] of one) {
      const other = eight.get(id)!;
      expect(other, id).toHaveLength(values.length);
      values.forEach((value, index) => (largest = Math.max(largest, Math.abs(value - other[index]!))));
    }
    expect(largest).toBeLessThanOrEqual(TOLERANCE);
  }, 300_000);
});
