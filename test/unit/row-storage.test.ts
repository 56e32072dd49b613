import { describe, expect, it } from "vitest";
import { compactRow, expandRow, storedJson, type ResultRow } from "../../src/results/record.js";
import { row } from "../helpers/run-store-conformance.js";

/** A generate-plan row: one target call whose messages, response, usage and latency are the row's own. */
function singleCall(): ResultRow {
  const out = row("k");
  out.usage = { input_tokens: 5, output_tokens: 7 };
  out.transcript = [{ role: "target", model: "m", messages: out.messages, response: out.raw_candidate, usage: out.usage, latency_ms: out.latency_ms, finish_reason: out.finish_reason }];
  return out;
}

/** A three-role row with a plan dimension: nothing in its transcript is the row's own but the target's answer. */
function threeRoles(): ResultRow {
  const out = row("k2");
  out.dimensions = { ...out.dimensions, strategy: "roleplay" };
  out.transcript = [
    { role: "attacker", model: "a", messages: [{ role: "user", content: "goal" }], response: "attack", usage: { input_tokens: 1, output_tokens: 2 }, latency_ms: 3, finish_reason: "stop" },
    { role: "target", model: "m", messages: [{ role: "user", content: "attack" }], response: out.raw_candidate, usage: { input_tokens: 4, output_tokens: 5 }, latency_ms: 6, finish_reason: "stop" },
    { role: "judge", model: "j", messages: [{ role: "user", content: "grade" }], response: null, usage: null, latency_ms: null, finish_reason: null, error: "HTTP 500" },
  ];
  return out;
}

describe("rows as stored", () => {
  it("leave out what the row's own fields say, and read back to the same row", () => {
    for (const original of [singleCall(), threeRoles()]) {
      const expected = JSON.parse(JSON.stringify(original)) as ResultRow;
      const line = storedJson(original);
      expect(original).toEqual(expected); // written without changing the row
      expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(compactRow(original))));
      expect(expandRow(JSON.parse(line) as ResultRow)).toEqual(expected);
    }
  });
  it("store a single call as its role and model only, and only the dimensions a plan adds", () => {
    const single = JSON.parse(storedJson(singleCall())) as Record<string, unknown>;
    expect(single.transcript).toEqual([{ role: "target", model: "m" }]);
    expect(single).not.toHaveProperty("dimensions");
    const three = JSON.parse(storedJson(threeRoles())) as { dimensions: unknown; transcript: Array<Record<string, unknown>> };
    expect(three.dimensions).toEqual({ strategy: "roleplay" });
    expect(three.transcript[1]).not.toHaveProperty("response");
    expect(three.transcript[1]).toHaveProperty("usage");
    expect(three.transcript[2]).toMatchObject({ role: "judge", error: "HTTP 500", response: null });
  });
});
