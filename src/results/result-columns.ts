import type { ScoreColumn, ScorerDeclaration } from "../scorers/types.js";
import { BASE_DIMENSIONS, compactTranscript, extraDimensions, RESULT_SCHEMA_VERSION, type ResultRow } from "./record.js";
import { upgradeRow } from "./row-upgrade.js";
import { scoreField, scoresWithoutDeclared } from "./score-columns.js";

export type ColumnType = "STRING" | "DOUBLE" | "INT32" | "BOOLEAN" | "JSON";

export interface ResultColumn {
  name: string;
  type: ColumnType;
  /** Reads the column's value from a row. */
  get(row: ResultRow): unknown;
}

type Field = keyof ResultRow;

/** The row's own columns before the scorers' declared ones… */
const HEAD: Array<[Field, ColumnType]> = [
  ["schema_version", "INT32"],
  ["run_id", "STRING"],
  ["key", "STRING"],
  ["test_id", "STRING"],
  ["category", "STRING"],
  ["subcategory", "STRING"],
  ["persona_slug", "STRING"],
  ["model_slug", "STRING"],
  ["epoch", "INT32"],
  ["attempt", "INT32"],
  ["source", "STRING"],
  ["started_at", "STRING"],
  ["completed_at", "STRING"],
  ["status", "STRING"],
  ["error_type", "STRING"],
  ["error", "STRING"],
  ["raw_candidate", "STRING"],
  ["finish_reason", "STRING"],
];

/** …and after them. */
const TAIL: Array<[Field, ColumnType]> = [
  ["latency_ms", "DOUBLE"],
  ["usage", "JSON"],
  ["generation", "JSON"],
  ["messages", "JSON"],
  ["dimensions", "JSON"],
  ["transcript", "JSON"],
  ["expected_safe_behavior", "STRING"],
  ["attack_notes", "STRING"],
  ["item_judge_prompt", "STRING"],
  ["item_judge_schema", "JSON"],
  ["item_metadata", "JSON"],
  ["tags", "JSON"],
  ["scores", "JSON"],
];

/** Nested fields whose leaves also get columns of their own, named by path (`scores.refusal_match.value`). */
const FLATTENED = ["usage", "generation", "scores", "tags", "dimensions"] as const;

type LeafKind = "BOOLEAN" | "DOUBLE" | "STRING" | "JSON";
interface Leaf {
  root: (typeof FLATTENED)[number];
  path: string[];
  kind: LeafKind;
}

/** Roots of leaves learned from 0.1 rows (persisted in their state.sqlite), and where version 2 rows keep them. */
const V1_ROOTS: Record<string, string[]> = { judge_json: ["verdict", "data"], judge_usage: ["verdict", "usage"] };

/** A declared column's type, from the score field it reads. */
function declaredType(column: ScoreColumn): ColumnType {
  if (column.type === "BOOLEAN") return "BOOLEAN";
  if (column.from === "value" || column.from === "latency_ms" || column.from.startsWith("metrics.")) return "DOUBLE";
  if (column.from === "calls") return "INT32";
  if (column.from === "data" || column.from === "usage") return "JSON";
  return "STRING";
}

function typed(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "BOOLEAN":
      return value === 1 || value === true ? true : value === 0 || value === false ? false : null;
    case "DOUBLE":
    case "INT32":
      return typeof value === "number" && Number.isFinite(value) ? value : null;
    case "STRING":
      return typeof value === "string" ? value : JSON.stringify(value);
    default:
      return value;
  }
}

/**
 * Learns the leaf paths of the nested fields over all rows (a custom judge schema may add any), then
 * gives the full column list: the row's columns, the columns the scorers declare (the runner suite's
 * `attack_success`, `overall`, `safety_score`, `judge_*`), then one per leaf, in first-seen order; a leaf
 * under a declared object column is named after it (`judge_json.safety.score`, not
 * `scores.verdict.data.safety.score`). The writer observes every row as it is appended and keeps the set
 * in state.sqlite, so the final files are written in one pass.
 */
export class ResultColumns {
  /** Leaves in first-seen order (the column order). */
  private readonly leaves: Leaf[] = [];
  /** The same leaves as a tree, so observing a row of a known shape allocates nothing. */
  private readonly tree = new Map<string, TreeNode>();
  /** Set when observe() learns a new leaf or widens one; cleared by whoever persists the set. */
  changed = false;

  /** The learned leaves, to persist; `ResultColumns.restore` reads them back. */
  snapshot(): string {
    return JSON.stringify(this.leaves);
  }

  static restore(snapshot: string | undefined): ResultColumns {
    const columns = new ResultColumns();
    for (const stored of snapshot ? (JSON.parse(snapshot) as Array<{ root: string; path: string[]; kind: LeafKind }>) : []) {
      const moved = V1_ROOTS[stored.root];
      if (!moved && !(FLATTENED as readonly string[]).includes(stored.root)) continue;
      const leaf: Leaf = moved ? { root: "scores", path: [...moved, ...stored.path], kind: stored.kind } : (stored as Leaf);
      const node = columns.nodeAt(leaf.root, leaf.path);
      if (!node.leaf) node.leaf = columns.add(leaf);
    }
    return columns;
  }

  observe(input: ResultRow): void {
    const row = input.schema_version !== undefined && input.schema_version < RESULT_SCHEMA_VERSION ? upgradeRow(input) : input;
    for (const root of FLATTENED) {
      // Only the dimensions a plan adds get columns of their own (the others are the row's own columns).
      const value = root === "dimensions" ? extraDimensions(row) : row[root];
      if (value && typeof value === "object") this.walk(root, value as Record<string, unknown>, this.rootNode(root), []);
    }
  }
  private add(leaf: Leaf): Leaf {
    this.leaves.push(leaf);
    return leaf;
  }

