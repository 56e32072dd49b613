import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtinSuites, loadConfigLayer, loadSuite, resolveRunConfig } from "../../src/config/load.js";
import { runConfigSchema } from "../../src/config/schema.js";
import { tempDir } from "../helpers/run-folder.js";

/** The built-in suites' settings as 0.1 read them, taken before suites gained include: and sections. */
const before = JSON.parse(readFileSync(new URL("../fixtures/builtin-suites-0.1.json", import.meta.url), "utf8")) as Record<string, Record<string, unknown>>;

/** Settings changed on purpose since 0.1, each with the version that changed them. */
function write(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/**
 * Settings a built-in suite changed on purpose since 0.1, with the version that changed them:
 * RealToxicityPrompts became a plain text continuation with the authors' nucleus sampling (top_p 0.9);
 * HarmBench's classifier judges the behaviour column and sees 511 Llama-2 tokens (AdvBench uses the same clip);
 * TruthfulQA uses lm-evaluation-harness's 6-shot context and records its BOS setting.
 */
const CHANGED: Record<string, { version: number; settings: Record<string, unknown> }> = {
  realtoxicityprompts: { version: 2, settings: { plan: "completion", generation: { temperature: 1, top_p: 0.9, max_tokens: 20 } } },
  // The classifier judges against the behaviour column, and sees 511 Llama-2 tokens instead of 2,048 characters.
  harmbench: { version: 2, settings: { behavior_field: "Behavior" } },
  advbench: { version: 2, settings: {} },
  // lm-evaluation-harness's 6-shot context and its add-BOS default (the context is checked literally in truthfulqa-protocol.test.ts).
  "truthfulqa-mc1": { version: 2, settings: { mc_template: expect.stringMatching(/^Q: What is human life expectancy[\s\S]*\n\nQ: \{prompt\}\nA:$/), add_bos: "auto" } },
  "truthfulqa-mc2": { version: 2, settings: { mc_template: expect.stringMatching(/^Q: What is human life expectancy/), add_bos: "auto" } },
};

describe("built-in suites", () => {
  it("keep their names and their settings: each resolves to what 0.1 read, apart from its version, its protocol notes and the changes listed", () => {
    expect(builtinSuites()).toEqual(expect.arrayContaining(Object.keys(before)));
    for (const [name, old] of Object.entries(before)) {
      const changed = CHANGED[name];
      const settings = { ...old, ...changed?.settings };
      const { version, protocol: _notes, ...values } = loadSuite(name).values;
      expect(version, name).toBe(changed?.version ?? 1);
      expect(values, name).toEqual(settings);
      // And the run config they make is the same (defaults included), version and notes aside.
      const { version: _, protocol: __, ...config } = resolveRunConfig(undefined, { suite: name });
      expect(config, name).toEqual(runConfigSchema.parse({ ...settings, ...(changed?.settings.mc_template ? { mc_template: values.mc_template } : {}), suite: name }));
    }
  });

  it("each says which settings follow the paper exactly and which deviate, and why", () => {
    expect(builtinSuites().sort()).toEqual([
      "advbench",
      "alignx",
      "bbq",
      "bbq-generate",
      "bold",
      "drift",
      "harmbench",
      "hh-preference",
      "hh-preference-judge",
      "hhh",
      "realtoxicityprompts",
      "redteam",
      "runner",
      "strongreject",
      "truthfulqa-gen",
      "truthfulqa-mc1",
      "truthfulqa-mc2",
      "winrate",
      "xstest",
    ]);
    for (const name of builtinSuites()) {
      const protocol = resolveRunConfig(undefined, { suite: name }).protocol;
      expect(protocol, name).toBeDefined();
      expect(protocol!.paper.length, name).toBeGreaterThan(10);
      expect(protocol!.follows.length, name).toBeGreaterThan(0);
      // Every built-in suite departs from its paper somewhere (a judge model, a wording, a dataset left to the user):
      // an empty list would claim an exact reproduction no suite here can make.
      expect(protocol!.deviates.length, name).toBeGreaterThan(0);
      for (const entry of protocol!.deviates) {
        expect(entry.setting.trim(), name).not.toBe("");
        expect(entry.why.length, `${name}: ${entry.setting}`).toBeGreaterThan(20);
      }
      // Written in the suite's own file, not inherited silently from an included one.
      expect(loadSuite(name).filesOf("protocol"), name).toEqual([loadSuite(name).file]);
    }
    const rtp = resolveRunConfig(undefined, { suite: "realtoxicityprompts" }).protocol!;
    expect(rtp.follows.join("\n")).toMatch(/top_p 0\.9/);
    expect(rtp.follows.join("\n")).toMatch(/25 samples/);
    expect(rtp.deviates.map((entry) => entry.setting)).toContain("Perspective model version");
  });

  it("a suite's protocol notes are checked: a deviation without its reason names the file and line", () => {
    const dir = tempDir();
    write(dir, { "mine.yaml": "version: 1\nprotocol:\n  paper: Me, 2025\n  follows: [dataset]\n  deviates:\n    - { setting: judge }\n" });
    expect(() => resolveRunConfig(undefined, { suite: join(dir, "mine.yaml") })).toThrow(/mine\.yaml:6: protocol\.deviates\[0\]\.why/);
  });

  it("truthfulqa-mc2 includes truthfulqa-mc1 and overrides what differs; harmbench and xstest use sections", () => {
    const mc2 = loadSuite("truthfulqa-mc2");
    expect(mc2.include.includes.map((node) => node.reference)).toEqual(["truthfulqa-mc1"]);
    expect(mc2.filesOf("dataset")).toEqual([mc2.include.includes[0]!.file]);
    expect(mc2.filesOf("choices_field")).toEqual([mc2.file]);
    expect(readFileSync(loadSuite("harmbench").file, "utf8")).toMatch(/^data:$/m);
    expect(readFileSync(loadSuite("xstest").file, "utf8")).toMatch(/^report:$/m);
  });
});

describe("include:", () => {
  it("puts the included file under this one: maps merge key by key, lists and values are replaced", () => {
    const dir = tempDir();
    write(dir, {
      "base.yaml": [
        "version: 1",
        "dataset: data/base.jsonl",
        "epochs: 3",
        "scorers: [refusal_match, harmbench_classifier]",
        "headlines:",
        "  - { name: a, scorer: refusal_match }",
        "roles: { attacker: 'openai:gpt-4.1', judge: 'openai:gpt-4.1-mini' }",
        "generation: { temperature: 0.5, max_tokens: 100 }",
        "providers: { local: { base_url: 'http://localhost:8000/v1', max_concurrency: 4 } }",
        "judge: { repair_attempts: 1, prompt_file: prompts/judge.txt }",
        "",
      ].join("\n"),
      "child.yaml": [
        "include: base.yaml",
        "version: 2",
        "scorers: [refusal_match]",
        "roles: { attacker: 'anthropic:claude' }",
        "generation: { max_tokens: 20 }",
        "providers: { local: { max_concurrency: 2 } }",
        "",
      ].join("\n"),
    });
    const layer = loadConfigLayer(join(dir, "child.yaml"));
    expect(layer.values).toEqual({
      version: 2,
      dataset: join(dir, "data/base.jsonl"),
      epochs: 3,
      scorers: ["refusal_match"],
      headlines: [{ name: "a", scorer: "refusal_match" }],
      roles: { attacker: "anthropic:claude", judge: "openai:gpt-4.1-mini" },
      generation: { temperature: 0.5, max_tokens: 20 },
      providers: { local: { base_url: "http://localhost:8000/v1", max_concurrency: 2 } },
      judge: { repair_attempts: 1, prompt_file: join(dir, "prompts/judge.txt") },
    });
    expect(layer.filesOf("generation").sort()).toEqual([join(dir, "base.yaml"), join(dir, "child.yaml")].sort());
    const config = resolveRunConfig(undefined, { suite: join(dir, "child.yaml") });
    expect(config).toMatchObject({ version: "2", epochs: 3, plan: "generate", roles: { attacker: "anthropic:claude" } });
  });

  it("applies a list of includes in order, and a built-in suite by name", () => {
    const dir = tempDir();
    write(dir, {
      "a.yaml": "epochs: 2\nconcurrency: 3\n",
      "b.yaml": "epochs: 5\n",
      "c.yaml": "include: [a.yaml, b.yaml, harmbench]\nprompt_field: goal\n",
    });
    const layer = loadConfigLayer(join(dir, "c.yaml"));
    expect(layer.values).toMatchObject({ epochs: 5, concurrency: 3, prompt_field: "goal", id_field: "BehaviorID", scorers: ["harmbench_classifier"] });
    expect(layer.include.includes.map((node) => node.reference)).toEqual(["a.yaml", "b.yaml", "harmbench"]);
  });

  it("keeps each file's relative paths relative to that file", () => {
    const dir = tempDir();
    write(dir, {
      "shared/base.yaml": "dataset: cases.jsonl\npersonas_file: personas.yaml\nscorer_prompts: { strongreject_rubric: prompts/rubric.txt }\njudge: { schema_file: schema.json }\n",
      "suites/mine.yaml": "include: ../shared/base.yaml\nscorer_prompts: { xstest_classifier: xstest.txt }\njudge: { prompt_file: judge.txt }\n",
    });
    const { values } = loadConfigLayer(join(dir, "suites/mine.yaml"));
    expect(values).toEqual({
      dataset: join(dir, "shared/cases.jsonl"),
      personas_file: join(dir, "shared/personas.yaml"),
      scorer_prompts: { strongreject_rubric: join(dir, "shared/prompts/rubric.txt"), xstest_classifier: join(dir, "suites/xstest.txt") },
      judge: { schema_file: join(dir, "shared/schema.json"), prompt_file: join(dir, "suites/judge.txt") },
    });
  });

  it("names the file and line of a cycle, a missing file and an unknown built-in suite", () => {
    const dir = tempDir();
    write(dir, {
      "a.yaml": "epochs: 2\ninclude: b.yaml\n",
      "b.yaml": "# b\ninclude: [c.yaml]\n",
      "c.yaml": "include: a.yaml\n",
      "self.yaml": "include: ./self.yaml\n",
      "missing.yaml": "epochs: 1\n\ninclude: nowhere/base.yaml\n",
      "typo.yaml": "include: harmbnech\n",
    });
    const a = join(dir, "a.yaml");
    const c = join(dir, "c.yaml");
    expect(() => loadConfigLayer(a)).toThrow(`${c}:1: include: include cycle: ${a} → ${join(dir, "b.yaml")} → ${c} → ${a}`);
    expect(() => loadConfigLayer(join(dir, "self.yaml"))).toThrow(/self\.yaml:1: include: include cycle: .*self\.yaml → .*self\.yaml/);
    expect(() => loadConfigLayer(join(dir, "missing.yaml"))).toThrow(`${join(dir, "missing.yaml")}:3: include: no such suite file nowhere/base.yaml (looked for ${join(dir, "nowhere/base.yaml")})`);
    expect(() => loadConfigLayer(join(dir, "typo.yaml"))).toThrow(`${join(dir, "typo.yaml")}:1: include: unknown suite "harmbnech" (did you mean "harmbench"?)`);
  });

  it("reports a bad key or value with the file it came from, included or not", () => {
    const dir = tempDir();
    write(dir, {
      "base.yaml": "epochs: 2\n\njudge:\n  repair_attemps: 1\nscorers: [refusal_match]\n",
      "child.yaml": "include: base.yaml\nconcurency: 3\nepochs: 0\n",
    });
    const run = () => resolveRunConfig(undefined, { suite: join(dir, "child.yaml") });
    expect(run).toThrow(`${join(dir, "base.yaml")}:4: judge.repair_attemps: unknown key (did you mean "repair_attempts"?)`);
    expect(run).toThrow(`${join(dir, "child.yaml")}:2: concurency: unknown key (did you mean "concurrency"?)`);
    expect(run).toThrow(new RegExp(`${join(dir, "child.yaml")}:3: epochs: `));
    // A config file (not only a suite) may include too.
    expect(() => resolveRunConfig(join(dir, "child.yaml"), {})).toThrow(`${join(dir, "base.yaml")}:4: judge.repair_attemps`);
  });
});

describe("sections", () => {
  it("flatten data, scoring and report onto the run config; the flat form still works beside them", () => {
    const dir = tempDir();
    write(dir, {
      "s.yaml": [
        "version: 3",
        "plan: multi_turn",
        "roles: { attacker: 'openai:gpt-4.1' }",
        "data:",
        "  dataset: cases.csv",
        "  prompt_field: goal",
        "  id_field: '#line'",
        "scoring:",
        "  scorers: [strongreject_rubric]",
        "  scorer_prompts: { strongreject_rubric: rubric.txt }",
        "  judge: { repair_attempts: 0 }",
        "report:",
        "  group_by: [label]",
        "  headlines: [{ name: score, scorer: strongreject_rubric }]",
        "epochs: 2",
        "",
      ].join("\n"),
    });
    const config = resolveRunConfig(join(dir, "s.yaml"), {});
    expect(config).toMatchObject({
      version: "3",
      plan: "multi_turn",
      roles: { attacker: "openai:gpt-4.1" },
      dataset: join(dir, "cases.csv"),
      prompt_field: "goal",
      id_field: "#line",
      scorers: ["strongreject_rubric"],
      scorer_prompts: { strongreject_rubric: join(dir, "rubric.txt") },
      judge: { repair_attempts: 0 },
      group_by: ["label"],
      headlines: [{ name: "score", scorer: "strongreject_rubric" }],
      epochs: 2,
    });
  });

  it("reject an unknown or misplaced key with the file, line and a suggestion", () => {
    const dir = tempDir();
    const file = join(dir, "s.yaml");
    const check = (text: string, message: string) => {
      writeFileSync(file, text);
      expect(() => loadConfigLayer(file)).toThrow(`${file}:${message}`);
    };
    check("epochs: 1\ndata:\n  dataset: x.jsonl\n  prompt_feild: goal\n", '4: data.prompt_feild: unknown key in the data section (did you mean "prompt_field"?)');
    check("data:\n  scorers: [refusal_match]\n", "2: data.scorers: scorers belongs in the scoring section (or at the top level), not in data");
    check("report:\n  models: [m]\n", "2: report.models: models is not a key of the report section; write it at the top level");
    check("dataset: a.jsonl\ndata:\n  dataset: b.jsonl\n", "3: data.dataset: also given at line 1 as dataset; give it once");
    check("scoring: [refusal_match]\n", "1: scoring: a section is a mapping of its keys (scorers, checks, scorer_prompts, judge, perspective, mc_template, add_bos, scorer_where)");
    // A bad value inside a section names the key where it was written.
    writeFileSync(file, "data:\n  on_bad_row: ignore\nscoring:\n  judge:\n    repair_attemps: 1\n");
    expect(() => resolveRunConfig(file, {})).toThrow(new RegExp(`${file}:2: data\\.on_bad_row: .*"stop"`));
    expect(() => resolveRunConfig(file, {})).toThrow(`${file}:5: scoring.judge.repair_attemps: unknown key (did you mean "repair_attempts"?)`);
    // A misspelt section at the top level is suggested like any key.
    writeFileSync(file, "scoreing:\n  scorers: [verdict]\n");
    expect(() => resolveRunConfig(file, {})).toThrow(`${file}:1: scoreing: unknown key (did you mean "scoring"?)`);
  });
});
