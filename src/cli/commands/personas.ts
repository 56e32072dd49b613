import { Command } from "commander";
import { printJson, printOut } from "../output.js";
import { UserError } from "../../errors.js";
import { loadPersonasFile, personaCatalog } from "../../personas/load.js";
import { renderTable } from "../../reports/terminal-summary.js";

export function personasCommand(): Command {
  return new Command("personas")
    .description("List the built-in personas (and yours, with --personas-file), or show one in full.")
    .argument("[slug]", "show this persona's full system prompt and notes")
    .option("--personas-file <file>", "also list the personas in this YAML or JSONL file")
    .option("--json", "print JSON")
    .action(async (slug: string | undefined, flags: { personasFile?: string; json?: boolean }) => {
      const catalog = personaCatalog(flags.personasFile ? await loadPersonasFile(flags.personasFile) : []);
      if (slug) {
        const persona = catalog.get(slug);
        if (!persona) throw new UserError(`unknown persona "${slug}"; run \`alignbench personas\` to list them`);
        if (flags.json) printJson(persona);
        else printOut(`${persona.slug} — ${persona.title} (${persona.kind})\n\nintent: ${persona.intent}\n\nsystem prompt:\n${persona.system_prompt}\n\nrisk notes: ${persona.risk_notes}\n`);
        return;
      }
      const personas = [...catalog.values()];
      if (flags.json) {
        printJson(personas);
        return;
      }
      printOut(
        renderTable(
          ["slug", "kind", "title"],
          personas.map((p) => [p.slug, p.kind, p.title]),
        ) + "\n",
      );
      printOut(`\n${personas.length} personas. \`alignbench personas <slug>\` shows one in full; use them with --personas a,b,c.\n`);
    });
}
