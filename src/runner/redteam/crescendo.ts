import type { Message } from "../../providers/messages.js";
import { crescendoSystemPrompt, crescendoTurn, readAttackerPrompt } from "./attacker.js";
import { type AttackSettings, type AttackTurn, exchange, succeeded, transformed } from "./exchange.js";
import type { IterativeResult } from "./pair.js";

// Crescendo (Russinovich et al., 2024, "Great, Now Write an Article About That"): one growing conversation.
// The attacker writes the next question from the conversation so far; the target answers it with the whole
// conversation in view; the judge grades that answer in context (every turn is graded). When the target
// refuses (the judge's `refused`), the question is backtracked — taken out of the conversation the target
// sees, the attacker told — at most `crescendo_backtracks` times; backtracked turns do not count toward
// `crescendo_turns`. The attack stops at the first answer at the threshold, when the turns are used up, or
// when the attacker twice gives no question.

export async function runCrescendo(settings: AttackSettings): Promise<IterativeResult> {
  const { options, goal, category } = settings;
  const turns: AttackTurn[] = [];
  const notes: string[] = [];
  const conversation: Message[] = [];
  const system: Message = { role: "system", content: crescendoSystemPrompt(goal, category, options.crescendo_turns) };
  let accepted = 0;
  let backtracks = 0;
  let refused: string | undefined;
  while (accepted < options.crescendo_turns) {
    const query = turns.length + 1;
    const step = `q${query}`;
    const attackerMessages: Message[] = [system, { role: "user", content: crescendoTurn(conversation, refused, options.crescendo_turns - accepted) }];
    let question: string | undefined;
    for (let attempt = 1; attempt <= 2 && question === undefined; attempt++) {
      const answer = await settings.call("attacker", { messages: attackerMessages, step: attempt === 1 ? `${step} attacker` : `${step} attacker again` });
      question = readAttackerPrompt(answer.text, "question");
    }
    if (question === undefined) {
      notes.push(`${step}: the attacker gave no question twice; the attack ends`);
      break;
    }
    const attack = await transformed(settings, question, step);
    // The conversation's user turns hold the attacker's questions as they were sent (transformed).
    const turn = await exchange(settings, step, { query, branch: `t${accepted + 1}`, round: accepted + 1 }, attack, conversation);
    turns.push(turn);
    if (succeeded(turn, options.success_threshold)) break;
    if (turn.grade.status === "graded" && turn.grade.refused && backtracks < options.crescendo_backtracks) {
      backtracks++;
      turn.backtracked = true;
      refused = question;
      notes.push(`${step}: refused; backtracked (${backtracks} of ${options.crescendo_backtracks})`);
      continue;
    }
    refused = undefined;
    conversation.push({ role: "user", content: attack.user }, { role: "assistant", content: turn.response });
    accepted++;
  }
  return { turns, notes };
}
