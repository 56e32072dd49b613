import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "libsql";
import { canonicalJson, sha256Of } from "../common/canonical-json.js";
import { cacheRoot } from "../io/download.js";
import type { GenerateResult } from "../providers/types.js";

/**
 * The response cache (`--cache`): model answers on disk, shared by every run on the machine, so re-running a
 * suite with another judge, scorer or metric never asks the models under test again. One SQLite file (WAL,
 * so several runs may share it); a row per answer, keyed by the sha256 of the canonical JSON of what decides
 * the answer: the model (provider, id, endpoint, and for a local model its file's hash and chat template),
 * the messages or prompt, every generation option (temperature, max_tokens, top_p, seed, stop), the response
 * format and the log-probabilities asked for. Anything else (timeouts, signals) is not part of the key.
 */
export const CACHE_KEY_VERSION = 1;

export function defaultCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.ALIGNBENCH_RESPONSE_CACHE || join(cacheRoot(env), "responses.sqlite");
}

export interface CacheStats {
  file: string;
  entries: number;
  bytes: number;
  hits: number;
  models: Array<{ model: string; entries: number; hits: number }>;
}

export class ResponseCache {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS responses (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0
      );
    `);
  }

  /** The key of one request: a sha256 over the model's identity and everything the request asks. */
  static key(identity: Record<string, unknown>, request: Record<string, unknown>): string {
    return sha256Of(canonicalJson({ version: CACHE_KEY_VERSION, model: identity, request }));
  }

  get(key: string): GenerateResult | undefined {
    const found = this.db.prepare("SELECT result FROM responses WHERE key = ?").get(key) as { result: string } | undefined;
    if (!found) return undefined;
    this.db.prepare("UPDATE responses SET hits = hits + 1 WHERE key = ?").run(key);
    return JSON.parse(found.result) as GenerateResult;
  }

  put(key: string, model: string, result: GenerateResult): void {
    // The first answer stored stays: two runs racing for one key keep one answer, as a rerun would see it.
    this.db.prepare("INSERT INTO responses (key, model, result, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING").run(key, model, JSON.stringify(result), new Date().toISOString());
  }

  stats(): CacheStats {
    const models = this.db.prepare("SELECT model, COUNT(*) AS entries, SUM(hits) AS hits FROM responses GROUP BY model ORDER BY model").all() as Array<{
      model: string;
      entries: number;
      hits: number;
    }>;
    const bytes = ["", "-wal"].reduce((sum, suffix) => {
      try {
        return sum + statSync(this.file + suffix).size;
      } catch {
        return sum;
      }
    }, 0);
    return {
      file: this.file,
      entries: models.reduce((sum, entry) => sum + Number(entry.entries), 0),
      bytes,
      hits: models.reduce((sum, entry) => sum + Number(entry.hits ?? 0), 0),
      models: models.map((entry) => ({ model: entry.model, entries: Number(entry.entries), hits: Number(entry.hits ?? 0) })),
    };
  }

  /** Removes every answer (of one model, when named); returns how many. */
  clear(model?: string): number {
    const result = model === undefined ? this.db.prepare("DELETE FROM responses").run() : this.db.prepare("DELETE FROM responses WHERE model = ?").run(model);
    this.db.exec("VACUUM");
    return Number(result.changes);
  }

  close(): void {
    this.db.close();
  }
}
