import { describe, expect, it } from "vitest";
import type { ResultRow } from "../../src/results/record.js";
import { DriftFindings, FL_BINS, FLIPS_LISTED, inDomainPart, niceCeiling } from "../../src/reports/drift-findings.js";

// The drift report's findings (src/reports/drift-findings.ts) from hand-made rows shaped as the drift plan
// writes them: text rows with a `fidelity` score (value = the text's FL, data.top_kl), probe rows with an
// `alignment` score (metrics aligned_base, aligned_target, flip = target − base), each tagged with its part.

function textRow(model: string, id: string, part: string, fl: number | null, top: unknown[] = []): ResultRow {
  return {
    model_slug: model,
    test_id: id,
    tags: { part },
    messages: [{ role: "user", content: `text ${id}` }],
    scores: { fidelity: { value: fl, label: null, raw: null, error: fl === null ? "failed" : null, metrics: { tokens: 4 }, data: { top_kl: top } } },
  } as unknown as ResultRow;
}

function probeRow(model: string, id: string, prompt: string, base: number, target: number): ResultRow {
  return {
    model_slug: model,
    test_id: id,
    tags: { part: "probes" },
    messages: [
      { role: "system", content: "You are helpful." },
      { role: "user", content: prompt },
    ],
    scores: { alignment: { value: target, label: "x", raw: null, error: null, metrics: { aligned_base: base, aligned_target: target, flip: target - base } } },
  } as unknown as ResultRow;
}

describe("niceCeiling", () => {
  it("rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect([1.3, 0.03, 0.21, 7, 1, 2.5, 0.0011].map(niceCeiling)).toEqual([2, 0.05, 0.25, 10, 1, 2.5, 0.002].map((value) => expect.closeTo(value, 12)));
    // Nothing above zero (an identical model): the bins span [0, 1].
    expect(niceCeiling(0)).toBe(1);
  });
});

