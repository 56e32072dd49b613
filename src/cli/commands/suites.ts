import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { Command } from "commander";
import { resolveSuite } from "../../config/load.js";
import { renderTable } from "../../reports/terminal-summary.js";

/** The first comment lines of a suite file: its description. */
function description(file: string): string {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("#"))
    .map((line) => line.replace(/^#\s?/, ""))
    .join(" ");
}

export function suitesCommand(): Command {
  const command = new Command("suites").description("List the built-in suites, or show one's settings.");
  command
    .command("list", { isDefault: true })
    .description("list the built-in suites")
    .action(() => {
      const folder = dirname(resolveSuite("runner"));
      const files = readdirSync(folder).filter((file) => file.endsWith(".yaml")).sort();
      process.stdout.write(renderTable(["suite", "what it runs"], files.map((file) => [basename(file, ".yaml"), description(`${folder}/${file}`).slice(0, 110) + "…"])) + "\n");
      process.stdout.write("\n`alignbench suites show NAME` prints one; run it with `alignbench run --suite NAME --models M --judge-model J` (the suite's dataset is downloaded once and cached) or on a local copy with `--dataset PATH`.\n");
    });
  command
    .command("show")
    .description("print a suite's settings (a built-in name or a suite file)")
    .argument("<suite>", "suite name or YAML file")
    .action((name: string) => {
      const file = resolveSuite(name);
      process.stdout.write(`# ${file}\n${readFileSync(file, "utf8")}`);
    });
  return command;
}
