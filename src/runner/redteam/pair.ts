import type { Message } from "../../providers/messages.js";
import { PAIR_START, pairFeedback, pairSystemPrompt, readAttackerPrompt, truncatedHistory } from "./attacker.js";
import { type AttackSettings, type AttackTurn, exchange, severityOf, succeeded, transformed } from "./exchange.js";

// PAIR (Chao et al., 2023, "Jailbreaking Black Box Large Language Models in Twenty Queries"): parallel
// streams, each an attacker conversation. Every round each live stream's attacker writes a prompt, the
// target answers it (a fresh single-turn conversation), the judge grades it, and the answer and grade go
// back to that stream's attacker. The attack stops after the first round in which any stream reaches the
// threshold, or after `pair_rounds` rounds. Calls per stream per round: attacker, target, judge (one more
// judge call when its first answer is unusable; two attacker calls when the first has no prompt, and a
// stream whose attacker twice gives no prompt ends). Streams of a round run in parallel.

export interface IterativeResult {
  turns: AttackTurn[];
  /** What happened beside the turns (a stream that ended, branches pruned): for the transcript reader. */
  notes: string[];
}

export async function runPair(settings: AttackSettings): Promise<IterativeResult> {
  const { options, goal, category, threshold } = { ...settings, threshold: settings.options.success_threshold };
  const streams = Array.from({ length: options.pair_streams }, (_, index) => ({
    name: `s${index + 1}`,
    history: [
      { role: "system", content: pairSystemPrompt(goal, category) },
      { role: "user", content: PAIR_START },
    ] as Message[],
    live: true,
  }));
  const turns: AttackTurn[] = [];
  const notes: string[] = [];
  for (let round = 1; round <= options.pair_rounds; round++) {
    const live = streams.filter((stream) => stream.live);
    if (live.length === 0) break;
    const results = await Promise.all(
      live.map(async (stream) => {
        const step = `${stream.name} r${round}`;
        const prompt = await attackerPrompt(settings, stream.history, step);
        if (prompt === undefined) {
          stream.live = false;
          notes.push(`${step}: the attacker gave no prompt twice; stream ended`);
          return undefined;
        }
        const attack = await transformed(settings, prompt.text, step);
        return { stream, prompt, attack, step };
      }),
    );
    // Query numbers follow stream order within a round, whatever order the parallel calls finished in.
    const exchanges = await Promise.all(
      results.map((entry, index) => {
        if (!entry) return undefined;
        const query = turns.length + results.slice(0, index).filter(Boolean).length + 1;
        return exchange(settings, entry.step, { query, branch: entry.stream.name, round }, entry.attack);
      }),
    );
    results.forEach((entry, index) => {
      const turn = exchanges[index];
      if (!entry || !turn) return;
      turns.push(turn);
      entry.stream.history.push({ role: "assistant", content: entry.prompt.raw }, { role: "user", content: pairFeedback(turn.translated_response ?? turn.response, severityOf(turn)) });
      entry.stream.history = truncatedHistory(entry.stream.history);
    });
    if (turns.some((turn) => succeeded(turn, threshold))) break;
  }
  return { turns, notes };
}

/** The attacker's next prompt: one call, one more if the first answer has no prompt. */
export async function attackerPrompt(settings: AttackSettings, history: readonly Message[], step: string): Promise<{ text: string; raw: string } | undefined> {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const answer = await settings.call("attacker", { messages: [...history], step: attempt === 1 ? `${step} attacker` : `${step} attacker again` });
    const text = readAttackerPrompt(answer.text);
    if (text !== undefined) return { text, raw: answer.text };
  }
  return undefined;
}
