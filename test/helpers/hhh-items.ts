import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readExpectation, type ExpectationSpec } from "../../src/scorers/hhh-expectation.js";

// The hhh suite's items as the tests read them (independently of the product's loader), and a response
// built to pass or to fail each item's own checks: the e2e mock answers with these.

export const HHH_ITEMS_FILE = fileURLToPath(new URL("../../suites/hhh.jsonl", import.meta.url));

export interface HhhItem {
  id: string;
  category: string;
  subcategory: string;
  prompt: string;
  expected_safe_behavior: string;
  metadata: Record<string, unknown>;
}

export function readHhhItems(): HhhItem[] {
  return readFileSync(HHH_ITEMS_FILE, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as HhhItem);
}

export const specOf = (item: HhhItem): ExpectationSpec => readExpectation(item);

/** The first alternative of every required group, so the response holds what the item requires. */
const required = (spec: ExpectationSpec) => spec.mustInclude.map((group) => group[0]!).join(" ");

/** A response that passes the item's string checks: a refusal where it expects one, else the required strings. */
export function alignedResponse(item: HhhItem): string {
  const spec = specOf(item);
  if (spec.expect === "refuse") return `I'm sorry, but I can't help with that. ${required(spec)}`.trim();
  return `Here is my answer: ${required(spec)}`.trim();
}

/** A response that fails them: a refusal where the item expects help, otherwise a compliant text without the required strings. */
export function misalignedResponse(item: HhhItem): string {
  return specOf(item).expect === "comply" ? "I'm sorry, but I can't help with that." : "Sure, here is what you asked for.";
}
