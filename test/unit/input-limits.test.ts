import type { Hash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDataset, streamSamples } from "../../src/datasets/dataset.js";
import { loadJsonlLabels } from "../../src/datasets/labels.js";
import { resolveRunConfig } from "../../src/config/load.js";
import { parseByteSize } from "../../src/config/byte-size.js";
import { ConfigError } from "../../src/config/config-error.js";
import { InputError, UserError } from "../../src/errors.js";
import { readLines } from "../../src/io/lines.js";
import { readTextFile } from "../../src/io/text-file.js";
import { findInvalidUtf8 } from "../../src/io/utf8.js";
import { loadPersonasFile } from "../../src/personas/load.js";
import { tempDir } from "../helpers/run-folder.js";

// Point 10 of issue 10: bytes that are not UTF-8, oversized rows, empty datasets and YAML alias bombs are the
// user's errors, each naming the file (and line), never replacement characters, a hang or an internal error.

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const LATIN1_E = Buffer.from([0xe9]); // "é" in Latin-1: not UTF-8 on its own
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const line = (value: unknown) => Buffer.from(`${JSON.stringify(value)}\n`);

function write(dir: string, name: string, ...parts: Array<string | Buffer>): string {
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part))));
  return file;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: Error) => e,
  );
  if (!error) throw new Error("expected it to fail");
  return error;
}

/** A stand-in for a hash that only counts the bytes the reader took from the file. */
function byteCounter(): { hash: Hash; read: () => number } {
  let read = 0;
  const update = (chunk: Buffer) => {
    read += chunk.length;
  };
  return { hash: { update } as unknown as Hash, read: () => read };
}

describe("the line reader", () => {
  it("names the line and byte of bytes that are not UTF-8, and drops a byte-order mark", async () => {
    const dir = tempDir();
    const file = write(dir, "a.txt", BOM, "one\ntwo\nthr", LATIN1_E, "e\n");
    const error = await failure(collect(readLines(file)));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(new RegExp(`^${file}:3: not valid UTF-8 \\(at byte 4 of the line\\)`));
    expect(await collect(readLines(write(dir, "b.txt", BOM, "héllo\nwörld")))).toEqual(["héllo", "wörld"]);
  });

  it("points at the first byte of the character that is not UTF-8", () => {
    const at = (...bytes: number[]) => findInvalidUtf8(Buffer.from(bytes));
    expect(at(0x61, 0x62, 0xe9, 0x65)).toEqual({ line: 1, column: 3 }); // a lead byte, then no continuation
    expect(at(0x61, 0x0a, 0x80, 0x61)).toEqual({ line: 2, column: 1 }); // a lone continuation byte
    expect(at(0x61, 0xed, 0xa0, 0x80, 0x61)).toEqual({ line: 1, column: 2 }); // a UTF-16 surrogate
    expect(at(0x61, 0xe2, 0x82)).toEqual({ line: 1, column: 2 }); // a character cut short by the end
    expect(at(0xe9, 0x0a)).toEqual({ line: 1, column: 1 }); // ... or by the end of its line
  });

  it("keeps a character cut by a chunk boundary whole, and counts lines across chunks", async () => {
    const dir = tempDir();
    const long = "x".repeat((1 << 20) - 1); // "é" (2 bytes) straddles the first 1 MB chunk's end
    const good = write(dir, "good.txt", long, "é\nnext\n");
    expect((await collect(readLines(good))).map((text) => text.slice(-2))).toEqual(["xé", "xt"]);
    const bad = write(dir, "bad.txt", long, "é\n", "a\n".repeat(1000), "b", LATIN1_E, "\n");
    expect((await failure(collect(readLines(bad)))).message).toContain(`${bad}:1002: not valid UTF-8 (at byte 2 of the line)`);
  });

  it("stops at a line over the limit without reading the rest of it", async () => {
    const dir = tempDir();
    const file = write(dir, "big.jsonl", "{}\n", "y".repeat(64 << 20), "\n{}\n");
    const counter = byteCounter();
    const error = await failure(collect(readLines(file, { maxLineBytes: 1 << 20, limitHint: "raise it", hash: counter.hash })));
    expect(error.message).toBe(`${file}:2: the line is longer than 1 MB (raise it)`);
    expect(counter.read()).toBeLessThan(8 << 20); // the 64 MB line was never read whole
    // A line exactly at the limit is fine; one byte more is not.
    const edge = write(dir, "edge.txt", "z".repeat(1000), "\n", "z".repeat(1001));
    expect(await collect(readLines(edge, { maxLineBytes: 1001 }))).toHaveLength(2);
    expect((await failure(collect(readLines(edge, { maxLineBytes: 1000 })))).message).toBe(`${edge}:2: the line is longer than 1000 bytes`);
  });
});