  private rootNode(root: string): TreeNode {
    let node = this.tree.get(root);
    if (!node) this.tree.set(root, (node = { children: new Map() }));
    return node;
  }

  private nodeAt(root: string, path: string[]): TreeNode {
    let node = this.rootNode(root);
    for (const key of path) {
      let child = node.children.get(key);
      if (!child) node.children.set(key, (child = { children: new Map() }));
      node = child;
    }
    return node;
  }

  private walk(root: (typeof FLATTENED)[number], value: Record<string, unknown>, tree: TreeNode, path: string[]): void {
    for (const key in value) {
      const child = value[key];
      if (child === null || child === undefined) continue;
      // A scorer's calls (its judge prompts, as sent) stay in the `scores` JSON only: a column of their own would copy them.
      if (root === "scores" && path.length === 1 && key === "transcript") continue;
      let node = tree.children.get(key);
      if (!node) tree.children.set(key, (node = { children: new Map() }));
      if (typeof child === "object" && !Array.isArray(child)) {
        path.push(key);
        this.walk(root, child as Record<string, unknown>, node, path);
        path.pop();
        continue;
      }
      const kind = kindOf(child);
      const known = node.leaf;
      if (!known) {
        node.leaf = this.add({ root, path: [...path, key], kind });
        this.changed = true;
      } else if (known.kind !== kind && known.kind !== "JSON") {
        // Mixed types widen: to JSON if any value is structured, else to text.
        const widened: LeafKind = kind === "JSON" ? "JSON" : "STRING";
        if (widened !== known.kind) {
          known.kind = widened;
          this.changed = true;
        }
      }
    }
  }

  /**
   * The columns of results.parquet and results.csv: the row's own, then each scorer's declared columns
   * (the first declaration to name a column has it), then the learned leaves.
   */
  columns(scorers: readonly ScorerDeclaration[] = []): ResultColumn[] {
    const field = ([name, type]: [Field, ColumnType]): ResultColumn =>
      name === "transcript"
        ? // The calls as partials.jsonl stores them: the row's own prompt and response are not repeated.
          { name, type, get: (row) => (row.transcript?.length ? compactTranscript(row) : null) }
        : name === "dimensions"
          ? // Only the dimensions the row's columns do not already hold (a plan's strategy…).
            { name, type, get: (row) => extraDimensions(row) ?? null }
          : name === "scores"
            ? // Each score without the fields its declared columns hold (see score-columns.ts).
              { name, type, get: (row) => scoresWithoutDeclared(row.scores, scorers) }
            : { name, type, get: (row) => (row as unknown as Record<string, unknown>)[name] ?? null };
    const taken = new Set([...HEAD, ...TAIL].map(([name]) => name as string));
    const declared: ResultColumn[] = [];
    /** `scorer\u0000field` → the column that holds that score field (leaves under it are renamed or dropped). */
    const aliases = new Map<string, string>();
    for (const declaration of scorers) {
      for (const [name, column] of Object.entries(declaration.columns ?? {})) {
        if (taken.has(name)) continue;
        taken.add(name);
        const type = declaredType(column);
        const scorer = declaration.name;
        declared.push({ name, type, get: (row) => typed(scoreField(row.scores?.[scorer], column.from), type) });
        const path = column.from.startsWith("metrics.") ? ["metrics", column.from.slice("metrics.".length)] : [column.from];
        aliases.set([scorer, ...path].join("\u0000"), name);
      }
    }
    const flattened: ResultColumn[] = [];
    for (const leaf of this.leaves) {
      let name = [leaf.root, ...leaf.path].join(".");
      if (leaf.root === "dimensions" && (BASE_DIMENSIONS as readonly string[]).includes(leaf.path[0]!)) continue;
      if (leaf.root === "scores") {
        // scores.NAME.FIELD… or scores.NAME.metrics.METRIC: a field a declared column holds is not repeated.
        const depth = leaf.path[1] === "metrics" ? 3 : 2;
        const alias = aliases.get(leaf.path.slice(0, depth).join("\u0000"));
        if (alias !== undefined) {
          if (leaf.path.length === depth) continue;
          name = [alias, ...leaf.path.slice(depth)].join(".");
        }
      }
      if (taken.has(name)) continue;
      taken.add(name);
      flattened.push({ name, type: leaf.kind, get: (row) => convert(pick(row[leaf.root], leaf.path), leaf.kind) });
    }
    return [...HEAD.map(field), ...declared, ...TAIL.map(field), ...flattened];
  }
}

interface TreeNode {
  leaf?: Leaf;
  children: Map<string, TreeNode>;
}

function kindOf(value: unknown): LeafKind {
  if (typeof value === "boolean") return "BOOLEAN";
  if (typeof value === "number") return "DOUBLE";
  if (typeof value === "string") return "STRING";
  return "JSON";
}

function pick(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!node || typeof node !== "object") return null;
    node = (node as Record<string, unknown>)[key];
  }
  return node ?? null;
}

function convert(value: unknown, kind: LeafKind): unknown {
  if (value === null || value === undefined) return null;
  if (kind === "STRING" && typeof value !== "string") return JSON.stringify(value);
  if (kind !== kindOf(value) && kind !== "JSON") return null;
  return value;
}