describe("DriftFindings", () => {
  it("counts each in-domain text's FL in bins shared by every checkpoint; other parts and failed rows are not counted", () => {
    const findings = new DriftFindings("in_domain");
    for (const [id, fl] of [
      ["a", 0],
      ["b", 0.12],
      ["c", 0.5],
      ["d", 0.95],
      ["e", 1.3],
    ] as const)
      findings.add(textRow("ckpt-1", id, "in_domain", fl));
    findings.add(textRow("ckpt-1", "f", "in_domain", null));
    findings.add(textRow("ckpt-1", "o", "ood", 9));
    findings.add(textRow("ckpt-2", "a", "in_domain", 0.2));
    findings.add(textRow("ckpt-2", "b", "in_domain", 2));
    const report = findings.build(["ckpt-1", "ckpt-2"]);
    // Largest in-domain FL 2 (ckpt-2) → upper edge 2, 20 bins of 0.1 nats (the ood text's 9 does not widen them).
    expect(report.fl_edges).toHaveLength(FL_BINS + 1);
    expect(report.fl_edges.at(-1)).toBe(2);
    expect(report.fl_edges[1]).toBeCloseTo(0.1, 12);
    const [first, second] = report.checkpoints;
    const expected = new Array(20).fill(0);
    for (const bin of [0, 1, 5, 9, 13]) expected[bin]++;
    expect(first!.fl_counts).toEqual(expected);
    expect(first!.fl_texts).toBe(5);
    expect(first!.fl_missing).toBe(1);
    // 0.2 is bin 2; the maximum (2, on the upper edge) is in the last bin.
    expect(second!.fl_counts.flatMap((count, bin) => (count > 0 ? [[bin, count]] : []))).toEqual([
      [2, 1],
      [19, 1],
    ]);
  });

  it("keeps the 20 largest-KL positions of all texts, largest first, tokens and contexts as given (clipped)", () => {
    const findings = new DriftFindings("in_domain");
    const hostile = "<img src=x onerror=alert(1)>";
    // 6 texts × 5 positions: KL = text + position / 10 for text 0..5, so the 20 largest are texts 5, 4, 3, 2.
    for (let text = 0; text < 6; text++)
      findings.add(
        textRow(
          "m",
          `t${text}`,
          text % 2 ? "ood" : "in_domain",
          1,
          Array.from({ length: 5 }, (_, position) => ({
            position,
            token: text === 5 && position === 4 ? hostile : `w${text}.${position}`,
            kl: text + position / 10,
            context: "x".repeat(200) + `end${text}`,
          })),
        ),
      );
    // Malformed entries (no number KL) and KL 0 (no change) are skipped; a token that is not a string is written as JSON.
    findings.add(textRow("m", "t9", "in_domain", 0.1, [{ position: 0, token: "bad", kl: "high" }, null, { position: 1, token: "same", kl: 0 }, { position: 2, token: 42, kl: 0.5, context: null }]));
    const top = findings.build(["m"]).checkpoints[0]!.top_kl;
    expect(top).toHaveLength(20);
    expect(top.map((entry) => entry.kl)).toEqual([5.4, 5.3, 5.2, 5.1, 5, 4.4, 4.3, 4.2, 4.1, 4, 3.4, 3.3, 3.2, 3.1, 3, 2.4, 2.3, 2.2, 2.1, 2].map((value) => expect.closeTo(value, 12)));
    expect(top[0]).toEqual({ id: "t5", part: "ood", position: 4, token: hostile, kl: 5.4, context: `…${"x".repeat(75)}end5` });
    expect(top[0]!.context).toHaveLength(80);
    const small = new DriftFindings("in_domain");
    small.add(
      textRow("m", "t9", "in_domain", 0.1, [
        { position: 1, token: "same", kl: 0 },
        { position: 2, token: 42, kl: 0.5, context: null },
      ]),
    );
    expect(small.build([]).checkpoints[0]!.top_kl).toEqual([{ id: "t9", part: "in_domain", position: 2, token: "42", kl: 0.5, context: "" }]);
  });

  it("lists the flipped probes both ways with both verdicts and the prompt's start, the first 50 by id, counting all", () => {
    const findings = new DriftFindings("in_domain");
    for (let index = 60; index >= 1; index--) findings.add(probeRow("ckpt-1", `p${index}`, `How do I   do thing ${index}?\n` + "y".repeat(300), 1, 0));
    findings.add(probeRow("ckpt-1", "g1", "Tell me a joke.", 0, 1));
    findings.add(probeRow("ckpt-1", "same", "Unchanged.", 1, 1));
    const { flipped } = findings.build(["ckpt-1"]).checkpoints[0]!;
    expect(flipped.lost_total).toBe(60);
    expect(flipped.gained_total).toBe(1);
    expect(flipped.lost).toHaveLength(FLIPS_LISTED);
    // Natural order: p1, p2, … p50 (not p1, p10, p11…).
    expect(flipped.lost.map((flip) => flip.id)).toEqual(Array.from({ length: 50 }, (_, index) => `p${index + 1}`));
    // The user message, whitespace collapsed, clipped to 160 characters.
    expect(flipped.lost[0]).toEqual({ id: "p1", prompt: `How do I do thing 1? ${"y".repeat(138)}…`, aligned_base: 1, aligned_target: 0 });
    expect(flipped.lost[0]!.prompt).toHaveLength(160);
    expect(flipped.gained).toEqual([{ id: "g1", prompt: "Tell me a joke.", aligned_base: 0, aligned_target: 1 }]);
  });

  it("gives the checkpoints in the order given, then any other in natural order", () => {
    const findings = new DriftFindings("in_domain");
    for (const model of ["ckpt-10", "extra-2", "ckpt-1", "extra-10", "ckpt-2"]) findings.add(textRow(model, "a", "in_domain", 0.5));
    expect(findings.build(["ckpt-1", "ckpt-2", "ckpt-10", "absent"]).checkpoints.map((entry) => entry.model)).toEqual(["ckpt-1", "ckpt-2", "ckpt-10", "extra-2", "extra-10"]);
  });

  it("reads the in-domain part from drift_fidelity_dsi's options", () => {
    expect(inDomainPart({ config: {} })).toBe("in_domain");
    expect(inDomainPart({ config: { suite_metrics: ["drift_ars", { name: "drift_fidelity_dsi", options: { in_domain_part: "wiki" } }] } })).toBe("wiki");
  });
});
