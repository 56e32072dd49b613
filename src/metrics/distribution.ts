/**
 * The values of a metric over a group, kept for its median and maximum (the `distribution` aggregate):
 * exact, so it holds one number per row; declared only by metrics worth it (response lengths).
 */
export class Distribution {
  private values = new Float64Array(64);
  private n = 0;

  add(value: number): void {
    if (this.n === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.n++] = value;
  }

  /** The median (the mean of the middle two for an even count) and the largest value; null with no values. */
  summary(): { median: number | null; max: number | null } {
    if (this.n === 0) return { median: null, max: null };
    const sorted = this.values.slice(0, this.n).sort();
    const middle = Math.floor(this.n / 2);
    const median = this.n % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    return { median, max: sorted[this.n - 1]! };
  }
}
