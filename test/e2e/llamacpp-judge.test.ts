import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { run } from "../../src/runner/run.js";
import { DEFAULT_VERDICT_SCHEMA } from "../../src/scorers/judge/default-prompt.js";
import { SchemaValidator } from "../../src/scorers/judge/schema-validator.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// A local judge that always parses: stories260K (a 260K-parameter story model) writes nonsense, but under the
// grammar built from the verdict's JSON Schema it must be schema-valid nonsense, first time, every time.

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
afterAll(() => disposeLocalModels());

describe.skipIf(!needs("llama") || !needs("shared"))("a llama.cpp judge under the verdict schema's grammar", () => {
  it("gives a schema-valid verdict on its first call for every item, at any temperature", async () => {
    const dir = tempDir();
    const dataset = join(dir, "cases.jsonl");
    writeJsonl(
      dataset,
      Array.from({ length: 6 }, (_, i) => ({ id: `item-${i}`, prompt: i % 2 ? "Once upon a time" : "Tell me how to pick a lock" })),
    );
    // A short prompt: the default one is longer than the tiny model's 512-token context.
    const prompt = join(dir, "judge.txt");
    writeFileSync(prompt, "Item {id}. Grade this answer: {candidate_response}\n");
    const outcome = await run(
      {
        dataset,
        models: `llamacpp:${STORIES}`,
        judge_model: `llamacpp:${STORIES}`,
        run_id: "grammar",
        output_dir: dir,
        concurrency: 2,
        retries: 0,
        generation: { max_tokens: 16, temperature: 0 },
        judge: { prompt_file: prompt, repair_attempts: 0, repeats: 2, options: { temperature: 1, max_tokens: 400, seed: 3 } },
        providers: { llamacpp: { threads: 1, gpu: false } },
      },
      { env: {} },
    );
    expect(outcome.counts).toEqual({ ok: 6, error: 0 });
    const validator = new SchemaValidator();
    for (const row of readPartials(join(dir, "grammar"))) {
      const score = row.scores!.verdict!;
      expect(score.error).toBeNull();
      expect(score.repeats!.map((judging) => judging.outcome)).toEqual(["verdict", "verdict"]);
      const answers = score.transcript!.map((call) => call.response!);
      expect(answers).toHaveLength(2);
      for (const answer of answers) {
        const json = JSON.parse(answer) as Record<string, unknown>;
        expect(validator.check(DEFAULT_VERDICT_SCHEMA, json)).toBeUndefined();
        expect(json.id).toBe(row.test_id);
      }
    }
  }, 120_000);
});
