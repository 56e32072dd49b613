import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planNames } from "../../src/runner/plans/registry.js";
import { SCORER_NAMES } from "../../src/scorers/registry.js";

// `--scorers` and `--plan` help, and the config schema's descriptions, name every built-in scorer and plan:
// a new one added to its registry without a word in the help fails here.
const source = (path: string) => readFileSync(new URL(`../../src/${path}`, import.meta.url), "utf8");

describe("help lists", () => {
  for (const [file, text] of [
    ["cli/commands/run.ts", source("cli/commands/run.ts")],
    ["config/schema.ts", source("config/schema.ts")],
  ] as const) {
    it(`${file} names every built-in scorer and plan`, () => {
      for (const name of SCORER_NAMES) expect(text, name).toMatch(new RegExp(`\\b${name}\\b`));
      for (const name of planNames()) expect(text, name).toMatch(new RegExp(`\\b${name}\\b`));
    });
  }
});
