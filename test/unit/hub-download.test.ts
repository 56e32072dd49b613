import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureHubFile, huggingFaceCache, parseHubReference, type DownloadProgress } from "../../src/io/download.js";
import { tempDir } from "../helpers/run-folder.js";

// A GGUF-looking file: the magic, then random bytes (the downloader does not parse it).
const FILE = Buffer.concat([Buffer.from("GGUF"), randomBytes(300_000)]);
const SHA = createHash("sha256").update(FILE).digest("hex");

interface Hub {
  endpoint: string;
  requests: Array<{ method: string; url: string; range?: string }>;
  close(): void;
}

/** A loopback server laid out like the hub: HEAD names sha256 and size, GET honours Range. */
async function startHub(options: { sha?: string; cutAfter?: number } = {}): Promise<Hub> {
  const requests: Hub["requests"] = [];
  let cuts = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const entry: Hub["requests"][number] = { method: req.method ?? "", url: req.url ?? "" };
    if (req.headers.range) entry.range = String(req.headers.range);
    requests.push(entry);
    if (req.url !== "/owner/repo/resolve/main/model.Q4_K_M.gguf") {
      res.writeHead(404);
      return res.end();
    }
    if (req.method === "HEAD") {
      res.writeHead(200, { "x-linked-etag": `"${options.sha ?? SHA}"`, "x-linked-size": String(FILE.length) });
      return res.end();
    }
    const start = req.headers.range ? Number(/bytes=(\d+)-/.exec(String(req.headers.range))![1]) : 0;
    const body = FILE.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, { "content-length": String(body.length), "content-type": "application/octet-stream" });
    if (options.cutAfter !== undefined && cuts++ === 0) {
      // The first download dies part-way, as a dropped connection would leave it.
      res.write(body.subarray(0, options.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => server.close() };
}

let hub: Hub | undefined;
afterEach(() => hub?.close());
const REF = "hf:owner/repo/model.Q4_K_M.gguf";

describe("hub downloads", () => {
  it("parses references", () => {
    expect(parseHubReference("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf")).toEqual({
      kind: "model",
      owner: "Qwen",
      repo: "Qwen2.5-0.5B-Instruct-GGUF",
      path: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
      revision: "main",
    });
    expect(parseHubReference("hf:o/r/sub/dir/f.gguf@v1")).toEqual({ kind: "model", owner: "o", repo: "r", path: "sub/dir/f.gguf", revision: "v1" });
    expect(parseHubReference("hf:datasets/walledai/XSTest/data/test.parquet")).toEqual({ kind: "dataset", owner: "walledai", repo: "XSTest", path: "data/test.parquet", revision: "main" });
    expect(() => parseHubReference("hf:only-owner")).toThrow(/hf:owner\/repo\/file.gguf/);
  });

  it("downloads with progress, verifies the checksum, and reuses the cached copy offline", async () => {
    hub = await startHub();
    const cacheDir = tempDir();
    const progress: DownloadProgress[] = [];
    const path = await ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, onProgress: (p) => progress.push(p), env: {} });
    expect(path).toBe(join(cacheDir, "owner", "repo", "main", "model.Q4_K_M.gguf"));
    expect(readFileSync(path).equals(FILE)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ receivedBytes: FILE.length, totalBytes: FILE.length });
    expect(progress.map((p) => p.receivedBytes)).toEqual([...progress.map((p) => p.receivedBytes)].sort((a, b) => a - b));
    hub.close();
    // The hub is gone: the verified copy is used without a request.
    expect(await ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, env: {} })).toBe(path);
  });

  it("resumes an interrupted download with a Range request", async () => {
    hub = await startHub({ cutAfter: 100_000 });
    const cacheDir = tempDir();
    await expect(ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, env: {} })).rejects.toThrow(/interrupted at \d+ bytes.*run again to resume/);
    const partial = join(cacheDir, "owner", "repo", "main", "model.Q4_K_M.gguf.part");
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(FILE.length);
    const progress: DownloadProgress[] = [];
    const path = await ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, env: {}, onProgress: (p) => progress.push(p) });
    expect(hub.requests.filter((r) => r.method === "GET").at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(progress[0]!.resumedFrom).toBe(kept);
    expect(readFileSync(path).equals(FILE)).toBe(true);
    expect(existsSync(partial)).toBe(false);
  });

  it("refuses a download whose checksum does not match, and leaves no file", async () => {
    hub = await startHub({ sha: "0".repeat(64) });
    const cacheDir = tempDir();
    await expect(ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, env: {} })).rejects.toThrow(/checksum mismatch.*removed/);
    const folder = join(cacheDir, "owner", "repo", "main");
    expect(existsSync(join(folder, "model.Q4_K_M.gguf"))).toBe(false);
    expect(existsSync(join(folder, "model.Q4_K_M.gguf.part"))).toBe(false);
  });

  it("explains how to pass a local file when offline with no cached copy", async () => {
    hub = await startHub();
    const endpoint = hub.endpoint;
    hub.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(ensureHubFile(REF, { endpoint, cacheDir: tempDir(), env: {} })).rejects.toThrow(/no copy in .*pass it as llamacpp:\.\/path\/to\/file\.gguf/);
  });

  it("names a missing file and ignores an unverified leftover", async () => {
    hub = await startHub();
    await expect(ensureHubFile("hf:owner/repo/missing.gguf", { endpoint: hub.endpoint, cacheDir: tempDir(), env: {} })).rejects.toThrow(/no such file/);
    // A file without its verification record (e.g. copied in by hand, half-written) is downloaded again.
    const cacheDir = tempDir();
    const target = join(cacheDir, "owner", "repo", "main", "model.Q4_K_M.gguf");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, "garbage");
    expect(readFileSync(await ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, env: {} })).equals(FILE)).toBe(true);
  });
});

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** A Hugging Face cache laid out as huggingface_hub writes it: the file a symlink into ../../blobs/, refs/main naming the commit. */
function fakeHuggingFaceCache(options: { revision?: string } = {}): { root: string; snapshot: string; blob: string } {
  const root = tempDir();
  const repo = join(root, "models--owner--repo");
  const blob = join(repo, "blobs", SHA);
  mkdirSync(dirname(blob), { recursive: true });
  writeFileSync(blob, FILE);
  mkdirSync(join(repo, "refs"), { recursive: true });
  writeFileSync(join(repo, "refs", options.revision ?? "main"), COMMIT);
  const snapshot = join(repo, "snapshots", COMMIT, "model.Q4_K_M.gguf");
  mkdirSync(dirname(snapshot), { recursive: true });
  symlinkSync(join("..", "..", "blobs", SHA), snapshot);
  return { root, snapshot, blob };
}

