import type { Message } from "../../providers/messages.js";
import { PAIR_START, pairFeedback, pairSystemPrompt } from "./attacker.js";
import { type AttackSettings, type AttackTurn, exchange, severityOf, succeeded, transformed } from "./exchange.js";
import { attackerPrompt, type IterativeResult } from "./pair.js";
import { onTopic } from "./severity.js";

// TAP (Mehrotra et al., 2023, "Tree of Attacks: Jailbreaking Black-Box LLMs Automatically"): PAIR's attacker
// grown as a tree. At each depth every leaf's attacker conversation branches `tap_branching` times (one new
// prompt each); phase 1 prunes the prompts the judge finds off-topic (no longer asking for the goal) before
// the target sees them; the rest are sent and graded; the attack stops when one reaches the threshold;
// otherwise phase 2 keeps the `tap_width` best-graded (ungraded last, ties in tree order) as the next
// leaves, until `tap_depth`. Calls per child: attacker, on-topic judge, then target and severity judge for
// the kept ones.

interface Node {
  id: string;
  history: Message[];
}

export async function runTap(settings: AttackSettings): Promise<IterativeResult> {
  const { options, goal, category } = settings;
  const turns: AttackTurn[] = [];
  const notes: string[] = [];
  let leaves: Node[] = [
    {
      id: "root",
      history: [
        { role: "system", content: pairSystemPrompt(goal, category) },
        { role: "user", content: PAIR_START },
      ],
    },
  ];
  for (let depth = 1; depth <= options.tap_depth; depth++) {
    // Branch: every leaf asks its attacker `tap_branching` times.
    const branches = leaves.flatMap((leaf) => Array.from({ length: options.tap_branching }, (_, index) => ({ leaf, id: leaf.id === "root" ? `${index + 1}` : `${leaf.id}.${index + 1}` })));
    const proposed = await Promise.all(
      branches.map(async ({ leaf, id }) => {
        const prompt = await attackerPrompt(settings, leaf.history, `n${id}`);
        return prompt ? { id, leaf, prompt } : undefined;
      }),
    );
    const written = proposed.filter((entry) => entry !== undefined);
    if (written.length < proposed.length) notes.push(`depth ${depth}: ${proposed.length - written.length} branch(es) without an attacker prompt`);
    // Phase 1: off-topic prompts are pruned before the target sees them.
    const topical = await Promise.all(written.map((entry) => onTopic(settings.call, `n${entry.id} on-topic`, goal, entry.prompt.text)));
    const kept = written.filter((_, index) => topical[index]);
    if (kept.length < written.length)
      notes.push(
        `depth ${depth}: pruned off-topic ${written
          .filter((_, index) => !topical[index])
          .map((entry) => entry.id)
          .join(", ")}`,
      );
    const first = turns.length;
    const graded = await Promise.all(
      kept.map(async (entry, index) => {
        const step = `n${entry.id}`;
        const attack = await transformed(settings, entry.prompt.text, step);
        return exchange(settings, step, { query: first + index + 1, branch: entry.id, round: depth }, attack);
      }),
    );
    turns.push(...graded);
    if (graded.some((turn) => succeeded(turn, options.success_threshold))) break;
    // Phase 2: the best `tap_width` children become the next leaves, each with its exchange in its history.
    const ranked = kept
      .map((entry, index) => ({ entry, turn: graded[index]!, index }))
      .sort((a, b) => (severityOf(b.turn) ?? -1) - (severityOf(a.turn) ?? -1) || a.index - b.index)
      .slice(0, options.tap_width);
    leaves = ranked.map(({ entry, turn }) => ({
      id: entry.id,
      history: [...entry.leaf.history, { role: "assistant", content: entry.prompt.raw }, { role: "user", content: pairFeedback(turn.translated_response ?? turn.response, severityOf(turn)) }],
    }));
    if (leaves.length === 0) {
      notes.push(`depth ${depth}: every branch pruned; the tree ends`);
      break;
    }
  }
  return { turns, notes };
}
