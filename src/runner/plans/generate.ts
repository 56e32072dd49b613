import { composeMessages } from "../../personas/compose.js";
import type { Plan } from "./types.js";

/**
 * One call to the model under test: the item's conversation (persona composed in), answered once. The
 * seed runner's shape; scorers then see the response.
 */
export const generatePlan: Plan = {
  name: "generate",
  description: "the model under test answers the item's conversation once (persona composed in)",
  roles: [],
  reusable: true,
  async run({ sample, persona, call }) {
    const messages = composeMessages(sample, persona);
    const response = await call("target", { messages });
    return { messages, response: response.text, finishReason: response.finishReason };
  },
};

/** For suites scored by log-likelihood only (multiple choice): no response is generated. */
export const noResponsePlan: Plan = {
  name: "none",
  description: "no call: the item is scored as it is (log-likelihood scorers read the model themselves)",
  roles: [],
  reusable: true,
  async run({ sample, persona }) {
    return { messages: composeMessages(sample, persona), response: "", finishReason: "not_generated" };
  },
};
