import { readFileSync, writeFileSync, mkdirSync, rmSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openCheckpoint } from "../../src/weights/checkpoint.js";
import { readSafetensorsHeader } from "../../src/weights/safetensors.js";
import { TensorReader } from "../../src/weights/tensor-reader.js";
import { tempDir } from "../helpers/run-folder.js";
import { writeSafetensors, writeSharded, type TestTensor } from "../helpers/safetensors-files.js";

// The safetensors reader against files in the published layout written by an independent script
// (test/fixtures/weights/make-published.py, numpy), the writer's output against that layout, sharded
// checkpoints, and the errors for damaged or unsupported files.

const FIXTURES = fileURLToPath(new URL("../fixtures/weights/", import.meta.url));
const expected = JSON.parse(readFileSync(join(FIXTURES, "published-expected.json"), "utf8")) as Record<string, { values_base: number[] }>;

function values(path: string, name: string): number[] {
  const checkpoint = openCheckpoint(path);
  const entry = checkpoint.byName.get(name)!;
  const reader = new TensorReader(4);
  const out: number[] = [];
  for (let start = 0; start < entry.count; start += 4) out.push(...reader.read(entry, start, Math.min(4, entry.count - start)));
  reader.close();
  return out;
}

describe("reading the published layout", () => {
  it("reads names, types, shapes, metadata and values of a file written by the reference layout", () => {
    const header = readSafetensorsHeader(join(FIXTURES, "published-base.safetensors"));
    expect(header.metadata).toEqual({ format: "pt" });
    expect(header.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ["a", "F32", [2, 3]],
      ["b", "F16", [4]],
      ["c", "BF16", [2, 2]],
    ]);
    // 8 bytes of length + a 208-byte header (padded with spaces): the data starts at 216.
    expect(header.tensors[0]!.offset).toBe(216);
    for (const name of ["a", "b", "c"]) expect(values(join(FIXTURES, "published-base.safetensors"), name)).toEqual(expected[name]!.values_base);
  });

  it("writes that layout: length, space-padded JSON header, data_offsets from 0, bytes back to back", () => {
    const file = writeSafetensors(join(tempDir(), "w.safetensors"), { x: { shape: [2], values: [1.5, -2] }, y: { dtype: "BF16", shape: [1, 2], values: [1, 3] } }, { format: "pt" });
    const bytes = readFileSync(file);
    const length = Number(bytes.readBigUInt64LE(0));
    expect(length % 8).toBe(0);
    const text = bytes.subarray(8, 8 + length).toString("utf8");
    expect(text.trimEnd().length).toBeLessThan(length + 1);
    expect(JSON.parse(text)).toEqual({
      __metadata__: { format: "pt" },
      x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      y: { dtype: "BF16", shape: [1, 2], data_offsets: [8, 12] },
    });
    const data = bytes.subarray(8 + length);
    expect([data.readFloatLE(0), data.readFloatLE(4), data.readUInt16LE(8), data.readUInt16LE(10)]).toEqual([1.5, -2, 0x3f80, 0x4040]);
  });
});

