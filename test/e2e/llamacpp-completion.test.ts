import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ModelRegistry } from "../../src/providers/registry.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { run } from "../../src/runner/run.js";
import type { LanguageModel } from "../../src/providers/types.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";
import { writeFileSync } from "node:fs";

// A local GGUF model continuing text with no chat template, as RealToxicityPrompts' authors continued text
// with GPT-2: the model's BOS token, the prompt's tokens, then sampling. Checked against the model's own
// next-token distributions, so a chat template (or any text added around the prompt) would fail it.

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const ready = needs("llama", "shared");

afterAll(() => disposeLocalModels());

function stories(sequences = 1): LanguageModel {
  return new ModelRegistry({ env: {}, concurrency: sequences, providers: { llamacpp: { threads: 1, gpu: false, sequences } } }).resolve(`llamacpp:${STORIES}`).model;
}

const PROMPT = "Once upon a time, there was a little girl named Lily. She";

describe.skipIf(!ready)("plain completion on a local GGUF model (stories260K)", () => {
  it("greedy continuation is, token by token, the most likely next token after BOS + the prompt's own tokens", async () => {
    const model = stories();
    const answer = await model.complete!({ prompt: PROMPT, options: { temperature: 0, max_tokens: 12 }, timeoutMs: 60_000 });
    expect(answer.text.length).toBeGreaterThan(0);
    expect(answer.usage.output_tokens).toBe(12);
    expect(answer.finishReason).toBe("length");
    const prompt = await model.tokenize!(PROMPT);
    const [dense] = await model.tokenLogprobs!([PROMPT + answer.text]);
    const { tokens, logprobs, vocabSize } = dense!;
    // The text re-reads as BOS + the prompt's tokens + the 12 generated ones; each generated one is the argmax
    // after exactly that context (a chat template around the prompt would have conditioned it on other tokens).
    expect(Array.from(tokens.slice(1, prompt.ids.length + 1))).toEqual(Array.from(prompt.ids));
    expect(tokens.length).toBe(prompt.ids.length + 1 + 12);
    for (let position = prompt.ids.length; position + 1 < tokens.length; position++) {
      const row = logprobs.subarray(position * vocabSize, (position + 1) * vocabSize);
      let best = 0;
      for (let token = 1; token < vocabSize; token++) if (row[token]! > row[best]!) best = token;
      expect(best, `position ${position}`).toBe(tokens[position + 1]);
    }
  });

  it("samples with top_p and temperature as given: a seed repeats, a tiny nucleus is greedy, 20 tokens at most", async () => {
    const model = stories();
    const greedy = await model.complete!({ prompt: PROMPT, options: { temperature: 0, max_tokens: 20 }, timeoutMs: 60_000 });
    const sample = (seed: number, top_p = 0.9) => model.complete!({ prompt: PROMPT, options: { temperature: 1, top_p, max_tokens: 20, seed }, timeoutMs: 60_000 });
    const [a, b, c] = [await sample(11), await sample(11), await sample(12)];
    expect(a.text).toBe(b.text);
    for (const answer of [a, b, c]) expect(answer.usage.output_tokens).toBeLessThanOrEqual(20);
    // Nucleus sampling at top_p 1e-6 keeps only the most likely token: the greedy continuation, whatever the seed.
    expect((await sample(13, 1e-6)).text).toBe(greedy.text);
    expect((await sample(14, 1e-6)).text).toBe(greedy.text);
    // At top_p 0.9 and temperature 1, 25 samples are not all the greedy text (the sampler really samples).
    const texts = await Promise.all(Array.from({ length: 8 }, (_, seed) => sample(100 + seed)));
    expect(new Set(texts.map((answer) => answer.text)).size).toBeGreaterThan(1);
  });

  it("runs the completion plan end to end: 25 samples of each prompt, options recorded on every row", async () => {
    const dir = tempDir();
    const dataset = join(dir, "rtp_local.txt");
    writeFileSync(dataset, "The little dog\nLily and Ben went to the\n");
    const outcome = await run(
      {
        dataset,
        models: `llamacpp:${STORIES}`,
        plan: "completion",
        epochs: 25,
        generation: { temperature: 1, top_p: 0.9, max_tokens: 20 },
        scorers: ["response_stats"],
        concurrency: 4,
        run_id: "local-rtp",
        output_dir: dir,
        providers: { llamacpp: { threads: 1, gpu: false } },
      },
      { env: {} },
    );
    expect(outcome.counts).toEqual({ ok: 50, error: 0 });
    const rows = readPartials(join(dir, "local-rtp"));
    expect(rows).toHaveLength(50);
    for (const row of rows) {
      expect(row.generation).toEqual({ temperature: 1, top_p: 0.9, max_tokens: 20 });
      expect(row.usage!.output_tokens).toBeGreaterThan(0);
      expect(row.usage!.output_tokens).toBeLessThanOrEqual(20);
    }
  });
});
