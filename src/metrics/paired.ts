import { clusteredMeanFromSums, clusterSumsOf } from "./clustered.js";
import { Z95, type Estimate } from "./intervals.js";

export interface PairedOptions {
  /** Each pair's cluster (its test item): pairs of one item are not independent. Default: every pair its own. */
  clusters?: readonly string[] | undefined;
  /** The widest a difference can be: 1 for rates, the range's width for a bounded mean. Default: unbounded. */
  span?: number | undefined;
  /** The values are 0/1 outcomes (a rate): an interval with no spread is widened (see below). */
  rate?: boolean | undefined;
}

/**
 * The difference B − A over paired rows: the mean of the per-pair differences with a cluster-robust (CR1)
 * t interval on G − 1 degrees of freedom over the pairs' clusters, so epochs, samples or personas of one
 * item count once (with one pair per cluster it is the ordinary paired t interval). The interval is clipped
 * to what a difference can be (±1 for rates): a t interval from a handful of pairs can reach far past it.
 * For a rate, when every item shows the same difference δ (no spread, where the t interval has zero width),
 * the interval is δ ± z²/(G + z²), the Wilson upper bound for none of G items departing from δ.
 */
export function pairedDifference(pairs: ReadonlyArray<readonly [number, number, ...unknown[]]>, options: PairedOptions = {}): Estimate & { clusters: number } {
  const differences = pairs.map(([a, b]) => b - a);
  const clusters = options.clusters ?? differences.map((_, index) => String(index));
  const estimate = clusteredMeanFromSums(clusterSumsOf(differences, clusters), options.span === undefined ? undefined : [-options.span, options.span]);
  if (options.rate && estimate.stderr !== null && estimate.stderr <= 1e-12 && estimate.estimate !== null) {
    const reach = (Z95 * Z95) / (estimate.clusters + Z95 * Z95);
    const span = options.span ?? 1;
    estimate.ci95 = [Math.max(-span, estimate.estimate - reach), Math.min(span, estimate.estimate + reach)];
  }
  return estimate;
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
  // erfc is an approximation (relative error < 1.2e-7): a p-value must still lie in [0, 1].
  return { onlyA, onlyB, pValue: Math.min(1, Math.max(0, erfc(Math.sqrt(chi / 2)))), method: "chi-square" };
}

/**
 * McNemar's test on items rather than rows, so repeats of an item (epochs, samples, personas) are not
 * counted as independent evidence: each item's outcome on each side is the majority of its rows (success
 * when more than half of them succeed, failure when fewer). An item that is tied on either side (exactly
 * half its rows succeed) is discordant in neither direction. With one row per item it is the usual test.
 */
export function mcnemarByItem(pairs: ReadonlyArray<readonly [boolean, boolean]>, clusters: readonly string[]): McNemarResult & { items: number; tied: number } {
  if (pairs.length !== clusters.length) throw new RangeError("one cluster label per pair");
  const tally = new Map<string, { n: number; a: number; b: number }>();
  pairs.forEach(([a, b], index) => {
    const label = clusters[index]!;
    let entry = tally.get(label);
    if (!entry) tally.set(label, (entry = { n: 0, a: 0, b: 0 }));
    entry.n++;
    if (a) entry.a++;
    if (b) entry.b++;
  });
  const majority = (successes: number, n: number): boolean | null => (2 * successes > n ? true : 2 * successes < n ? false : null);
  const items: Array<[boolean, boolean]> = [];
  let tied = 0;
  for (const { n, a, b } of tally.values()) {
    const left = majority(a, n);
    const right = majority(b, n);
    if (left === null || right === null) tied++;
    else items.push([left, right]);
  }
  return { ...mcnemar(items), items: tally.size, tied };
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
