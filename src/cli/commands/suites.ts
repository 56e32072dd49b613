import { basename, dirname, isAbsolute, relative } from "node:path";
import { Command } from "commander";
import { printOut } from "../output.js";
import { Document, isMap, isScalar, isSeq, visit } from "yaml";
import { builtinSuites, loadSuite, resolveSuite, type ConfigLayer } from "../../config/load.js";
import type { IncludeTree } from "../../config/files.js";
import { SECTIONS } from "../../config/file-schema.js";
import { readTextFileSync } from "../../io/text-file.js";
import { runConfigSchema } from "../../config/schema.js";

/** The first comment lines of a suite file: its description. */
function description(file: string): string[] {
  const lines: string[] = [];
  for (const line of readTextFileSync(file, "suite file").split("\n")) {
    if (!line.startsWith("#")) break;
    lines.push(line.replace(/^#\s?/, ""));
  }
  return lines;
}

/** Key order of `suites show`: what the suite is, its data, generation, scoring, report, then the schema's order. */
/** The protocol notes (what follows the paper, what deviates) come last, after the settings they describe. */
const KEY_ORDER = [
  "version",
  "plan",
  "roles",
  ...SECTIONS.data,
  "respond",
  "generation",
  ...SECTIONS.scoring,
  ...SECTIONS.report,
  ...Object.keys(runConfigSchema.shape).filter((key) => key !== "protocol"),
  "protocol",
];
const byKeyOrder = (a: string, b: string) => (KEY_ORDER.indexOf(a) + 1 || Infinity) - (KEY_ORDER.indexOf(b) + 1 || Infinity);

/** The resolved suite as YAML: includes and sections applied, each group of keys under the file(s) it came from. */
export function renderSuite(name: string, suite: ConfigLayer & { file: string }): string {
  // Short names for the "# from" lines: a built-in suite by its file name, others relative to this file.
  const builtin = dirname(resolveSuite("runner"));
  const shown = (file: string) => {
    if (dirname(file) === builtin) return dirname(suite.file) === builtin ? basename(file) : `${basename(file)} (built-in)`;
    const near = relative(dirname(suite.file), file);
    return near.startsWith("..") || isAbsolute(near) ? file : near;
  };
  const out: string[] = description(suite.file).map((line) => `# ${line}`.trimEnd());
  if (out.length > 0) out.push("#");
  out.push(`# suite ${name}, resolved: includes and sections applied, paths made absolute.`);
  out.push(`# file: ${suite.file}`);
  const tree = (node: IncludeTree, depth: number) => {
    for (const child of node.includes) {
      out.push(`# ${"  ".repeat(depth)}includes ${child.reference} (${child.file})`);
      tree(child, depth + 1);
    }
  };
  tree(suite.include, 1);
  if (suite.values.plan === undefined) out.push("plan: generate # the default");
  const keys = Object.keys(suite.values).sort(byKeyOrder);
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const from = suite.filesOf(key).map(shown).join(", ");
    groups.set(from, [...(groups.get(from) ?? []), key]);
  }
  const annotate = suite.include.includes.length > 0;
  // Groups in the order their files apply: included files first.
  const order = filesInOrder(suite.include).map(shown);
  const rank = (from: string) => Math.max(...from.split(", ").map((file) => order.indexOf(file)));
  for (const [from, group] of [...groups].sort((a, b) => rank(a[0]) - rank(b[0]))) {
    if (annotate) out.push(`# from ${from}`);
    out.push(toYaml(Object.fromEntries(group.map((key) => [key, suite.values[key]]))));
  }
  return out.join("\n") + "\n";
}

/** YAML in the suites' own style: lists of scalars and the items of lists on one line each. */
function toYaml(values: Record<string, unknown>): string {
  const document = new Document(values);
  visit(document, {
    Seq(_, node) {
      // Prose (a suite's protocol notes) stays in block style, one sentence a line; short values go on one line.
      if (node.items.every((item) => isScalar(item) && !isProse(item.value))) node.flow = true;
      for (const item of node.items) if ((isMap(item) && item.items.every((pair) => !isProse(isScalar(pair.value) ? pair.value.value : undefined))) || isSeq(item)) item.flow = true;
    },
    Scalar(_, node) {
      if (typeof node.value === "string" && node.value.includes("\n") && node.value.length < 80) node.type = "QUOTE_DOUBLE";
    },
    Map(_, node, path) {
      if (path.length > 2 && node.items.every((pair) => isScalar(pair.value) && !isProse(pair.value.value))) node.flow = true;
    },
  });
  return document.toString({ lineWidth: 0, flowCollectionPadding: false }).trimEnd();
}

function isProse(value: unknown): boolean {
  return typeof value === "string" && value.length >= 60;
}

function filesInOrder(node: IncludeTree): string[] {
  return [...node.includes.flatMap(filesInOrder), node.file];
}

export function suitesCommand(): Command {
  const command = new Command("suites").description("List the built-in suites, or show one's settings.");
  command
    .command("list", { isDefault: true })
    .description("list the built-in suites")
    .action(() => {
      const rows = builtinSuites().map((name) => {
        const suite = loadSuite(name);
        const what = description(suite.file).join(" ");
        return [name, suite.values.version === undefined ? "" : String(suite.values.version), what.length > 110 ? what.slice(0, 110) + "…" : what];
      });
      const header = ["suite", "version", "what it runs"];
      const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
      const line = (cells: string[]) =>
        cells
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join("  ")
          .trimEnd();
      printOut([line(header), widths.map((width) => "─".repeat(width)).join("  "), ...rows.map(line)].join("\n") + "\n");
      printOut(
        "\n`alignbench suites show NAME` prints one; run it with `alignbench run --suite NAME --models M --judge-model J` (the suite's dataset is downloaded once and cached) or on a local copy with `--dataset PATH`.\n",
      );
    });
  command
    .command("show")
    .description("print a suite's resolved settings (a built-in name or a suite file), with the files it includes")
    .argument("<suite>", "suite name or YAML file")
    .action((name: string) => {
      printOut(renderSuite(name, loadSuite(name)));
    });
  return command;
}
