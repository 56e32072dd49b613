import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/run-folder.js";

// `alignbench drift` on bad input: one clear line naming the flag or the file, line and field; exit 2; no
// stack trace; no run folder.

describe("alignbench drift: bad input", () => {
  it("missing flags, bad paths, empty text sets and a bad AlignBench config each give one clear line and exit 2", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "base.gguf"), "");
    writeFileSync(join(dir, "ft.gguf"), "");
    writeFileSync(join(dir, "in.jsonl"), '{"text":"a text"}\n');
    writeFileSync(join(dir, "empty.jsonl"), "");
    writeFileSync(join(dir, "config.yaml"), ["model:", "  base_model: ./base.gguf", "  finetuned_model: ./ft.gguf", "datasets:", "  in_domain: in.jsonl", ""].join("\n"));
    const models = ["--base", join(dir, "base.gguf"), "--finetuned", join(dir, "ft.gguf")];
    const cases: Array<[string[], RegExp]> = [
      [["drift"], /^alignbench: give the fine-tuned model\(s\): --finetuned/],
      [["drift", "--finetuned", join(dir, "ft.gguf")], /^alignbench: give the base model: --base M/],
      [["drift", ...models, "--in-domain", join(dir, "in.jsonl")], /^alignbench: give the out-of-domain texts: --ood FILE/],
      [["drift", "--base", join(dir, "nope.gguf"), "--finetuned", join(dir, "ft.gguf")], /^alignbench: --base: no such file or folder .*nope\.gguf/],
      [["drift", ...models, "--in-domain", join(dir, "in.jsonl"), "--ood", join(dir, "empty.jsonl")], /^alignbench: --ood: .*empty\.jsonl is empty/],
      [
        ["drift", "--config", join(dir, "config.yaml")],
        /^alignbench: .*config\.yaml:5: datasets\.in_domain: unknown key \(AlignBench's datasets block has in_domain_dataset, ood_dataset, probe_dataset\)/,
      ],
      [["drift", "--config", join(dir, "missing.yaml")], /^alignbench: .*missing\.yaml/],
      [["drift", "--task", "truthfulqa-mc1"], /unknown option '--task'/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli([...args, "--output-dir", dir, "--no-progress"]);
      expect(result.code, `${args.join(" ")}\n${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    }
  }, 60_000);
});
