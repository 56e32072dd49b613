import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Of } from "../../src/common/canonical-json.js";
import { comparePins, diffPins, pinDifferenceLines, pinWarning, shownPin } from "../../src/results/pins.js";

describe("pins", () => {
  it("canonical JSON sorts keys at every depth, so a hash does not depend on the order a value was built in", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(sha256Of({ x: 1, y: 2 })).toBe(sha256Of({ y: 2, x: 1 }));
    // sha256("abc"), the FIPS 180-2 test vector.
    expect(sha256Of("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("lists every key whose value differs, and every key only one side has, in key order", () => {
    const a = { "model[m].temperature": 0, "dataset.sha256": "aa", "judge.prompt_sha256": "p", "suite.version": null };
    const b = { "model[m].temperature": 0.5, "dataset.sha256": "aa", "scorer[x].declaration_sha256": "d", "suite.version": null };
    expect(diffPins(a, b)).toEqual([
      { key: "judge.prompt_sha256", a: "p", b: null, missing: "b" },
      { key: "model[m].temperature", a: 0, b: 0.5 },
      { key: "scorer[x].declaration_sha256", a: null, b: "d", missing: "a" },
    ]);
    expect(diffPins(a, { ...a })).toEqual([]);
  });

  it("a null on one side and an absent key on the other are a difference, not equal", () => {
    expect(diffPins({ k: null }, {})).toEqual([{ key: "k", a: null, b: null, missing: "b" }]);
  });

  it("says when a run has no pins instead of calling the runs equal", () => {
    const comparison = comparePins({ pins: { a: 1 } }, {});
    expect(comparison).toEqual({ comparable: false, differences: [], unpinned: ["b"] });
    expect(pinWarning(comparison)).toMatch(/cannot be checked/);
    expect(pinDifferenceLines(comparison)[0]).toMatch(/^B was written by an alignbench without pinned settings/);
  });

  it("shows hashes shortened and texts quoted", () => {
    const hash = "f".repeat(64);
    expect(shownPin(hash, false)).toBe("ffffffffffff…");
    expect(shownPin("gpt-4.1", false)).toBe('"gpt-4.1"');
    expect(shownPin(0.5, false)).toBe("0.5");
    expect(shownPin(null, true)).toBe("(not set)");
    const lines = pinDifferenceLines(comparePins({ pins: { t: 0 } }, { pins: { t: 1 } }));
    expect(lines).toEqual(["t: 0 → 1"]);
    expect(pinWarning(comparePins({ pins: { t: 0 } }, { pins: { t: 1 } }))).toMatch(/^the runs differ in 1 setting that can change scores/);
  });
});
