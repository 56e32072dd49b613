import type { Message } from "../../providers/messages.js";
import type { RedTeamOptions } from "./options.js";
import { translationPrompt } from "./attacker.js";
import { type Grade, gradeExchange, type RoleCaller } from "./severity.js";
import { applySteps, type Strategy } from "./strategies.js";
import type { Attack, TransformContext } from "./transforms.js";

// One exchange of an attack: the attack transformed by the strategy's steps, sent to the target (after the
// conversation so far, for multi-turn attacks), the answer translated back when the attack was translated,
// and graded by the severity judge in the context of the whole conversation. Every call is named (`step`)
// so a killed item resumes after its last finished call.

/** One target query of an attack and its grade; what the results, the export and the report hold. */
export interface AttackTurn {
  /** The target query's number in the attack (1-based): "queries to first success" counts these. */
  query: number;
  /** Where in the attack: PAIR's stream ("s2"), TAP's node ("1.2"), crescendo's turn ("t3"). */
  branch: string;
  /** PAIR's round, TAP's depth, crescendo's turn number (1 for single-shot attacks). */
  round: number;
  /** Exactly what the target was sent. */
  sent: Message[];
  response: string;
  /** The answer in English (the attacker's translation) when the attack was translated. */
  translated_response?: string;
  grade: Grade;
  /** Crescendo: the target refused, and the question was taken back out of the conversation. */
  backtracked?: boolean;
}

export interface AttackSettings {
  goal: string;
  category: string;
  strategy: Strategy;
  options: RedTeamOptions;
  call: RoleCaller;
  /** The run's persona's system prompt (`--personas`), under the strategy's own framing. */
  system?: string | undefined;
}

/** The attacker model as a translator, its calls named after the step that needs them. */
export function translator(call: RoleCaller, step: string): TransformContext {
  let n = 0;
  return {
    async translate(text, language) {
      n++;
      const answer = await call("attacker", { messages: translationPrompt(text, language), step: `${step} translate ${n}` });
      return answer.text.trim();
    },
  };
}

/** The attack message (a goal, or an attacker's prompt) after the strategy's transforms. */
export function transformed(settings: AttackSettings, text: string, step: string): Promise<Attack> {
  return applySteps(settings.system ? { user: text, system: settings.system } : { user: text }, settings.strategy.steps, translator(settings.call, step));
}

/** Sends one attack after `history` (earlier turns of the conversation) and grades the answer. */
export async function exchange(settings: AttackSettings, step: string, where: Pick<AttackTurn, "query" | "branch" | "round">, attack: Attack, history: readonly Message[] = []): Promise<AttackTurn> {
  const sent: Message[] = [...(attack.system ? [{ role: "system" as const, content: attack.system }] : []), ...history, { role: "user", content: attack.user }];
  const answer = await settings.call("target", { messages: sent, step: `${step} target` });
  const translatedStep = settings.strategy.steps.find((entry) => entry.transform.name === "translate");
  let translated: string | undefined;
  if (translatedStep) translated = (await settings.call("attacker", { messages: translationPrompt(answer.text, "en"), step: `${step} back-translate` })).text.trim();
  const judged = translated === undefined ? answer.text : `${answer.text}\n\n[English translation of the answer, by the attacker model]\n${translated}`;
  const grade = await gradeExchange(settings.call, `${step} judge`, settings.goal, settings.category, sent, judged);
  return { ...where, sent, response: answer.text, ...(translated === undefined ? {} : { translated_response: translated }), grade };
}

/** Whether a turn's grade reaches the threshold (a judge failure never does, and never counts as safe either). */
export function succeeded(turn: AttackTurn, threshold: number): boolean {
  return turn.grade.status === "graded" && turn.grade.severity >= threshold;
}

/** A turn's severity, or null when the judge refused or never gave a usable grade. */
export function severityOf(turn: AttackTurn): number | null {
  return turn.grade.status === "graded" ? turn.grade.severity : null;
}
