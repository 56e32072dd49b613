import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError, UserError } from "../errors.js";
import { readTextFileSync } from "../io/text-file.js";
import type { DType } from "./dtypes.js";
import { readGgufLayout } from "./gguf-tensors.js";
import { elementCount, readSafetensorsHeader } from "./safetensors.js";

/**
 * A checkpoint on disk, as the weight tools see it: its tensors (name, type, row-major shape, and where their
 * bytes are), never their values. A checkpoint is one safetensors file, a sharded set of them named by
 * `model.safetensors.index.json` (`{"weight_map": {"TENSOR": "SHARD FILE"}}`, as Hugging Face writes), or one
 * GGUF file; a folder is searched for those in that order.
 */
export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  count: number;
  file: string;
  offset: number;
  byteLength: number;
}

export interface Checkpoint {
  format: "safetensors" | "gguf";
  /** What the user named. */
  path: string;
  /** The folder holding the checkpoint's files when a folder (or an index) was named: its other files are copied beside a merge. */
  folder?: string;
  /** The weight files in order; every tensor of `files[i]` comes before those of `files[i + 1]`. */
  files: string[];
  /** The sharded set's index file, when there is one. */
  index?: string;
  /** In file order, then byte order within a file. */
  tensors: TensorEntry[];
  byName: Map<string, TensorEntry>;
  /** Per file: its safetensors `__metadata__`, or (GGUF) where its data section starts. */
  metadata: Map<string, Record<string, string>>;
  ggufDataStart?: number;
  totalBytes: number;
}

export const INDEX_FILE = "model.safetensors.index.json";

/** Opens what the user named: a .safetensors or .gguf file, an index file, or a folder holding one of them. */
export function openCheckpoint(path: string): Checkpoint {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new UserError(`${path}: no such file or folder`);
  if (statSync(absolute).isDirectory()) return openFolder(path, absolute);
  if (absolute.endsWith(".json")) return openIndex(path, absolute);
  if (absolute.endsWith(".gguf")) return openGguf(path, absolute);
  return openSafetensors(path, [absolute]);
}

function openFolder(path: string, folder: string): Checkpoint {
  const names = readdirSync(folder);
  if (names.includes(INDEX_FILE)) return { ...openIndex(path, join(folder, INDEX_FILE)), folder };
  if (names.includes("model.safetensors")) return { ...openSafetensors(path, [join(folder, "model.safetensors")]), folder };
  const indexes = names.filter((name) => name.endsWith(".safetensors.index.json"));
  if (indexes.length === 1) return { ...openIndex(path, join(folder, indexes[0]!)), folder };
  const single = names.filter((name) => name.endsWith(".safetensors"));
  if (single.length === 1) return { ...openSafetensors(path, [join(folder, single[0]!)]), folder };
  const gguf = names.filter((name) => name.endsWith(".gguf"));
  if (single.length === 0 && indexes.length === 0 && gguf.length === 1) return openGguf(path, join(folder, gguf[0]!));
  const found = [...indexes, ...single, ...gguf];
  throw new UserError(
    found.length === 0
      ? `${path}: no weights found: looked for ${INDEX_FILE}, model.safetensors, one *.safetensors or one *.gguf file`
      : `${path}: several checkpoints in one folder (${found.slice(0, 5).join(", ")}${found.length > 5 ? ", …" : ""}): name the file (or the index) to use`,
  );
}

