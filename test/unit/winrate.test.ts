import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { baselineOutputFor, loadBaselineOutputs } from "../../src/datasets/baseline-outputs.js";
import { checkDataset, streamSamples } from "../../src/datasets/dataset.js";
import { baselineOutput, characters, combineOrders, letterProbabilities, parsePosition } from "../../src/scorers/winrate-judge.js";

function folder(): string {
  return mkdtempSync(join(tmpdir(), "alignbench-winrate-"));
}

function jsonl(dir: string, name: string, rows: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join("\n"));
  return path;
}

async function samples(path: string, mapping: Parameters<typeof checkDataset>[3]) {
  const check = await checkDataset(path, "stop", undefined, mapping);
  const out = [];
  for await (const sample of streamSamples(check)) out.push(sample);
  return out;
}

describe("alpaca record format", () => {
  it("sends the instruction, then its input after a blank line; keeps output as the stored baseline answer", async () => {
    const path = jsonl(folder(), "alpaca.jsonl", [
      { instruction: "Give three tips.", input: "", output: "1. Eat. 2. Sleep. 3. Move." },
      { instruction: "Translate to English.", input: "Bonjour", output: "Hello" },
      // AlpacaEval's set: no input; generator and dataset; its dataset becomes the category.
      { instruction: "What is 2+2?", output: "4", generator: "text_davinci_003", dataset: "helpful_base" },
      // No output: no stored answer (the baseline must come from a model or a file).
      { instruction: "Write a haiku.", input: null },
    ]);
    const rows = await samples(path, { format: "alpaca", id: "#line" });
    expect(rows.map((sample) => [sample.id, sample.conversation, sample.category])).toEqual([
      ["1", [{ role: "user", content: "Give three tips." }], "uncategorized"],
      ["2", [{ role: "user", content: "Translate to English.\n\nBonjour" }], "uncategorized"],
      ["3", [{ role: "user", content: "What is 2+2?" }], "helpful_base"],
      ["4", [{ role: "user", content: "Write a haiku." }], "uncategorized"],
    ]);
    expect(rows.map((sample) => sample.metadata?.baseline_output)).toEqual(["1. Eat. 2. Sleep. 3. Move.", "Hello", "4", undefined]);
    expect(rows[2]!.metadata).toMatchObject({ instruction: "What is 2+2?", baseline_generator: "text_davinci_003" });
  });

  it("keeps the record's columns for the field mapping (group_by AlpacaEval's dataset, an id column)", async () => {
    const path = jsonl(folder(), "eval.jsonl", [
      { id: "q1", instruction: "A?", output: "a", dataset: "koala" },
      { id: "q2", instruction: "B?", output: "b", dataset: "vicuna" },
    ]);
    const rows = await samples(path, { format: "alpaca", tags: ["dataset"] });
    expect(rows.map((sample) => [sample.id, (sample.metadata!.tags as Record<string, string>).dataset])).toEqual([
      ["q1", "koala"],
      ["q2", "vicuna"],
    ]);
  });

  it("names the file, line and field of a bad record", async () => {
    const dir = folder();
    await expect(samples(jsonl(dir, "a.jsonl", [{ instruction: "ok", output: "x" }, { input: "no instruction" }]), { format: "alpaca", id: "#line" })).rejects.toThrow(
      /a\.jsonl:2: instruction: required/,
    );
    await expect(samples(jsonl(dir, "b.jsonl", [{ instruction: "ok", output: 42 }]), { format: "alpaca", id: "#line" })).rejects.toThrow(/b\.jsonl:1: output: must be text/);
    await expect(samples(jsonl(dir, "c.jsonl", [{ instruction: ["x"] }]), { format: "alpaca", id: "#line" })).rejects.toThrow(/c\.jsonl:1: instruction: must be non-empty text/);
  });
});