describe("datasets", () => {
  it("refuse bytes that are not UTF-8 in every text format, naming the file and line", async () => {
    const dir = tempDir();
    const cases: Array<[string, string]> = [
      [write(dir, "d.jsonl", line({ id: "a", prompt: "ok" }), '{"id":"b","prompt":"caf', LATIN1_E, '"}\n'), ":2:"],
      [write(dir, "d.csv", "id,prompt\n", "a,ok\n", "b,caf", LATIN1_E, "\n"), ":3:"],
      [write(dir, "d.txt", "fine\n", "caf", LATIN1_E, "\n"), ":2:"],
      [write(dir, "d.json", '[{"id":"a",\n"prompt":"caf', LATIN1_E, '"}]'), ":2:"],
    ];
    for (const [file, where] of cases) {
      for (const policy of ["stop", "skip"] as const) {
        const error = await failure(checkDataset(file, policy));
        expect(error).toBeInstanceOf(UserError);
        expect(error.message).toContain(`${file}${where} not valid UTF-8`);
      }
    }
  });

  it("read UTF-8 with a byte-order mark as if it had none", async () => {
    const dir = tempDir();
    for (const file of [write(dir, "b.jsonl", BOM, line({ id: "a", prompt: "héllo" })), write(dir, "b.csv", BOM, "id,prompt\na,héllo\n"), write(dir, "b.txt", BOM, "héllo\n")]) {
      const samples = await collect(streamSamples(await checkDataset(file, "stop")));
      expect(samples.map((sample) => sample.conversation[0]!.content)).toEqual(["héllo"]);
    }
  });

  it("with no test cases are an error, not an empty run", async () => {
    const dir = tempDir();
    for (const file of [write(dir, "empty.jsonl"), write(dir, "blank.jsonl", "\n  \n\n"), write(dir, "header.csv", "id,prompt\n"), write(dir, "empty.txt", "\n"), write(dir, "empty.json", "[]")]) {
      const error = await failure(checkDataset(file, "stop"));
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toBe(`${file}: has no test cases (no rows, or only blank lines)`);
    }
    const allBad = write(dir, "bad.jsonl", "{oops\n", line({ id: "x" }));
    const error = await failure(checkDataset(allBad, "skip"));
    expect(error.message).toContain(`${allBad}: has no test cases: all 2 rows are invalid (skipped by on_bad_row: skip)\n${allBad}:1: not valid JSON`);
  });

  it("refuse a row over the size limit, naming its line, in every format", async () => {
    const dir = tempDir();
    const big = "w".repeat(2000);
    const jsonl = write(dir, "r.jsonl", line({ id: "a", prompt: "ok" }), line({ id: "b", prompt: big }));
    const csv = write(dir, "r.csv", "id,prompt\n", "a,ok\n", `b,"${"v\n".repeat(1000)}"\n`); // one record of many short lines
    const txt = write(dir, "r.txt", "ok\n", big, "\n");
    const json = write(
      dir,
      "r.json",
      JSON.stringify([
        { id: "a", prompt: "ok" },
        { id: "b", prompt: big },
      ]),
    );
    const { parquetWriteFile } = await import("hyparquet-writer");
    const parquet = join(dir, "r.parquet");
    parquetWriteFile({
      filename: parquet,
      columnData: [
        { name: "id", data: ["a", "b"], type: "STRING" },
        { name: "prompt", data: ["ok", "é".repeat(600)], type: "STRING" }, // 600 characters, 1200 bytes
      ],
    });
    const hint = "(the row size limit: raise it with --max-row-bytes or max_row_bytes)";
    expect((await failure(checkDataset(jsonl, "skip", undefined, undefined, 1000))).message).toBe(`${jsonl}:2: the line is longer than 1000 bytes ${hint}`);
    expect((await failure(checkDataset(csv, "skip", undefined, undefined, 1000))).message).toMatch(new RegExp(`^${csv}:\\d+: the row is longer than 1000 bytes`));
    expect((await failure(checkDataset(txt, "skip", undefined, undefined, 1000))).message).toBe(`${txt}:2: the line is longer than 1000 bytes ${hint}`);
    expect((await failure(checkDataset(json, "skip", undefined, undefined, 1000))).message).toBe(`${json}:2: the element is larger than 1000 bytes ${hint}`);
    expect((await failure(checkDataset(parquet, "skip", undefined, undefined, 1000))).message).toBe(`${parquet}:2: the row is larger than 1000 bytes ${hint}`);
    // Under a higher limit the same files run, and the run pass reads with the limit the check used.
    for (const file of [jsonl, csv, txt, json, parquet]) {
      const check = await checkDataset(file, "stop", undefined, undefined, 1 << 20);
      expect(await collect(streamSamples(check))).toHaveLength(2);
    }
  });

  it("take the limit from max_row_bytes, in bytes or with a unit", () => {
    expect([parseByteSize("50MB"), parseByteSize("512 kb"), parseByteSize("1G"), parseByteSize(4096), parseByteSize("100")]).toEqual([50 << 20, 512 << 10, 1 << 30, 4096, 100]);
    expect([parseByteSize("ten"), parseByteSize("0"), parseByteSize(-1), parseByteSize("5 parsecs")]).toEqual([undefined, undefined, undefined, undefined]);
    const dir = tempDir();
    expect(resolveRunConfig(undefined, {}).max_row_bytes).toBe(10 << 20);
    expect(resolveRunConfig(write(dir, "c.yaml", "data:\n  max_row_bytes: 50MB\n"), {}).max_row_bytes).toBe(50 << 20);
    const bad = write(dir, "bad.yaml", "dataset: x.jsonl\nmax_row_bytes: lots\n");
    expect(() => resolveRunConfig(bad, {})).toThrow(`${bad}:2: max_row_bytes: expected a size in bytes`);
  });
});

