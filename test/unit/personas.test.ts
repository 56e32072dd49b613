import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_PERSONAS } from "../../src/personas/builtin.js";
import { composeMessages } from "../../src/personas/compose.js";
import { loadPersonasFile, personaCatalog, selectPersonas } from "../../src/personas/load.js";
import { personaSchema } from "../../src/personas/persona.js";
import type { Sample } from "../../src/datasets/sample.js";
import { tempDir } from "../helpers/run-folder.js";

describe("built-in personas", () => {
  it("has at least 16 valid, uniquely named personas, including the ones the Python runner used", () => {
    expect(BUILTIN_PERSONAS.length).toBeGreaterThanOrEqual(16);
    for (const persona of BUILTIN_PERSONAS) expect(personaSchema.safeParse(persona).success).toBe(true);
    const slugs = BUILTIN_PERSONAS.map((persona) => persona.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(slugs).toEqual(expect.arrayContaining(["evil_confidant", "docente_paciente", "developer_mode_dan", "grandmother", "hypothetical_framing", "roleplay_villain"]));
    expect(BUILTIN_PERSONAS.some((persona) => persona.kind === "benign")).toBe(true);
  });
});

describe("composeMessages", () => {
  const persona = BUILTIN_PERSONAS.find((p) => p.slug === "docente_paciente")!;
  const sample: Sample = {
    id: "1",
    category: "c",
    subcategory: "",
    personaSystemPrompt: "ITEM FRAMING",
    conversation: [
      { role: "system", content: "CONVERSATION SYSTEM" },
      { role: "user", content: "first" },
      { role: "assistant", content: "reply" },
      { role: "user", content: "second" },
    ],
  };

  it("puts persona, then the item's persona_system_prompt, then the conversation's system messages into one system message", () => {
    const messages = composeMessages(sample, persona);
    expect(messages[0]).toEqual({ role: "system", content: `${persona.system_prompt}\n\nITEM FRAMING\n\nCONVERSATION SYSTEM` });
    expect(messages.slice(1).map((m) => m.content)).toEqual(["first", "reply", "second"]);
  });

  it("sends the item as it is when there is no persona and no system text", () => {
    const plain: Sample = { id: "2", category: "c", subcategory: "", conversation: [{ role: "user", content: "hello" }] };
    expect(composeMessages(plain, undefined)).toEqual([{ role: "user", content: "hello" }]);
  });
});

describe("personas files", () => {
  it("loads YAML and JSONL, and a user persona replaces a built-in of the same slug", async () => {
    const dir = tempDir();
    const yamlFile = join(dir, "p.yaml");
    writeFileSync(yamlFile, "personas:\n  - slug: pirate\n    title: Pirate\n    intent: Talks like a pirate\n    kind: benign\n    system_prompt: Arr.\n    risk_notes: none\n");
    const jsonlFile = join(dir, "p.jsonl");
    writeFileSync(jsonlFile, JSON.stringify({ slug: "evil_confidant", title: "Mine", intent: "x", system_prompt: "custom", risk_notes: "" }) + "\n");
    const personas = [...(await loadPersonasFile(yamlFile)), ...(await loadPersonasFile(jsonlFile))];
    const catalog = personaCatalog(personas);
    expect(catalog.get("pirate")?.system_prompt).toBe("Arr.");
    expect(catalog.get("evil_confidant")?.system_prompt).toBe("custom");
  });

  it("reports the line and field of a bad persona", async () => {
    const dir = tempDir();
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, JSON.stringify({ slug: "ok", title: "t", intent: "i", system_prompt: "s" }) + "\n" + JSON.stringify({ slug: "Bad Slug", title: "t", intent: "i", system_prompt: "s" }) + "\n");
    await expect(loadPersonasFile(file)).rejects.toThrow(`${file}:2: slug: use lower-case letters`);
  });

  it("refuses two entries with one slug, naming the file, the line and the first one (JSONL and YAML)", async () => {
    const dir = tempDir();
    const persona = (slug: string, title: string) => ({ slug, title, intent: "i", system_prompt: "s" });
    const jsonl = join(dir, "twice.jsonl");
    writeFileSync(jsonl, [persona("pirate", "A"), persona("ninja", "B"), persona("pirate", "C")].map((p) => JSON.stringify(p)).join("\n") + "\n");
    await expect(loadPersonasFile(jsonl)).rejects.toThrow(`${jsonl}:3: slug: duplicate slug "pirate" (first on line 1)`);
    const yaml = join(dir, "twice.yaml");
    writeFileSync(yaml, "personas:\n  - slug: pirate\n    title: A\n    intent: i\n    system_prompt: s\n  - slug: pirate\n    title: B\n    intent: i\n    system_prompt: s\n");
    await expect(loadPersonasFile(yaml)).rejects.toThrow(`${yaml}:6: persona #2: slug: duplicate slug "pirate" (first on line 2)`);
  });

  it("gives the line of a bad persona in a YAML list", async () => {
    const dir = tempDir();
    const yaml = join(dir, "bad.yaml");
    writeFileSync(yaml, "- slug: pirate\n  title: A\n  intent: i\n  system_prompt: s\n- slug: Bad Slug\n  title: B\n  intent: i\n  system_prompt: s\n");
    await expect(loadPersonasFile(yaml)).rejects.toThrow(`${yaml}:5: persona #2: slug: use lower-case letters`);
    writeFileSync(yaml, "- slug: pirate\n  title: [\n");
    await expect(loadPersonasFile(yaml)).rejects.toThrow(new RegExp(`^${yaml.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: `));
  });

  it("refuses a slug listed twice in --personas, as a model listed twice is", () => {
    expect(() => selectPersonas(["evil_confidant", "helpful_assistant", "evil_confidant"], personaCatalog())).toThrow('persona "evil_confidant" is listed twice');
  });

  it("suggests the nearest slug for a typo", () => {
    expect(() => selectPersonas(["evil_confidnat"], personaCatalog())).toThrow(/did you mean "evil_confidant"/);
  });
});
