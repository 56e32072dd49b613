import { UserError } from "../errors.js";

/**
 * Where a file's records are, for published files that wrap them (`{"data": {"items": [...]}}`, or JSONL rows
 * like `{"meta": …, "row": {"id": …, "prompt": …}}`): dot-separated keys, a segment of digits indexing an
 * array. In a `.json` file the path leads to the array of records; in JSONL it leads, in each line, to the
 * object holding that row's fields.
 */
export type RecordsPath = ReadonlyArray<string | number>;

export function parseRecordsPath(text: string): RecordsPath {
  const segments = text.split(".");
  if (text.trim() === "" || segments.some((segment) => segment === "")) {
    throw new UserError(`records path "${text}": expected dot-separated keys, e.g. data.items (no empty segment)`);
  }
  return segments.map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/** The value at `path`, or why there is none: the first segment that is missing and what holds it. */
export function valueAtPath(root: unknown, path: RecordsPath): { value: unknown } | { problem: string } {
  let node = root;
  for (let index = 0; index < path.length; index++) {
    const segment = path[index]!;
    const present = typeof segment === "number" ? Array.isArray(node) && segment < node.length : node !== null && typeof node === "object" && !Array.isArray(node) && Object.hasOwn(node, segment);
    if (!present) {
      const holder = index === 0 ? "the top level" : formatPath(path.slice(0, index));
      const keys = node !== null && typeof node === "object" && !Array.isArray(node) ? Object.keys(node) : [];
      const shown = keys.length > 0 ? ` (its keys: ${keys.slice(0, 8).join(", ")}${keys.length > 8 ? ", …" : ""})` : "";
      return { problem: `${formatPath(path.slice(0, index + 1))} not found: ${holder} is ${describe(node)}${shown}` };
    }
    node = (node as Record<string | number, unknown>)[segment];
  }
  return { value: node };
}

/** `data.items[2]`: the path as the error messages show it. */
export function formatPath(path: RecordsPath): string {
  let out = "";
  for (const segment of path) out += typeof segment === "number" ? `[${segment}]` : out ? `.${segment}` : segment;
  return out;
}

/** A field's full path in the file: `data.items[2].prompt` for a record at `data.items[2]`. */
export function fieldAt(recordAt: string | undefined, field: string | undefined): string | undefined {
  if (!recordAt) return field;
  if (!field) return recordAt;
  return field.startsWith("[") ? `${recordAt}${field}` : `${recordAt}.${field}`;
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return "text";
  return `a ${typeof value}`;
}
