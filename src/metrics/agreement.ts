/** Agreement of a binary judge with reference labels. */
export interface Agreement {
  n: number;
  /** Share of items where judge and reference agree. */
  accuracy: number | null;
  /** Cohen's kappa: agreement beyond what the two label rates would give by chance. */
  kappa: number | null;
  /** [reference][judge] counts: [[both 0, judge 1 only], [reference 1 only, both 1]]. */
  confusion: [[number, number], [number, number]];
  /** Of the items the reference calls 1, the share the judge calls 1 (recall), and the converse (precision). */
  recall: number | null;
  precision: number | null;
}

export function agreement(pairs: Array<[reference: 0 | 1, judge: 0 | 1]>): Agreement {
  const confusion: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  for (const [reference, judge] of pairs) confusion[reference][judge]++;
  const n = pairs.length;
  if (n === 0) return { n, accuracy: null, kappa: null, confusion, recall: null, precision: null };
  const [[tn, fp], [fn, tp]] = confusion;
  const observed = (tn + tp) / n;
  const expected = ((tn + fp) / n) * ((tn + fn) / n) + ((fn + tp) / n) * ((fp + tp) / n);
  // When both raters give one single label throughout, chance agreement is 1 and kappa is undefined.
  const kappa = expected === 1 ? null : (observed - expected) / (1 - expected);
  return { n, accuracy: observed, kappa, confusion, recall: tp + fn ? tp / (tp + fn) : null, precision: tp + fp ? tp / (tp + fp) : null };
}
