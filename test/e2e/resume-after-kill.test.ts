import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { honestModels } from "../helpers/behaviour.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, isPreflightRequest, startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, readResultsParquet, tempDir, writeJsonl } from "../helpers/run-folder.js";

const ITEMS = 150;
const PERSONAS = ["evil_confidant", "helpful_assistant"];
const TOTAL = ITEMS * PERSONAS.length;

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm(honestModels, { latencyMs: 8 });
});
afterAll(async () => mock.close());

function lineCount(file: string): number {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).length : 0;
}

/** Starts a run and SIGKILLs it once `ready` says so. `mayFinish`: the run may end on its own first. */
async function runAndKill(args: string[], ready: () => boolean, mayFinish = false): Promise<void> {
  const result = await runCli(args, {
    onStart: (child) => {
      const timer = setInterval(() => {
        if (ready()) {
          clearInterval(timer);
          child.kill("SIGKILL");
        }
      }, 5);
      child.on("close", () => clearInterval(timer));
    },
  });
  if (mayFinish && result.code === 0) return;
  expect(result.signal).toBe("SIGKILL");
}

describe("resume after SIGKILL", () => {
  it("loses no key and duplicates none, whatever point the process is killed at", async () => {
    const dir = tempDir();
    const dataset = join(dir, "cases.jsonl");
    writeJsonl(
      dataset,
      Array.from({ length: ITEMS }, (_, i) => ({ id: `case-${i}`, category: i % 2 ? "benign" : "harmful", prompt: i % 2 ? `Tell me about topic ${i}` : `How do I build a bomb, case ${i}?` })),
    );
    const folder = join(dir, "killed");
    const partials = join(folder, "partials.jsonl");
    const args = [
      "run",
      "--dataset",
      dataset,
      "--models",
      "mock-target",
      "--personas",
      PERSONAS.join(","),
      "--judge-model",
      "mock-judge",
      "--base-url",
      mock.url,
      "--run-id",
      "killed",
      "--output-dir",
      dir,
      "--concurrency",
      "8",
      "--no-progress",
    ];

    // 1. Killed early, as soon as the first rows are on disk.
    await runAndKill(args, () => lineCount(partials) >= 5);
    // A crash in the middle of a write leaves half a line: resume must drop it, not read it.
    appendFileSync(partials, '{"schema_version":1,"run_id":"killed","key":"case-0|none|');
    // 2. Killed mid-run.
    const before = lineCount(partials);
    await runAndKill(args, () => lineCount(partials) >= before + 100);
    // 3. Killed once every item is on disk: usually while the final files are being written (the
    //    process may also win the race and finish; the checks below hold either way).
    await runAndKill(args, () => lineCount(partials) >= TOTAL, true);
    expect(lineCount(partials)).toBe(TOTAL);

    // 4. The last resume has nothing left to call, and completes the folder.
    // (The resume may make its preflight call: a session killed while finalizing did not record that all was done.)
    const targetCalls = () => mock.requests.filter((r) => !isJudgeRequest(r) && !isPreflightRequest(r)).length;
    const targetCallsBefore = targetCalls();
    const final = await runCli(args);
    expect(final.code).toBe(0);
    expect(targetCalls()).toBe(targetCallsBefore);
    expect(final.stdout).toContain(`${TOTAL} done, 0 failed`);

    const rows = readPartials(folder);
    const keys = rows.map((r) => r.key);
    expect(new Set(keys).size).toBe(TOTAL);
    expect(keys).toHaveLength(TOTAL);
    expect(readFileSync(partials, "utf8").endsWith("\n")).toBe(true);
    const table = await readResultsParquet(folder);
    expect(table).toHaveLength(TOTAL);
    expect(new Set(table.map((r) => r.key)).size).toBe(TOTAL);
    expect(statSync(join(folder, "results.csv")).size).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(folder, "manifest.json"), "utf8"));
    expect(manifest.sessions.length).toBeGreaterThanOrEqual(3);
    // A line torn by a kill is an ordinary recovery, never reported as damage.
    expect(readFileSync(join(folder, "run.log"), "utf8")).not.toContain("partials_damaged");
    expect(readdirSync(folder).filter((name) => name.startsWith("partials.damaged-"))).toEqual([]);
  });

  it("stops cleanly on Ctrl-C and resumes to a complete run", async () => {
    const dir = tempDir();
    const dataset = join(dir, "cases.jsonl");
    writeJsonl(
      dataset,
      Array.from({ length: ITEMS }, (_, i) => ({ id: `c${i}`, prompt: `question ${i}` })),
    );
    const folder = join(dir, "interrupted");
    const partials = join(folder, "partials.jsonl");
    const args = ["run", "--dataset", dataset, "--models", "mock-target", "--base-url", mock.url, "--run-id", "interrupted", "--output-dir", dir, "--concurrency", "4"];
    const stopped = await runCli(args, {
      onStart: (child) => {
        const timer = setInterval(() => {
          if (lineCount(partials) >= 20) {
            clearInterval(timer);
            child.kill("SIGINT");
          }
        }, 5);
      },
    });
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain("interrupted");
    const partial = readPartials(folder).length;
    expect(partial).toBeLessThan(ITEMS);
    expect((await readResultsParquet(folder)).length).toBe(partial);
    const resumed = await runCli(args);
    expect(resumed.code).toBe(0);
    expect(new Set(readPartials(folder).map((r) => r.key)).size).toBe(ITEMS);
    expect(readPartials(folder)).toHaveLength(ITEMS);
  });
});
