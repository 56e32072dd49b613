import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import type { Manifest } from "../../src/results/manifest.js";
import { comparePins, diffPins } from "../../src/results/pins.js";
import { run } from "../../src/runner/run.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// Reruns match: the real tiny model (stories260K, ../shared) at temperature 0 with a seed, run twice as two
// separate runs, gives the same responses and the same summary; the manifests pin the same settings, the
// model file's sha256 and the chat template llama.cpp applied among them.

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const ready = needs("llama") && existsSync(STORIES);

afterAll(() => disposeLocalModels());

/** A summary without what legitimately differs between two runs: ids, times and latencies. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !/^(run_id|created_at|updated_at|generated_at|latency_ms|mean_latency_ms|rss_mb)$/.test(key))
        .map(([key, inner]) => [key, stable(inner)]),
    );
  return value;
}

describe.skipIf(!ready)("reruns of a local model match", () => {
  it("two runs at temperature 0 with a seed give identical responses, summaries and pins", async () => {
    const dir = tempDir();
    const dataset = join(dir, "stories.jsonl");
    writeJsonl(dataset, [
      { id: "s1", prompt: "Once upon a time" },
      { id: "s2", prompt: "The little dog" },
      { id: "s3", prompt: "Lily and Ben" },
      { id: "s4", prompt: "One day, a bird" },
    ]);
    const config = (runId: string) => ({
      dataset,
      models: [`llamacpp:${STORIES}`],
      run_id: runId,
      output_dir: dir,
      concurrency: 2,
      scorers: ["response_stats"],
      generation: { max_tokens: 24, temperature: 0, seed: 42 },
      providers: { llamacpp: { threads: 1, gpu: false as const } },
    });
    const first = await run(config("first"), { env: {} });
    await disposeLocalModels(); // the second run loads the model again, as a new process would
    const second = await run(config("second"), { env: {} });
    expect(first.counts).toEqual({ ok: 4, error: 0 });
    expect(second.counts).toEqual({ ok: 4, error: 0 });

    const responses = (runId: string) =>
      readPartials(join(dir, runId))
        .map((row) => [row.test_id, row.raw_candidate, row.usage, row.finish_reason])
        .sort();
    expect(responses("second")).toEqual(responses("first"));
    expect(responses("first").every(([, text]) => typeof text === "string" && text.length > 0)).toBe(true);

    const summary = (runId: string) => stable(JSON.parse(readFileSync(join(dir, runId, "summary.json"), "utf8")));
    expect(summary("second")).toEqual(summary("first"));

    const manifest = (runId: string) => JSON.parse(readFileSync(join(dir, runId, "manifest.json"), "utf8")) as Manifest;
    const [a, b] = [manifest("first"), manifest("second")];
    expect(comparePins(a, b)).toEqual({ comparable: true, differences: [], unpinned: [] });
    const prefix = `model[llamacpp:${STORIES}]`;
    const pins = a.pins!;
    expect(pins[`${prefix}.file_sha256`]).toBe(createHash("sha256").update(readFileSync(STORIES)).digest("hex"));
    expect(pins[`${prefix}.chat_wrapper`]).toEqual(expect.any(String));
    // stories260K carries no chat template of its own: none is pinned, and the wrapper used instead is named.
    expect(pins[`${prefix}.gguf_chat_template_sha256`]).toBeNull();
    expect(pins).toMatchObject({
      [`${prefix}.temperature`]: 0,
      [`${prefix}.seed`]: 42,
      [`${prefix}.max_tokens`]: 24,
      [`${prefix}.sequences`]: 2,
      [`${prefix}.context_size`]: 2048,
      "config.concurrency": 2,
    });
    // Another batch setting is a difference the comparison lists.
    expect(diffPins(pins, { ...pins, [`${prefix}.sequences`]: 4 })).toEqual([{ key: `${prefix}.sequences`, a: 2, b: 4 }]);
  }, 120_000);
});
