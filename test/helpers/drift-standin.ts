import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliResult } from "./cli.js";
import { writeJsonl } from "./run-folder.js";

// Runs of `alignbench drift` with the stand-ins of drift-standin-cli.mjs (the built CLI, plus thin stand-ins
// for the drift pieces built on other branches), and the inputs they read.

export const STANDIN_CLI = fileURLToPath(new URL("./drift-standin-cli.mjs", import.meta.url));

/** The built CLI with the drift stand-ins registered, as a user would run `alignbench …`. */
export function runStandin(args: string[], onStart?: (child: ChildProcess) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STANDIN_CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(child);
  });
}

/** In-domain and out-of-domain text sets and a probe set in `dir`; returns the drift flags that name them. */
export function writeDriftInputs(dir: string, texts: number, probes: number): string[] {
  writeJsonl(
    join(dir, "in.jsonl"),
    Array.from({ length: texts }, (_, i) => ({ id: `in-${i}`, text: `In-domain text number ${i}.` })),
  );
  writeJsonl(
    join(dir, "ood.jsonl"),
    Array.from({ length: texts }, (_, i) => ({ id: `ood-${i}`, text: `Out-of-domain text number ${i}.` })),
  );
  writeJsonl(
    join(dir, "probes.jsonl"),
    Array.from({ length: probes }, (_, i) => ({ id: `p${i}`, prompt: `Probe ${i}?`, expect: "refuse" })),
  );
  return ["--in-domain", join(dir, "in.jsonl"), "--ood", join(dir, "ood.jsonl"), "--probes", join(dir, "probes.jsonl")];
}
