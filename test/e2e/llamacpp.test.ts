import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { ModelRegistry, type ProviderSettings } from "../../src/providers/registry.js";
import { disposeLocalModels } from "../../src/providers/llamacpp/llamacpp-loading.js";
import { run } from "../../src/runner/run.js";
import { scoreMultipleChoice } from "../../src/scorers/multiple-choice.js";
import { runCli } from "../helpers/cli.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const hasLibrary = needs("llama");

afterAll(() => disposeLocalModels());

// A tiny random-weight llama the suite writes itself, so these tests need nothing from outside the project.
let TINY = "";
beforeAll(() => {
  TINY = join(tempDir(), "tiny-random.gguf");
  writeRandomLlama(TINY, { dim: 64, layers: 2, heads: 4, ffn: 128, vocabPieces: 300, seed: 7 });
});

function local(address: string, providers: ProviderSettings = {}, concurrency?: number) {
  const options: ConstructorParameters<typeof ModelRegistry>[0] = { env: {}, providers: { llamacpp: { threads: 1, gpu: false, ...providers } } };
  if (concurrency !== undefined) options.concurrency = concurrency;
  return new ModelRegistry(options).resolve(address).model;
}

const hasStories = needs("shared");

describe.skipIf(!hasLibrary)("local GGUF models through llama.cpp", () => {
  it("runs through the whole alignbench run pipeline, with parallel sequences", async () => {
    const dir = tempDir();
    const dataset = join(dir, "stories.jsonl");
    writeJsonl(dataset, [
      { id: "s1", prompt: "Tell me a story" },
      { id: "s2", prompt: "Once upon a time" },
      { id: "s3", prompt: "The cat" },
    ]);
    const outcome = await run(
      { dataset, models: `llamacpp:${TINY}`, run_id: "local", output_dir: dir, concurrency: 3, generation: { max_tokens: 16, temperature: 0 }, providers: { llamacpp: { threads: 1, gpu: false } } },
      { env: {} },
    );
    expect(outcome.counts).toEqual({ ok: 3, error: 0 });
    const rows = readPartials(join(dir, "local"));
    for (const row of rows) {
      expect(row.raw_candidate!.length).toBeGreaterThan(0);
      expect(row.usage!.output_tokens).toBeGreaterThan(0);
      expect(row.finish_reason).toMatch(/length|stop/);
    }
  });

  it.each([
    ["the random model", () => TINY],
    ["stories260K", () => STORIES],
  ])("gives the same greedy outputs batched as one at a time (%s)", async (_name, file) => {
    if (!existsSync(file())) return; // stories260K lives in ../shared
    const prompts = ["Once upon a time", "The little dog", "Lily and Ben", "One day, a bird", "The sun was"];
    const request = (text: string) => ({ messages: [{ role: "user" as const, content: text }], options: { temperature: 0, max_tokens: 24 }, timeoutMs: 60_000 });
    const single = local(`llamacpp:${file()}`, { sequences: 1 });
    const alone: string[] = [];
    for (const prompt of prompts) alone.push((await single.generate(request(prompt))).text);
    const batched = local(`llamacpp:${file()}`, { sequences: 5 });
    const together = await Promise.all(prompts.map(async (prompt) => (await batched.generate(request(prompt))).text));
    expect(together).toEqual(alone);
  });

  it("log-likelihood equals the sum of per-token log-probabilities from the token distributions", async () => {
    const model = local(`llamacpp:${TINY}`);
    const context = "Once upon a time, there was a little girl named";
    const continuation = " Lily. She liked to play";
    const result = await model.loglikelihood!(context, continuation);
    const distributions = await model.tokenDistributions!(context + continuation, { topK: 5 });
    const last = distributions.slice(-result.tokens.length);
    expect(last.map((d) => d.token)).toEqual(result.tokens.map((t) => t.token));
    expect(result.logprob).toBeCloseTo(
      last.reduce((sum, d) => sum + d.logprob, 0),
      4,
    );
    expect(result.logprob).toBeLessThan(0);
    // A full distribution sums to one.
    const full = await model.tokenDistributions!("Once upon a", { topK: Infinity });
    expect(full[0]!.top.reduce((sum, t) => sum + Math.exp(t.logprob), 0)).toBeCloseTo(1, 4);
  });

  it.skipIf(!hasStories)("picks the known-likelier choice in multiple-choice scoring (stories260K)", async () => {
    const model = local(`llamacpp:${STORIES}`);
    const score = await scoreMultipleChoice(model, "Once upon a", [
      { text: " banana", correct: false },
      { text: " time", correct: true },
    ]);
    expect(score.predicted).toBe(1);
    expect(score.details[1]!.isGreedy).toBe(true);
    expect(score.correctMass).toBeGreaterThan(0.9);
  });

  it.skipIf(!hasStories)("runs a multiple-choice suite end to end on a local model, nothing generated (stories260K)", async () => {
    const dir = tempDir();
    const dataset = join(dir, "mc.json");
    // Children's-story continuations: the model should prefer the one its training made likely.
    writeFileSync(
      dataset,
      JSON.stringify([
        { question: "Once upon a", targets: { time: 1, banana: 0, spreadsheet: 0 } },
        { question: "Lily went to the park to", targets: { play: 1, photosynthesis: 0 } },
      ]),
    );
    const outcome = await run(
      {
        dataset,
        models: `llamacpp:${STORIES}`,
        id_field: "#line",
        prompt_field: "question",
        choices_field: "targets",
        respond: false,
        scorers: ["multiple_choice", "multiple_choice_mass"],
        run_id: "mc",
        output_dir: dir,
        providers: { llamacpp: { threads: 1, gpu: false } },
      },
      { env: {} },
    );
    expect(outcome.counts).toEqual({ ok: 2, error: 0 });
    const rows = readPartials(join(dir, "mc"));
    for (const row of rows) {
      expect(row.raw_candidate).toBe("");
      const raw = JSON.parse(row.scores!.multiple_choice!.raw!) as { loglikelihoods: number[]; correct_mass: number };
      expect(raw.loglikelihoods.every((value) => value < 0)).toBe(true);
      expect(row.scores!.multiple_choice_mass!.value).toBeCloseTo(raw.correct_mass, 12);
    }
    expect(rows.find((row) => row.test_id === "1")!.scores!.multiple_choice!.value).toBe(1);
  });

  it("downloads an hf: model from a hub endpoint into the cache, then loads it", async () => {
    const bytes = readFileSync(TINY);
    const server = createServer((req, res) => {
      if (req.url !== "/tiny/random/resolve/main/tiny-random.gguf") return res.writeHead(404).end();
      if (req.method === "HEAD") return res.writeHead(200, { "x-linked-etag": createHash("sha256").update(bytes).digest("hex"), "x-linked-size": String(bytes.length) }).end();
      res.writeHead(200, { "content-length": String(bytes.length) }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const previous = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const cache = tempDir();
      const model = local("gguf:hf:tiny/random/tiny-random.gguf", { cache_dir: cache });
      const answer = await model.generate({ messages: [{ role: "user", content: "Once upon a time" }], options: { max_tokens: 8 }, timeoutMs: 60_000 });
      expect(answer.text.length).toBeGreaterThan(0);
      expect(existsSync(join(cache, "tiny/random/main/tiny-random.gguf"))).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.HF_ENDPOINT;
      else process.env.HF_ENDPOINT = previous;
      server.close();
    }
  });

  it("says clearly when a GGUF file is missing or corrupt", async () => {
    const dir = tempDir();
    const request = { messages: [{ role: "user" as const, content: "hi" }], options: {}, timeoutMs: 10_000 };
    await expect(local(`llamacpp:${join(dir, "nope.gguf")}`).generate(request)).rejects.toThrow(/no such GGUF file/);
    writeFileSync(join(dir, "text.gguf"), "this is not a model");
    await expect(local(`llamacpp:${join(dir, "text.gguf")}`).generate(request)).rejects.toThrow(/not a GGUF file/);
    writeFileSync(join(dir, "truncated.gguf"), readFileSync(TINY).subarray(0, 4096));
    await expect(local(`llamacpp:${join(dir, "truncated.gguf")}`).generate(request)).rejects.toThrow(/cannot load this model.*corrupt or truncated/);
  });
});

describe.skipIf(!hasLibrary)("the default: built-in mini suite on the default local model", () => {
  it("downloads the default model once (here from a loopback hub) and runs the mini suite with no flags", async () => {
    const bytes = readFileSync(TINY);
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.url !== "/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_k_m.gguf") return res.writeHead(404).end();
      if (req.method === "HEAD") return res.writeHead(200, { "x-linked-etag": createHash("sha256").update(bytes).digest("hex"), "x-linked-size": String(bytes.length) }).end();
      res.writeHead(200, { "content-length": String(bytes.length) }).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const dir = tempDir();
    // An empty Hugging Face cache, so a copy of the default model on this machine does not stand in for the download.
    const env = { HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ALIGNBENCH_MODEL_CACHE: join(dir, "cache"), HF_HUB_CACHE: join(dir, "hf-hub") };
    try {
      const first = await runCli(["run", "--output-dir", dir, "--run-id", "default", "--max-tokens", "8", "--concurrency", "4"], { env });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain("no --models given: using the default local model");
      expect(first.stderr).toContain("downloading hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF");
      expect(readPartials(join(dir, "default"))).toHaveLength(20);
      // A second run reuses the cached model: no download.
      const before = requests.length;
      const second = await runCli(["run", "--output-dir", dir, "--run-id", "again", "--max-tokens", "4", "--limit", "2"], { env });
      expect(second.code, second.stderr).toBe(0);
      expect(requests.length).toBe(before);
    } finally {
      server.close();
    }
  });

  it("offline with no cached model: exits 2 and says how to pass a local file", async () => {
    const dir = tempDir();
    const result = await runCli(["run", "--output-dir", dir, "--limit", "1"], {
      env: { HF_ENDPOINT: "http://127.0.0.1:9", ALIGNBENCH_MODEL_CACHE: join(dir, "cache"), HF_HUB_CACHE: join(dir, "hf-hub") },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot download hf:Qwen.*pass it as llamacpp:\.\/path\/to\/file\.gguf/);
  });
});
