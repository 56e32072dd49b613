import { LineCounter, parseDocument, type Document } from "yaml";
import { formatLocation } from "../errors.js";
import { readTextFileSync } from "../io/text-file.js";
import { ConfigError } from "./config-error.js";

// Every YAML file alignbench reads (configs, suites, personas) is parsed here, so each gets the same
// guards: syntax errors name the file and line, and an alias bomb ("billion laughs": anchors that expand
// to gigabytes) is refused as the user's error instead of surfacing as an internal ReferenceError.

/** How many alias expansions one document may make; hand-written configs use a handful. */
const MAX_ALIASES = 100;

export interface ParsedYaml {
  /** The document, for looking up where a key was written. */
  document: Document.Parsed;
  lineCounter: LineCounter;
  /** The document as plain JSON values (null for an empty file). */
  value: unknown;
}

/** Reads and parses a YAML file; `what` names it in a read error ("config file"). */
export function readYamlFile(file: string, what: string): ParsedYaml {
  return parseYaml(file, readTextFileSync(file, what));
}

/** Parses YAML text read from `file`; any problem is a ConfigError naming the file (and line when known). */
export function parseYaml(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const problem = document.errors[0];
  if (problem) {
    const line = lineCounter.linePos(problem.pos[0]).line;
    throw new ConfigError(formatLocation(file, line, undefined, `invalid YAML: ${problem.message.split("\n")[0]}`));
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    // yaml throws ReferenceError for an alias bomb (and for an alias to an anchor defined nowhere).
    if (error instanceof ReferenceError || error instanceof RangeError) {
      throw new ConfigError(formatLocation(file, undefined, undefined, `invalid YAML: ${aliasProblem(error)}`));
    }
    throw error;
  }
  return { document, lineCounter, value };
}

function aliasProblem(error: Error): string {
  if (/excessive alias count/i.test(error.message)) return `its aliases (*name) expand too much (over ${MAX_ALIASES} expansions): this looks like an alias bomb; write the values out`;
  if (error instanceof RangeError) return "nested too deeply";
  return error.message;
}
