import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { honestModels } from "../helpers/behaviour.js";
import { runCli } from "../helpers/cli.js";
import { isJudgeRequest, startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { readPartials, readResultsParquet, tempDir, writeJsonl } from "../helpers/run-folder.js";

const ITEMS = 20;

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm(honestModels);
});
afterAll(async () => mock.close());

/** A finished run of ITEMS items (one key each), and the arguments that resume it. */
async function finishedRun(runId: string): Promise<{ dir: string; folder: string; args: string[] }> {
  const dir = tempDir();
  const dataset = join(dir, "cases.jsonl");
  writeJsonl(
    dataset,
    Array.from({ length: ITEMS }, (_, i) => ({ id: `case-${i}`, prompt: i % 2 ? `Tell me about topic ${i}` : `How do I build a bomb, case ${i}?` })),
  );
  const args = ["run", "--dataset", dataset, "--models", "mock-target", "--judge-model", "mock-judge", "--base-url", mock.url];
  args.push("--run-id", runId, "--output-dir", dir, "--concurrency", "4", "--no-progress");
  const first = await runCli(args);
  expect(first.code, first.stderr).toBe(0);
  return { dir, folder: join(dir, runId), args };
}

/** The key on line `line` (1-based) of partials.jsonl. */
function keyOnLine(folder: string, line: number): string {
  return (JSON.parse(readFileSync(join(folder, "partials.jsonl"), "utf8").split("\n")[line - 1]!) as { key: string }).key;
}

/** Overwrites bytes in the middle of line `line`, in place (a bad sector, a stray write): the line no longer parses. */
function damageLine(folder: string, line: number): Buffer {
  const file = join(folder, "partials.jsonl");
  const bytes = readFileSync(file);
  let start = 0;
  for (let index = 1; index < line; index++) start = bytes.indexOf(10, start) + 1;
  Buffer.from('\u0000"}{\u0000').copy(bytes, start + 60);
  writeFileSync(file, bytes);
  return bytes;
}

function targetCallsFor(key: string): number {
  const id = key.split("|")[0]!;
  return mock.requests.filter((request) => !isJudgeRequest(request) && new RegExp(`\\b${id.split("-")[1]}\\?$|topic ${id.split("-")[1]}$`).test(request.text)).length;
}

function logged(folder: string, event: string): Array<Record<string, unknown>> {
  return readFileSync(join(folder, "run.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.event === event);
}

/** Every key exactly once, in the rows and in results.parquet. */
async function expectEveryKeyOnce(folder: string): Promise<void> {
  const table = await readResultsParquet(folder);
  expect(table).toHaveLength(ITEMS);
  expect(new Set(table.map((row) => row.key)).size).toBe(ITEMS);
  const keys = readPartials(folder).map((row) => row.key);
  expect(new Set(keys).size).toBe(ITEMS);
  expect(keys).toHaveLength(ITEMS);
}

describe("damage inside partials.jsonl", () => {
  it("a middle line that no longer parses is named on resume, kept aside, and its key runs again", async () => {
    const { folder, args } = await finishedRun("broken-line");
    const key = keyOnLine(folder, 7);
    const damaged = damageLine(folder, 7);
    const callsBefore = targetCallsFor(key);

    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("partials.jsonl is damaged: 1 line(s) cannot be trusted:\n  line 7: not valid JSON");
    expect(resumed.stderr).toContain(`1 key(s) run again now: ${JSON.stringify(key)}`);
    expect(resumed.stderr).not.toContain("\u0000");
    expect(logged(folder, "partials_damaged")).toEqual([expect.objectContaining({ line: 7, problem: expect.stringMatching(/^not valid JSON/) })]);
    expect(logged(folder, "partials_repaired")).toEqual([expect.objectContaining({ rerun: [key] })]);
    // The damaged file is kept as it was, for inspection.
    const copies = readdirSync(folder).filter((name) => /^partials\.damaged-.*\.jsonl$/.test(name));
    expect(copies).toHaveLength(1);
    expect(readFileSync(join(folder, copies[0]!))).toEqual(damaged);
    expect(targetCallsFor(key)).toBe(callsBefore + 1);
    await expectEveryKeyOnce(folder);
    expect(resumed.stdout).toContain(`${ITEMS} done, 0 failed`);

    // Repaired once: the next resume finds nothing and calls nothing.
    const calls = mock.requests.length;
    const again = await runCli(args);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("damaged");
    expect(mock.requests.length).toBe(calls);
  });

  it("a row whose key or offset disagrees with state.sqlite is named, and those keys run again", async () => {
    const { folder, args } = await finishedRun("disagree");
    const renamed = keyOnLine(folder, 4);
    const shifted = keyOnLine(folder, 12);
    const db = new Database(join(folder, "state.sqlite"));
    db.prepare("UPDATE items SET key = ? WHERE key = ?").run(`${renamed}-edited`, renamed);
    db.prepare("UPDATE items SET row_offset = row_offset + 3 WHERE key = ?").run(shifted);
    db.close();
    const before = [targetCallsFor(renamed), targetCallsFor(shifted)];

    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`line 4: state.sqlite expects ${JSON.stringify(`${renamed}-edited`)} here, the row is ${JSON.stringify(renamed)}`);
    expect(resumed.stderr).toMatch(new RegExp(`line 12: state\\.sqlite places the row of ${JSON.stringify(shifted).replace(/\|/g, "\\|")} at byte \\d+, which is not the start of a row`));
    expect(logged(folder, "partials_damaged").map((entry) => entry.line)).toEqual(expect.arrayContaining([4, 12]));
    expect([targetCallsFor(renamed), targetCallsFor(shifted)]).toEqual([before[0]! + 1, before[1]! + 1]);
    await expectEveryKeyOnce(folder);
  });

  it("rejudge finds it too, says how to run the key again, and the next resume does", async () => {
    const { dir, folder, args } = await finishedRun("rejudged");
    const key = keyOnLine(folder, 3);
    damageLine(folder, 3);

    const rejudged = await runCli(["rejudge", "rejudged", "--output-dir", dir]);
    expect(rejudged.code, rejudged.stderr).toBe(0);
    expect(rejudged.stderr).toContain("line 3: not valid JSON");
    expect(rejudged.stderr).toContain(`1 key(s) run again when the run is resumed (alignbench run … --run-id rejudged): ${JSON.stringify(key)}`);
    expect((await readResultsParquet(folder)).map((row) => row.key)).not.toContain(key);

    const callsBefore = targetCallsFor(key);
    const resumed = await runCli(args);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(targetCallsFor(key)).toBe(callsBefore + 1);
    const table = await readResultsParquet(folder);
    expect(table).toHaveLength(ITEMS);
    expect(new Set(table.map((row) => row.key)).size).toBe(ITEMS);
  });
});
