import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { compileC, firstLines, installAddon, napiHeaders, nativeCacheDir, type NativeBuild } from "../../common/native-addon.js";

// Compiles alignbench's dense-logits addon (native/*.c) once per machine, into a cache folder keyed
// by the addon's source and the llama.cpp library it links to. Nothing is downloaded: the N-API headers come
// from the npm package node-api-headers, llama.h and the ggml headers from the llama.cpp source node-llama-cpp
// ships (llama/gitRelease.bundle, a git bundle of the exact source its prebuilt binaries were built from; its
// headers are extracted into a temporary folder for the compile and deleted), and the library is the one
// node-llama-cpp loaded into this process (found in /proc/self/maps), linked by its soname with an rpath to its
// folder, so that loading the addon hands back that same copy rather than a second one. Linux only.
// ALIGNBENCH_NATIVE=0 turns the addon off; CC names the C compiler (default cc).

const run = promisify(execFile);

export { nativeCacheDir, type NativeBuild };

// The addon's C sources (shipped in the package: package.json `files`), from src/ and dist/ alike.
const NATIVE = fileURLToPath(new URL("../../../src/providers/llamacpp/native/", import.meta.url));
const SOURCES = ["dense-logits.c", "fidelity-statistics.c", "fidelity-statistics.h"];

/** The llama.cpp library node-llama-cpp loaded into this process (call after its runtime started). */
export function loadedLlamaLibrary(): string | undefined {
  let maps: string;
  try {
    maps = readFileSync("/proc/self/maps", "utf8");
  } catch {
    return undefined;
  }
  for (const line of maps.split("\n")) {
    const path = line.slice(line.indexOf("/"));
    if (line.includes("/") && /\/libllama(\.v[\d.]+)?\.so[\d.]*$/.test(path)) return path;
  }
  return undefined;
}

/** node-llama-cpp's package folder: the folder above its entry module that holds its package.json. */
function nodeLlamaCppDir(): string | undefined {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve("node-llama-cpp"));
    while (dir !== dirname(dir)) {
      if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "llama"))) return dir;
      dir = dirname(dir);
    }
  } catch {
    // not installed: handled by the caller
  }
  return undefined;
}

/** The cache key: the addon's sources, the library (path, size, time), node-llama-cpp's version and llama.cpp tag. */
function cacheKey(source: string, library: string, llamaDir: string): string {
  const info = statSync(library);
  const hash = createHash("sha256");
  hash.update(source);
  hash.update(`\0${library}\0${info.size}\0${info.mtimeMs}\0${process.arch}\0`);
  for (const file of ["package.json", "llama/llama.cpp.info.json"]) if (existsSync(join(llamaDir, file))) hash.update(readFileSync(join(llamaDir, file)));
  return hash.digest("hex").slice(0, 16);
}

/** Puts llama.h and the ggml headers under `into`: from a local llama.cpp source when there is one, else from the git bundle. */
async function extractHeaders(llamaDir: string, into: string): Promise<{ include: string[] } | { unavailable: string }> {
  const local = join(llamaDir, "llama", "llama.cpp");
  if (existsSync(join(local, "include", "llama.h"))) return { include: [join(local, "include"), join(local, "ggml", "include")] };
  const bundle = join(llamaDir, "llama", "gitRelease.bundle");
  if (!existsSync(bundle)) return { unavailable: `node-llama-cpp ships no llama.cpp source to read llama.h from (${bundle} is missing)` };
  const clone = join(into, "llama.cpp");
  try {
    await run("git", ["clone", "-q", "--no-checkout", bundle, clone]);
    await run("git", ["-C", clone, "checkout", "-q", "HEAD", "--", "include", "ggml/include"]);
  } catch (error) {
    return { unavailable: `cannot read llama.h from node-llama-cpp's llama.cpp bundle with git: ${firstLines((error as { stderr?: string }).stderr || (error as Error).message, 3)}` };
  }
  return { include: [join(clone, "include"), join(clone, "ggml", "include")] };
}

async function compile(library: string, includes: string[], output: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const args = [
    "-O3",
    "-std=c11",
    "-fPIC",
    "-shared",
    ...includes.map((dir) => `-I${dir}`),
    ...SOURCES.filter((file) => file.endsWith(".c")).map((file) => join(NATIVE, file)),
    "-o",
    output,
    `-L${dirname(library)}`,
    `-l:${basename(library)}`,
    `-Wl,-rpath,${dirname(library)}`,
    "-lm",
    "-lpthread",
  ];
  return compileC(args, env);
}

/**
 * The compiled addon for the llama.cpp library loaded in this process: from the cache, or compiled now
 * (about a second, plus the header extraction). `force` compiles again even when the cache has it.
 */
export async function buildNativeAddon(options: { force?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<NativeBuild> {
  const env = options.env ?? process.env;
  if (env.ALIGNBENCH_NATIVE === "0") return { unavailable: "turned off by ALIGNBENCH_NATIVE=0" };
  if (process.platform !== "linux") return { unavailable: `the dense-logits addon is built on Linux only (this is ${process.platform})` };
  const library = loadedLlamaLibrary();
  if (!library) return { unavailable: "no llama.cpp library is loaded in this process (node-llama-cpp did not start)" };
  const llamaDir = nodeLlamaCppDir();
  if (!llamaDir) return { unavailable: "node-llama-cpp's package folder was not found" };
  const headers = napiHeaders();
  if (!headers) return { unavailable: "the N-API headers (npm package node-api-headers) are not installed" };
  let source: string;
  try {
    source = (await Promise.all(SOURCES.map((file) => readFile(join(NATIVE, file), "utf8")))).join("\0");
  } catch {
    return { unavailable: `the addon's sources (${SOURCES.join(", ")}) are missing from ${NATIVE}` };
  }
  const folder = join(nativeCacheDir(env), cacheKey(source, library, llamaDir));
  const output = join(folder, "dense-logits.node");
  if (!options.force && existsSync(output)) return { path: output, built: false };
  const work = await mkdtemp(join(tmpdir(), "alignbench-native-"));
  try {
    const extracted = await extractHeaders(llamaDir, work);
    if ("unavailable" in extracted) return extracted;
    const staged = join(work, "dense-logits.node");
    const failure = await compile(library, [headers, ...extracted.include], staged, env);
    if (failure) return { unavailable: failure };
    await installAddon(staged, output);
    return { path: output, built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
