import { closeSync, openSync, writeSync } from "node:fs";
import type { Redactor } from "./redactor.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** run.log: one JSON object per line (`ts`, `level`, `event`, then fields), scrubbed of secrets. */
export class RunLog {
  private fd: number | undefined;
  /** Why the log stopped taking lines, if it did (a full disk): the log is a witness, never a reason to stop a run. */
  failure: unknown;

  constructor(
    file: string,
    private readonly redactor: Redactor,
  ) {
    this.fd = openSync(file, "a");
  }

  write(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    if (this.fd === undefined) return;
    const line = JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields });
    try {
      writeSync(this.fd, this.redactor.scrub(line) + "\n");
    } catch (error) {
      // Later lines would fail the same way; the run's own writes report the disk's state.
      this.failure = error;
      this.close();
    }
  }

  info(event: string, fields?: Record<string, unknown>): void {
    this.write("info", event, fields);
  }

  warn(event: string, fields?: Record<string, unknown>): void {
    this.write("warn", event, fields);
  }

  error(event: string, fields?: Record<string, unknown>): void {
    this.write("error", event, fields);
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (fd !== undefined) closeSync(fd);
    } catch (error) {
      this.failure ??= error;
    }
  }
}
