import { type Estimate, wilsonBounds } from "./intervals.js";

/**
 * The difference of two independent proportions p1 − p2 with Newcombe's hybrid score interval (Newcombe,
 * 1998, "Interval estimation for the difference between independent proportions", method 10): each share's
 * Wilson bounds (l, u) are combined as
 *   lower = d − √((p1 − l1)² + (u2 − p2)²),  upper = d + √((u1 − p1)² + (p2 − l2)²).
 * Unlike the Wald interval it stays inside [−1, 1] and behaves at shares of 0 and 1 and on small groups.
 * `stderr` is the unpooled normal one, √(p1(1−p1)/n1 + p2(1−p2)/n2), for reference; `n` is n1 + n2.
 */
export function proportionDifference(successes1: number, n1: number, successes2: number, n2: number): Estimate {
  if (n1 === 0 || n2 === 0) return { estimate: null, stderr: null, ci95: null, n: n1 + n2 };
  const p1 = successes1 / n1;
  const p2 = successes2 / n2;
  const [l1, u1] = wilsonBounds(p1, n1);
  const [l2, u2] = wilsonBounds(p2, n2);
  const d = p1 - p2;
  const lower = d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const upper = d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { estimate: d, stderr: Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2), ci95: [lower, upper], n: n1 + n2 };
}
