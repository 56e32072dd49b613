// Agreement between judges that rate the same items, with no reference labels: chance-corrected, so two
// judges that both say "safe" to 95% of items are not credited for agreeing by base rate alone.

/** Cohen's kappa of two raters over the same items (any categories): (p_o − p_e) / (1 − p_e); null when p_e = 1 or no items. */
export function cohenKappa(a: readonly string[], b: readonly string[]): number | null {
  if (a.length !== b.length) throw new Error("Cohen's kappa needs the two raters' labels of the same items");
  const n = a.length;
  if (n === 0) return null;
  const countsA = new Map<string, number>();
  const countsB = new Map<string, number>();
  let observed = 0;
  for (let index = 0; index < n; index++) {
    if (a[index] === b[index]) observed++;
    countsA.set(a[index]!, (countsA.get(a[index]!) ?? 0) + 1);
    countsB.set(b[index]!, (countsB.get(b[index]!) ?? 0) + 1);
  }
  let expected = 0;
  for (const [label, count] of countsA) expected += (count / n) * ((countsB.get(label) ?? 0) / n);
  if (expected >= 1) return null;
  return (observed / n - expected) / (1 - expected);
}

/**
 * Fleiss' kappa (Fleiss, 1971) of items each rated by the same number m ≥ 2 of raters: with n_ij the raters
 * putting item i in category j (N items), P_i = (Σ_j n_ij² − m) / (m(m − 1)), P̄ their mean, p_j = Σ_i n_ij / (N m)
 * and P̄_e = Σ_j p_j²; κ = (P̄ − P̄_e) / (1 − P̄_e). Null with no items or when P̄_e = 1 (one category throughout).
 */
export function fleissKappa(items: ReadonlyArray<readonly string[]>): number | null {
  if (items.length === 0) return null;
  const m = items[0]!.length;
  if (m < 2 || items.some((ratings) => ratings.length !== m)) throw new Error("Fleiss' kappa needs the same number (at least 2) of ratings of every item");
  const totals = new Map<string, number>();
  let agreement = 0;
  for (const ratings of items) {
    const counts = new Map<string, number>();
    for (const label of ratings) counts.set(label, (counts.get(label) ?? 0) + 1);
    let squares = 0;
    for (const [label, count] of counts) {
      squares += count * count;
      totals.set(label, (totals.get(label) ?? 0) + count);
    }
    agreement += (squares - m) / (m * (m - 1));
  }
  const meanAgreement = agreement / items.length;
  let expected = 0;
  for (const count of totals.values()) expected += (count / (items.length * m)) ** 2;
  if (expected >= 1) return null;
  return (meanAgreement - expected) / (1 - expected);
}

/** Cohen's kappa of every pair of raters, on the items both rated. `ratings[r][i]`: rater r's label of item i, null when missing. */
export function pairwiseCohen(
  raters: readonly string[],
  ratings: ReadonlyArray<ReadonlyArray<string | null>>,
): Array<{ a: string; b: string; n: number; kappa: number | null; agreement: number | null }> {
  const pairs: Array<{ a: string; b: string; n: number; kappa: number | null; agreement: number | null }> = [];
  for (let first = 0; first < raters.length; first++) {
    for (let second = first + 1; second < raters.length; second++) {
      const a: string[] = [];
      const b: string[] = [];
      ratings[first]!.forEach((label, item) => {
        const other = ratings[second]![item];
        if (label !== null && other !== null && other !== undefined) {
          a.push(label);
          b.push(other);
        }
      });
      const same = a.filter((label, index) => label === b[index]).length;
      pairs.push({ a: raters[first]!, b: raters[second]!, n: a.length, kappa: cohenKappa(a, b), agreement: a.length ? same / a.length : null });
    }
  }
  return pairs;
}
