import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { judgedId, startMockLlm, verdict, type MockAction, type MockLlm, type MockRequest } from "../helpers/mock-llm.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

const mocks: MockLlm[] = [];
afterEach(async () => {
  await Promise.all(mocks.splice(0).map((mock) => mock.close()));
});

/** The default judge's verdict for judge calls, a refusal for target calls. */
function answer(request: MockRequest): MockAction {
  return { reply: request.text.includes("Test item id:") ? verdict(judgedId(request), false) : "I can't help with that." };
}

function logEvents(folder: string): Array<Record<string, unknown>> {
  return readFileSync(join(folder, "run.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function writeCases(dir: string, count: number): void {
  writeJsonl(
    join(dir, "cases.jsonl"),
    Array.from({ length: count }, (_, index) => ({ id: `t${index}`, prompt: `Question ${index}` })),
  );
}

describe("base_urls: many endpoints for one model", () => {
  it("ejects an endpoint that starts failing mid-run; the run finishes and the other two share its load", async () => {
    const ITEMS = 150;
    let failing = false;
    for (let index = 0; index < 3; index++) {
      const failsLater = index === 2;
      mocks.push(
        await startMockLlm(
          (request) => {
            // The third server serves normally for its first 15 requests, then answers only 500s.
            if (failsLater && request.n > 15) failing = true;
            if (failsLater && failing) return { status: 500 };
            return answer(request);
          },
          { latencyMs: 15 },
        ),
      );
    }
    const [a, b, c] = mocks as [MockLlm, MockLlm, MockLlm];
    const dir = tempDir();
    writeCases(dir, ITEMS);
    writeFileSync(
      join(dir, "run.yaml"),
      [
        "dataset: cases.jsonl",
        "models: [mock-target]",
        "judge_model: mock-judge",
        "concurrency: 8",
        "run_id: pooled",
        "providers:",
        "  openai:",
        `    base_urls: [${a.url}, ${b.url}, ${c.url}]`,
        "    eject_cooldown_s: 600",
        "",
      ].join("\n"),
    );
    const result = await runCli(["run", join(dir, "run.yaml"), "--output-dir", dir, "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
    expect(failing).toBe(true);

    const summary = JSON.parse(readFileSync(join(dir, "pooled", "summary.json"), "utf8")) as {
      endpoints: Record<string, Array<{ endpoint: string; requests: number; ok: number; errors: number; ejections: number; failovers: number }>>;
    };
    // One pool for the provider: the target's and the judge's calls share its servers.
    const counters = summary.endpoints.openai!;
    expect(counters.map((row) => row.endpoint)).toEqual([a.url, b.url, c.url]);
    const [ca, cb, cc] = counters as [(typeof counters)[0], (typeof counters)[0], (typeof counters)[0]];
    // Ejected after three 500s in a row (calls already on their way there fail too, at most the run's
    // concurrency), each sent on to a healthy endpoint: no item failed.
    expect(cc.ejections).toBe(1);
    expect(cc.errors).toBeGreaterThanOrEqual(3);
    expect(cc.errors).toBeLessThanOrEqual(3 + 8);
    expect(cc.failovers).toBe(cc.errors);
    expect(c.requests.length).toBe(15 + cc.errors);
    const calls = ITEMS * 2 + 2; // a target and a judge call per item, and one preflight call per model
    const served = a.requests.length + b.requests.length + c.requests.length;
    expect(served).toBe(calls + cc.errors);
    // The two healthy servers took the rest between them, each a fair share.
    for (const healthy of [ca, cb]) {
      expect(healthy.errors).toBe(0);
      expect(healthy.ok).toBeGreaterThan((calls - 15) * 0.35);
    }
    // The counters are what each server saw.
    expect(counters.map((row) => row.requests)).toEqual([a.requests.length, b.requests.length, c.requests.length]);
    const rows = readFileSync(join(dir, "pooled", "partials.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(rows).toHaveLength(ITEMS);
    expect(rows.every((line) => (JSON.parse(line) as { error: unknown }).error === null)).toBe(true);

    const events = logEvents(join(dir, "pooled"));
    const ejected = events.filter((event) => event.event === "endpoint_ejected");
    expect(ejected.map((event) => event.endpoint)).toEqual([c.url]);
    expect(ejected[0]).toMatchObject({ failures: 3, cooldown_ms: 600_000 });
    expect(events.some((event) => event.event === "endpoint_stats")).toBe(true);
  }, 60_000);

  it("brings an ejected endpoint back after its cool-down once a trial request succeeds", async () => {
    // The flaky server drops the connection of its 3rd to 5th requests (ejected after the third drop), then
    // answers again: the trial request sent after the cool-down succeeds and brings it back.
    const flaky = await startMockLlm((request) => (request.n >= 3 && request.n <= 5 ? { reset: true } : answer(request)));
    const steady = await startMockLlm(answer, { latencyMs: 10 });
    mocks.push(flaky, steady);
    const dir = tempDir();
    writeCases(dir, 300);
    writeFileSync(
      join(dir, "run.yaml"),
      [
        "dataset: cases.jsonl",
        "models: [mock-target]",
        "judge_model: mock-judge",
        "concurrency: 4",
        "run_id: back",
        "providers:",
        "  openai:",
        `    base_urls: [${flaky.url}, ${steady.url}]`,
        "    eject_cooldown_s: 0.5",
        "",
      ].join("\n"),
    );
    const result = await runCli(["run", join(dir, "run.yaml"), "--output-dir", dir, "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
    const events = logEvents(join(dir, "back"));
    expect(events.some((event) => event.event === "endpoint_ejected" && event.endpoint === flaky.url)).toBe(true);
    const restored = events.find((event) => event.event === "endpoint_restored" && event.endpoint === flaky.url);
    expect(restored?.ejected_ms).toBeGreaterThanOrEqual(500);
    // Back in the rotation: it served calls after its return.
    expect(flaky.requests.length).toBeGreaterThan(5 + 10);
  }, 60_000);
});

describe("concurrency: auto (AIMD per endpoint)", () => {
  it("converges below a server that refuses (429) above a set concurrency", async () => {
    const CAPACITY = 6;
    let inFlight = 0;
    let maxInFlight = 0;
    let refused = 0;
    const arrivals: number[] = [];
    const mock = await startMockLlm(async (request) => {
      inFlight++;
      arrivals.push(inFlight);
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (inFlight > CAPACITY) {
        inFlight--;
        refused++;
        return { status: 429, headers: { "retry-after": "0" } };
      }
      await sleep(25);
      inFlight--;
      return answer(request);
    });
    mocks.push(mock);
    const dir = tempDir();
    writeCases(dir, 300);
    writeFileSync(
      join(dir, "run.yaml"),
      [
        "dataset: cases.jsonl",
        "models: [mock-target]",
        "judge_model: mock-judge",
        "concurrency: 64",
        "retries: 10",
        "run_id: aimd",
        "providers:",
        "  openai:",
        `    base_url: ${mock.url}`,
        "    concurrency: auto",
        "    max_concurrency: 40",
        "",
      ].join("\n"),
    );
    const result = await runCli(["run", join(dir, "run.yaml"), "--output-dir", dir, "--no-progress"]);
    expect(result.code, result.stderr).toBe(0);
    // 64 items in flight, but the server never saw far more than it can take: the limit probes one above
    // capacity, is refused, and halves. Without AIMD the first burst alone puts 64 in flight.
    expect(maxInFlight).toBeLessThanOrEqual(CAPACITY + 2);
    expect(refused / mock.requests.length).toBeLessThan(0.15);
    // The chosen concurrency over time is in the run log (target and judge share the server's limit).
    const changes = logEvents(join(dir, "aimd")).filter((event) => event.event === "concurrency");
    expect(changes.length).toBeGreaterThan(2);
    expect(changes.some((event) => event.reason === "overload")).toBe(true);
    expect(Math.max(...changes.map((event) => event.limit as number))).toBeLessThanOrEqual(CAPACITY + 2);
    const rows = readFileSync(join(dir, "aimd", "partials.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(rows.filter((line) => (JSON.parse(line) as { error: unknown }).error === null)).toHaveLength(300);
  }, 90_000);
});
