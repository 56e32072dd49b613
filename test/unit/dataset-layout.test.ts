import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDataset, streamSamples } from "../../src/datasets/dataset.js";
import { parseRecordsPath } from "../../src/datasets/records-path.js";
import { SummaryBuilder } from "../../src/metrics/summary.js";
import type { ResultRow } from "../../src/results/record.js";
import { builtinDeclaration } from "../../src/scorers/registry.js";
import { tempDir } from "../helpers/run-folder.js";

// Published files as they are: column mappings that read the file's own columns, and records nested in a
// JSON document or in each JSON line.

async function samples(file: string, ...args: Parameters<typeof checkDataset> extends [string, ...infer Rest] ? Rest : never) {
  const check = await checkDataset(file, ...args);
  const out = [];
  for await (const sample of streamSamples(check)) out.push(sample);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "resolved",
    (error: Error) => error.message,
  );
}

describe("column mappings read the file's own columns", () => {
  it("keeps both columns when the subcategory is mapped from the column named category", async () => {
    const dir = tempDir();
    const csv = join(dir, "harm.csv");
    writeFileSync(csv, "id,prompt,harm_area,category\n1,p1,cyber,malware\n2,p2,chemical,nerve agents\n");
    const jsonl = join(dir, "harm.jsonl");
    writeFileSync(
      jsonl,
      [JSON.stringify({ id: 1, prompt: "p1", harm_area: "cyber", category: "malware" }), JSON.stringify({ id: 2, prompt: "p2", harm_area: "chemical", category: "nerve agents" })].join("\n"),
    );
    for (const file of [csv, jsonl]) {
      const read = await samples(file, "stop", undefined, { category: "harm_area", subcategory: "category", tags: ["category"] });
      expect(read.map((sample) => [sample.category, sample.subcategory, (sample.metadata!.tags as Record<string, string>).category])).toEqual([
        ["cyber", "malware", "malware"],
        ["chemical", "nerve agents", "nerve agents"],
      ]);
    }
  });

  it("swaps two columns without one mapping reading the other's result", async () => {
    const dir = tempDir();
    const file = join(dir, "swap.jsonl");
    writeFileSync(file, JSON.stringify({ id: "a", prompt: "p", category: "fine", subcategory: "coarse", text: "other" }));
    const [sample] = await samples(file, "stop", undefined, { category: "subcategory", subcategory: "category", tags: ["category", "subcategory"] });
    expect(sample).toMatchObject({ category: "coarse", subcategory: "fine", metadata: { tags: { category: "fine", subcategory: "coarse" } } });
  });
});

