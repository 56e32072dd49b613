import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { writeOutputFile } from "../../src/io/output-file.js";
import { tempDir } from "../helpers/run-folder.js";

describe("writeOutputFile", () => {
  it("writes a new file and replaces an old one, leaving no temporary file", () => {
    const dir = tempDir();
    const file = join(dir, "out.html");
    writeOutputFile(file, "first");
    writeOutputFile(file, "second ✓");
    expect(readFileSync(file, "utf8")).toBe("second ✓");
    expect(readdirSync(dir)).toEqual(["out.html"]);
  });

  it("refuses a symbolic link, leaving the file it points to as it was", () => {
    const dir = tempDir();
    const target = join(dir, "precious.txt");
    writeFileSync(target, "precious");
    const link = join(dir, "out.html");
    symlinkSync(target, link);
    expect(() => writeOutputFile(link, "overwritten")).toThrow(UserError);
    expect(() => writeOutputFile(link, "overwritten")).toThrow(`${link} is a symbolic link`);
    expect(readFileSync(target, "utf8")).toBe("precious");
  });

  it("refuses a folder, and names a missing folder as the user's to fix (exit 2)", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "sub"));
    expect(() => writeOutputFile(join(dir, "sub"), "x")).toThrow("is not a regular file");
    let error: unknown;
    try {
      writeOutputFile(join(dir, "missing", "out.html"), "x");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as Error).message).toContain("does not exist");
  });
});
