import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDataset, streamSamples } from "../../src/datasets/dataset.js";
import { hhRlhf } from "../../src/datasets/formats/hh-rlhf.js";
import type { Sample } from "../../src/datasets/sample.js";
import { tempDir } from "../helpers/run-folder.js";
import { SHARED_DATASETS, hasShared } from "../helpers/shared.js";

function jsonl(lines: unknown[]): string {
  const path = join(tempDir("alignbench-hh-"), "pairs.jsonl");
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return path;
}

async function samples(path: string, limit?: number): Promise<Sample[]> {
  const check = await checkDataset(path, "stop", limit, { format: "hh-rlhf", id: "#line" });
  const out: Sample[] = [];
  for await (const sample of streamSamples(check, limit)) out.push(sample);
  return out;
}

const DIALOGUE = "\n\nHuman: How do I pick a lock?\n\nAssistant: Why do you want to?\n\nHuman: I locked myself out.\n\nAssistant:";

describe("record format hh-rlhf", () => {
  it("splits HH dialogues into the shared dialogue and the two final responses", async () => {
    const path = jsonl([
      { chosen: `${DIALOGUE} Call a locksmith.`, rejected: `${DIALOGUE} Use a bobby pin.` },
      // Both responses begin alike: the split is still at the Assistant marker, not where the strings differ.
      { chosen: "\n\nHuman: Hi\n\nAssistant: I can help with that.", rejected: "\n\nHuman: Hi\n\nAssistant: I can not." },
    ]);
    const [first, second] = await samples(path);
    expect(first!.id).toBe("1");
    expect(first!.conversation).toEqual([
      { role: "user", content: "How do I pick a lock?" },
      { role: "assistant", content: "Why do you want to?" },
      { role: "user", content: "I locked myself out." },
    ]);
    expect(first!.metadata).toEqual({ dialogue: DIALOGUE, chosen: "Call a locksmith.", rejected: "Use a bobby pin." });
    expect(second!.metadata).toEqual({ dialogue: "\n\nHuman: Hi\n\nAssistant:", chosen: "I can help with that.", rejected: "I can not." });
  });

  it("keeps a response that holds turn markers whole, and joins two Assistant turns in a row in the conversation only", () => {
    const dialogue = "\n\nHuman: Tell me a joke\n\nAssistant: Here is one:\n\nAssistant: Why did…\n\nHuman: Go on\n\nAssistant:";
    const rows = hhRlhf.rows({ chosen: `${dialogue} Because.`, rejected: `${dialogue} No.\n\nHuman: ok\n\nAssistant: Fine.` });
    expect(rows).toEqual([
      {
        conversation: [
          { role: "user", content: "Tell me a joke" },
          { role: "assistant", content: "Here is one:\n\nWhy did…" },
          { role: "user", content: "Go on" },
        ],
        metadata: { dialogue, chosen: "Because.", rejected: "No.\n\nHuman: ok\n\nAssistant: Fine." },
      },
    ]);
  });

  it("reads prompt / chosen / rejected columns: plain text, HH text, or chat messages", () => {
    expect(hhRlhf.rows({ id: "a", prompt: "Is the sky green?", chosen: "No.", rejected: "Yes.", category: "facts" })).toEqual([
      {
        id: "a",
        category: "facts",
        conversation: [{ role: "user", content: "Is the sky green?" }],
        metadata: { dialogue: "\n\nHuman: Is the sky green?\n\nAssistant:", chosen: "No.", rejected: "Yes." },
      },
    ]);
    // The Hugging Face reformattings keep HH's text: the prompt ends with the marker, each response starts with a space.
    expect(hhRlhf.rows({ prompt: "\n\nHuman: Hi\n\nAssistant:", chosen: " Hello.", rejected: " Go away." })).toEqual([
      { conversation: [{ role: "user", content: "Hi" }], metadata: { dialogue: "\n\nHuman: Hi\n\nAssistant:", chosen: "Hello.", rejected: "Go away." } },
    ]);
    // TRL's conversational preference format.
    const messages = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Insult me" },
    ];
    expect(hhRlhf.rows({ prompt: messages, chosen: [{ role: "assistant", content: "I'd rather not." }], rejected: [{ role: "assistant", content: "You fool." }] })).toEqual([
      {
        conversation: messages,
        metadata: { dialogue: "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Insult me\n\nAssistant:", chosen: "I'd rather not.", rejected: "You fool." },
      },
    ]);
  });

  it("names the file, line and field of a malformed pair", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ rejected: `${DIALOGUE} x` }, /pairs\.jsonl:1: chosen: required: the dialogue as/],
      [{ chosen: 7, rejected: `${DIALOGUE} x` }, /pairs\.jsonl:1: chosen: must be text/],
      [{ chosen: "\n\nHuman: hi there", rejected: "\n\nHuman: hi" }, /pairs\.jsonl:1: chosen: has no "\\n\\nAssistant:" turn/],
      [{ chosen: `${DIALOGUE} a`, rejected: "\n\nHuman: Something else\n\nAssistant: b" }, /pairs\.jsonl:1: rejected: does not share the chosen dialogue/],
      [{ chosen: "Preamble\n\nHuman: hi\n\nAssistant: a", rejected: "Preamble\n\nHuman: hi\n\nAssistant: b" }, /pairs\.jsonl:1: chosen: must open with a "\\n\\nHuman:" turn/],
      [
        { chosen: "\n\nHuman: hi\n\nAssistant: a\n\nAssistant: b", rejected: "\n\nHuman: hi\n\nAssistant: a\n\nAssistant: c" },
        /pairs\.jsonl:1: chosen: the final "\\n\\nAssistant:" turn must follow a "\\n\\nHuman:" turn/,
      ],
      [{ prompt: [{ role: "system", content: "be nice" }], chosen: "a", rejected: "b" }, /pairs\.jsonl:1: prompt\[0\]: must be \{role: "user" \| "assistant"/],
      [{ prompt: "hi", chosen: "a" }, /pairs\.jsonl:1: rejected: required/],
      [{ prompt: "hi", chosen: [{ role: "user", content: "a" }], rejected: "b" }, /pairs\.jsonl:1: chosen\[0\]: must be \{role: "assistant"/],
    ];
    for (const [record, message] of cases) await expect(checkDataset(jsonl([record]), "stop", undefined, { format: "hh-rlhf", id: "#line" })).rejects.toThrow(message);
  });

  it.skipIf(!hasShared)("reads all 2,312 pairs of the real harmless-base test file, each rebuilt exactly from its parts", async () => {
    const file = join(SHARED_DATASETS, "hh-rlhf/harmless-base_test.jsonl");
    const records = readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { chosen: string; rejected: string });
    const rows = await samples(file);
    expect(rows).toHaveLength(2312);
    let markersInResponse = 0;
    let emptyResponses = 0;
    rows.forEach((row, index) => {
      const { dialogue, chosen, rejected } = row.metadata as { dialogue: string; chosen: string; rejected: string };
      // The scorers' context + " " + response is the annotators' text, character for character.
      expect(dialogue + " " + chosen).toBe(records[index]!.chosen);
      expect(dialogue + " " + rejected).toBe(records[index]!.rejected);
      expect(dialogue.endsWith("\n\nAssistant:")).toBe(true);
      expect(row.conversation.at(-1)!.role).toBe("user");
      if (/\n\n(Human|Assistant):/.test(chosen + rejected)) markersInResponse++;
      if (chosen.trim() === "" || rejected.trim() === "") emptyResponses++;
    });
    // Counted independently with Python over the same file (the common prefix cut at its last marker).
    expect([markersInResponse, emptyResponses]).toEqual([5, 4]);
    expect(rows[0]!.conversation.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant", "user"]);
    expect(rows[0]!.conversation[0]!.content).toBe("what are some pranks with a pen i can do?");
  });
});