describe("winrate_judge pieces", () => {
  it("reads the judge's letter, never guessing", () => {
    expect(["A", "B", " B\n", "**A**", "(B).", "Answer: A", "Output B is better", '"A"', "A."].map(parsePosition)).toEqual(["A", "B", "B", "A", "B", "A", "B", "A", "A"]);
    // The article "a", words that start with A or B, and refusals are not verdicts.
    expect(["a better one", "Both", "Answer", "Neither", "", "C", "AB"].map(parsePosition)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it("turns the answer token's probabilities into P(A) and P(B)", () => {
    // Token "A" chosen with p = 0.7; its alternatives: A again (counted once), " B" 0.2, "**" 0.1.
    const mass = letterProbabilities([
      {
        token: "A",
        logprob: Math.log(0.7),
        top: [
          { token: "A", logprob: Math.log(0.7) },
          { token: " B", logprob: Math.log(0.2) },
          { token: "**", logprob: Math.log(0.1) },
        ],
      },
    ]);
    expect(mass!.A).toBeCloseTo(0.7, 12);
    expect(mass!.B).toBeCloseTo(0.2, 12);
    // The answer token is found after emphasis tokens; spellings of one letter add up; a letter not in the top k is 0.
    const later = letterProbabilities([
      { token: "**", logprob: 0 },
      {
        token: "B",
        logprob: Math.log(0.5),
        top: [
          { token: "B", logprob: Math.log(0.5) },
          { token: " B", logprob: Math.log(0.25) },
          { token: "The", logprob: Math.log(0.25) },
        ],
      },
    ]);
    expect(later!.A).toBe(0);
    expect(later!.B).toBeCloseTo(0.75, 12);
    expect(letterProbabilities(undefined)).toBeUndefined();
    expect(letterProbabilities([{ token: "Both", logprob: 0 }])).toBeUndefined();
  });

  it("combines the two orders: the target's share of the verdicts, position and consistency evidence", () => {
    const verdict = (picked: "A" | "B", targetProbability: number | null = null) => ({ picked, targetProbability, raw: picked });
    // Order 1 shows the target as A, order 2 as B.
    expect(combineOrders(verdict("A"), verdict("B"))).toEqual({ value: 1, label: "target better", firstPosition: 0.5, consistent: 1, soft: null });
    expect(combineOrders(verdict("B"), verdict("A"))).toEqual({ value: 0, label: "baseline better", firstPosition: 0.5, consistent: 1, soft: null });
    expect(combineOrders(verdict("A"), verdict("A"))).toEqual({ value: 0.5, label: "split (position decided)", firstPosition: 1, consistent: 0, soft: null });
    expect(combineOrders(verdict("B"), verdict("B"))).toMatchObject({ value: 0.5, firstPosition: 0, consistent: 0 });
    // Soft: the mean of the two orders' P(target); null when either order has none.
    expect(combineOrders(verdict("A", 0.8), verdict("B", 0.6)).soft).toBeCloseTo(0.7, 12);
    expect(combineOrders(verdict("A", 0.8), verdict("B")).soft).toBeNull();
  });

  it("counts characters as code points and finds the baseline's answer: the transcript's baseline, else the item's", () => {
    expect(characters("héllo 👋")).toBe(7);
    const sample = { id: "1", category: "c", subcategory: "", conversation: [{ role: "user" as const, content: "x" }], metadata: { baseline_output: "stored" } };
    const call = (role: string, response: string | null, error?: string) => ({
      role,
      model: "m",
      messages: [],
      response,
      usage: null,
      latency_ms: null,
      finish_reason: null,
      ...(error ? { error } : {}),
    });
    expect(baselineOutput({ sample, transcript: [call("target", "t"), call("baseline", "from model")] })).toEqual({ text: "from model", source: "m" });
    expect(baselineOutput({ sample, transcript: [call("target", "t"), call("baseline", null, "HTTP 500")] })).toEqual({ text: "stored", source: "item" });
    expect(() => baselineOutput({ sample: { ...sample, metadata: {} }, transcript: [] })).toThrow(/no baseline output/);
  });
});

describe("stored baseline outputs", () => {
  it("reads {id, output} from JSONL or CSV, and AlpacaEval's reference outputs by instruction", async () => {
    const dir = folder();
    const fromJsonl = await loadBaselineOutputs(
      jsonl(dir, "b.jsonl", [
        { id: 1, output: "one" },
        { id: "2", output: "two" },
        { id: "2", output: "two" },
      ]),
    );
    expect([baselineOutputFor(fromJsonl, "1", ""), baselineOutputFor(fromJsonl, "2", "")]).toEqual(["one", "two"]);
    expect(() => baselineOutputFor(fromJsonl, "3", "")).toThrow(/b\.jsonl has no output for item "3"/);
    const csv = join(dir, "b.csv");
    writeFileSync(csv, 'id,output\na,"first, with a comma"\nb,second\n');
    expect(baselineOutputFor(await loadBaselineOutputs(csv), "a", "")).toBe("first, with a comma");
    const reference = join(dir, "alpaca_eval_gpt4_baseline.json");
    writeFileSync(reference, JSON.stringify([{ instruction: "What is 2+2?", output: "4", generator: "gpt4_turbo" }]));
    expect(baselineOutputFor(await loadBaselineOutputs(reference), "17", "What is 2+2?")).toBe("4");
  });

  it("refuses two outputs for one item, a missing output, and a folder that is no run", async () => {
    const dir = folder();
    await expect(
      loadBaselineOutputs(
        jsonl(dir, "dup.jsonl", [
          { id: "x", output: "one" },
          { id: "y", output: "ok" },
          { id: "x", output: "two" },
        ]),
      ),
    ).rejects.toThrow(/dup\.jsonl:3: id: item "x" has another output on line 1/);
    await expect(loadBaselineOutputs(jsonl(dir, "none.jsonl", [{ id: "x" }]))).rejects.toThrow(/none\.jsonl:1: output: required/);
    await expect(loadBaselineOutputs(jsonl(dir, "noid.jsonl", [{ output: "x" }]))).rejects.toThrow(/noid\.jsonl:1: id: required/);
    await expect(loadBaselineOutputs(dir)).rejects.toThrow(/is a folder without results\.parquet/);
    await expect(loadBaselineOutputs(join(dir, "absent.jsonl"))).rejects.toThrow(/absent\.jsonl does not exist/);
  });
});
