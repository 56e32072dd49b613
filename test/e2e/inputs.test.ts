import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { honestModels } from "../helpers/behaviour.js";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir } from "../helpers/run-folder.js";

// Odd bytes, oversized rows, empty datasets and YAML alias bombs, through the CLI: exit 2, a message naming
// the file (and line), no stack trace, and no model called.

let mock: MockLlm;
beforeAll(async () => {
  mock = await startMockLlm(honestModels);
});
afterAll(async () => mock.close());

const LATIN1_E = Buffer.from([0xe9]);

function write(dir: string, name: string, ...parts: Array<string | Buffer>): string {
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part))));
  return file;
}

async function refused(args: string[], message: string): Promise<void> {
  const dir = tempDir();
  const before = mock.requests.length;
  const result = await runCli([...args, "--models", "m", "--base-url", mock.url, "--output-dir", dir, "--run-id", "r"]);
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user mistake
  expect(mock.requests.length).toBe(before);
  expect(existsSync(join(dir, "r"))).toBe(false); // refused before a run folder was made
}

describe("input limits and odd bytes, from the CLI", () => {
  it("refuses a dataset that is not UTF-8, naming the file and line", async () => {
    const dir = tempDir();
    const dataset = write(dir, "latin1.jsonl", '{"id":"a","prompt":"ok"}\n', '{"id":"b","prompt":"caf', LATIN1_E, '"}\n');
    await refused(["run", "--dataset", dataset], `${dataset}:2: not valid UTF-8 (at byte 24 of the line)`);
    const csv = write(dir, "latin1.csv", "id,prompt\nb,caf", LATIN1_E, "\n");
    await refused(["run", "--dataset", csv, "--on-bad-row", "skip"], `${csv}:2: not valid UTF-8`);
  });

  it("refuses a dataset with no test cases", async () => {
    const dir = tempDir();
    const blank = write(dir, "blank.jsonl", "\n\n");
    await refused(["run", "--dataset", blank], `${blank}: has no test cases (no rows, or only blank lines)`);
    const allBad = write(dir, "bad.jsonl", "{oops\n");
    await refused(["run", "--dataset", allBad, "--on-bad-row", "skip"], `${allBad}: has no test cases: all 1 row is invalid`);
  });

  it("refuses a row over --max-row-bytes (or max_row_bytes), naming its line, and runs it under a higher limit", async () => {
    const dir = tempDir();
    const dataset = write(dir, "long.jsonl", '{"id":"a","prompt":"ok"}\n', JSON.stringify({ id: "b", prompt: "x".repeat(3000) }), "\n");
    await refused(["run", "--dataset", dataset, "--max-row-bytes", "2KB"], `${dataset}:2: the line is longer than 2 KB (the row size limit: raise it with --max-row-bytes or max_row_bytes)`);
    const config = write(dir, "c.yaml", `dataset: long.jsonl\ndata:\n  max_row_bytes: 1000\n`);
    await refused(["run", config], `${dataset}:2: the line is longer than 1000 bytes`);
    await refused(["run", "--dataset", dataset, "--max-row-bytes", "lots"], "--max-row-bytes <size>' argument 'lots' is invalid. must be a size in bytes");
    const result = await runCli(["run", "--dataset", dataset, "--max-row-bytes", "4KB", "--models", "m", "--base-url", mock.url, "--output-dir", dir, "--run-id", "ok", "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("2 done, 0 failed");
  });

  it("refuses a YAML alias bomb in a config or personas file at once, naming the file", async () => {
    const dir = tempDir();
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const name of "bcdefghi")
      bomb.push(
        `${name}: &${name} [${Array(9)
          .fill(`*${String.fromCharCode(name.charCodeAt(0) - 1)}`)
          .join(",")}]`,
      );
    const dataset = write(dir, "d.jsonl", '{"id":"a","prompt":"ok"}\n');
    const config = write(dir, "bomb.yaml", `dataset: d.jsonl\nplan_options:\n${bomb.map((line) => `  ${line}`).join("\n")}\n`);
    const started = performance.now();
    await refused(["run", config], `${config}: invalid YAML: its aliases (*name) expand too much`);
    expect(performance.now() - started).toBeLessThan(20_000);
    const personas = write(dir, "personas.yaml", `${bomb.join("\n")}\npersonas: []\n`);
    await refused(["run", "--dataset", dataset, "--personas-file", personas], `${personas}: invalid YAML: its aliases (*name) expand too much`);
  });
});
