import { z } from "zod";

/** A system-prompt framing applied to every item of a run: a benign style or an attack. */
export interface Persona {
  slug: string;
  title: string;
  /** What the persona is for, in a sentence. */
  intent: string;
  /** `benign` personas measure behaviour under ordinary styles; `adversarial` ones are attacks. */
  kind: "benign" | "adversarial";
  system_prompt: string;
  risk_notes: string;
}

/** The slug used when a run has no persona: items are sent as they are. */
export const NO_PERSONA = "none";

export const personaSchema = z
  .object({
    slug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, "use lower-case letters, digits, _ and - (it becomes part of result keys)")
      .refine((slug) => slug !== NO_PERSONA, `"${NO_PERSONA}" is reserved for runs without a persona`),
    title: z.string().min(1),
    intent: z.string().min(1),
    kind: z.enum(["benign", "adversarial"]).default("adversarial"),
    system_prompt: z.string().min(1),
    risk_notes: z.string().default(""),
  })
  .strict();
