import type { Message } from "../../providers/messages.js";
import { ASSISTANT, dialogueMessages, isHhDialogue, renderDialogue, splitDialogue } from "./hh-dialogue.js";
import type { RecordFormat, RecordProblem } from "./types.js";

// A preference pair: one dialogue and two final Assistant responses, the `chosen` one preferred by the
// annotators over the `rejected` one. Two layouts are read:
//  - Anthropic's HH-RLHF: `chosen` and `rejected` each hold the whole dialogue as "\n\nHuman: …\n\nAssistant: …"
//    text. The shared dialogue is their common prefix cut at the last "\n\nAssistant:" it holds; each
//    response is what follows that marker in its own string (in five of the 2,312 harmless-base test pairs a
//    response itself holds turn markers: it is kept whole, as the annotators saw it).
//  - A `prompt` column beside `chosen` and `rejected` (the Hugging Face reformattings, TRL's preference format):
//    the prompt as HH text, plain text (one Human turn) or a list of {role, content} messages; each response
//    as text or a list of messages whose last one is the Assistant's.
// Each row gets the shared dialogue as its conversation, and in metadata what the preference scorers read:
// `dialogue` (the dialogue as HH text, ending "\n\nAssistant:"), `chosen` and `rejected` (the responses
// without the one space HH puts after "Assistant:", so a response continues the dialogue as " " + response).

export interface PreferencePair {
  dialogue: string;
  chosen: string;
  rejected: string;
}

type Read<T> = T | RecordProblem;

const isProblem = (value: unknown): value is RecordProblem => typeof value === "object" && value !== null && !Array.isArray(value) && "message" in value;

/** A response as HH writes it: after "Assistant:" and one space. */
const withoutLeadingSpace = (text: string) => (text.startsWith(" ") ? text.slice(1) : text);

/** The Human/Assistant turns of an HH dialogue that ends with an empty Assistant turn, as messages; or the problem. */
function promptTurns(dialogue: string, field: string): Read<Message[]> {
  const turns = splitDialogue(dialogue);
  if (typeof turns === "string") return { field, message: turns };
  const last = turns.pop();
  if (last?.speaker !== "Assistant" || last.text.trim() !== "") return { field, message: 'must end with an "\\n\\nAssistant:" turn for the response' };
  if (turns.at(-1)?.speaker !== "Human") return { field, message: 'the final "\\n\\nAssistant:" turn must follow a "\\n\\nHuman:" turn' };
  return dialogueMessages(turns);
}

/** HH-RLHF's layout: two whole dialogues that differ only in their final Assistant turn. */
function fromDialogues(chosen: unknown, rejected: unknown): Read<PreferencePair & { messages: Message[] }> {
  const needText = 'required: the dialogue as "\\n\\nHuman: …\\n\\nAssistant: …" text (or give a prompt column)';
  if (typeof chosen !== "string" || chosen.trim() === "") return { field: "chosen", message: chosen === undefined || chosen === null || chosen === "" ? needText : "must be text" };
  if (typeof rejected !== "string" || rejected.trim() === "") return { field: "rejected", message: rejected === undefined || rejected === null || rejected === "" ? needText : "must be text" };
  if (!chosen.includes(ASSISTANT)) return { field: "chosen", message: 'has no "\\n\\nAssistant:" turn' };
  let common = 0;
  while (common < chosen.length && common < rejected.length && chosen[common] === rejected[common]) common++;
  // The last marker wholly inside the common prefix.
  const cut = common < ASSISTANT.length ? -1 : chosen.lastIndexOf(ASSISTANT, common - ASSISTANT.length);
  if (cut < 0) return { field: "rejected", message: 'does not share the chosen dialogue up to an "\\n\\nAssistant:" turn' };
  const end = cut + ASSISTANT.length;
  const dialogue = chosen.slice(0, end);
  const messages = promptTurns(dialogue, "chosen");
  if (isProblem(messages)) return messages;
  return { dialogue, messages, chosen: withoutLeadingSpace(chosen.slice(end)), rejected: withoutLeadingSpace(rejected.slice(end)) };
}

