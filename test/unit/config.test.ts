import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { resolveRunConfig } from "../../src/config/load.js";
import { configFileSchema } from "../../src/config/file-schema.js";
import { tempDir } from "../helpers/run-folder.js";

describe("run config", () => {
  it("takes the YAML file, resolves its paths next to it, and lets flags override it", () => {
    const dir = tempDir();
    const file = join(dir, "suite.yaml");
    writeFileSync(
      file,
      "dataset: data/cases.jsonl\nmodels: [gpt-4.1, 'google:gemini-2.0-flash']\nconcurrency: 4\njudge_model: gpt-5-mini\njudge:\n  repair_attempts: 1\ngeneration:\n  temperature: 0.2\n",
    );
    const config = resolveRunConfig(file, { concurrency: 16, judge: { schema_file: "/abs/schema.json" } });
    expect(config.dataset).toBe(join(dir, "data/cases.jsonl"));
    expect(config.models).toEqual(["gpt-4.1", "google:gemini-2.0-flash"]);
    expect(config.concurrency).toBe(16);
    expect(config.judge).toMatchObject({ repair_attempts: 1, schema_file: "/abs/schema.json", structured_output: "json_schema" });
    expect(config.generation).toEqual({ temperature: 0.2 });
    expect(config).toMatchObject({ epochs: 1, retries: 3, output_dir: "results", on_bad_row: "stop" });
  });

  it("rejects unknown keys with the file, line and nearest valid key", () => {
    const dir = tempDir();
    const file = join(dir, "suite.yaml");
    writeFileSync(file, "dataset: x.jsonl\nmodels: m\nconcurency: 4\njudge:\n  repair_attemps: 2\n");
    expect(() => resolveRunConfig(file, {})).toThrow(`${file}:3: concurency: unknown key (did you mean "concurrency"?)`);
    expect(() => resolveRunConfig(file, {})).toThrow(`${file}:5: judge.repair_attemps: unknown key (did you mean "repair_attempts"?)`);
  });

  it("reports bad values with their line, and bad flags by flag name", () => {
    const dir = tempDir();
    const file = join(dir, "suite.yaml");
    writeFileSync(file, "models: m\nepochs: 0\non_bad_row: ignore\n");
    expect(() => resolveRunConfig(file, {})).toThrow(new RegExp(`${file}:2: epochs: .*`));
    expect(() => resolveRunConfig(file, {})).toThrow(new RegExp(`${file}:3: on_bad_row: .*"stop"`));
    expect(() => resolveRunConfig(undefined, { run_id: "bad id/../x" })).toThrow(/--run-id: use letters/);
  });

  it("reports invalid YAML with its line", () => {
    const dir = tempDir();
    const file = join(dir, "broken.yaml");
    writeFileSync(file, "models: [a, b\nconcurrency: 3\n");
    expect(() => resolveRunConfig(file, {})).toThrow(new RegExp(`${file}:\\d+: invalid YAML`));
  });

  it("publishes a JSON Schema that matches the config schema", () => {
    const published = JSON.parse(readFileSync(new URL("../../schema/alignbench.config.schema.json", import.meta.url), "utf8"));
    const generated = JSON.parse(JSON.stringify(z.toJSONSchema(configFileSchema, { io: "input", unrepresentable: "any" })));
    expect(published).toEqual(generated);
  });
});
