import type { Texts } from "../results/column-file.js";
import type { CodedColumn } from "../results/columns.js";

// Where each row of a run goes in the side-by-side grid, worked out once per item index: rows grouped by
// test item and epoch (test ids in natural order: item-2 before item-10), then by model × persona column.

export interface GridColumn {
  model: string;
  persona: string;
}

export interface GridLayout {
  /** Row indices in grid order. */
  order: Int32Array;
  /** Where each grid row's rows start in `order`, with the end appended. */
  starts: Int32Array;
  /** Each row's column. */
  columnOf: Int32Array;
  /** The model × persona pairs present, by model then persona. */
  columns: GridColumn[];
  /** Whether the run has several epochs (then a grid row is one test item's epoch). */
  epochs: boolean;
}

export function layoutOf(size: number, rows: { testIds: Texts; epochs: Float64Array; model: CodedColumn; persona: CodedColumn }): GridLayout {
  const { epochs, model, persona } = rows;
  const testKey = naturalKeys(rows.testIds, size);

  const personaCount = persona.values.length + 1;
  const pairOf = (row: number) => (model.codes[row]! + 1) * personaCount + persona.codes[row]! + 1;
  const pairColumn = new Int32Array((model.values.length + 1) * personaCount).fill(-1);
  for (let row = 0; row < size; row++) pairColumn[pairOf(row)] = 0;
  const pairs = [...pairColumn.keys()]
    .filter((pair) => pairColumn[pair] === 0)
    .map((pair) => ({ pair, model: model.values[Math.floor(pair / personaCount) - 1] ?? "", persona: persona.values[(pair % personaCount) - 1] ?? "" }))
    .sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.persona < b.persona ? -1 : a.persona > b.persona ? 1 : 0));
  pairs.forEach((entry, position) => (pairColumn[entry.pair] = position));
  const columnOf = new Int32Array(size);
  for (let row = 0; row < size; row++) columnOf[row] = pairColumn[pairOf(row)]!;

  const epochSet = new Set<number>();
  for (let row = 0; row < size; row++) epochSet.add(epochs[row]!);
  const distinctEpochs = [...epochSet].sort((a, b) => a - b);
  const epochRank = new Map(distinctEpochs.map((epoch, position) => [epoch, position]));
  // Within a test item: epoch, then column (small integers, so one number orders both).
  const within = new Float64Array(size);
  for (let row = 0; row < size; row++) within[row] = epochRank.get(epochs[row]!)! * pairs.length + columnOf[row]!;
  const order = sortedRows(size, testKey, within, distinctEpochs.length * pairs.length);
  const starts: number[] = [];
  for (let position = 0; position < size; position++) {
    const row = order[position]!;
    const previous = order[position - 1];
    if (previous === undefined || testKey[row] !== testKey[previous] || epochs[row] !== epochs[previous]) starts.push(position);
  }
  starts.push(size);
  return { order, starts: Int32Array.from(starts), columnOf, columns: pairs.map(({ model, persona }) => ({ model, persona })), epochs: distinctEpochs.length > 1 };
}

/**
 * The rows ordered by test key, then `within` (below `span`), then row. Where the test keys' ranks, `within`
 * and the row fit in one exact number, a native sort of those numbers (several times faster than a sort
 * with a comparator on 400,000 rows); otherwise the comparator.
 */
function sortedRows(size: number, testKey: Float64Array, within: Float64Array, span: number): Int32Array {
  const distinct = Float64Array.from(testKey).sort();
  let count = 0;
  for (let position = 0; position < size; position++) if (position === 0 || distinct[position] !== distinct[count - 1]) distinct[count++] = distinct[position]!;
  const order = new Int32Array(size);
  if (count * span * size < Number.MAX_SAFE_INTEGER) {
    const packed = new Float64Array(size);
    for (let row = 0; row < size; row++) packed[row] = (rankOf(distinct, count, testKey[row]!) * span + within[row]!) * size + row;
    packed.sort();
    for (let position = 0; position < size; position++) order[position] = packed[position]! % size;
    return order;
  }
  for (let row = 0; row < size; row++) order[row] = row;
  return order.sort((a, b) => testKey[a]! - testKey[b]! || within[a]! - within[b]! || a - b);
}

/** A value's position among the first `count` sorted values (binary search; the value is among them). */
function rankOf(sorted: Float64Array, count: number, value: number): number {
  let low = 0;
  let high = count - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The most distinct prefixes the fast path tells apart, and the longest number it reads exactly. */
const FAST_PREFIXES = 64;
const FAST_DIGITS = 12;

/**
 * A number per row that orders the test ids naturally, equal exactly when the ids are. Ids of the common
 * shape (a few distinct prefixes, then a number without leading zeros: item-12, s3, 42) get prefix rank ×
 * 10^12 + number, read without making a string per row; any other set of ids, each distinct id's rank
 * after a sort on the ids with their digit runs zero-padded.
 */
export function naturalKeys(testIds: Texts, size: number): Float64Array {
  return fastKeys(testIds, size) ?? rankedKeys(testIds, size);
}

function fastKeys(testIds: Texts, size: number): Float64Array | undefined {
  const prefixes: string[] = [];
  const prefixOf = new Int32Array(size);
  const numbers = new Float64Array(size);
  for (let row = 0; row < size; row++) {
    const id = testIds.at(row)!;
    let start = id.length;
    while (start > 0 && isDigit(id.charCodeAt(start - 1))) start--;
    const digits = id.length - start;
    if (digits === 0 || digits > FAST_DIGITS || (digits > 1 && id.charCodeAt(start) === 48)) return undefined;
    for (let position = 0; position < start; position++) if (isDigit(id.charCodeAt(position))) return undefined;
    let value = 0;
    for (let position = start; position < id.length; position++) value = value * 10 + id.charCodeAt(position) - 48;
    let prefix = 0;
    while (prefix < prefixes.length && !(prefixes[prefix]!.length === start && id.startsWith(prefixes[prefix]!))) prefix++;
    if (prefix === prefixes.length) {
      if (prefixes.length === FAST_PREFIXES) return undefined;
      prefixes.push(id.slice(0, start));
    }
    prefixOf[row] = prefix;
    numbers[row] = value;
  }
  const rank = new Int32Array(prefixes.length);
  [...prefixes.keys()].sort((a, b) => (prefixes[a]! < prefixes[b]! ? -1 : prefixes[a]! > prefixes[b]! ? 1 : 0)).forEach((prefix, position) => (rank[prefix] = position));
  const keys = new Float64Array(size);
  for (let row = 0; row < size; row++) keys[row] = rank[prefixOf[row]!]! * 10 ** FAST_DIGITS + numbers[row]!;
  return keys;
}

function rankedKeys(testIds: Texts, size: number): Float64Array {
  const code = new Map<string, number>();
  const ids: string[] = [];
  const codes = new Int32Array(size);
  for (let row = 0; row < size; row++) {
    const id = testIds.at(row)!;
    let found = code.get(id);
    if (found === undefined) {
      found = ids.push(id) - 1;
      code.set(id, found);
    }
    codes[row] = found;
  }
  const padded = ids.map((id) => id.replace(/\d+/g, (digits) => digits.padStart(20, "0")));
  const rank = new Int32Array(ids.length);
  [...ids.keys()].sort((a, b) => (padded[a]! < padded[b]! ? -1 : padded[a]! > padded[b]! ? 1 : ids[a]! < ids[b]! ? -1 : 1)).forEach((id, position) => (rank[id] = position));
  const keys = new Float64Array(size);
  for (let row = 0; row < size; row++) keys[row] = rank[codes[row]!]!;
  return keys;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