describe("sharded checkpoints", () => {
  const shards: Array<Record<string, TestTensor>> = [
    { "model.layers.0.w": { shape: [3], values: [1, 2, 3] } },
    { "model.layers.1.w": { dtype: "F16" as const, shape: [2], values: [4, 5] }, "lm_head.weight": { shape: [1], values: [6] } },
  ];

  it("opens the folder through model.safetensors.index.json, every tensor from its shard", () => {
    const folder = writeSharded(tempDir(), shards);
    const checkpoint = openCheckpoint(folder);
    expect(checkpoint.files).toHaveLength(2);
    expect(checkpoint.tensors.map((t) => t.name).sort()).toEqual(["lm_head.weight", "model.layers.0.w", "model.layers.1.w"]);
    expect(values(folder, "model.layers.1.w")).toEqual([4, 5]);
    expect(values(join(folder, "model.safetensors.index.json"), "lm_head.weight")).toEqual([6]);
  });

  it("a missing shard is named with the count of tensors it should hold", () => {
    const folder = writeSharded(tempDir(), shards);
    rmSync(join(folder, "model-00002-of-00002.safetensors"));
    expect(() => openCheckpoint(folder)).toThrow(/1 shard file is missing from .*: model-00002-of-00002\.safetensors \(2 tensors\)/);
  });

  it("an index naming the wrong shard for a tensor is refused", () => {
    const folder = writeSharded(tempDir(), shards);
    const index = join(folder, "model.safetensors.index.json");
    const parsed = JSON.parse(readFileSync(index, "utf8"));
    parsed.weight_map["lm_head.weight"] = "model-00001-of-00002.safetensors";
    writeFileSync(index, JSON.stringify(parsed));
    expect(() => openCheckpoint(folder)).toThrow(/weight_map\.lm_head\.weight: names model-00001-of-00002\.safetensors, which does not hold that tensor/);
  });
});

describe("damaged and unsupported files", () => {
  const folder = tempDir();
  const header = (json: unknown, data = 0) => {
    const text = Buffer.from(JSON.stringify(json));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    return Buffer.concat([length, text, Buffer.alloc(data)]);
  };

  it("an unsupported dtype is named", () => {
    const file = join(folder, "i8.safetensors");
    writeFileSync(file, header({ ids: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, 16));
    expect(() => readSafetensorsHeader(file)).toThrow(/i8\.safetensors: ids: dtype I64 is not supported: the weight tools read F32, F16 and BF16 tensors/);
  });

  it("a file cut short inside its data names the tensor", () => {
    const file = writeSafetensors(join(folder, "cut.safetensors"), { a: { shape: [4], values: [1, 2, 3, 4] }, b: { shape: [4], values: [1, 2, 3, 4] } });
    truncateSync(file, readFileSync(file).length - 4);
    expect(() => readSafetensorsHeader(file)).toThrow(/cut\.safetensors: b: data_offsets end at byte 32 of the data, past the file's end \(28 bytes of data\)/);
  });

  it("a header length beyond the file, a non-JSON header, a wrong byte count and overlapping tensors are refused", () => {
    const long = join(folder, "long.safetensors");
    writeFileSync(long, Buffer.concat([Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0]), Buffer.from("{}")]));
    expect(() => readSafetensorsHeader(long)).toThrow(/header length 65535 is larger than the file/);
    const garbage = join(folder, "garbage.safetensors");
    writeFileSync(garbage, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{{{{")]));
    expect(() => readSafetensorsHeader(garbage)).toThrow(/its header is not JSON/);
    const count = join(folder, "count.safetensors");
    writeFileSync(count, header({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8));
    expect(() => readSafetensorsHeader(count)).toThrow(/a: data_offsets \[0, 8\] hold 8 bytes, but F32 of shape \[3\] takes 12/);
    const overlap = join(folder, "overlap.safetensors");
    writeFileSync(overlap, header({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, 12));
    expect(() => readSafetensorsHeader(overlap)).toThrow(/b: its bytes overlap those of a/);
  });

  it("a folder with no weights, or several checkpoints, says what it looked for", () => {
    const empty = join(folder, "empty");
    mkdirSync(empty);
    expect(() => openCheckpoint(empty)).toThrow(/no weights found: looked for model\.safetensors\.index\.json, model\.safetensors, one \*\.safetensors or one \*\.gguf file/);
    writeSafetensors(join(empty, "one.safetensors"), { a: { shape: [1], values: [1] } });
    writeSafetensors(join(empty, "two.safetensors"), { a: { shape: [1], values: [1] } });
    expect(() => openCheckpoint(empty)).toThrow(/several checkpoints in one folder \(one\.safetensors, two\.safetensors\)/);
  });
});
