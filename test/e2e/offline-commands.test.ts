import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startMockLlm, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// --offline on the commands that build their own run: `redteam` (whose attacker writes goals before the run
// starts) and `drift`. A role on a non-local host (a hosted API) must stop the command
// before the first call — the loopback mock must see no request at all.

describe("--offline on redteam and drift", () => {
  let mock: MockLlm;
  beforeAll(async () => {
    mock = await startMockLlm(() => ({ reply: "I can't help with that." }));
  });
  afterAll(async () => {
    await mock?.close();
  });

  it("redteam: an attacker on another host stops the command before the goals are written", async () => {
    const dir = tempDir();
    const result = await runCli(
      [
        "redteam",
        "--model",
        "target",
        "--base-url",
        mock.url,
        "--attacker-model",
        "together:attacker",
        "--judge-model",
        "judge",
        "--attack-count",
        "2",
        "--output-dir",
        dir,
        "--run-id",
        "rt",
        "--offline",
        "--no-progress",
      ],
      { env: { TOGETHER_API_KEY: "t-0000000000" } },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/--offline: role attacker \(together:attacker\) would contact api\.together\.xyz, which is not this machine/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(mock.requests.length).toBe(0);
  });

  it("drift: a judge on another host stops the command before the first call", async () => {
    const dir = tempDir();
    const texts = join(dir, "texts.jsonl");
    writeJsonl(texts, [{ text: "a short text" }]);
    const result = await runCli(
      [
        "drift",
        "--base",
        "base",
        "--finetuned",
        "tuned",
        "--base-url",
        mock.url,
        "--in-domain",
        texts,
        "--ood",
        texts,
        "--judge-model",
        "together:judge",
        "--output-dir",
        dir,
        "--offline",
        "--no-progress",
      ],
      { env: { TOGETHER_API_KEY: "t-0000000000" } },
    );
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/--offline: role judge \(together:judge\) would contact api\.together\.xyz/);
    expect(mock.requests.length).toBe(0);
  });

  it("rejudge: a judge on another host stops the rejudge before the first call; the run's answers are untouched", async () => {
    const dir = tempDir();
    const dataset = join(dir, "items.jsonl");
    writeJsonl(dataset, [{ id: "a", prompt: "hello" }]);
    const made = await runCli(["run", "--dataset", dataset, "--models", "target", "--base-url", mock.url, "--scorers", "refusal_match", "--output-dir", dir, "--run-id", "r", "--no-progress"]);
    expect(made.code, made.stderr).toBe(0);
    const before = mock.requests.length;
    const result = await runCli(["rejudge", "r", "--output-dir", dir, "--judge-model", "together:judge", "--offline"], { env: { TOGETHER_API_KEY: "t-0000000000" } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/--offline: role judge \(together:judge\) would contact api\.together\.xyz/);
    expect(mock.requests.length).toBe(before);
  });
});
