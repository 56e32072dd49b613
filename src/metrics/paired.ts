import { mean as meanEstimate, type Estimate } from "./intervals.js";

/** The difference B − A over paired items, with a t interval on the per-item differences. */
export function pairedDifference(pairs: Array<[number, number]>): Estimate {
  const differences = pairs.map(([a, b]) => b - a);
  const n = differences.length;
  if (n === 0) return meanEstimate(0, null, null);
  const average = differences.reduce((sum, value) => sum + value, 0) / n;
  const sd = n > 1 ? Math.sqrt(differences.reduce((sum, value) => sum + (value - average) ** 2, 0) / (n - 1)) : null;
  return meanEstimate(n, average, sd);
}

export interface McNemarResult {
  /** Pairs where A succeeded and B did not, and the reverse. */
  onlyA: number;
  onlyB: number;
  /** Two-sided p-value: exact binomial below 25 discordant pairs, else chi-square with continuity correction. */
  pValue: number;
  method: "exact" | "chi-square";
}

/** McNemar's test for paired binary outcomes. */
export function mcnemar(pairs: Array<[boolean, boolean]>): McNemarResult {
  let onlyA = 0;
  let onlyB = 0;
  for (const [a, b] of pairs) {
    if (a && !b) onlyA++;
    else if (b && !a) onlyB++;
  }
  const discordant = onlyA + onlyB;
  if (discordant === 0) return { onlyA, onlyB, pValue: 1, method: "exact" };
  if (discordant < 25) {
    // P(X ≤ min) under Binomial(discordant, ½), doubled.
    let tail = 0;
    let term = 0.5 ** discordant; // C(d, 0) / 2^d
    for (let k = 0; k <= Math.min(onlyA, onlyB); k++) {
      tail += term;
      term = (term * (discordant - k)) / (k + 1);
    }
    return { onlyA, onlyB, pValue: Math.min(1, 2 * tail), method: "exact" };
  }
  const chi = (Math.abs(onlyA - onlyB) - 1) ** 2 / discordant;
  return { onlyA, onlyB, pValue: erfc(Math.sqrt(chi / 2)), method: "chi-square" };
}

/** Complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851632 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
