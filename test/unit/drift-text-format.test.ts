import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDataset, streamSamples } from "../../src/datasets/dataset.js";
import { driftTextFormat, driftTextFormatFor, textId } from "../../src/datasets/formats/drift-text.js";
import { tempDir } from "../helpers/run-folder.js";

async function samples(path: string, extra: Record<string, unknown> = {}) {
  const check = await checkDataset(path, "stop", undefined, { format: "drift_text", ...extra });
  const out = [];
  for await (const sample of streamSamples(check)) out.push(sample);
  return out;
}

describe("drift_text record format", () => {
  it("reads one text per record, ids from the record or from the text's hash", () => {
    expect(driftTextFormat.rows({ text: "Once upon a time" })).toEqual([{ id: textId("Once upon a time"), prompt: "Once upon a time", category: "text", metadata: { chars: 16 } }]);
    expect(textId("Once upon a time")).toMatch(/^t-[0-9a-f]{16}$/);
    expect(textId("Once upon a time")).not.toBe(textId("Once upon a time."));
    const [row] = driftTextFormat.rows({ id: 7, text: "x", source: "wiki" }) as Array<Record<string, unknown>>;
    expect(row).toMatchObject({ id: 7, prompt: "x", source: "wiki" });
    expect(driftTextFormatFor("content").rows({ content: "c" })).toMatchObject([{ prompt: "c" }]);
  });

  it("refuses missing, empty and non-text texts, naming the field", () => {
    expect(driftTextFormat.rows({ body: "x" })).toEqual({ field: "text", message: 'required: the text to score (no "text" column)' });
    expect(driftTextFormat.rows({ text: "  \n" })).toMatchObject({ field: "text", message: expect.stringMatching(/empty text/) });
    expect(driftTextFormat.rows({ text: 3 })).toEqual({ field: "text", message: "must be text" });
    expect(driftTextFormatFor("content").rows({ text: "x" })).toMatchObject({ field: "content" });
  });

  it("loads JSONL and TXT text sets; an empty text is an error at its line", async () => {
    const dir = tempDir();
    const jsonl = join(dir, "in.jsonl");
    writeFileSync(jsonl, `${JSON.stringify({ text: "alpha beta" })}\n${JSON.stringify({ text: "gamma" })}\n`);
    const rows = await samples(jsonl);
    expect(rows.map((sample) => sample.conversation[0]!.content)).toEqual(["alpha beta", "gamma"]);
    expect(rows.map((sample) => sample.id)).toEqual([textId("alpha beta"), textId("gamma")]);
    const txt = join(dir, "ood.txt");
    writeFileSync(txt, "first line\n\nthird line\n");
    expect((await samples(txt)).map((sample) => [sample.id, sample.conversation[0]!.content])).toEqual([
      ["1", "first line"],
      ["3", "third line"],
    ]);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `${JSON.stringify({ text: "ok" })}\n${JSON.stringify({ text: "" })}\n`);
    await expect(samples(bad)).rejects.toThrow(/bad\.jsonl:2: text: empty text/);
  });
});
