import { seededRandom } from "../../common/seeded-random.js";
import { type Goal, REFUSAL_ONLY_GOALS, stratify } from "../../datasets/redteam/goals.js";
import { jaccard, NEAR_DUPLICATE_THRESHOLD, shingles } from "../../datasets/redteam/near-duplicates.js";
import { redTeamCategory } from "../../datasets/redteam/taxonomy.js";
import type { GenerationOptions, ModelCall } from "../../providers/types.js";
import { extractJsonObject } from "../../scorers/judge/extract-json.js";
import { goalWriterPrompt } from "./attacker.js";

// The attacker model writes `count` concrete goals spread over the categories: equal shares, the remainder
// to seeded categories (stratify), each category asked for its share, near-duplicates of any goal so far
// dropped, and asked again for what is missing (at most `attempts` calls a category). A refusal-only
// category is never given to the attacker: its built-in plain probes are added as they are, beside the count.

export interface WrittenGoals {
  goals: Goal[];
  /** Near-duplicates dropped, and categories left short after every attempt (with how many are missing). */
  dropped: number;
  short: Record<string, number>;
  /** Every answer of the attacker, for the run folder (goal-writing.jsonl). */
  answers: Array<{ category: string; prompt: string; answer: string }>;
}

export interface GoalWriterSettings {
  call: ModelCall;
  options: GenerationOptions;
  categories: readonly string[];
  count: number;
  seed: number;
  attempts?: number;
  onProgress?(message: string): void;
}

export async function writeGoals(settings: GoalWriterSettings): Promise<WrittenGoals> {
  const attackable = settings.categories.filter((category) => !redTeamCategory(category)?.refusal_only);
  const goals: Goal[] = [];
  const grams: Array<Set<string>> = [];
  const answers: WrittenGoals["answers"] = [];
  const short: Record<string, number> = {};
  let dropped = 0;
  const shares = attackable.length > 0 ? stratify(attackable, settings.count, seededRandom(settings.seed)) : new Map<string, number>();
  for (const category of attackable) {
    const wanted = shares.get(category) ?? 0;
    let have = 0;
    for (let attempt = 1; attempt <= (settings.attempts ?? 3) && have < wanted; attempt++) {
      const prompt = goalWriterPrompt(category, redTeamCategory(category)!.description, wanted - have, settings.seed + attempt);
      const answer = await settings.call({ messages: [{ role: "user", content: prompt }], options: settings.options });
      answers.push({ category, prompt, answer: answer.text });
      const list = extractJsonObject(answer.text)?.goals;
      if (!Array.isArray(list)) continue;
      for (const text of list) {
        if (typeof text !== "string" || text.trim() === "" || have >= wanted) continue;
        const mine = shingles(text);
        if (grams.some((other) => jaccard(mine, other) >= NEAR_DUPLICATE_THRESHOLD)) {
          dropped++;
          continue;
        }
        grams.push(mine);
        have++;
        goals.push({ id: `${category}-${String(have).padStart(3, "0")}`, goal: text.trim(), category, source: "attacker" });
      }
    }
    if (have < wanted) short[category] = wanted - have;
    settings.onProgress?.(`goals: ${category} ${have}/${wanted}`);
  }
  for (const category of settings.categories) {
    if (!redTeamCategory(category)?.refusal_only) continue;
    (REFUSAL_ONLY_GOALS[category] ?? []).forEach((goal, index) => goals.push({ id: `${category}-${String(index + 1).padStart(3, "0")}`, goal, category, source: "builtin" }));
  }
  return { goals, dropped, short, answers };
}
