/**
 * Which dimensions vary among the rows of one cluster: why rows repeat an item (its epochs, personas,
 * models, a plan's strategies; the test itself when clustering by a column such as the behaviour). A
 * footnote names these, so it says "across personas" when the repeats came from personas, not epochs.
 *
 * Keeps one small integer per cluster and dimension (each dimension's values interned), and stops
 * watching a dimension once it is known to vary, so 400,000 clusters stay a few megabytes.
 */
export class ClusterRepeats {
  private readonly ids: Array<Map<string | number, number>>;
  private first: Int32Array[];
  private readonly varying: boolean[];

  constructor(readonly dimensionNames: readonly string[]) {
    this.ids = dimensionNames.map(() => new Map());
    this.first = dimensionNames.map(() => new Int32Array(64));
    this.varying = dimensionNames.map(() => false);
  }

  /** A row of cluster `cluster` (a dense index from 0) with its value of each dimension, in the constructor's order. */
  add(cluster: number, values: ReadonlyArray<string | number | undefined>): void {
    if (this.dimensionNames.length === 0) return;
    if (cluster >= this.first[0]!.length) {
      this.first = this.first.map((old) => {
        const grown = new Int32Array(Math.max(cluster + 1, old.length * 2));
        grown.set(old);
        return grown;
      });
    }
    for (let index = 0; index < this.dimensionNames.length; index++) {
      if (this.varying[index]) continue;
      const ids = this.ids[index]!;
      const value = values[index] ?? "";
      let id = ids.get(value);
      if (id === undefined) ids.set(value, (id = ids.size + 1));
      const seen = this.first[index]![cluster]!;
      if (seen === 0) this.first[index]![cluster] = id;
      else if (seen !== id) this.varying[index] = true;
    }
  }

  /** The dimensions seen to vary inside a cluster, in the constructor's order. */
  repeats(): string[] {
    return this.dimensionNames.filter((_, index) => this.varying[index]);
  }
}