/** A `prompt` column: HH text, plain text, or a list of chat messages. */
function fromPrompt(prompt: unknown): Read<{ dialogue: string; messages: Message[] }> {
  if (typeof prompt === "string") {
    if (prompt.trim() === "") return { field: "prompt", message: "must not be empty" };
    if (!isHhDialogue(prompt)) {
      const messages: Message[] = [{ role: "user", content: prompt }];
      return { dialogue: renderDialogue(messages), messages };
    }
    const trimmed = prompt.trimEnd();
    const dialogue = trimmed.endsWith(ASSISTANT) ? trimmed : trimmed + ASSISTANT;
    const messages = promptTurns(dialogue, "prompt");
    return isProblem(messages) ? messages : { dialogue, messages };
  }
  if (!Array.isArray(prompt) || prompt.length === 0) return { field: "prompt", message: "required: text, or a list of {role, content} messages" };
  const messages: Message[] = [];
  for (const [index, entry] of prompt.entries()) {
    const message = entry as { role?: unknown; content?: unknown };
    if (typeof entry !== "object" || entry === null || (message.role !== "user" && message.role !== "assistant") || typeof message.content !== "string") {
      return { field: `prompt[${index}]`, message: 'must be {role: "user" | "assistant", content: text} (HH dialogues have no system turn)' };
    }
    messages.push({ role: message.role, content: message.content });
  }
  if (messages.at(-1)!.role !== "user") return { field: `prompt[${messages.length - 1}].role`, message: "the last message must be from the user, before the responses" };
  return { dialogue: renderDialogue(messages), messages };
}

/** A response column beside a prompt: text, or a list of messages whose last is the Assistant's. */
function response(value: unknown, field: "chosen" | "rejected"): Read<string> {
  if (typeof value === "string") return withoutLeadingSpace(value);
  if (Array.isArray(value) && value.length > 0) {
    const last = value.at(-1) as { role?: unknown; content?: unknown } | null;
    if (last && last.role === "assistant" && typeof last.content === "string") return withoutLeadingSpace(last.content);
    return { field: `${field}[${value.length - 1}]`, message: 'must be {role: "assistant", content: text}' };
  }
  return { field, message: value === undefined || value === null ? "required" : "must be text, or a list of messages ending with the assistant's" };
}

/** The pair a record holds, with its conversation; or the problem, naming the record's field. */
export function readPreferencePair(record: Record<string, unknown>): Read<PreferencePair & { messages: Message[] }> {
  if (record.prompt === undefined || record.prompt === null) return fromDialogues(record.chosen, record.rejected);
  const prompt = fromPrompt(record.prompt);
  if (isProblem(prompt)) return prompt;
  const chosen = response(record.chosen, "chosen");
  if (isProblem(chosen)) return chosen;
  const rejected = response(record.rejected, "rejected");
  if (isProblem(rejected)) return rejected;
  return { ...prompt, chosen, rejected };
}

export const hhRlhf: RecordFormat = {
  name: "hh-rlhf",
  description: 'a preference pair: HH-RLHF\'s {chosen, rejected} "\\n\\nHuman:/\\n\\nAssistant:" dialogues, or prompt / chosen / rejected columns',
  rows(record) {
    const pair = readPreferencePair(record);
    if (isProblem(pair)) return pair;
    const { prompt: _prompt, chosen: _chosen, rejected: _rejected, ...rest } = record;
    const metadata = typeof rest.metadata === "object" && rest.metadata !== null && !Array.isArray(rest.metadata) ? rest.metadata : {};
    return [{ ...rest, conversation: pair.messages, metadata: { ...metadata, dialogue: pair.dialogue, chosen: pair.chosen, rejected: pair.rejected } }];
  },
};
