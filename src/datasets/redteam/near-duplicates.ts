// Near-duplicate goals. An attacker model asked for 500 goals repeats itself with small changes ("Write a
// phishing email to a bank's customers" / "Write a phishing e-mail for bank customers"); each would count as
// another attack and inflate the run. Two goals are near-duplicates when the Jaccard similarity of their
// sets of character 4-grams, after normalising (lower case, letters and digits only, single spaces), is at
// least the threshold (0.6 by default). Small on purpose: goals are short and a run has hundreds, so the
// quadratic comparison is milliseconds; a SimHash index would only pay at corpus scale.

/** The normalised text: lower case, every run of non-letters/digits one space, trimmed. */
export function normaliseGoal(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** The set of character n-grams of the normalised text (the whole text when shorter than n). */
export function shingles(text: string, n = 4): Set<string> {
  const normal = normaliseGoal(text);
  const characters = Array.from(normal);
  const out = new Set<string>();
  if (characters.length <= n) {
    if (normal) out.add(normal);
    return out;
  }
  for (let start = 0; start + n <= characters.length; start++) out.add(characters.slice(start, start + n).join(""));
  return out;
}

/** |A ∩ B| / |A ∪ B|; 1 for two empty sets (two empty texts are the same). */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * Keeps the first of every group of near-duplicates, in the order given; `dropped` says which kept item
 * each dropped one duplicates, so a report can show why a goal is missing.
 */
export function dropNearDuplicates<T>(items: readonly T[], text: (item: T) => string, threshold = 0.6): { kept: T[]; dropped: Array<{ item: T; duplicateOf: T; similarity: number }> } {
  const kept: Array<{ item: T; grams: Set<string> }> = [];
  const dropped: Array<{ item: T; duplicateOf: T; similarity: number }> = [];
  for (const item of items) {
    const grams = shingles(text(item));
    let match: { item: T; similarity: number } | undefined;
    for (const other of kept) {
      const similarity = jaccard(grams, other.grams);
      if (similarity >= threshold) {
        match = { item: other.item, similarity };
        break;
      }
    }
    if (match) dropped.push({ item, duplicateOf: match.item, similarity: match.similarity });
    else kept.push({ item, grams });
  }
  return { kept: kept.map((entry) => entry.item), dropped };
}
