import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

// What alignbench's compiled-at-first-use addons share: the cache folder, the N-API headers (npm package
// node-api-headers, nothing downloaded), and the compile-into-the-cache step. The dense-logits addon
// (providers/llamacpp/native-build.ts) adds llama.cpp's headers and library; the weight kernels
// (weights/kernels.ts) need nothing else. ALIGNBENCH_NATIVE=0 turns both off; CC names the C compiler (default cc).

const run = promisify(execFile);

/** Where an addon lies after a build, or why there is none. */
export type NativeBuild = { path: string; built: boolean } | { unavailable: string };

export function nativeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ALIGNBENCH_NATIVE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "alignbench", "native");
}

export function napiHeaders(): string | undefined {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve("node-api-headers/package.json")), "include");
    return existsSync(join(dir, "node_api.h")) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export function firstLines(text: string, count = 6): string {
  return text.trim().split("\n").slice(0, count).join("\n");
}

/** Runs the C compiler; undefined when it succeeded, else why not, in a sentence. */
export async function compileC(args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const compiler = env.CC || "cc";
  try {
    await run(compiler, args, { maxBuffer: 1 << 22 });
    return undefined;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === "ENOENT") return `no C compiler (${compiler}) on this machine: install gcc (Debian: apt-get install build-essential)`;
    return `${compiler} could not compile the addon:\n${firstLines(failure.stderr || failure.message)}`;
  }
}

/** Copies a compiled addon into the cache by a rename, so a process loading it never sees a half-written file. */
export async function installAddon(staged: string, output: string): Promise<void> {
  await mkdir(dirname(output), { recursive: true });
  const partial = `${output}.${process.pid}.partial`;
  await rm(partial, { force: true });
  await copyFile(staged, partial);
  await rename(partial, output);
}

export interface SelfContainedAddon {
  /** The file name in the cache, e.g. weights-kernels.node. */
  name: string;
  /** The C sources' folder and files (.h files count towards the cache key only). */
  folder: string;
  sources: string[];
  /** Compiler flags; they count towards the cache key. Portable ones only: the cache folder may be shared. */
  flags: string[];
}

/**
 * An addon that needs only the N-API headers and libm: from the cache (keyed by its sources, flags, compiler
 * and architecture) or compiled now. `force` compiles again even when the cache has it.
 */
export async function buildSelfContainedAddon(addon: SelfContainedAddon, options: { force?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<NativeBuild> {
  const env = options.env ?? process.env;
  if (env.ALIGNBENCH_NATIVE === "0") return { unavailable: "turned off by ALIGNBENCH_NATIVE=0" };
  if (process.platform !== "linux") return { unavailable: `alignbench's addons are built on Linux only (this is ${process.platform})` };
  const headers = napiHeaders();
  if (!headers) return { unavailable: "the N-API headers (npm package node-api-headers) are not installed" };
  let source: string;
  try {
    source = (await Promise.all(addon.sources.map((file) => readFile(join(addon.folder, file), "utf8")))).join("\0");
  } catch {
    return { unavailable: `the addon's sources (${addon.sources.join(", ")}) are missing from ${addon.folder}` };
  }
  const key = createHash("sha256")
    .update(`${source}\0${addon.flags.join(" ")}\0${env.CC || "cc"}\0${process.arch}`)
    .digest("hex")
    .slice(0, 16);
  const output = join(nativeCacheDir(env), key, addon.name);
  if (!options.force && existsSync(output)) return { path: output, built: false };
  const work = await mkdtemp(join(tmpdir(), "alignbench-native-"));
  try {
    const staged = join(work, addon.name);
    const sources = addon.sources.filter((file) => file.endsWith(".c")).map((file) => join(addon.folder, file));
    const failure = await compileC([...addon.flags, "-fPIC", "-shared", `-I${headers}`, ...sources, "-o", staged, "-lm"], env);
    if (failure) return { unavailable: failure };
    await installAddon(staged, output);
    return { path: output, built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
