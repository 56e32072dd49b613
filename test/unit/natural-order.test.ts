import { describe, expect, it } from "vitest";
import { naturalCompare, naturalRanks } from "../../src/common/natural-order.js";

describe("natural order", () => {
  it("reads runs of digits as numbers, everything else by code unit", () => {
    const ids = ["10", "2", "1", "item-10", "item-9", "item-9b", "a", "100", "item-09", "20|m|none|0", "3|m|none|0", ""];
    expect([...ids].sort(naturalCompare)).toEqual(["", "1", "2", "3|m|none|0", "10", "20|m|none|0", "100", "a", "item-09", "item-9", "item-9b", "item-10"]);
    // Numbers beyond 2^53 compare exactly (digit by digit, not through floating point).
    expect(naturalCompare("x9007199254740993", "x9007199254740992")).toBeGreaterThan(0);
    expect(naturalCompare("b", "a10")).toBeGreaterThan(0);
    expect(naturalCompare("same", "same")).toBe(0);
  });

  it("ranks: equal values share a rank, and the ranks sort like the values", () => {
    const values = ["12", "3", "12", "item-2", "1"];
    const ranks = naturalRanks(values);
    expect([...ranks]).toEqual([2, 1, 2, 3, 0]);
  });
});
