import type { DiffResult, Statistics } from "./diff.js";

// `weights diff --html`: one self-contained page (no script, no external file) with an SVG bar chart of each
// layer's relative change ‖Δ‖/‖W‖ in file order, and the layer table. Tensor names come from the checkpoint,
// which may be hostile: every text is escaped.

const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const format = (value: number | null) => (value === null ? "—" : value === 0 ? "0" : Math.abs(value) >= 1e-3 && Math.abs(value) < 1e5 ? value.toPrecision(4) : value.toExponential(2));

function chart(layers: Statistics[]): string {
  const bar = 14;
  const labelWidth = 260;
  const width = 520;
  const largest = Math.max(...layers.map((layer) => layer.relative ?? 0), Number.MIN_VALUE);
  const rows = layers.map((layer, index) => {
    const y = index * (bar + 4);
    const length = ((layer.relative ?? 0) / largest) * width;
    return (
      `<text x="${labelWidth - 6}" y="${y + bar - 3}" text-anchor="end">${escape(layer.name)}</text>` +
      `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${bar}" fill="#3b6ea5"><title>${escape(layer.name)}: ${format(layer.relative)}</title></rect>` +
      `<text x="${labelWidth + length + 4}" y="${y + bar - 3}">${format(layer.relative)}</text>`
    );
  });
  const height = layers.length * (bar + 4);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + width + 80}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="relative change per layer">${rows.join("")}</svg>`;
}

function table(rows: Statistics[], first: string): string {
  const head = [first, "parameters", "‖Δ‖", "‖Δ‖/‖W‖", "cos(base, ft)", "changed", "max |Δ|"].map((title) => `<th>${escape(title)}</th>`).join("");
  const body = rows
    .map(
      (stats) =>
        `<tr><td>${escape(stats.name)}</td><td>${stats.parameters}</td><td>${format(stats.deltaNorm)}</td><td>${format(stats.relative)}</td><td>${format(stats.cosine)}</td><td>${(100 * stats.changedShare).toFixed(1)}%</td><td>${format(stats.maxAbsDelta)}</td></tr>`,
    )
    .join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function diffHtml(result: DiffResult): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Task vector: ${escape(result.finetuned)} − ${escape(result.base)}</title>
<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:12px}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>Task vector</h1>
<p>Δ = <code>${escape(result.finetuned)}</code> − <code>${escape(result.base)}</code> (${result.format}, ${result.tensors.length} tensors, ${result.total.parameters} parameters).
‖Δ‖/‖W‖ over all weights: <b>${format(result.total.relative)}</b>; cosine(base, fine-tuned): <b>${format(result.total.cosine)}</b>; parameters changed: <b>${(100 * result.total.changedShare).toFixed(1)}%</b>.</p>
<h2>Relative change ‖Δ‖/‖W_base‖ per layer</h2>
${chart(result.layers)}
<h2>Layers</h2>
${table([...result.layers, result.total], "layer")}
<h2>Tensors</h2>
${table(result.tensors, "tensor")}
</body></html>
`;
}
