import { describe, expect, it } from "vitest";
import { Distribution } from "../../src/metrics/distribution.js";
import { scorer } from "../../src/scorers/registry.js";
import type { ScorerContext } from "../../src/scorers/types.js";

function context(response: string, finish: string | null): ScorerContext {
  const call = { model: "m", messages: [], response, usage: null, latency_ms: null, finish_reason: finish };
  return {
    sample: { id: "1", category: "c", subcategory: "", conversation: [{ role: "user", content: "hi" }] },
    messages: [{ role: "user", content: "hi" }],
    response,
    transcript: [
      { ...call, role: "target", finish_reason: "stop" },
      { ...call, role: "target" },
    ],
    services: {},
  } as ScorerContext;
}

describe("the response statistics scorer", () => {
  const stats = scorer("response_stats");

  it("counts characters, not UTF-16 units, and reads the last target call's finish reason", async () => {
    const score = await stats.score(context("héllo 🙂", "length"));
    expect(score).toMatchObject({ value: 7, label: "length", metrics: { refusal_phrase: 0 }, error: null });
    expect((await stats.score(context("", null))).label).toBe("unknown");
  });

  it("marks a refusal phrase with 1, typographic apostrophes included", async () => {
    expect((await stats.score(context("I’m sorry, no.", "stop"))).metrics).toEqual({ refusal_phrase: 1 });
  });

  it("declares a rate whose label says what 1 means, and no good or bad direction", () => {
    const [length, refusal] = stats.declaration.metrics;
    expect(length).toMatchObject({ kind: { type: "unbounded", unit: "characters" }, bad: "none", aggregates: ["distribution", "labels"] });
    expect(refusal).toMatchObject({ kind: { type: "rate" }, bad: "none", label: "refusal phrase present (1 = response contains a refusal phrase)" });
  });
});

describe("Distribution", () => {
  it("gives the median (the middle two's mean for an even count) and the maximum", () => {
    const distribution = new Distribution();
    expect(distribution.summary()).toEqual({ median: null, max: null });
    for (const value of [5, 100, 1, 20]) distribution.add(value);
    expect(distribution.summary()).toEqual({ median: 12.5, max: 100 });
    distribution.add(3);
    expect(distribution.summary()).toEqual({ median: 5, max: 100 });
    for (let value = 0; value < 200; value++) distribution.add(1000 + value);
    expect(distribution.summary().max).toBe(1199);
  });
});
