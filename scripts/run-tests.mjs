// Runs the vitest suite and ends with a plain "N passed, N failed, N skipped" line that any CI log reader
// understands, after saying which test files had skipped tests and why (test/helpers/requirements.ts writes
// the reasons); exits with vitest's status.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "alignbench-vitest-"));
const report = join(dir, "report.json");
const skips = join(dir, "skips.jsonl");
const vitest = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--reporter=default", "--reporter=json", `--outputFile=${report}`, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, ALIGNBENCH_SKIP_REPORT: skips },
});
let line = "no test report was written";
try {
  const results = JSON.parse(readFileSync(report, "utf8"));
  const skipped = results.numPendingTests + results.numTodoTests;
  line = `${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
  if (skipped > 0) console.log(`\n${skippedGroups(results)}`);
} catch {
  // vitest crashed before reporting; its own output says why
}
rmSync(dir, { recursive: true, force: true });
console.log(line);
process.exit(vitest.status ?? 1);

/** The files with skipped tests, and every missing requirement a test file reported. */
function skippedGroups(results) {
  const files = results.testResults
    .map((file) => ({
      name: relative(process.cwd(), file.name),
      skipped: file.assertionResults.filter((test) => test.status === "pending" || test.status === "skipped" || test.status === "todo").length,
    }))
    .filter((file) => file.skipped > 0);
  const reasons = new Map();
  if (existsSync(skips)) {
    for (const entry of readFileSync(skips, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((text) => JSON.parse(text)))
      reasons.set(entry.requirement, entry.why);
  }
  const lines = ["skipped tests:", ...files.map((file) => `  ${file.name}: ${file.skipped}`)];
  lines.push(reasons.size > 0 ? "because:" : "because: the tests themselves are marked skip or todo");
  for (const why of reasons.values()) lines.push(`  - ${why}`);
  return lines.join("\n");
}
