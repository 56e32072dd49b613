import type { Manifest } from "./manifest.js";

/**
 * Everything that can change a run's scores, flattened to one value per setting (`model[gpt-4.1].temperature`,
 * `scorer[verdict].prompt_sha256`…), so two runs' pins compare key by key and every difference can be listed:
 * none is lost in a nested object that differs as a whole. Texts (prompts, templates, schemas) are pinned by
 * their sha256; everything else by its value.
 */
export type RunPins = Record<string, string | number | boolean | null>;

/** One setting whose value differs between two runs (absent on one side: null there, `missing` says which). */
export interface PinDifference {
  key: string;
  a: string | number | boolean | null;
  b: string | number | boolean | null;
  /** The side that does not pin this setting at all (an older run, another model, a scorer one run lacks). */
  missing?: "a" | "b";
}

/** What a comparison of two runs' settings found: the differences, or why there are none to list. */
export interface PinComparison {
  /** Whether both runs pin their settings (folders written before pins existed do not). */
  comparable: boolean;
  differences: PinDifference[];
  /** A run without pins, when one lacks them. */
  unpinned: Array<"a" | "b">;
}

/** Every key whose value differs between two runs' pins, in key order. */
export function diffPins(a: RunPins, b: RunPins): PinDifference[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: PinDifference[] = [];
  for (const key of keys) {
    const inA = Object.hasOwn(a, key);
    const inB = Object.hasOwn(b, key);
    const left = inA ? a[key]! : null;
    const right = inB ? b[key]! : null;
    if (inA && inB && left === right) continue;
    out.push({ key, a: left, b: right, ...(inA ? {} : { missing: "a" as const }), ...(inB ? {} : { missing: "b" as const }) });
  }
  return out;
}

/** The pins of two runs' manifests, compared; a run written before pins existed is named, never silently equal. */
export function comparePins(a: Pick<Manifest, "pins"> | undefined, b: Pick<Manifest, "pins"> | undefined): PinComparison {
  const unpinned = [...(a?.pins ? [] : ["a" as const]), ...(b?.pins ? [] : ["b" as const])];
  if (!a?.pins || !b?.pins) return { comparable: false, differences: [], unpinned };
  return { comparable: true, differences: diffPins(a.pins, b.pins), unpinned };
}

/** A pinned value as shown: hashes shortened to 12 hex digits, texts quoted, absence said. */
export function shownPin(value: string | number | boolean | null, missing: boolean): string {
  if (missing) return "(not set)";
  if (value === null) return "null";
  if (typeof value === "string") return /^[0-9a-f]{64}$/.test(value) ? `${value.slice(0, 12)}…` : JSON.stringify(value);
  return String(value);
}

/** One line per difference: `key: A → B`. */
export function pinDifferenceLines(comparison: PinComparison, labels: { a: string; b: string } = { a: "A", b: "B" }): string[] {
  if (!comparison.comparable) {
    const which = comparison.unpinned.map((side) => labels[side]).join(" and ");
    return [`${which} ${comparison.unpinned.length > 1 ? "were" : "was"} written by an alignbench without pinned settings: differences cannot be listed`];
  }
  return comparison.differences.map((entry) => `${entry.key}: ${shownPin(entry.a, entry.missing === "a")} → ${shownPin(entry.b, entry.missing === "b")}`);
}

/** The warning (or, with --strict, the error) when two runs were not produced the same way. */
export function pinWarning(comparison: PinComparison): string | undefined {
  if (!comparison.comparable) return "the runs' settings cannot be checked: one was written before settings were pinned";
  const count = comparison.differences.length;
  if (count === 0) return undefined;
  return `the runs differ in ${count} setting${count > 1 ? "s" : ""} that can change scores: a difference in scores may come from ${count > 1 ? "them" : "it"}, not from the models`;
}
