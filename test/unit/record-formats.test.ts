import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDataset, streamSamples } from "../../src/datasets/dataset.js";
import { registerRecordFormat } from "../../src/datasets/formats/registry.js";

// A record that stands for several rows: `prompts` is "a|b|c", one row per part, with the record's group.
registerRecordFormat({
  name: "piped",
  description: "one row per |-separated prompt",
  rows(record) {
    if (typeof record.prompts !== "string") return { field: "prompts", message: "must be text" };
    return record.prompts.split("|").map((prompt, index) => ({ id: `${record.group}-${index}`, prompt, group: record.group, category: record.group }));
  },
});

function file(lines: unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), "alignbench-format-")), "data.jsonl");
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join("\n"));
  return path;
}

describe("record formats", () => {
  it("turns each record into its rows, then applies the field mapping (group_by) to them", async () => {
    const path = file([
      { group: "g1", prompts: "one|two" },
      { group: "g2", prompts: "three" },
    ]);
    const check = await checkDataset(path, "stop", undefined, { format: "piped", tags: ["group"] });
    expect(check.validRows).toBe(3);
    const samples = [];
    for await (const sample of streamSamples(check)) samples.push(sample);
    expect(samples.map((sample) => [sample.id, sample.conversation[0]!.content, (sample.metadata!.tags as Record<string, string>).group])).toEqual([
      ["g1-0", "one", "g1"],
      ["g1-1", "two", "g1"],
      ["g2-0", "three", "g2"],
    ]);
  });

  it("names the file, line and field of a bad record; skipping it skips all its rows", async () => {
    const path = file([
      { group: "g1", prompts: 7 },
      { group: "g2", prompts: "a|b" },
    ]);
    await expect(checkDataset(path, "stop", undefined, { format: "piped" })).rejects.toThrow(/data\.jsonl:1: prompts: must be text/);
    const check = await checkDataset(path, "skip", undefined, { format: "piped" });
    expect([check.validRows, check.badRows]).toEqual([2, 1]);
    const limited = await checkDataset(path, "skip", 1, { format: "piped" });
    const ids = [];
    for await (const sample of streamSamples(limited, 1)) ids.push(sample.id);
    expect(ids).toEqual(["g2-0"]);
  });

  it("refuses an unknown format by name", async () => {
    const path = file([{ group: "g", prompts: "x" }]);
    await expect(checkDataset(path, "stop", undefined, { format: "pipe" })).rejects.toThrow(/unknown record format "pipe" \(did you mean "piped"\?\)/);
  });
});
