import { UserError } from "../../errors.js";
import { type Attack, type Transform, type TransformContext, TRANSFORMS, transformNamed } from "./transforms.js";

// A strategy, as written in --strategies: steps joined by "+", each a transform (`base64`, `persona:SLUG`,
// `translate:LANG`) or, first, one iterative plan (`pair`, `tap`, `crescendo`). Transforms apply left to
// right: `persona:evil_confidant+base64` puts the persona in the system prompt, then base64-encodes the user
// message. After an iterative plan they apply to every prompt the attacker writes (`pair+rot13`).
// `direct` is the goal sent as it is. Several strategies are separated by commas; each is one value of the
// run's `strategy` dimension, so every goal is attacked by each.

export const ITERATIVE = ["pair", "tap", "crescendo"] as const;
export type Iterative = (typeof ITERATIVE)[number];

export interface Step {
  transform: Transform;
  argument: string | undefined;
}

export interface Strategy {
  /** The strategy as it is named in results: its steps, defaults filled in (`persona` → `persona:evil_confidant`). */
  name: string;
  iterative: Iterative | undefined;
  steps: Step[];
}

export const DEFAULT_STRATEGIES = "direct,persona:evil_confidant,refusal_suppression+base64,pair";

export function parseStrategy(text: string): Strategy {
  const parts = text
    .trim()
    .split("+")
    .map((part) => part.trim());
  if (parts.some((part) => part === "")) throw new UserError(`--strategies: "${text}" has an empty step (write steps as a+b, strategies as s1,s2)`);
  let iterative: Iterative | undefined;
  const steps: Step[] = [];
  parts.forEach((part, index) => {
    const [name, argument] = splitArgument(part);
    if ((ITERATIVE as readonly string[]).includes(name)) {
      if (index !== 0) throw new UserError(`--strategies: "${text}": ${name} must come first (it writes the prompts the transforms after it rewrite)`);
      if (argument !== undefined) throw new UserError(`--strategies: "${part}": ${name} takes no argument (set its limits with --pair-rounds, --tap-depth…)`);
      iterative = name as Iterative;
      return;
    }
    if (name === "direct") {
      if (parts.length > 1) throw new UserError(`--strategies: "${text}": direct is the goal as it is and combines with nothing`);
      return;
    }
    const transform = transformNamed(name);
    if (argument !== undefined && !transform.argument) throw new UserError(`--strategies: "${part}": ${name} takes no argument`);
    const value = argument ?? transform.argument?.default;
    const problem = value === undefined ? undefined : transform.argument?.check?.(value);
    if (problem) throw new UserError(`--strategies: "${part}": ${problem}`);
    steps.push({ transform, argument: value });
  });
  const named = steps.map((step) => (step.argument === undefined ? step.transform.name : `${step.transform.name}:${step.argument}`));
  const name = [...(iterative ? [iterative] : []), ...named].join("+") || "direct";
  return { name, iterative, steps };
}

/** A comma-separated list of strategies, without repeats (`persona` and `persona:evil_confidant` are one). */
export function parseStrategies(list: string | readonly string[]): Strategy[] {
  const texts = typeof list === "string" ? list.split(",") : list;
  const out = new Map<string, Strategy>();
  for (const text of texts) {
    if (text.trim() === "") continue;
    const strategy = parseStrategy(text);
    out.set(strategy.name, strategy);
  }
  if (out.size === 0) throw new UserError("--strategies: no strategy given");
  return [...out.values()];
}

function splitArgument(part: string): [string, string | undefined] {
  const colon = part.indexOf(":");
  return colon === -1 ? [part, undefined] : [part.slice(0, colon), part.slice(colon + 1)];
}

/** Applies the steps in order. */
export async function applySteps(attack: Attack, steps: readonly Step[], context: TransformContext): Promise<Attack> {
  let current = attack;
  for (const step of steps) current = await step.transform.apply(current, step.argument, context);
  return current;
}

/** Undoes the steps, last first: the attack before any of them. */
export async function decodeSteps(attack: Attack, steps: readonly Step[], context: TransformContext): Promise<Attack> {
  let current = attack;
  for (const step of [...steps].reverse()) current = await step.transform.decode(current, step.argument, context);
  return current;
}

/** Help text: every strategy step and what it does. */
export function strategyHelp(): string {
  const lines = [
    "  direct               the goal as it is",
    "  pair                 PAIR: the attacker refines a prompt over rounds from the target's answers and the judge's scores (parallel streams)",
    "  tap                  TAP: a tree of attacker refinements, off-topic branches pruned by the judge, the best kept at each depth",
    "  crescendo            a multi-turn escalation from harmless questions, backtracking when the target refuses",
  ];
  for (const transform of TRANSFORMS) {
    const name = transform.argument ? `${transform.name}:${transform.argument.name}` : transform.name;
    lines.push(`  ${name.padEnd(20)} ${transform.description}`);
  }
  return lines.join("\n");
}
