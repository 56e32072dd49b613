import { oneLine } from "../common/inert-text.js";
import type { FailureSummary } from "../runner/failures.js";

/**
 * The items still failed at the end of a run, for the terminal: each error type with its count and its first
 * few items (key and cause on one line), so a failure is seen with its reason, not only counted. Keys and
 * messages come from datasets and servers: they are printed escaped.
 */
export function renderFailures(failures: FailureSummary): string {
  if (failures.total === 0) return "";
  const lines = [`${failures.total} item${failures.total === 1 ? "" : "s"} failed:`];
  for (const entry of failures.types) {
    lines.push(`  ${oneLine(entry.type, 40)} × ${entry.count}`);
    for (const example of entry.examples) lines.push(`    ${oneLine(example.key, 80)}: ${oneLine(example.message)}`);
    const more = entry.count - entry.examples.length;
    if (more > 0) lines.push(`    … and ${more} more (run.log and results.csv list every one)`);
  }
  return lines.join("\n");
}
