import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { needs } from "./requirements.js";

/** The real benchmark data and the peer-benchmark mock that sit beside the project (never needed at run time). */
export const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
export const SHARED_DATASETS = SHARED + "datasets/";
export const hasShared = needs("shared");

/** Starts ../shared/bench/mock-llm.mjs on a free loopback port. */
export async function startSharedMock(env: NodeJS.ProcessEnv = {}): Promise<{ url: string; stats(): Promise<Record<string, unknown>>; stop(): void; child: ChildProcess }> {
  const child = spawn(process.execPath, [SHARED + "bench/mock-llm.mjs"], { env: { ...process.env, MOCK_PORT: "0", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.on("exit", (code) => reject(new Error(`mock exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/v1`,
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as Record<string, unknown>,
    stop: () => child.kill("SIGTERM"),
    child,
  };
}
