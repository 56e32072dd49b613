export interface EstimateLike {
  estimate: number | null;
  ci95: [number, number] | null;
  n: number;
}

export function percent(value: EstimateLike | undefined): string {
  if (!value || value.estimate === null) return "—";
  const interval = value.ci95 ? ` [${(value.ci95[0] * 100).toFixed(1)}, ${(value.ci95[1] * 100).toFixed(1)}]` : "";
  return `${(value.estimate * 100).toFixed(1)}%${interval}`;
}

export function score(value: EstimateLike | undefined): string {
  if (!value || value.estimate === null) return "—";
  const interval = value.ci95 ? ` [${value.ci95[0].toFixed(3)}, ${value.ci95[1].toFixed(3)}]` : "";
  return `${value.estimate.toFixed(3)}${interval}`;
}

export function signed(value: EstimateLike, scale = 100, unit = " pp"): string {
  if (value.estimate === null) return "—";
  const one = (v: number) => `${v >= 0 ? "+" : ""}${(v * scale).toFixed(1)}`;
  return value.ci95 ? `${one(value.estimate)}${unit} [${one(value.ci95[0])}, ${one(value.ci95[1])}]` : `${one(value.estimate)}${unit}`;
}

export function number(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined ? "—" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** How a metric's numbers read: rates in %, bounded means to three places, unbounded means with their unit. */
export interface KindLike {
  type: "rate" | "bounded" | "unbounded";
  range?: [number, number];
  unit?: string;
}

export function byKind(kind: KindLike | undefined, value: EstimateLike | undefined): string {
  if (!kind || kind.type === "rate") return percent(value);
  const text = score(value);
  return kind.type === "unbounded" && kind.unit && text !== "—" ? text.replace(/^(\S+)/, `$1 ${kind.unit}`) : text;
}

/** One value of a metric (an item's), by its kind. */
export function valueByKind(kind: KindLike | undefined, value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (!kind || kind.type === "rate") return Number.isInteger(value) ? String(value) : value.toFixed(3);
  return `${Number.isInteger(value) ? value : value.toFixed(3)}${kind.type === "unbounded" && kind.unit ? ` ${kind.unit}` : ""}`;
}
