import type { Sample } from "../datasets/sample.js";
import type { Message } from "../providers/messages.js";
import type { Persona } from "./persona.js";

/**
 * The messages sent to the model for one item under one persona. One system message is built from, in
 * order: the persona's system prompt, the item's `persona_system_prompt`, and any system messages at the
 * start of the item's conversation — joined by blank lines, so the persona frames everything the item
 * brings. The rest of the conversation follows unchanged. With no persona and nothing else, no system
 * message is sent at all: the item goes as it is.
 */
export function composeMessages(sample: Sample, persona: Persona | undefined): Message[] {
  const conversation = sample.conversation;
  let firstTurn = 0;
  while (firstTurn < conversation.length && conversation[firstTurn]!.role === "system") firstTurn++;
  const systemParts = [persona?.system_prompt, sample.personaSystemPrompt, ...conversation.slice(0, firstTurn).map((message) => message.content)].filter(
    (part): part is string => part !== undefined && part.trim() !== "",
  );
  const rest = conversation.slice(firstTurn);
  return systemParts.length > 0 ? [{ role: "system", content: systemParts.join("\n\n") }, ...rest] : rest;
}