function openIndex(path: string, index: string): Checkpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readTextFileSync(index, "safetensors index"));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError(index, undefined, undefined, `not JSON (${(error as Error).message})`);
  }
  const weightMap = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== "object" || weightMap === null || Array.isArray(weightMap))
    throw new InputError(index, undefined, "weight_map", "missing: a sharded checkpoint's index maps each tensor to its shard file");
  const byShard = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) throw new InputError(index, undefined, `weight_map.${tensor}`, "must be a shard file name in the same folder");
    byShard.set(shard, [...(byShard.get(shard) ?? []), tensor]);
  }
  const folder = dirname(index);
  const missing = [...byShard.keys()].filter((shard) => !existsSync(join(folder, shard)));
  if (missing.length > 0) {
    throw new InputError(
      index,
      undefined,
      undefined,
      `${missing.length} shard file${missing.length === 1 ? " is" : "s are"} missing from ${folder}: ${missing.map((shard) => `${shard} (${byShard.get(shard)!.length} tensors)`).join(", ")}`,
    );
  }
  const shards = [...byShard.keys()].sort();
  const checkpoint = openSafetensors(
    path,
    shards.map((shard) => join(folder, shard)),
  );
  // Every tensor the index names must be in the shard it names, and the shards hold nothing it does not name.
  for (const [shard, tensors] of byShard) {
    for (const tensor of tensors) {
      const entry = checkpoint.byName.get(tensor);
      if (!entry || basename(entry.file) !== shard) throw new InputError(index, undefined, `weight_map.${tensor}`, `names ${shard}, which does not hold that tensor`);
    }
  }
  const unnamed = checkpoint.tensors.filter((entry) => (weightMap as Record<string, unknown>)[entry.name] === undefined);
  if (unnamed.length > 0) throw new InputError(index, undefined, "weight_map", `does not name ${unnamed.length} tensor(s) the shards hold, e.g. ${unnamed[0]!.name} in ${basename(unnamed[0]!.file)}`);
  return { ...checkpoint, index, folder };
}

function openSafetensors(path: string, files: string[]): Checkpoint {
  const tensors: TensorEntry[] = [];
  const byName = new Map<string, TensorEntry>();
  const metadata = new Map<string, Record<string, string>>();
  for (const file of files) {
    const header = readSafetensorsHeader(file);
    metadata.set(file, header.metadata);
    for (const tensor of header.tensors) {
      const before = byName.get(tensor.name);
      if (before) throw new InputError(file, undefined, tensor.name, `also in ${before.file}: a tensor name must be in one shard only`);
      const entry = { ...tensor, count: elementCount(tensor.shape), file };
      tensors.push(entry);
      byName.set(tensor.name, entry);
    }
  }
  return { format: "safetensors", path, files, tensors, byName, metadata, totalBytes: tensors.reduce((sum, entry) => sum + entry.byteLength, 0) };
}

function openGguf(path: string, file: string): Checkpoint {
  const layout = readGgufLayout(file);
  const tensors = layout.tensors.map((tensor) => ({ ...tensor, count: elementCount(tensor.shape), file }));
  const byName = new Map(tensors.map((entry) => [entry.name, entry]));
  return { format: "gguf", path, files: [file], tensors, byName, metadata: new Map(), ggufDataStart: layout.dataStart, totalBytes: tensors.reduce((sum, entry) => sum + entry.byteLength, 0) };
}

/**
 * Checks that two checkpoints hold the same tensor names with the same shapes (types may differ). Every
 * difference is listed, up to 20 of each kind with the count of the rest.
 */
export function checkSameTensors(base: Checkpoint, other: Checkpoint, what: { base: string; other: string }): void {
  const onlyBase = base.tensors.filter((entry) => !other.byName.has(entry.name)).map((entry) => entry.name);
  const onlyOther = other.tensors.filter((entry) => !base.byName.has(entry.name)).map((entry) => entry.name);
  const shapes = base.tensors.flatMap((entry) => {
    const twin = other.byName.get(entry.name);
    return twin && twin.shape.join(",") !== entry.shape.join(",") ? [`${entry.name}: [${entry.shape.join(", ")}] in ${what.base}, [${twin.shape.join(", ")}] in ${what.other}`] : [];
  });
  if (onlyBase.length + onlyOther.length + shapes.length === 0) return;
  const list = (title: string, items: string[]) =>
    items.length === 0 ? [] : [`${title} (${items.length}):`, ...items.slice(0, 20).map((item) => `  ${item}`), ...(items.length > 20 ? [`  … and ${items.length - 20} more`] : [])];
  throw new UserError(
    [
      `${what.base} (${base.path}) and ${what.other} (${other.path}) do not hold the same tensors:`,
      ...list(`only in ${what.base}`, onlyBase),
      ...list(`only in ${what.other}`, onlyOther),
      ...list("different shapes", shapes),
    ].join("\n"),
  );
}
