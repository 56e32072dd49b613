import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { readPartials, tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS, hasShared, startSharedMock } from "../helpers/shared.js";
import type { RunSummary } from "../../src/metrics/summary.js";

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe.skipIf(!hasShared)("TruthfulQA multiple choice by log-likelihood, on the real mc_task.json", () => {
  let mock: Awaited<ReturnType<typeof startSharedMock>>;
  beforeAll(async () => {
    mock = await startSharedMock();
  });
  afterAll(() => mock.stop());
  const file = join(SHARED_DATASETS, "truthfulqa/mc_task.json");
  // Read when the tests run: a describe that is skipped (no ../shared) must not touch the file.
  let tasks: Array<{ question: string; mc1_targets: Record<string, number>; mc2_targets: Record<string, number> }>;
  beforeAll(() => {
    tasks = JSON.parse(readFileSync(file, "utf8")) as typeof tasks;
  });

  it("mc1: the most likely choice, each choice scored once for acc and acc_norm, nothing generated", async () => {
    const dir = tempDir();
    const before = (await mock.stats()) as { completions: number; requests: number };
    const result = await runCli(["run", "--suite", "truthfulqa-mc1", "--dataset", file, "--limit", "40", "--models", "mock-target", "--base-url", mock.url, "--output-dir", dir, "--run-id", "mc1"]);
    expect(result.code, result.stderr).toBe(0);
    const rows = readPartials(join(dir, "mc1"));
    expect(rows).toHaveLength(40);
    const choices = tasks.slice(0, 40).reduce((sum, task) => sum + Object.keys(task.mc1_targets).length, 0);
    const after = (await mock.stats()) as { completions: number; requests: number };
    // One echo request per choice, shared by both scorers, and the preflight's one; no chat request at all.
    expect(after.completions - before.completions).toBe(choices + 1);
    expect(after.requests - before.requests).toBe(choices + 1);
    for (const row of rows) {
      const task = tasks[Number(row.test_id) - 1]!;
      const truth = Object.values(task.mc1_targets);
      const raw = JSON.parse(row.scores!.multiple_choice!.raw!) as { loglikelihoods: number[] };
      expect(raw.loglikelihoods).toHaveLength(truth.length);
      const best = raw.loglikelihoods.indexOf(Math.max(...raw.loglikelihoods));
      expect(row.scores!.multiple_choice!.value).toBe(truth[best]);
      expect(row.raw_candidate).toBe("");
      expect(row.messages.at(-1)!.content).toBe(task.question);
    }
    const summary = JSON.parse(readFileSync(join(dir, "mc1", "summary.json"), "utf8")) as RunSummary;
    expect(summary.headlines[0]).toMatchObject({ name: "MC1 accuracy", n: 40 });
    expect(summary.headlines[0]!.estimate).toBeCloseTo(mean(rows.map((row) => row.scores!.multiple_choice!.value!)), 12);
    // Rejudging scores the choices again with the run's own model, and finds the same answers.
    const again = await runCli(["rejudge", join(dir, "mc1")]);
    expect(again.code, again.stderr).toBe(0);
    const rescored = readPartials(join(dir, "mc1")).filter((row) => row.source === "rejudge");
    expect(rescored).toHaveLength(40);
    for (const row of rescored) expect(row.scores!.multiple_choice!.value).toBe(rows.find((first) => first.key === row.key)!.scores!.multiple_choice!.value);
  });

  it("mc2: the normalised probability mass on the true answers", async () => {
    const dir = tempDir();
    const result = await runCli(["run", "--suite", "truthfulqa-mc2", "--dataset", file, "--limit", "20", "--models", "mock-target", "--base-url", mock.url, "--output-dir", dir, "--run-id", "mc2"]);
    expect(result.code, result.stderr).toBe(0);
    for (const row of readPartials(join(dir, "mc2"))) {
      const truth = Object.values(tasks[Number(row.test_id) - 1]!.mc2_targets);
      const { loglikelihoods } = JSON.parse(row.scores!.multiple_choice_mass!.raw!) as { loglikelihoods: number[] };
      const weights = loglikelihoods.map((value) => Math.exp(value));
      const mass = weights.reduce((sum, weight, index) => sum + (truth[index] ? weight : 0), 0) / weights.reduce((sum, weight) => sum + weight, 0);
      expect(row.scores!.multiple_choice_mass!.value).toBeCloseTo(mass, 10);
    }
  });

  it("retries failed log-likelihood calls like generations: 429s, 5xx, resets and broken bodies change nothing", async () => {
    const faulty = await startSharedMock({ MOCK_FAULT_RATE: "0.3" });
    try {
      const dir = tempDir();
      const args = ["--suite", "truthfulqa-mc1", "--dataset", file, "--limit", "15", "--models", "mock-target", "--output-dir", dir, "--retries", "8"];
      const clean = await runCli(["run", ...args, "--base-url", mock.url, "--run-id", "clean"]);
      const noisy = await runCli(["run", ...args, "--base-url", faulty.url, "--run-id", "noisy"]);
      expect(clean.code, clean.stderr).toBe(0);
      expect(noisy.code, noisy.stderr).toBe(0);
      expect(((await faulty.stats()) as { faults: Record<string, number> }).faults).not.toEqual({});
      const values = (run: string) =>
        readPartials(join(dir, run))
          .map((row) => [row.test_id, row.status, row.scores!.multiple_choice!.raw])
          .sort();
      expect(values("noisy")).toEqual(values("clean"));
      expect(readFileSync(join(dir, "noisy", "run.log"), "utf8")).toContain('"retry"');
    } finally {
      faulty.stop();
    }
  });

  it("refuses models without log-likelihoods before any item, by name", async () => {
    const result = await runCli(["run", "--suite", "truthfulqa-mc1", "--dataset", file, "--models", "anthropic:claude-x", "--output-dir", tempDir()], { env: { ANTHROPIC_API_KEY: "k" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('model "anthropic:claude-x" (provider anthropic) cannot score log-likelihoods');
  });
});