describe("records path", () => {
  it("parses dot-separated keys, digits as indexes, and refuses empty segments", () => {
    expect(parseRecordsPath("data.items")).toEqual(["data", "items"]);
    expect(parseRecordsPath("splits.0.rows")).toEqual(["splits", 0, "rows"]);
    expect(() => parseRecordsPath("data..items")).toThrow('records path "data..items": expected dot-separated keys');
  });

  it("reads the records array inside a JSON document, and names a null prompt by its path", async () => {
    const dir = tempDir();
    const file = join(dir, "doc.json");
    const items = [
      { uid: "a", goal: "first" },
      { uid: "b", goal: "second" },
    ];
    writeFileSync(file, JSON.stringify({ version: 2, data: { items } }));
    const read = await samples(file, "stop", undefined, { id: "uid", prompt: "goal" }, undefined, "data.items");
    expect(read.map((sample) => [sample.id, sample.conversation[0]!.content])).toEqual([
      ["a", "first"],
      ["b", "second"],
    ]);
    writeFileSync(file, JSON.stringify({ data: { items: [...items, { uid: "c", goal: null }, { uid: "d" }, "text"] } }));
    const message = await failure(checkDataset(file, "stop", undefined, { id: "uid", prompt: "goal" }, undefined, "data.items"));
    expect(message).toContain("3 invalid rows");
    expect(message).toContain(`${file}:3: data.items[2].goal: is null: the prompt must be text`);
    expect(message).toContain(`${file}:4: data.items[3].goal: required (named by prompt_field)`);
    expect(message).toContain(`${file}:5: data.items[4]: each element must be a JSON object`);
    // Without a mapping the field is the row's own `prompt`.
    writeFileSync(file, JSON.stringify({ data: { items: [{ id: "x", prompt: null }] } }));
    expect(await failure(checkDataset(file, "stop", undefined, undefined, undefined, "data.items"))).toContain(`${file}:1: data.items[0].prompt: is null: the prompt must be text`);
  });

  it("says where a records path breaks off, and what a .json file without one must be", async () => {
    const dir = tempDir();
    const file = join(dir, "doc.json");
    writeFileSync(file, JSON.stringify({ data: { rows: [], meta: {} } }));
    expect(await failure(checkDataset(file, "stop", undefined, undefined, undefined, "data.items"))).toBe(
      `${file}: records path data.items: data.items not found: data is an object (its keys: rows, meta)`,
    );
    expect(await failure(checkDataset(file, "stop", undefined, undefined, undefined, "data.meta"))).toBe(`${file}: records path data.meta is an object: it must lead to the array of records`);
    expect(await failure(checkDataset(file, "stop"))).toContain("name their array with --records-path (records_path)");
    const csv = join(dir, "rows.csv");
    writeFileSync(csv, "id,prompt\n1,x\n");
    expect(await failure(checkDataset(csv, "stop", undefined, undefined, undefined, "data"))).toContain("applies to .json and .jsonl files only");
  });

  it("reads each JSON line's fields at the path, and reports lines without them", async () => {
    const dir = tempDir();
    const file = join(dir, "nested.jsonl");
    const lines = [
      { meta: { source: "s" }, row: { id: "a", text: "hello", kind: "k1" } },
      { meta: {}, row: { id: "b", text: "world", kind: "k2" } },
    ];
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join("\n"));
    const read = await samples(file, "stop", undefined, { prompt: "text", category: "kind" }, undefined, "row");
    expect(read.map((sample) => [sample.id, sample.category, sample.conversation[0]!.content])).toEqual([
      ["a", "k1", "hello"],
      ["b", "k2", "world"],
    ]);
    writeFileSync(file, [...lines, { row: { id: "c", text: null } }, { meta: {} }, { row: "flat" }].map((line) => JSON.stringify(line)).join("\n"));
    const message = await failure(checkDataset(file, "stop", undefined, { prompt: "text" }, undefined, "row"));
    expect(message).toContain(`${file}:3: row.text: is null: the prompt must be text`);
    expect(message).toContain(`${file}:4: records path: row not found: the top level is an object (its keys: meta)`);
    expect(message).toContain(`${file}:5: row: must be an object holding the row's fields (records path), not text`);
  });
});

describe("group-by category beside a mapped category", () => {
  const harmbench = builtinDeclaration("harmbench_classifier")!;
  const row = (test: string, category: string, tag: string, value: 0 | 1): ResultRow =>
    ({
      schema_version: 2,
      test_id: test,
      epoch: 1,
      persona_slug: "none",
      model_slug: "m",
      category,
      status: "ok",
      tags: { category: tag },
      scores: { harmbench_classifier: { value, label: null, raw: null, error: null } },
      dimensions: { test, persona: "none", model: "m", epoch: 1 },
    }) as unknown as ResultRow;

  it("breaks results down by the file's category column as tags.category when the category was mapped from another column", () => {
    const builder = new SummaryBuilder({ scorers: [harmbench], groupBy: ["category"] });
    for (const entry of [row("1", "cyber", "malware", 1), row("2", "cyber", "phishing", 0), row("3", "chemical", "malware", 1)]) builder.add(entry);
    const summary = builder.build("r");
    const byCategory = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "category,model")!;
    expect(byCategory.groups.map((group) => [group.by.category, group.n])).toEqual([
      ["chemical", 1],
      ["cyber", 2],
    ]);
    const byColumn = summary.breakdowns.find((breakdown) => breakdown.dimensions.join() === "tags.category,model")!;
    expect(byColumn.groups.map((group) => [group.by["tags.category"], group.n, group.scores.harmbench_classifier!.attack_success!.estimate])).toEqual([
      ["malware", 2, 1],
      ["phishing", 1, 0],
    ]);
  });

  it("adds no second category breakdown when the tag is the category itself", () => {
    const builder = new SummaryBuilder({ scorers: [harmbench], groupBy: ["category"] });
    for (const entry of [row("1", "cyber", "cyber", 1), row("2", "chemical", "chemical", 0)]) builder.add(entry);
    expect(builder.build("r").breakdowns.some((breakdown) => breakdown.dimensions[0] === "tags.category")).toBe(false);
  });
});
