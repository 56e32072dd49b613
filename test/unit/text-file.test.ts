import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.js";
import { readTextFile, readTextFileSync } from "../../src/io/text-file.js";
import { tempDir } from "../helpers/run-folder.js";

describe("readTextFile", () => {
  it("reads UTF-8 text, and names the file, what it is and the system's code when it cannot", async () => {
    const dir = tempDir();
    const file = join(dir, "prompt.txt");
    writeFileSync(file, "héllo\n");
    expect(await readTextFile(file, "judge prompt")).toBe("héllo\n");
    expect(readTextFileSync(file, "judge prompt")).toBe("héllo\n");
    const missing = join(dir, "nope.yaml");
    await expect(readTextFile(missing, "config file")).rejects.toThrow(new UserError(`${missing}: cannot read the config file (ENOENT)`));
    expect(() => readTextFileSync(missing, "config file")).toThrow(`${missing}: cannot read the config file (ENOENT)`);
    await expect(readTextFile(dir, "personas file")).rejects.toBeInstanceOf(UserError);
    expect(() => readTextFileSync(dir, "personas file")).toThrow(`${dir}: cannot read the personas file (EISDIR)`);
  });
});
