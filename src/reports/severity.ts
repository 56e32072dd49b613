/** Histogram bins of width 0.05 over [0, 1]; the last bin includes 1. */
export const SEVERITY_BINS = 20;

export function severityBin(value: number): number {
  return Math.min(SEVERITY_BINS - 1, Math.floor(value * SEVERITY_BINS));
}
