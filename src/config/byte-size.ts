// Sizes in configs and flags: a number of bytes, or a number with a unit (KB, MB, GB; binary multiples, as
// `formatBytes` prints them), so `--max-row-bytes 50MB` reads as written.

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1 << 10, kb: 1 << 10, m: 1 << 20, mb: 1 << 20, g: 1 << 30, gb: 1 << 30 };

/** "10MB" → 10485760; undefined when the text is not a positive size. */
export function parseByteSize(text: string | number): number | undefined {
  if (typeof text === "number") return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

export const BYTE_SIZE_HINT = "a size in bytes, e.g. 10485760, 512KB, 50MB or 1GB";
