import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomLlama } from "../helpers/gguf-writer.js";
import { runCli } from "../helpers/cli.js";
import { needs } from "../helpers/requirements.js";
import { readPartials, tempDir, writeJsonl } from "../helpers/run-folder.js";
import { SHARED_DATASETS } from "../helpers/shared.js";

// Where a local model's file comes from: a file already in the Hugging Face cache is used where it is (no
// download, no copy), and a file given as a path is loaded in place.

const hasLibrary = needs("llama");

const STORIES = join(SHARED_DATASETS, "models/stories260K.gguf");
const COMMIT = "fedcba9876543210fedcba9876543210fedcba98";

/** A hub on loopback that records every request and serves nothing: any request is a failure of the test. */
let requests: string[] = [];
let endpoint = "";
const server = createServer((req, res) => {
  requests.push(`${req.method} ${req.url}`);
  res.writeHead(500).end();
});
let MODEL = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // stories260K from ../shared where it is, else a tiny random llama written here.
  if (existsSync(STORIES)) MODEL = STORIES;
  else writeRandomLlama((MODEL = join(tempDir(), "tiny-random.gguf")), { dim: 64, layers: 2, heads: 4, ffn: 128, vocabPieces: 300, seed: 7 });
});
afterAll(() => server.close());

/** Every file under `folder` (symlinks not followed) with its size. */
function filesUnder(folder: string): Array<{ path: string; size: number }> {
  const found: Array<{ path: string; size: number }> = [];
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.push({ path: join(entry.parentPath, entry.name), size: statSync(join(entry.parentPath, entry.name)).size });
  }
  return found;
}

function dataset(dir: string): string {
  const file = join(dir, "prompts.jsonl");
  writeJsonl(file, [{ id: "a", prompt: "Once upon a time" }]);
  return file;
}

describe.skipIf(!hasLibrary)("local model files", () => {
  it("uses an hf: model already in the Hugging Face cache (a snapshot symlink into blobs/): no request, no copy", async () => {
    requests = [];
    const dir = tempDir();
    const hub = join(dir, "hf-hub");
    const repo = join(hub, "models--owner--repo");
    const blob = join(repo, "blobs", "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9");
    mkdirSync(join(repo, "blobs"), { recursive: true });
    copyFileSync(MODEL, blob);
    mkdirSync(join(repo, "refs"), { recursive: true });
    writeFileSync(join(repo, "refs", "main"), COMMIT);
    mkdirSync(join(repo, "snapshots", COMMIT), { recursive: true });
    symlinkSync(join("..", "..", "blobs", "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"), join(repo, "snapshots", COMMIT, "model.gguf"));
    const env = { HF_ENDPOINT: endpoint, HF_HUB_CACHE: hub, XDG_CACHE_HOME: join(dir, "xdg") };
    const result = await runCli(["run", "--models", "llamacpp:hf:owner/repo/model.gguf", "--dataset", dataset(dir), "--output-dir", join(dir, "runs"), "--run-id", "r", "--max-tokens", "4"], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(requests).toEqual([]);
    expect(result.stderr).not.toContain("downloading");
    expect(readPartials(join(dir, "runs", "r"))).toHaveLength(1);
    // The only copy of the model is the blob: nothing in alignbench's cache (XDG_CACHE_HOME/alignbench) or elsewhere.
    expect(existsSync(join(dir, "xdg"))).toBe(false);
    expect(filesUnder(dir).filter((file) => file.size === statSync(MODEL).size)).toEqual([{ path: blob, size: statSync(MODEL).size }]);
  });

  it("refuses a file in the Hugging Face cache that is not a GGUF model: exit 2, the file named, no stack trace", async () => {
    requests = [];
    const dir = tempDir();
    const snapshot = join(dir, "hf-hub", "models--owner--repo", "snapshots", COMMIT);
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(join(dir, "hf-hub", "models--owner--repo", "refs"));
    writeFileSync(join(dir, "hf-hub", "models--owner--repo", "refs", "main"), `${COMMIT}\n`);
    writeFileSync(join(snapshot, "model.gguf"), "version https://git-lfs.github.com/spec/v1\n");
    const env = { HF_ENDPOINT: endpoint, HF_HUB_CACHE: join(dir, "hf-hub"), XDG_CACHE_HOME: join(dir, "xdg") };
    const result = await runCli(["run", "--models", "llamacpp:hf:owner/repo/model.gguf", "--dataset", dataset(dir), "--output-dir", join(dir, "runs"), "--max-tokens", "4"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(snapshot, "model.gguf")}: not a GGUF file`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(requests).toEqual([]);
  });

  it("loads a model given as a relative path in place, copying it nowhere", async () => {
    requests = [];
    const dir = tempDir();
    const file = join(dir, "my-model.gguf");
    copyFileSync(MODEL, file);
    const before = statSync(file);
    const env = { HF_ENDPOINT: endpoint, HF_HUB_CACHE: join(dir, "hf-hub"), XDG_CACHE_HOME: join(dir, "xdg") };
    const result = await runCli(["run", "--models", "llamacpp:./my-model.gguf", "--dataset", dataset(dir), "--output-dir", "runs", "--run-id", "r", "--max-tokens", "4"], { env, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(requests).toEqual([]);
    expect(readPartials(join(dir, "runs", "r"))).toHaveLength(1);
    expect(existsSync(join(dir, "xdg"))).toBe(false);
    expect(filesUnder(dir).filter((entry) => entry.size === before.size)).toEqual([{ path: file, size: before.size }]);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
  });
});
