import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeChunk, type DType } from "../../src/weights/dtypes.js";
import { SafetensorsWriter } from "../../src/weights/safetensors.js";

/** A tensor for a test file: its type, shape and values (rounded to the type). */
export interface TestTensor {
  dtype?: DType;
  shape: number[];
  values: number[] | Float32Array;
}

/** Writes a safetensors file holding these tensors, in this order. */
export function writeSafetensors(file: string, tensors: Record<string, TestTensor>, metadata: Record<string, string> = {}): string {
  const entries = Object.entries(tensors);
  const writer = new SafetensorsWriter(
    file,
    entries.map(([name, tensor]) => ({ name, dtype: tensor.dtype ?? "F32", shape: tensor.shape })),
    metadata,
  );
  for (const [, tensor] of entries) {
    const values = Float64Array.from(tensor.values);
    const dtype = tensor.dtype ?? "F32";
    const out = new ArrayBuffer(values.length * 4);
    encodeChunk(dtype, values, values.length, out);
    writer.write(new Uint8Array(out, 0, values.length * (dtype === "F32" ? 4 : 2)));
  }
  writer.close();
  return file;
}

/** Writes a sharded checkpoint into `folder`: one safetensors file per group, and model.safetensors.index.json. */
export function writeSharded(folder: string, shards: Array<Record<string, TestTensor>>): string {
  mkdirSync(folder, { recursive: true });
  const weightMap: Record<string, string> = {};
  shards.forEach((tensors, index) => {
    const name = `model-${String(index + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`;
    writeSafetensors(join(folder, name), tensors, { format: "pt" });
    for (const tensor of Object.keys(tensors)) weightMap[tensor] = name;
  });
  writeFileSync(join(folder, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2));
  return folder;
}
