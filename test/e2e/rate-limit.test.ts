import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { isPreflightRequest, judgedId, startMockLlm, verdict, type MockLlm } from "../helpers/mock-llm.js";
import { LoopHeartbeat, maxCertainlyInAnyWindow, maxInAnyWindow } from "../helpers/request-log.js";
import { tempDir, writeJsonl } from "../helpers/run-folder.js";

let mock: MockLlm | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const RPS = 100;
const ITEMS = 300;

describe("--rate-limit-rps under load", () => {
  it("keeps every sliding 1-second window of arrivals at the limit + 1, with 32 items in flight and a model that judges itself", async () => {
    // Instant answers, so only the limiter paces the run; the judge is the target model itself, so both
    // roles share one bucket: 2 requests an item.
    mock = await startMockLlm((request) => ({ reply: request.text.includes("Test item id:") ? verdict(judgedId(request), false) : "I can't help with that." }));
    const dir = tempDir();
    writeJsonl(
      join(dir, "cases.jsonl"),
      Array.from({ length: ITEMS }, (_, index) => ({ id: `t${index}`, prompt: `Question ${index}` })),
    );
    const heartbeat = new LoopHeartbeat();
    const result = await runCli([
      "run",
      "--dataset",
      join(dir, "cases.jsonl"),
      "--models",
      "self",
      "--judge-model",
      "self",
      "--base-url",
      mock.url,
      "--output-dir",
      dir,
      "--rate-limit-rps",
      String(RPS),
      "--concurrency",
      "32",
      "--no-progress",
    ]);
    heartbeat.stop();
    expect(result.code, result.stderr).toBe(0);
    // Every request counts, the preflight call too: it goes through the same limiter.
    const stamped = mock.requests.map((request) => request.at);
    expect(mock.requests.filter((request) => !isPreflightRequest(request))).toHaveLength(ITEMS * 2);
    // The mock stamps arrivals on this process's event loop; on a busy machine the loop stalls, and requests
    // that arrived during a stall are stamped together at its end, which can fill a window they were not in.
    // So a request counts for a window only if it certainly arrived inside it (after the loop's last poll
    // before its stamp): never more than really arrived, so more than the limit + 1 is the limiter's fault.
    const certain = maxCertainlyInAnyWindow(
      stamped.map((at) => ({ earliest: heartbeat.earliest(at), stamped: at })),
      1000,
    );
    const measured = { certain, stamped: maxInAnyWindow(stamped, 1000) };
    expect(certain, JSON.stringify(measured)).toBeLessThanOrEqual(RPS + 1);
    // The limit was approached (the run was not so slowed by something else that the bound above says
    // nothing); only a sanity level, since a loaded 2-core machine may not reach the limit itself.
    expect(measured.stamped, JSON.stringify(measured)).toBeGreaterThanOrEqual(RPS * 0.5);
  }, 60_000);
});
