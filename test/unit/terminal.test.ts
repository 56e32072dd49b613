import { describe, expect, it } from "vitest";
import { scrubTerminal } from "../../src/cli/terminal.js";
import { noteSecrets } from "../../src/secrets.js";

describe("the terminal", () => {
  it("never shows a secret the process was given, whoever prints it", () => {
    const written: unknown[] = [];
    const stream = { write: (chunk: unknown) => written.push(chunk) > 0 } as unknown as NodeJS.WriteStream;
    scrubTerminal([stream]);
    scrubTerminal([stream]); // guarding twice wraps once
    stream.write("before any secret: abcdef123456\n");
    noteSecrets(["abcdef123456", "short"]);
    stream.write("HTTP 401: key abcdef123456 refused\n");
    stream.write(Buffer.from("as bytes: abcdef123456"));
    expect(written).toEqual(["before any secret: abcdef123456\n", "HTTP 401: key [REDACTED] refused\n", "as bytes: [REDACTED]"]);
    // Values too short to be keys are left alone: hiding them would garble ordinary text.
    stream.write("a short word\n");
    expect(written.at(-1)).toBe("a short word\n");
  });
});
