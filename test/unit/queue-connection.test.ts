import { describe, expect, it } from "vitest";
import { jobId, lockSettings, redisOptions } from "../../src/runner/queue/connection.js";
import { UserError } from "../../src/errors.js";

describe("queue connection settings", () => {
  it("reads host, port, credentials and database from a redis:// URL", () => {
    expect(redisOptions("redis://worker:s%40cret@10.0.0.5:6380/2")).toEqual({ host: "10.0.0.5", port: 6380, username: "worker", password: "s@cret", db: 2, maxRetriesPerRequest: null });
    expect(redisOptions("redis://localhost")).toEqual({ host: "localhost", port: 6379, maxRetriesPerRequest: null });
  });

  it("refuses what is not a redis:// URL, with the value and the expected form", () => {
    expect(() => redisOptions("http://localhost:6379")).toThrow(UserError);
    expect(() => redisOptions("localhost:6379")).toThrow(/expected a redis:\/\/ URL|not a URL/);
  });

  it("gives one job id per key and attempt, so enqueueing an item twice adds it once", () => {
    expect(jobId("t1|none|m|1", 1)).toBe(jobId("t1|none|m|1", 1));
    expect(jobId("t1|none|m|1", 2)).not.toBe(jobId("t1|none|m|1", 1));
    expect(jobId("t1|none|m|2", 1)).not.toBe(jobId("t1|none|m|1", 1));
    // BullMQ forbids ":" in custom ids; keys may hold anything.
    expect(jobId("a:b|c", 1)).toMatch(/^[0-9a-f]{40}-1$/);
  });

  it("keeps BullMQ's 30 s locks unless ALIGNBENCH_QUEUE_LOCK_MS says otherwise (at least 1 s)", () => {
    expect(lockSettings({})).toEqual({ lockDuration: 30_000, stalledInterval: 30_000 });
    expect(lockSettings({ ALIGNBENCH_QUEUE_LOCK_MS: "2000" })).toEqual({ lockDuration: 2000, stalledInterval: 2000 });
    expect(lockSettings({ ALIGNBENCH_QUEUE_LOCK_MS: "10" })).toEqual({ lockDuration: 30_000, stalledInterval: 30_000 });
  });
});
