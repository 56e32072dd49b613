import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { Redactor } from "../../src/results/redactor.js";
import { LocalRunStore } from "../../src/runner/store/local-store.js";
import { describeRunStoreConformance } from "../helpers/run-store-conformance.js";
import { tempDir } from "../helpers/run-folder.js";

const BUILT_STORE = fileURLToPath(new URL("../../dist/runner/store/local-store.js", import.meta.url));
const BUILT_REDACTOR = fileURLToPath(new URL("../../dist/results/redactor.js", import.meta.url));

describeRunStoreConformance("local (partials.jsonl + state.sqlite)", {
  async create() {
    const dir = tempDir();
    return {
      dir,
      async open() {
        return new LocalRunStore(dir, "run", new Redactor([]));
      },
    };
  },
  // The child appends through the built store, as the CLI does; skipped before a build.
  ...(existsSync(BUILT_STORE)
    ? {
        writerScript(run: { open(): Promise<unknown> }) {
          const dir = (run as unknown as { dir: string }).dir;
          return `
            import { LocalRunStore } from ${JSON.stringify(BUILT_STORE)};
            import { Redactor } from ${JSON.stringify(BUILT_REDACTOR)};
            const store = new LocalRunStore(${JSON.stringify(dir)}, "run", new Redactor([]));
            await store.recover();
            for (let i = 0; ; i++) {
              const key = "r__ROUND__-" + i;
              const now = new Date().toISOString();
              store.append({ schema_version: 2, run_id: "run", key, dimensions: { test: key }, test_id: key, category: "c", subcategory: "s", persona_slug: "none", model_slug: "m", epoch: 1, attempt: 1, source: "run", started_at: now, completed_at: now, messages: [], raw_candidate: "x".repeat(200), finish_reason: "stop", generation: {}, usage: null, latency_ms: 1, transcript: [], expected_safe_behavior: null, attack_notes: null, item_judge_prompt: null, item_judge_schema: null, item_metadata: null, tags: null, scores: null, status: "ok", error: null, error_type: null })
                .then(() => process.stdout.write(key + "\\n"));
              if (i % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 1));
            }`;
        },
      }
    : {}),
});
