import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CodedColumn } from "../../src/results/columns.js";
import { ColumnFileProblem, readColumnFile, TextColumn, writeColumnFile, type Stored } from "../../src/results/column-file.js";
import { DerivedKeys } from "../../src/results/item-columns.js";
import { FileWriteError } from "../../src/results/write-failure.js";
import { tempDir } from "../helpers/run-folder.js";

function coded(values: Array<string | null>): CodedColumn {
  const column = new CodedColumn(values.length);
  values.forEach((value, row) => column.set(row, value));
  return column;
}

const accept = () => undefined;

describe("column files", () => {
  it("read a long text column as a TextColumn that cuts each row's text out when asked", () => {
    const file = join(tempDir(), "texts.bin");
    const texts = Array.from({ length: 5000 }, (_, row) => (row % 7 === 0 ? "" : `row ${row} ünï 日本 🙂`));
    writeColumnFile(file, {}, { texts });
    const { value } = readColumnFile(file, accept);
    const column = (value as { texts: TextColumn }).texts;
    expect(column).toBeInstanceOf(TextColumn);
    expect(column.length).toBe(5000);
    expect(column.toArray()).toEqual(texts);
    expect([column.at(-1), column.at(5000), column.at(1.5)]).toEqual([texts.at(-1), texts.at(5000), texts.at(1.5)]);
    // Short ones stay arrays (coded columns' values, facet lists).
    writeColumnFile(file, {}, { texts: ["a", "b"] });
    expect((readColumnFile(file, accept).value as { texts: string[] }).texts).toEqual(["a", "b"]);
  });

  it("derive keys only when every row's key is its test|persona|model|epoch", () => {
    const columns = { size: 2, testIds: ["t1", "t2"], coded: { persona: coded(["none", "p"]), model: coded(["m", "m"]) }, epochs: Float64Array.from([1, 2]) };
    expect(DerivedKeys.match({ ...columns, keys: ["t1|none|m|1", "t2|p|m|2"] } as never)).toBe(true);
    expect(new DerivedKeys(columns as never).at(1)).toBe("t2|p|m|2");
    // A run with a plan's extra dimension (a strategy) keys its rows with it: stored as they are.
    expect(DerivedKeys.match({ ...columns, keys: ["t1|none|m|1|direct", "t2|p|m|2|direct"] } as never)).toBe(false);
  });

  it("store numbers, typed arrays, texts, coded columns, maps and objects as they were", () => {
    const file = join(tempDir(), "columns.bin");
    const texts = ["", "plain", "ünïcödé", "日本語", "emoji 🙂 and \u0000 nul", 'a\nb,"c"', "x".repeat(5000)];
    const value = {
      size: 7,
      texts,
      floats: Float64Array.from([0, -1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e-300, 0.1 + 0.2, -0]),
      singles: Float32Array.from([0, -1.5, Number.NaN, 16_777_216, 0.25, 3, -0]),
      small: Int8Array.from([-1, 0, 1, 2, 127, -128, 3]),
      codes: coded(["a", null, "b", "a", "日本", null, "b"]),
      scorers: new Map<string, Stored>([
        ["verdict", { value: Float64Array.from([1, 0]), label: coded(["bad", "good"]) }],
        ["__proto__", { value: Float64Array.from([2]) }],
      ]),
      nested: JSON.parse('{"__proto__": [], "empty": []}') as Stored,
    };
    writeColumnFile(file, { version: 1 }, value);
    const { meta, value: read } = readColumnFile<{ version: number }>(file, accept);
    expect(meta).toEqual({ version: 1 });
    const back = read as typeof value;
    expect(back.size).toBe(7);
    expect(back.texts).toEqual(texts);
    expect([...back.floats]).toEqual([...value.floats]);
    expect(Object.is(back.floats[6], -0)).toBe(true);
    expect([...back.small]).toEqual([...value.small]);
    expect(back.codes).toBeInstanceOf(CodedColumn);
    expect([0, 1, 2, 3, 4, 5, 6].map((row) => back.codes.get(row))).toEqual(["a", null, "b", "a", "日本", null, "b"]);
    expect(back.codes.codeOf("b")).toBe(value.codes.codeOf("b"));
    expect(back.codes.codeOf("missing")).toBe(-2);
    expect([...back.scorers.keys()]).toEqual(["verdict", "__proto__"]);
    const verdict = back.scorers.get("verdict") as { value: Float64Array; label: CodedColumn };
    expect([...verdict.value]).toEqual([1, 0]);
    expect(verdict.label.get(0)).toBe("bad");
    // A field named __proto__ stays a field; nothing reaches Object.prototype.
    expect(Object.keys(back.nested)).toEqual(["__proto__", "empty"]);
    expect(Object.getPrototypeOf(back.nested)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).empty).toBeUndefined();
  });

  it("refuse what they cannot store, rather than store something else", () => {
    const file = join(tempDir(), "columns.bin");
    expect(() => writeColumnFile(file, {}, { set: new Set(["a"]) as unknown as Stored })).toThrow(/cannot store \[object Set\]/);
    expect(() => writeColumnFile(file, {}, { count: Number.NaN })).toThrow(/finite numbers/);
    expect(() => writeColumnFile(file, {}, { list: [1, 2] as unknown as string[] })).toThrow(/arrays of strings/);
  });

  it("are refused when missing, cut short, damaged or not accepted, saying why", () => {
    const dir = tempDir();
    const file = join(dir, "columns.bin");
    writeColumnFile(file, { version: 1 }, { values: Float64Array.from([1, 2, 3]), texts: ["a", "b"] });
    const whole = readFileSync(file);
    const problem = (bytes: Buffer | undefined, check: (meta: unknown) => string | undefined = accept): string => {
      const target = join(dir, "broken.bin");
      if (bytes) writeFileSync(target, bytes);
      try {
        readColumnFile(bytes ? target : join(dir, "absent.bin"), check);
      } catch (error) {
        expect(error).toBeInstanceOf(ColumnFileProblem);
        return (error as Error).message;
      }
      return "read";
    };
    expect(problem(whole)).toBe("read");
    expect(problem(undefined)).toMatch(/cannot open it \(ENOENT\)/);
    expect(problem(whole.subarray(0, whole.length - 9))).toMatch(/cut short|longer than/);
    expect(problem(whole.subarray(0, 10))).toMatch(/cut short/);
    expect(problem(Buffer.from("not a column file at all"))).toMatch(/not a column file/);
    const flipped = Buffer.from(whole);
    flipped[flipped.length - 20]! ^= 0xff;
    expect(problem(flipped)).toMatch(/does not match its checksum/);
    const header = Buffer.from(whole);
    header[16] = 0x5b; // "[" for the header's opening "{": no longer JSON
    expect(problem(header)).toMatch(/header is not JSON/);
    // A header still JSON but saying something else (a column renamed): the checksum covers it too.
    const count = Buffer.from(whole.toString("latin1").replace('"values"', '"valuez"'), "latin1");
    expect(problem(count)).toMatch(/does not match its checksum/);
    expect(problem(whole, (meta) => ((meta as { version: number }).version === 2 ? undefined : "another version"))).toBe("another version");
  });

  it("are written beside their name and renamed: a failed write leaves the previous file whole", () => {
    const dir = tempDir();
    const file = join(dir, "columns.bin");
    writeColumnFile(file, { version: 1 }, { values: Float64Array.from([1]) });
    const before = readFileSync(file);
    mkdirSync(`${file}.tmp`); // the temporary file cannot be created
    expect(() => writeColumnFile(file, { version: 2 }, { values: Float64Array.from([2]) })).toThrow(FileWriteError);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readColumnFile<{ version: number }>(file, accept).meta.version).toBe(1);
  });
});
