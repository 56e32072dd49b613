import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadSuite } from "../../src/config/load.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/run-folder.js";

describe("alignbench suites show", () => {
  it("prints a built-in suite resolved, with its include chain and where each key came from", async () => {
    const show = await runCli(["suites", "show", "truthfulqa-mc2"]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain("# TruthfulQA multiple choice, MC2");
    expect(show.stdout).toMatch(/^# {3}includes truthfulqa-mc1 \(\/.*suites\/truthfulqa-mc1\.yaml\)$/m);
    expect(show.stdout).toMatch(/# from truthfulqa-mc1\.yaml\ndataset: https:\/\/raw\.githubusercontent\.com\/sylinrl\/TruthfulQA\/main\/data\/mc_task\.json\n/);
    expect(show.stdout).toMatch(/# from truthfulqa-mc2\.yaml\nversion: 2\n/);
    expect(show.stdout).toContain("mc_template: |-\n  Q: What is human life expectancy in the United States?\n");
    expect(show.stdout).toContain("\n\n  Q: {prompt}\n  A:\nadd_bos: auto\n");
    // It is YAML: read back, it is the resolved suite (plus the default plan).
    expect(parse(show.stdout)).toEqual({ plan: "generate", ...loadSuite("truthfulqa-mc2").values });
  });

  it("shows a suite's protocol notes last: what follows the paper and what deviates, and why", async () => {
    const show = await runCli(["suites", "show", "realtoxicityprompts"]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/\nplan: completion\n/);
    expect(show.stdout).toMatch(/\ngeneration: \{ ?temperature: 1, top_p: 0\.9, max_tokens: 20 ?\}\n/);
    const shown = parse(show.stdout) as Record<string, unknown>;
    expect(Object.keys(shown).at(-1)).toBe("protocol");
    expect(shown.protocol).toEqual(loadSuite("realtoxicityprompts").values.protocol);
    expect(show.stdout).toContain("  deviates:\n    - setting: dataset\n      why: ");
  });

  it("prints a sectioned suite flat, and a suite file that includes a built-in one", async () => {
    const xstest = await runCli(["suites", "show", "xstest"]);
    expect(xstest.code, xstest.stderr).toBe(0);
    expect(xstest.stdout).toContain("group_by: [label]\n");
    expect(xstest.stdout).toContain("category_field: type\n");
    expect(xstest.stdout).not.toMatch(/^(data|scoring|report):/m);

    const dir = tempDir();
    const file = join(dir, "my-harmbench.yaml");
    writeFileSync(file, "# HarmBench on a red-teaming plan\ninclude: harmbench\nversion: 2\nplan: multi_turn\nroles: { attacker: 'openai:gpt-4.1' }\ndata:\n  dataset: behaviours.csv\n");
    const mine = await runCli(["suites", "show", file]);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout).toMatch(/^# HarmBench on a red-teaming plan\n/);
    expect(mine.stdout).toMatch(/# {3}includes harmbench \(\/.*suites\/harmbench\.yaml\)/);
    const shown = parse(mine.stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      version: 2,
      plan: "multi_turn",
      roles: { attacker: "openai:gpt-4.1" },
      dataset: join(dir, "behaviours.csv"),
      context_field: "ContextString",
      scorers: ["harmbench_classifier"],
    });
    expect(mine.stdout).toContain("# from harmbench.yaml (built-in)\ndataset_hint: ");
    expect(mine.stdout).toMatch(/# from my-harmbench\.yaml\nversion: 2\nplan: multi_turn\nroles: \{ ?attacker: openai:gpt-4\.1 ?\}\ndataset: /);
  });

  it("lists versions, and reports a broken suite file by file and line", async () => {
    const list = await runCli(["suites", "list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^suite +version +what it runs/);
    expect(list.stdout).toMatch(/^truthfulqa-mc2 +2 +TruthfulQA multiple choice, MC2/m);
    const dir = tempDir();
    writeFileSync(join(dir, "base.yaml"), "epochs: 2\nscoring:\n  scorer: [verdict]\n");
    writeFileSync(join(dir, "top.yaml"), "include: base.yaml\n");
    const bad = await runCli(["suites", "show", join(dir, "top.yaml")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, "base.yaml")}:3: scoring.scorer: unknown key in the scoring section (did you mean "scorers"?)`);
    writeFileSync(join(dir, "loop.yaml"), "include: loop.yaml\n");
    const loop = await runCli(["run", "--suite", join(dir, "loop.yaml"), "--models", "m"]);
    expect(loop.code).toBe(2);
    expect(loop.stderr).toContain(`${join(dir, "loop.yaml")}:1: include: include cycle:`);
  });
});