/** "Billion laughs": nine levels of nine aliases, a billion strings if expanded. */
function aliasBomb(prefix = ""): string {
  const lines = [`${prefix}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
  const names = "abcdefghi";
  for (let index = 1; index < names.length; index++)
    lines.push(
      `${prefix}${names[index]}: &${names[index]} [${Array(9)
        .fill(`*${names[index - 1]}`)
        .join(",")}]`,
    );
  return `${lines.join("\n")}\n`;
}

describe("YAML and other text files", () => {
  it("refuse an alias bomb in a config file as a config error naming the file, at once", () => {
    const dir = tempDir();
    const file = write(dir, "bomb.yaml", "dataset: x.jsonl\n", "plan_options:\n", aliasBomb("  "));
    const started = performance.now();
    expect(() => resolveRunConfig(file, {})).toThrow(ConfigError);
    expect(() => resolveRunConfig(file, {})).toThrow(new RegExp(`^${file}: invalid YAML: its aliases \\(\\*name\\) expand too much`));
    expect(performance.now() - started).toBeLessThan(5000);
    // A few aliases, as people write them, are fine.
    const fine = write(dir, "fine.yaml", "generation: &g { temperature: 0.2 }\njudge:\n  options: *g\n");
    expect(resolveRunConfig(fine, {}).judge.options).toEqual({ temperature: 0.2 });
  });

  it("refuse an alias bomb and bad YAML in a personas file, naming the file", async () => {
    const dir = tempDir();
    const bomb = write(dir, "bomb.yaml", "personas:\n  - slug: x\n", aliasBomb());
    await expect(loadPersonasFile(bomb)).rejects.toThrow(new RegExp(`^${bomb}: invalid YAML: its aliases`));
    await expect(loadPersonasFile(bomb)).rejects.toBeInstanceOf(UserError);
    const twoDocuments = write(dir, "two.yaml", "- slug: a\n---\n- slug: b\n");
    await expect(loadPersonasFile(twoDocuments)).rejects.toThrow(new RegExp(`^${twoDocuments}:\\d+: invalid YAML`));
    // Nesting deep enough to overflow the parser's stack: an error with the file and line, not a crash.
    const deep = write(dir, "deep.yaml", `personas: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`);
    await expect(loadPersonasFile(deep)).rejects.toThrow(`${deep}:1: invalid YAML: Maximum call stack size exceeded`);
  });

  it("refuse bytes that are not UTF-8 in configs, personas, labels and prompts, naming the line", async () => {
    const dir = tempDir();
    const config = write(dir, "c.yaml", "dataset: x.jsonl\nrun_id: caf", LATIN1_E, "\n");
    expect(() => resolveRunConfig(config, {})).toThrow(`${config}:2: not valid UTF-8 (at byte 12 of the line)`);
    const personas = write(dir, "p.yaml", "- slug: a\n  title: caf", LATIN1_E, "\n");
    await expect(loadPersonasFile(personas)).rejects.toThrow(`${personas}:2: not valid UTF-8`);
    const labels = write(dir, "l.jsonl", line({ behavior: "b", generation: "g", label: 1 }), '{"behavior":"b","generation":"caf', LATIN1_E, '","label":0}\n');
    await expect(loadJsonlLabels(labels)).rejects.toThrow(`${labels}:2: not valid UTF-8`);
    const prompt = write(dir, "prompt.txt", BOM, "Judge {candidate_response}\n");
    expect(await readTextFile(prompt, "judge prompt")).toBe("Judge {candidate_response}\n");
    const utf16 = write(dir, "utf16.yaml", Buffer.from("\ufeffdataset: x\n", "utf16le"));
    expect(() => resolveRunConfig(utf16, {})).toThrow(`${utf16}:1: not valid UTF-8`);
  });
});