describe("the Hugging Face cache", () => {
  it("uses a file already there (a symlink into blobs/) without contacting the hub or copying it", async () => {
    hub = await startHub();
    const { root, snapshot } = fakeHuggingFaceCache();
    const cacheDir = tempDir();
    expect(await ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, env: { HF_HUB_CACHE: root } })).toBe(snapshot);
    expect(hub.requests).toEqual([]);
    expect(readdirSync(cacheDir)).toEqual([]);
    // A commit hash as the revision names its snapshot directly; offline mode needs nothing more.
    expect(await ensureHubFile(`${REF}@${COMMIT}`, { endpoint: hub.endpoint, cacheDir, env: { HF_HUB_CACHE: root, HF_HUB_OFFLINE: "1" } })).toBe(snapshot);
    expect(hub.requests).toEqual([]);
  });

  it("follows refs/ for a named revision, and downloads what the cache lacks", async () => {
    hub = await startHub();
    const tagged = fakeHuggingFaceCache({ revision: "v1" });
    expect(await ensureHubFile(`${REF}@v1`, { endpoint: hub.endpoint, cacheDir: tempDir(), env: { HF_HUB_CACHE: tagged.root } })).toBe(tagged.snapshot);
    expect(hub.requests).toEqual([]);
    // No refs/main in this cache: main is downloaded from the hub into alignbench's cache.
    const cacheDir = tempDir();
    expect(await ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir, env: { HF_HUB_CACHE: tagged.root } })).toBe(join(cacheDir, "owner", "repo", "main", "model.Q4_K_M.gguf"));
    expect(hub.requests.length).toBeGreaterThan(0);
  });

  it("treats a snapshot whose blob is gone as absent", async () => {
    hub = await startHub();
    const { root, blob } = fakeHuggingFaceCache();
    rmSync(blob);
    const path = await ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir: tempDir(), env: { HF_HUB_CACHE: root } });
    expect(readFileSync(path).equals(FILE)).toBe(true);
    expect(hub.requests.length).toBeGreaterThan(0);
    hub.close();
    const offline = ensureHubFile(REF, { endpoint: hub.endpoint, cacheDir: tempDir(), env: { HF_HUB_CACHE: root, HF_HUB_OFFLINE: "1" } });
    await expect(offline).rejects.toThrow(`or the Hugging Face cache (${root})`);
  });

  it("holds datasets too, under datasets--owner--repo", async () => {
    hub = await startHub();
    const root = tempDir();
    const file = join(root, "datasets--owner--prompts", "snapshots", COMMIT, "data", "test.csv");
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, "prompt\nhello\n");
    mkdirSync(join(root, "datasets--owner--prompts", "refs"));
    writeFileSync(join(root, "datasets--owner--prompts", "refs", "main"), COMMIT);
    expect(await ensureHubFile("hf:datasets/owner/prompts/data/test.csv", { endpoint: hub.endpoint, cacheDir: tempDir(), env: { HF_HUB_CACHE: root } })).toBe(file);
    expect(hub.requests).toEqual([]);
  });

  it("is found where huggingface_hub puts it", () => {
    expect(huggingFaceCache({ HF_HUB_CACHE: "/a/hub", HF_HOME: "/b" })).toBe("/a/hub");
    expect(huggingFaceCache({ HF_HOME: "/b", XDG_CACHE_HOME: "/c" })).toBe(join("/b", "hub"));
    expect(huggingFaceCache({ XDG_CACHE_HOME: "/c" })).toBe(join("/c", "huggingface", "hub"));
    expect(huggingFaceCache({})).toBe(join(homedir(), ".cache", "huggingface", "hub"));
  });

  it("refuses references whose parts would lead out of a cache folder", () => {
    for (const reference of ["hf:o/r/../../../etc/passwd", "hf:o/../f.gguf", "hf:../r/f.gguf", "hf:o/r/f.gguf@..", "hf:o/r/a//f.gguf", "hf:o/r/./f.gguf"]) {
      expect(() => parseHubReference(reference), reference).toThrow(/not a valid owner, repository, revision or path segment/);
    }
  });
});
