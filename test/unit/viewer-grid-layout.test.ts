import { describe, expect, it } from "vitest";
import { CodedColumn } from "../../src/results/columns.js";
import { layoutOf, naturalKeys } from "../../src/viewer/grid-layout.js";
import { facetFiltersOf, isFilterParam } from "../../src/viewer/item-filters.js";

/** The ids in the order their keys give, ties kept in input order. */
const sorted = (ids: string[]) => {
  const keys = naturalKeys(ids, ids.length);
  return [...ids.keys()].sort((a, b) => keys[a]! - keys[b]! || a - b).map((row) => ids[row]);
};

describe("the grid's row order", () => {
  it("orders test ids naturally on the fast path (prefix + number) and equal keys mean equal ids", () => {
    const ids = ["item-10", "item-2", "s3", "item-2", "42", "7", "item-1", "s10", "s3"];
    expect(sorted(ids)).toEqual(["7", "42", "item-1", "item-2", "item-2", "item-10", "s3", "s3", "s10"]);
    const keys = naturalKeys(ids, ids.length);
    for (let a = 0; a < ids.length; a++) for (let b = 0; b < ids.length; b++) expect(keys[a] === keys[b], `${ids[a]} ${ids[b]}`).toBe(ids[a] === ids[b]);
  });

  it("falls back to padded digit runs for any other ids: leading zeros, digits inside, no digits", () => {
    const ids = ["v2-item-10", "v2-item-9", "item-007", "item-7", "alpha", "item-8", "v10-item-1", "beta"];
    expect(sorted(ids)).toEqual(["alpha", "beta", "item-007", "item-7", "item-8", "v2-item-9", "v2-item-10", "v10-item-1"]);
    const keys = naturalKeys(ids, ids.length);
    expect(new Set(keys).size).toBe(ids.length);
  });

  it("groups rows by test and epoch, columns by model then persona", () => {
    const rows = [
      ["t2", 1, "b", "none"],
      ["t10", 1, "a", "none"],
      ["t2", 1, "a", "dan"],
      ["t2", 2, "a", "none"],
      ["t2", 1, "a", "none"],
    ] as const;
    const model = new CodedColumn(rows.length);
    const persona = new CodedColumn(rows.length);
    rows.forEach(([, , m, p], row) => {
      model.set(row, m);
      persona.set(row, p);
    });
    const layout = layoutOf(rows.length, { testIds: rows.map((row) => row[0]), epochs: Float64Array.from(rows.map((row) => row[1])), model, persona });
    expect(layout.columns).toEqual([
      { model: "a", persona: "dan" },
      { model: "a", persona: "none" },
      { model: "b", persona: "none" },
    ]);
    expect(layout.epochs).toBe(true);
    expect(Array.from(layout.starts)).toEqual([0, 3, 4, 5]);
    expect(Array.from(layout.order)).toEqual([2, 4, 0, 3, 1]);
    expect(Array.from(layout.columnOf)).toEqual([2, 1, 0, 1, 1]);
  });
});

describe("the filters' spelling in the URL", () => {
  it("reads subcategory, epoch, tags and scorer filters, leaving out empty values and numbers that do not parse", () => {
    const params = new URLSearchParams("subcategory=kill&epoch=2&tag:label=safe&min:verdict=0.5&max:verdict=x&label:judges/verdict=unsafe&tag:=x&min:=1&text=&model=m");
    expect(facetFiltersOf(params)).toEqual({ subcategory: "kill", epoch: 2, tags: { label: "safe" }, scores: { verdict: { min: 0.5 }, "judges/verdict": { label: "unsafe" } } });
    expect(["model", "tag:label", "min:verdict", "label:x", "text", "smin"].every(isFilterParam)).toBe(true);
    expect(["offset", "sort", "tag:", "min:", "token"].some(isFilterParam)).toBe(false);
  });
});
