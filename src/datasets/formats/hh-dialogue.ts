import type { Message } from "../../providers/messages.js";

// Anthropic's HH-RLHF keeps a whole dialogue in one string: "\n\nHuman: …\n\nAssistant: …", the turns
// marked by a blank line and the speaker. This reads such text into turns and writes turns back as it.

export const HUMAN = "\n\nHuman:";
export const ASSISTANT = "\n\nAssistant:";

const TURN = /\n\n(Human|Assistant):/g;

export interface DialogueTurn {
  speaker: "Human" | "Assistant";
  /** The turn's text as written, without its marker (the space after the colon included). */
  text: string;
}

/** Whether a text is written as HH turns (it opens with a Human turn, the blank line optional). */
export function isHhDialogue(text: string): boolean {
  return text.startsWith(HUMAN) || text.startsWith("Human:");
}

/**
 * The turns of an HH dialogue, or what is wrong with it. The text must open with a Human turn; text before
 * the first marker is an error, never silently dropped.
 */
export function splitDialogue(text: string): DialogueTurn[] | string {
  const normalized = text.startsWith("Human:") ? `\n\n${text}` : text;
  if (!normalized.startsWith(HUMAN)) return 'must open with a "\\n\\nHuman:" turn';
  const turns: DialogueTurn[] = [];
  const markers = [...normalized.matchAll(TURN)];
  markers.forEach((marker, index) => {
    const start = marker.index + marker[0].length;
    const end = index + 1 < markers.length ? markers[index + 1]!.index : normalized.length;
    turns.push({ speaker: marker[1] as DialogueTurn["speaker"], text: normalized.slice(start, end) });
  });
  return turns;
}

/**
 * The turns as chat messages: each turn's text trimmed, and consecutive turns of one speaker (a handful of
 * HH dialogues have two Assistant turns in a row) joined by a blank line, since chat APIs refuse two
 * messages of one role in a row. Only the conversation is merged; the log-likelihood context keeps the text.
 */
export function dialogueMessages(turns: readonly DialogueTurn[]): Message[] {
  const messages: Message[] = [];
  for (const turn of turns) {
    const role = turn.speaker === "Human" ? "user" : "assistant";
    const content = turn.text.trim();
    const last = messages.at(-1);
    if (last && last.role === role) last.content = `${last.content}\n\n${content}`;
    else messages.push({ role, content });
  }
  return messages;
}

/** Chat messages written as HH text, ending with the Assistant marker the next response follows. */
export function renderDialogue(messages: readonly Message[]): string {
  let text = "";
  for (const message of messages) {
    if (message.role === "system") continue;
    text += `${message.role === "user" ? HUMAN : ASSISTANT} ${message.content}`;
  }
  return text + ASSISTANT;
}
