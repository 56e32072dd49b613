// Runs the vitest suite and ends with a plain "N passed, N failed, N skipped" line that any CI log reader
// understands; exits with vitest's status.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "alignbench-vitest-"));
const report = join(dir, "report.json");
const vitest = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--reporter=default", "--reporter=json", `--outputFile=${report}`, ...process.argv.slice(2)], {
  stdio: "inherit",
});
let line = "no test report was written";
try {
  const results = JSON.parse(readFileSync(report, "utf8"));
  line = `${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests + results.numTodoTests} skipped`;
} catch {
  // vitest crashed before reporting; its own output says why
}
rmSync(dir, { recursive: true, force: true });
console.log(line);
process.exit(vitest.status ?? 1);
