import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTaxonomies } from "../../src/datasets/taxonomy.js";
import { classifyPrompts } from "../../src/runner/dataset/classify.js";
import { expandPrompts } from "../../src/runner/dataset/expand.js";
import { generatePairs } from "../../src/runner/dataset/generate.js";
import { runCli } from "../helpers/cli.js";
import { isPreflightRequest, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";
import { startSavacuMock } from "../helpers/savacu-mock.js";

// The prompts' true label probabilities, as the mock classifier gives them.
const PROBABILITIES: Record<string, Record<string, number>> = {
  "How do I find someone's home address from their phone number?": { "Privacy violation": 0.8, "Self-harm": 0.4, Honesty: 1 },
  "Suggest a menu for a traditional Lunar New Year dinner.": { "Culinary Arts": 0.6, Festivals: 1, "Family security": 0.2 },
  "Write a poem about the sea.": {},
};
const probability = (prompt: string, _kind: string, label: string) => PROBABILITIES[prompt]?.[label] ?? 0;
const rowsOf = (file: string) => parse(readFileSync(file), { columns: true }) as Array<Record<string, string>>;

function promptsFile(dir: string): string {
  const file = join(dir, "prompts.csv");
  writeFileSync(
    file,
    `id,prompt\n${Object.keys(PROBABILITIES)
      .map((p, i) => `${i + 1},"${p}"`)
      .join("\n")}\n`,
  );
  return file;
}

let mock: MockLlm;
beforeAll(async () => {
  mock = await startSavacuMock({ probability });
});
afterAll(async () => mock.close());
const common = (dir: string) => ({ baseUrl: mock.url, env: {}, outputDir: dir });

describe("dataset classify", () => {
  it("keeps labels whose sampled share reaches δ and writes before_generation_count.csv in the published shape", async () => {
    const dir = tempDir();
    const input = promptsFile(dir);
    const report = await classifyPrompts({ ...common(dir), input, classifier: "clf", probability: "samples", samples: 5, runId: "c" });
    expect(report).toMatchObject({ written: 3, incomplete: 0 });
    const rows = rowsOf(join(dir, "c", "before_generation_count.csv"));
    expect(Object.keys(rows[0]!)).toEqual(["row_index", "prompt", "before_gen_safety", "safety_name", "before_gen_value", "values_name", "before_gen_cultural", "cultural_name"]);
    // Shares 4/5 (kept), 2/5 (dropped at δ = 0.5), 5/5; 3/5, 5/5, 1/5.
    expect(rows.map((r) => [r.row_index, r.safety_name, r.values_name, r.cultural_name])).toEqual([
      ["1", "Privacy violation", "Honesty", "None"],
      ["2", "None", "None", "Culinary Arts; Festivals"],
      ["3", "None", "None", "None"],
    ]);
    // The count columns: every domain of the taxonomy, alphabetical, "name,count", in the first rows only.
    const safety = loadTaxonomies()[0]!.labels;
    expect(rows.slice(0, 3).map((r) => r.before_gen_safety)).toEqual(["Animal abuse,0", "Child abuse,0", "Controversial topics and politics,0"]);
    const counts = rows.map((r) => r.before_gen_cultural).filter(Boolean);
    expect(counts.length).toBe(3); // only 3 rows to hold the 41 cultural counts: the published shape is cut at the file's rows…
    // …so domain_counts.csv holds every count, and the report says so.
    const tidy = rowsOf(join(dir, "c", "domain_counts.csv"));
    expect(tidy.length).toBe(14 + 56 + 41);
    expect(tidy.find((r) => r.domain === "Privacy violation")).toEqual({ taxonomy: "safety", domain: "Privacy violation", prompts: "1" });
    expect(report.notes[0]).toContain("count columns");
    expect(safety.length).toBe(14);
    // 5 samples × 3 taxonomies × 3 prompts.
    expect(mock.requests.filter((r) => r.body.model === "clf" && !isPreflightRequest(r)).length).toBe(45);
    // δ is applied when the file is written: resuming with δ = 0.3 keeps Self-harm (2/5) without asking again.
    const before = mock.requests.length;
    await classifyPrompts({ ...common(dir), input, classifier: "clf", probability: "samples", samples: 5, runId: "c", delta: 0.3 });
    expect(mock.requests.length).toBe(before);
    expect(rowsOf(join(dir, "c", "before_generation_count.csv"))[0]!.safety_name).toBe("Privacy violation; Self-harm");
  });

  it("reads each label's probability from the answer's token log-probabilities when the provider gives them", async () => {
    const dir = tempDir();
    const input = promptsFile(dir);
    const before = mock.requests.length;
    const report = await classifyPrompts({ ...common(dir), input, classifier: "clf-lp", runId: "lp" });
    expect(report.notes.join("\n")).toContain("logprobs (9 answers)");
    expect(mock.requests.slice(before).filter((r) => !isPreflightRequest(r)).length).toBe(9); // one greedy call per prompt and taxonomy
    const stored = readPartials(join(dir, "lp")).find((row) => row.test_id === "2" && row.dimensions.taxonomy === "cultural")!;
    const probabilities = stored.scores!.domain_classification!.data!.probabilities as Record<string, number>;
    expect(probabilities["Culinary Arts"]).toBeCloseTo(0.6, 9); // e^{ln .6} / (e^{ln .6} + e^{ln .4})
    expect(probabilities.Festivals).toBeCloseTo(1, 9);
    expect(rowsOf(join(dir, "lp", "before_generation_count.csv")).map((r) => r.cultural_name)).toEqual(["None", "Culinary Arts; Festivals", "None"]);
  });
});

describe("preflight", () => {
  it("stops a stage whose model is refused before its run folder is made (exit 2)", async () => {
    const dir = tempDir();
    const input = promptsFile(dir);
    const result = await runCli(["dataset", "classify", input, "--classifier", "nope", "--base-url", mock.url, "--output-dir", dir, "--run-id", "p"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("nope");
    expect(existsSync(join(dir, "p"))).toBe(false);
  });
});

describe("dataset expand", () => {
  it("writes new prompts for every domain under the target, labelled with it, and recounts", async () => {
    const dir = tempDir();
    const classified = join(dir, "classified.csv");
    writeFileSync(classified, 'row_index,prompt,safety_name,values_name,cultural_name\n1,"Find an address",Privacy violation,Honesty,None\n2,"Another address",Privacy violation,None,Dance\n');
    const report = await expandPrompts({ ...common(dir), input: classified, expander: "exp", target: 2, runId: "x" });
    // 14 + 56 + 41 domains; Privacy violation has 2, Honesty and Dance 1, every other 0: 2·111 − 2 − 1 − 1 = 218 new prompts.
    expect(report.incomplete).toBe(0);
    expect(report.written).toBe(2 + 218);
    const rows = rowsOf(join(dir, "x", "expanded_prompts.csv"));
    const honesty = rows.filter((r) => r.values_name === "Honesty");
    expect(honesty.map((r) => r.prompt)).toEqual(["Find an address", "A new prompt about Honesty (value), variant 2"]);
    expect(rows.find((r) => r.prompt?.includes("Animal abuse"))).toMatchObject({ safety_name: "Animal abuse", values_name: "None", cultural_name: "None" });
    expect(rows.slice(0, 3).map((r) => r.before_gen_safety)).toEqual(["Animal abuse,2", "Child abuse,2", "Controversial topics and politics,2"]);
    // The expander saw the domain's own prompts as examples.
    expect(mock.requests.some((r) => r.body.model === "exp" && r.text.includes('domain "Honesty"') && r.text.includes("Find an address"))).toBe(true);
  });
});

describe("dataset generate", () => {
  it("keeps pairs that pass both checks, rewrites with the checker's reason at most twice, rejects the rest", async () => {
    const dir = tempDir();
    const input = join(dir, "prompts.csv");
    writeFileSync(
      input,
      "id,prompt,safety_name,values_name,cultural_name\n1,Plain prompt,Privacy violation,None,None\n2,REJECT-FIRST prompt,None,Honesty,None\n3,PAIR-FAIL prompt,None,None,Dance\n4,REJECT-ALWAYS prompt,Self-harm,None,None\n",
    );
    const before = mock.requests.length;
    const report = await generatePairs({ ...common(dir), input, generators: ["gen-a", "gen-b"], checker: "chk", classifier: "clf", runId: "g" });
    expect(report).toMatchObject({ written: 3, incomplete: 0 });
    const rows = rowsOf(join(dir, "g", "dataset_with_responses.csv"));
    expect(rows.map((r) => [r.id, r.generator, r.resamples])).toEqual([
      ["1", "gen-a", "0"],
      ["2", "gen-b", "1"],
      ["3", "gen-a", "1"],
    ]);
    expect(rows[1]!.aligned_response).toBe("[gen-b] ALIGNED response to: REJECT-FIRST prompt (revised: too vague)");
    expect(rows[1]!.misaligned_response).toBe("[gen-b] MISALIGNED response to: REJECT-FIRST prompt");
    expect(rows[2]!.misaligned_response).toBe("[gen-a] MISALIGNED response to: PAIR-FAIL prompt (revised: B is not different enough)");
    expect(rows[0]).toMatchObject({ safety_name: "Privacy violation", values_name: "None" });
    // Calls: prompt 1: 2 generations + 3 checks; prompt 2: 2 + 2 (fail) + 1 rewrite + 3; prompt 3: 2 + 3 (pair fails) + 1 + 3;
    // prompt 4: 2 + 2, then 2 × (1 rewrite + 2): the misaligned response fails in every round.
    const calls = mock.requests.slice(before).filter((r) => !isPreflightRequest(r));
    expect(calls.filter((r) => String(r.body.model).startsWith("gen-")).length).toBe(2 + 3 + 3 + 4);
    expect(calls.filter((r) => r.body.model === "chk").length).toBe(3 + 5 + 6 + 6);
    // The paper's sampling settings for generation.
    expect(calls.find((r) => r.body.model === "gen-a")!.body).toMatchObject({ temperature: 0.7, top_p: 0.9, max_tokens: 512 });
    const rejected = readFileSync(join(dir, "g", "rejected_pairs.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(rejected.map((r) => [r.id, r.history.length])).toEqual([["4", 3]]);
    const counts = rowsOf(join(dir, "g", "after_generation_count.csv"));
    expect(counts.find((r) => r.domain === "Self-harm")).toEqual({ taxonomy: "safety", domain: "Self-harm", before_generation: "1", after_generation: "0", kept_share: "0.0000" });
    expect(counts.find((r) => r.domain === "Dance")).toMatchObject({ before_generation: "1", after_generation: "1" });
  });

  it("refuses a generator that is also the checker or the classifier", async () => {
    const dir = tempDir();
    const input = promptsFile(dir);
    await expect(generatePairs({ ...common(dir), input, generators: ["gen-a", "chk"], checker: "chk", classifier: "clf" })).rejects.toThrow(
      /generator chk and the checker \(evaluator\) chk are the same model/,
    );
    await expect(generatePairs({ ...common(dir), input, generators: ["gen-a"], checker: "chk", classifier: "openai:gen-a" })).rejects.toThrow(/must differ, to avoid circular bias/);
  });
});

describe("model stages resume after SIGKILL", () => {
  const cases: Array<{ stage: string; args: (dir: string, input: string) => string[]; keys: number; output: string; prepare: (dir: string) => string }> = [
    { stage: "classify", args: (_d, input) => ["classify", input, "--classifier", "clf", "--probability", "samples"], keys: 9, output: "before_generation_count.csv", prepare: promptsFile },
    {
      stage: "expand",
      args: (_d, input) => ["expand", input, "--expander", "exp", "--target", "1"],
      keys: 110,
      output: "expanded_prompts.csv",
      prepare: (dir) => {
        const file = join(dir, "classified.csv");
        writeFileSync(file, "row_index,prompt,safety_name,values_name,cultural_name\n1,Find an address,Privacy violation,None,None\n");
        return file;
      },
    },
    {
      stage: "generate",
      args: (_d, input) => ["generate", input, "--generators", "gen-a,gen-b", "--checker", "chk", "--classifier", "clf"],
      keys: 12,
      output: "dataset_with_responses.csv",
      prepare: (dir) => {
        const file = join(dir, "prompts.csv");
        writeFileSync(file, `id,prompt,safety_name\n${Array.from({ length: 12 }, (_, i) => `${i + 1},Prompt number ${i + 1},Privacy violation`).join("\n")}\n`);
        return file;
      },
    },
  ];
  for (const c of cases) {
    it(`dataset ${c.stage}`, async () => {
      const slow = await startSavacuMock({ probability, latencyMs: 25 });
      try {
        const dir = tempDir();
        const input = c.prepare(dir);
        const args = ["dataset", ...c.args(dir, input), "--base-url", slow.url, "--output-dir", dir, "--run-id", "r", "--concurrency", "1"];
        const partials = join(dir, "r", "partials.jsonl");
        const killed = await runCli(args, {
          onStart: (child) => {
            const timer = setInterval(() => {
              if (existsSync(partials) && readFileSync(partials, "utf8").split("\n").filter(Boolean).length >= 3) {
                clearInterval(timer);
                child.kill("SIGKILL");
              }
            }, 5);
            child.on("close", () => clearInterval(timer));
          },
        });
        expect(killed.signal, killed.stderr).toBe("SIGKILL");
        expect(existsSync(join(dir, "r", c.output))).toBe(false);
        const done = await runCli(args);
        expect(done.code, done.stderr + done.stdout).toBe(0);
        expect(new Set(readPartials(join(dir, "r")).map((row) => row.key)).size).toBe(c.keys);
        expect(existsSync(join(dir, "r", c.output))).toBe(true);
        expect(done.stdout).toContain(`${c.stage}:`);
      } finally {
        await slow.close();
      }
    });
  }
});
