import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// Checked before anything is called or written: no server is needed, and no run folder may appear.
function setUp(): { dir: string; args: string[] } {
  const dir = tempDir();
  const dataset = join(dir, "cases.jsonl");
  writeJsonl(dataset, [{ id: "a", prompt: "hello" }]);
  return { dir, args: ["run", "--dataset", dataset, "--models", "mock-target", "--base-url", "http://127.0.0.1:9/v1", "--run-id", "r", "--output-dir", dir, "--no-progress"] };
}

describe("a persona listed twice", () => {
  it("in --personas is refused with exit code 2, as a model listed twice is", async () => {
    const { dir, args } = setUp();
    const result = await runCli([...args, "--personas", "evil_confidant,helpful_assistant,evil_confidant"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('alignbench: persona "evil_confidant" is listed twice\n');
    expect(existsSync(join(dir, "r"))).toBe(false);
  });

  it("in a personas file is refused with exit code 2, naming the file, the line and the slug", async () => {
    const { dir, args } = setUp();
    const file = join(dir, "mine.jsonl");
    const persona = (title: string) => JSON.stringify({ slug: "pirate", title, intent: "i", system_prompt: "Arr." });
    writeFileSync(file, `${persona("one")}\n\n${persona("two")}\n`);
    const result = await runCli([...args, "--personas-file", file, "--personas", "pirate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`alignbench: ${file}:3: slug: duplicate slug "pirate" (first on line 1)\n`);
    expect(existsSync(join(dir, "r"))).toBe(false);
  });
});
