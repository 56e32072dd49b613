import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheable } from "../../src/runner/cached-model.js";
import { ResponseCache } from "../../src/runner/response-cache.js";
import { run } from "../../src/runner/run.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, judgedId, startMockLlm, verdict, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";

// The response cache against a loopback mock that counts its requests: a rerun with a new judge and scorer
// asks the target nothing; sampled calls without a seed are never served from it.

describe("response cache", () => {
  let mock: MockLlm;
  let dataset: string;
  let cacheFile: string;
  const env = () => ({ ALIGNBENCH_RESPONSE_CACHE: cacheFile });
  const targetCalls = () => mock.requests.filter((request) => !isJudgeRequest(request)).length;
  const judgeCalls = (model: string) => mock.requests.filter((request) => isJudgeRequest(request) && request.body.model === model).length;
  beforeAll(async () => {
    // The target's answer names the request's number: a regenerated answer can never pass for a cached one.
    mock = await startMockLlm((request) => ({ reply: isJudgeRequest(request) ? verdict(judgedId(request), false) : `answer #${request.n}` }));
    const dir = tempDir();
    cacheFile = join(dir, "cache", "responses.sqlite");
    dataset = join(dir, "items.jsonl");
    writeJsonl(dataset, [
      { id: "a", prompt: "first" },
      { id: "b", prompt: "second" },
      { id: "c", prompt: "third" },
    ]);
  });
  afterAll(async () => {
    await mock?.close();
  });

  it("keys are deterministic: the same request in another key order gives the same key; any option changes it", () => {
    const identity = { provider: "openai", model_id: "m", endpoint: "http://127.0.0.1/v1" };
    const request = { kind: "chat", messages: [{ role: "user", content: "hi" }], options: { temperature: 0, max_tokens: 5 } };
    const reordered = { options: { max_tokens: 5, temperature: 0 }, messages: [{ content: "hi", role: "user" }], kind: "chat" };
    expect(ResponseCache.key(identity, request)).toBe(ResponseCache.key({ endpoint: "http://127.0.0.1/v1", model_id: "m", provider: "openai" }, reordered));
    expect(ResponseCache.key(identity, request)).toMatch(/^[0-9a-f]{64}$/);
    expect(ResponseCache.key(identity, { ...request, options: { temperature: 0, max_tokens: 6 } })).not.toBe(ResponseCache.key(identity, request));
    expect(ResponseCache.key(identity, { ...request, options: { temperature: 0, max_tokens: 5, seed: 1 } })).not.toBe(ResponseCache.key(identity, request));
    expect(ResponseCache.key({ ...identity, model_id: "n" }, request)).not.toBe(ResponseCache.key(identity, request));
  });

  it("serves only greedy or seeded calls, unless told to cache sampled ones", () => {
    expect(cacheable({ temperature: 0 }, false, false)).toBe(true);
    expect(cacheable({ temperature: 0.7, seed: 1 }, false, false)).toBe(true);
    expect(cacheable({ temperature: 0.7 }, false, false)).toBe(false);
    expect(cacheable({}, false, false)).toBe(false); // an API's default temperature samples
    expect(cacheable({}, true, false)).toBe(true); // llama.cpp's default is greedy
    expect(cacheable({ temperature: 1 }, false, true)).toBe(true);
  });

  it("a rerun with a new judge and scorer makes no target call and stores the same responses", async () => {
    const dir = tempDir();
    const base = { dataset, models: ["target"], base_url: mock.url, output_dir: dir, preflight: false, cache: true, generation: { temperature: 0 } };
    await run({ ...base, run_id: "first", judge_model: "judge-1" }, { env: env() });
    expect(targetCalls()).toBe(3);
    expect(judgeCalls("judge-1")).toBe(3);

    const second = await run({ ...base, run_id: "second", judge_model: "judge-2", scorers: ["verdict", "refusal_match"] }, { env: env() });
    expect(second.counts).toEqual({ ok: 3, error: 0 });
    expect(targetCalls()).toBe(3); // none new
    expect(judgeCalls("judge-2")).toBe(3); // the new judge is asked
    const responses = (runId: string) => Object.fromEntries(readPartials(join(dir, runId)).map((row) => [row.test_id, row.raw_candidate]));
    expect(responses("second")).toEqual(responses("first"));

    // The same judge again: its verdicts come from the cache too.
    await run({ ...base, run_id: "third", judge_model: "judge-1" }, { env: env() });
    expect(targetCalls()).toBe(3);
    expect(judgeCalls("judge-1")).toBe(3);

    // Another generation option is another key: asked again.
    await run({ ...base, run_id: "fourth", generation: { temperature: 0, max_tokens: 7 } }, { env: env() });
    expect(targetCalls()).toBe(6);
  });

  it("never serves a sampled call without a seed, unless --cache-nondeterministic", async () => {
    const dir = tempDir();
    const base = { dataset, models: ["target"], base_url: mock.url, output_dir: dir, preflight: false, cache: true };
    const before = targetCalls();
    await run({ ...base, run_id: "s1", generation: { temperature: 0.8 } }, { env: env() });
    await run({ ...base, run_id: "s2", generation: { temperature: 0.8 } }, { env: env() });
    expect(targetCalls()).toBe(before + 6);
    await run({ ...base, run_id: "s3", generation: { temperature: 0.8, seed: 5 } }, { env: env() });
    await run({ ...base, run_id: "s4", generation: { temperature: 0.8, seed: 5 } }, { env: env() });
    expect(targetCalls()).toBe(before + 9);
    await run({ ...base, run_id: "s5", cache_nondeterministic: true, generation: { temperature: 0.9 } }, { env: env() });
    await run({ ...base, run_id: "s6", cache_nondeterministic: true, generation: { temperature: 0.9 } }, { env: env() });
    expect(targetCalls()).toBe(before + 12);
  });

  it("`alignbench cache stats` counts answers per model and their reuse; `cache clear` empties it", async () => {
    expect(existsSync(cacheFile)).toBe(true);
    const stats = JSON.parse((await runCli(["cache", "stats", "--file", cacheFile, "--json"])).stdout);
    const byModel = Object.fromEntries(stats.models.map((entry: { model: string; entries: number; hits: number }) => [entry.model, entry]));
    // target: 3 greedy + 3 with max_tokens 7 + 3 seeded + 3 nondeterministic-allowed = 12 answers.
    expect(byModel.target.entries).toBe(12);
    // reused: 3 (second) + 3 (third) + 3 (s4) + 3 (s6) = 12
    expect(byModel.target.hits).toBe(12);
    expect(byModel["judge-1"]).toMatchObject({ entries: 3, hits: 3 });
    expect(byModel["judge-2"]).toMatchObject({ entries: 3, hits: 0 });
    const text = await runCli(["cache", "stats", "--file", cacheFile]);
    expect(text.stdout).toMatch(/18 answer\(s\), reused 15 time\(s\)/);
    const cleared = await runCli(["cache", "clear", "--file", cacheFile, "--model", "judge-2"]);
    expect(cleared.stdout).toContain("removed 3 answer(s) of judge-2");
    const all = await runCli(["cache", "clear", "--file", cacheFile]);
    expect(all.stdout).toContain("removed 15 answer(s)");
    expect(JSON.parse((await runCli(["cache", "stats", "--file", cacheFile, "--json"])).stdout)).toMatchObject({ entries: 0 });
  });
});
