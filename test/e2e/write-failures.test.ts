import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { needs } from "../helpers/requirements.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { honestModels } from "../helpers/behaviour.js";
import { BIN, runCli, type CliResult } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, readResultsParquet, tempDir, writeJsonl } from "../helpers/run-folder.js";

const ITEMS = 60;
const PERSONAS = ["evil_confidant", "helpful_assistant"];
const TOTAL = ITEMS * PERSONAS.length;
const onLinux = needs("linux");

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm(honestModels);
});
afterAll(async () => mock.close());

function setUp(runId: string): { dir: string; folder: string; args: string[] } {
  const dir = tempDir();
  const dataset = join(dir, "cases.jsonl");
  writeJsonl(
    dataset,
    Array.from({ length: ITEMS }, (_, i) => ({ id: `case-${i}`, prompt: i % 2 ? `Tell me about topic ${i}` : `How do I build a bomb, case ${i}?` })),
  );
  const args = ["run", "--dataset", dataset, "--models", "mock-target", "--personas", PERSONAS.join(","), "--judge-model", "mock-judge"];
  args.push("--base-url", mock.url, "--run-id", runId, "--output-dir", dir, "--concurrency", "4", "--no-progress");
  return { dir, folder: join(dir, runId), args };
}

/** The CLI under a file-size limit (`ulimit -f`, in 512-byte blocks): a write past it fails with EFBIG, as a full disk fails one with ENOSPC. */
function runWithFileSizeLimit(blocks: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", `ulimit -f ${blocks} && exec "$0" "$@"`, process.execPath, BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function logEvents(folder: string): Array<{ event: string; file?: string | null; error?: string }> {
  return readFileSync(join(folder, "run.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string });
}

/** The run is complete: every key once in results.parquet, and the rows saved before the failure unchanged. */
async function expectComplete(folder: string, before: string[]): Promise<void> {
  const table = await readResultsParquet(folder);
  expect(table).toHaveLength(TOTAL);
  expect(new Set(table.map((row) => row.key)).size).toBe(TOTAL);
  const lines = readFileSync(join(folder, "partials.jsonl"), "utf8").split("\n");
  expect(lines.slice(0, before.length)).toEqual(before);
  expect(new Set(readPartials(folder).map((row) => row.key)).size).toBe(TOTAL);
  expect(readPartials(folder)).toHaveLength(TOTAL);
}

describe("a disk that refuses writes", () => {
  it.skipIf(!onLinux)("stops with exit code 4 when a file hits the size limit mid-run, keeps the rows before, and resumes to a complete run", async () => {
    const { folder, args } = setUp("limited");
    const stopped = await runWithFileSizeLimit(128, args);
    expect(stopped.code, stopped.stderr).toBe(4);
    // Which file reaches the limit first (the rows or the state store's log) depends on timing: either is named.
    expect(stopped.stderr).toMatch(new RegExp(`cannot write ${folder}/(partials\\.jsonl|state\\.sqlite|manifest\\.json|results\\.parquet|results\\.csv|summary\\.json): (EFBIG|SQLITE_\\w+)`));
    expect(stopped.stderr).toContain("rows finished before the failure are kept");
    expect(stopped.stderr).toContain("then resume: alignbench run … --run-id limited");
    expect(stopped.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(logEvents(folder).some((event) => event.event === "write_failed")).toBe(true);
    expect(readdirSync(folder).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    // Every row saved before the failure is whole (a half-written batch is cut off again).
    const before = readPartials(folder);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(TOTAL);
    const saved = readFileSync(join(folder, "partials.jsonl"), "utf8").split("\n").filter(Boolean);

    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    await expectComplete(folder, saved);
  });

  // (ENOSPC itself is tested in test/unit/write-failures.test.ts through /dev/full; a run folder cannot hold a
  // link to it, because a session refuses links, as this test checks.)
  it("refuses to resume a run folder whose partials.jsonl is a symbolic link, and writes nothing through it", async () => {
    const { folder, args } = setUp("linked");
    mkdirSync(folder);
    const outside = join(folder, "..", "elsewhere.txt");
    writeFileSync(outside, "not alignbench's\n");
    symlinkSync(outside, join(folder, "partials.jsonl"));
    const refused = await runCli(args);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`${join(folder, "partials.jsonl")} is a symbolic link`);
    expect(readFileSync(outside, "utf8")).toBe("not alignbench's\n");
    expect(existsSync(join(folder, "run.log"))).toBe(false);
  });
});
