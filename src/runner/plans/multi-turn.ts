import type { Message } from "../../providers/messages.js";
import { composeMessages } from "../../personas/compose.js";
import type { Plan } from "./types.js";

/**
 * A conversation with several user turns, played in order: the model answers the first user turn, then
 * the second follows ITS answer (not the dataset's assistant turns, which are dropped), and so on. The
 * response scorers see is the last answer, after the conversation as it was played; the transcript holds
 * every call.
 */
export const multiTurnPlan: Plan = {
  name: "multi_turn",
  description: "the model answers each user turn in order, in a growing conversation of its own answers",
  roles: [],
  reusable: true,
  async run({ sample, persona, call }) {
    const composed = composeMessages(sample, persona);
    const system = composed.filter((message) => message.role === "system");
    const userTurns = composed.filter((message) => message.role === "user");
    if (userTurns.length === 0) throw new Error("the conversation has no user turn");
    const conversation: Message[] = [...system];
    let response = { text: "", finishReason: "stop" };
    for (const turn of userTurns) {
      conversation.push(turn);
      const answer = await call("target", { messages: [...conversation] });
      response = { text: answer.text, finishReason: answer.finishReason };
      conversation.push({ role: "assistant", content: answer.text });
    }
    // What scorers judge: the whole conversation up to the last user turn, the model's own answers included.
    return { messages: conversation.slice(0, -1), response: response.text, finishReason: response.finishReason };
  },
};
