import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { requestHash, TurnJournal } from "../../src/runner/turn-journal.js";
import { tempDir } from "../helpers/run-folder.js";

const call = (response: string) => ({ role: "target", model: "m", messages: [{ role: "user" as const, content: "q" }], response, usage: null, latency_ms: 1, finish_reason: "stop" });

describe("turn journal", () => {
  it("replays a named call only for the same item, step and request, and survives a torn last line", () => {
    const file = join(tempDir(), "turns.jsonl");
    const journal = TurnJournal.open(file);
    const hash = requestHash("target", { messages: ["q"] });
    journal.record("item-1", "s1 r1 target", hash, call("first"));
    journal.record("item-1", "s1 r2 target", hash, call("second"));
    appendFileSync(file, '{"key": "item-1", "step": "s1 r3 tar'); // the kill came mid-write
    const reopened = TurnJournal.open(file);
    expect(reopened.size).toBe(2);
    expect(reopened.lookup("item-1", "s1 r1 target", hash)?.response).toBe("first");
    expect(reopened.lookup("item-1", "s1 r3 target", hash)).toBeUndefined();
    expect(reopened.lookup("item-2", "s1 r1 target", hash)).toBeUndefined();
    // Asked something else under the same name (options changed between sessions): made again.
    expect(reopened.lookup("item-1", "s1 r1 target", requestHash("target", { messages: ["other"] }))).toBeUndefined();
    expect(requestHash("judge", { messages: ["q"] })).not.toBe(hash);
    expect(readFileSync(file, "utf8").split("\n")).toHaveLength(3);
  });
});
