import { createHash } from "node:crypto";

/**
 * JSON with every object's keys in sorted order, so equal values always give equal text whatever order they
 * were built in: the basis of deterministic hashes (pins, cache keys). Undefined members are left out, as
 * JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object" && !ArrayBuffer.isView(value)) {
    const source = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(source)
        .filter((key) => source[key] !== undefined)
        .sort()
        .map((key) => [key, sortKeys(source[key])]),
    );
  }
  return value;
}

/** The sha256 (hex) of a text, or of a value's canonical JSON. */
export function sha256Of(value: unknown): string {
  return createHash("sha256")
    .update(typeof value === "string" ? value : canonicalJson(value))
    .digest("hex");
}
