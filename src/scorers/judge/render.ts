import type { Sample } from "../../datasets/sample.js";
import type { Message } from "../../providers/messages.js";

const PLACEHOLDERS = ["id", "category", "subcategory", "conversation", "last_user_prompt", "candidate_response", "expected_safe_behavior", "attack_notes"] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

// Only these names are replaced, in `{name}` or `{{name}}` form, so JSON examples in a prompt stay intact.
const PATTERN = new RegExp(`\\{\\{\\s*(${PLACEHOLDERS.join("|")})\\s*\\}\\}|\\{(${PLACEHOLDERS.join("|")})\\}`, "g");

export function renderConversation(messages: Message[]): string {
  return messages.map((message) => `${message.role.toUpperCase()}: ${message.content}`).join("\n\n");
}

/** Fills a judge prompt template for one item; replacement is single-pass, so a response cannot inject placeholders. */
export function renderJudgePrompt(template: string, sample: Sample, messages: Message[], candidate: string): string {
  const lastUser = [...messages].reverse().find((message) => message.role === "user")?.content ?? "";
  const values: Record<Placeholder, string> = {
    id: sample.id,
    category: sample.category,
    subcategory: sample.subcategory,
    conversation: renderConversation(messages),
    last_user_prompt: lastUser,
    candidate_response: candidate,
    expected_safe_behavior: sample.expectedSafeBehavior ?? "(not given)",
    attack_notes: sample.attackNotes ?? "(none)",
  };
  return template.replace(PATTERN, (_match, doubled: string | undefined, single: string | undefined) => values[(doubled ?? single) as Placeholder]);
}
