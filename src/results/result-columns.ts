import type { ResultRow } from "./record.js";

export type ColumnType = "STRING" | "DOUBLE" | "INT32" | "BOOLEAN" | "JSON";

export interface ResultColumn {
  name: string;
  type: ColumnType;
  /** Reads the column's value from a row. */
  get(row: ResultRow): unknown;
}

const BASE: Array<[keyof ResultRow, ColumnType]> = [
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
  ["attack_success", "BOOLEAN"],
  ["overall", "DOUBLE"],
  ["safety_score", "DOUBLE"],
  ["latency_ms", "DOUBLE"],
  ["judge_model", "STRING"],
  ["judge_calls", "INT32"],
  ["judge_latency_ms", "DOUBLE"],
  ["judge_raw", "STRING"],
  ["judge_json", "JSON"],
  ["usage", "JSON"],
  ["judge_usage", "JSON"],
  ["generation", "JSON"],
  ["messages", "JSON"],
  ["expected_safe_behavior", "STRING"],
  ["attack_notes", "STRING"],
  ["item_judge_prompt", "STRING"],
  ["item_judge_schema", "JSON"],
  ["item_metadata", "JSON"],
  ["tags", "JSON"],
  ["scores", "JSON"],
];

/** Nested fields whose leaves also get columns of their own, named by path (`judge_json.safety.score`). */
const FLATTENED = ["judge_json", "usage", "judge_usage", "generation", "scores", "tags"] as const;

type LeafKind = "BOOLEAN" | "DOUBLE" | "STRING" | "JSON";
interface Leaf {
  root: (typeof FLATTENED)[number];
  path: string[];
  kind: LeafKind;
}

/**
 * Learns the leaf paths of the nested fields over all rows (a custom judge schema may add any), then
 * gives the full column list: the fixed columns, then one per leaf, in first-seen order. The writer
 * observes every row as it is appended and keeps the set in state.sqlite, so the final files are written
 * in one pass.
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
    for (const leaf of snapshot ? (JSON.parse(snapshot) as Leaf[]) : []) columns.nodeAt(leaf.root, leaf.path).leaf = columns.add(leaf);
    return columns;
  }

  observe(row: ResultRow): void {
    for (const root of FLATTENED) {
      const value = row[root];
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

  columns(): ResultColumn[] {
    const base = BASE.map(([field, type]): ResultColumn => ({ name: field, type, get: (row) => row[field] ?? null }));
    const flattened = this.leaves.map((leaf): ResultColumn => ({
      name: [leaf.root, ...leaf.path].join("."),
      type: leaf.kind,
      get: (row) => convert(pick(row[leaf.root], leaf.path), leaf.kind),
    }));
    return [...base, ...flattened];
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
