import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { activeOfflineGuard } from "../../src/io/offline-guard.js";
import type { Manifest } from "../../src/results/manifest.js";
import { run } from "../../src/runner/run.js";
import { registerScorer } from "../../src/scorers/registry.js";
import type { Scorer } from "../../src/scorers/types.js";
import { startMockLlm, verdict, isJudgeRequest, judgedId, type MockLlm } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

// --offline against real servers: a loopback mock (allowed) and TEST-NET-3 addresses (RFC 5737: never routed),
// which the guard must refuse before a packet leaves. The run-time test plants a scorer that tries to reach
// a non-local host anyway, as a plug-in or a forgotten code path would.

describe("--offline", () => {
  let mock: MockLlm;
  let dataset: string;
  beforeAll(async () => {
    mock = await startMockLlm((request) => ({ reply: isJudgeRequest(request) ? verdict(judgedId(request), false) : "I can't help with that." }));
    const dir = tempDir();
    dataset = join(dir, "items.jsonl");
    writeJsonl(dataset, [
      { id: "a", prompt: "first" },
      { id: "b", prompt: "second" },
    ]);
  });
  afterAll(async () => {
    await mock?.close();
  });

  it("refuses, before the first call, a target, a judge or a perspective scorer that is not on this machine, naming the role and the host", async () => {
    const dir = tempDir();
    const base = { dataset, output_dir: dir, run_id: "x", offline: true };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ models: ["target"], base_url: "http://203.0.113.5:8000/v1" }, /^--offline: role target \(target\) would contact 203\.0\.113\.5, which is not this machine/],
      [{ models: ["target"], base_url: mock.url, judge_model: "anthropic:claude-sonnet-4" }, /role judge \(anthropic:claude-sonnet-4\) would contact api\.anthropic\.com/],
      [{ models: ["target"], base_url: mock.url, roles: { attacker: "together:some-model" } }, /role attacker \(together:some-model\) would contact api\.together\.xyz/],
      [{ models: ["target"], base_url: mock.url, scorers: ["perspective"] }, /the perspective scorer would contact commentanalyzer\.googleapis\.com/],
      [{ models: ["target"], base_url: mock.url, dataset: "https://203.0.113.6/data.jsonl" }, /dataset https:\/\/203\.0\.113\.6\/data\.jsonl is not in the cache and would contact 203\.0\.113\.6/],
      [{ models: ["llamacpp:hf:someone/missing/model.gguf"] }, /role target \(llamacpp:hf:someone\/missing\/model\.gguf\) is not downloaded yet and would contact huggingface\.co/],
    ];
    const before = mock.requests.length;
    for (const [settings, message] of cases) {
      const config = { ...base, ...settings };
      const error = await run(config, { env: { ANTHROPIC_API_KEY: "sk-test-0000000000", TOGETHER_API_KEY: "t-0000000000", XDG_CACHE_HOME: dir, HF_HUB_CACHE: join(dir, "hf") } }).catch(
        (caught: unknown) => caught,
      );
      expect(error, String(message)).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(message);
    }
    expect(mock.requests.length).toBe(before);
    expect(activeOfflineGuard()).toBeUndefined();
  });

  it("an --allow-host host passes the check", async () => {
    const dir = tempDir();
    // The check passes; the run then fails on its own: nothing answers at 203.0.113.5 (preflight, 1 s timeout, no retries).
    const error = await run(
      { dataset, models: ["target"], base_url: "http://203.0.113.5:8000/v1", offline: true, allow_hosts: ["203.0.113.5"], output_dir: dir, request_timeout_s: 0.5, retries: 0 },
      { env: {} },
    ).catch((caught: unknown) => caught as Error);
    expect((error as Error).message).not.toMatch(/--offline/);
  });

  it("a local run is verified: the manifest says so and lists the loopback host contacted", async () => {
    const dir = tempDir();
    const outcome = await run({ dataset, models: ["target"], judge_model: "judge", base_url: mock.url, offline: true, output_dir: dir, run_id: "local" }, { env: {} });
    expect(outcome.counts).toEqual({ ok: 2, error: 0 });
    const manifest = JSON.parse(readFileSync(join(dir, "local", "manifest.json"), "utf8")) as Manifest;
    expect(manifest.offline).toEqual({ verified: true, allowed_hosts: [], hosts_contacted: [new URL(mock.url).host], refused: [] });
    expect(activeOfflineGuard()).toBeUndefined();
  });

  it("a code path that connects anyway at run time is refused at the socket and recorded; the run is then not verified", async () => {
    const attempts: string[] = [];
    const leaky: Scorer = {
      name: "leaky_plugin",
      description: "a plug-in that phones home",
      needs: null,
      declaration: { name: "leaky_plugin", description: "a plug-in that phones home", metrics: [{ name: "phoned", label: "phoned home", kind: { type: "rate" }, bad: "high" }] },
      score: async () => {
        const outcome = await fetch("http://203.0.113.77:8443/telemetry", { method: "POST", body: "secret prompt" }).then(
          () => "sent",
          (error: Error & { cause?: { code?: string } }) => error.cause?.code ?? error.message,
        );
        attempts.push(outcome);
        return { value: outcome === "sent" ? 1 : 0, label: null, raw: outcome, error: null };
      },
    };
    registerScorer("leaky_plugin", () => leaky);
    const dir = tempDir();
    const outcome = await run({ dataset, models: ["target"], scorers: ["leaky_plugin"], base_url: mock.url, offline: true, output_dir: dir, run_id: "leak" }, { env: {} });
    expect(outcome.counts.ok).toBe(2);
    expect(attempts).toEqual(["ERR_ALIGNBENCH_OFFLINE", "ERR_ALIGNBENCH_OFFLINE"]);
    const manifest = JSON.parse(readFileSync(join(dir, "leak", "manifest.json"), "utf8")) as Manifest;
    expect(manifest.offline?.verified).toBe(false);
    expect(manifest.offline?.refused.map((entry) => `${entry.host}:${entry.port}`)).toEqual(["203.0.113.77:8443", "203.0.113.77:8443"]);
    const log = readFileSync(join(dir, "leak", "run.log"), "utf8");
    expect(log).toContain("offline_refused");
  });
});
