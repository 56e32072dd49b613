import { BarChart, CustomChart, HeatmapChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { exportButtons } from "./chart-export.js";
import { h } from "./dom.js";
import type { EstimateLike } from "./format.js";

// Apache ECharts, tree-shaken to the charts used, drawn as SVG: crisp in print and screenshots, and every
// label is an SVG text node (never HTML). Tooltips are built as DOM text for the same reason.
echarts.use([BarChart, CustomChart, HeatmapChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, SVGRenderer]);

const PALETTE = ["#3b6fb6", "#d9822b", "#3a9a5b", "#b54a4a", "#7b5ea7", "#8c6d46", "#c65d9e", "#6f7a85"];
const charts = new Set<echarts.ECharts>();

export function chartBox(title: string, height: number): { box: HTMLElement; plot: HTMLElement } {
  const plot = h("div", { class: "chart-plot" });
  plot.style.height = `${height}px`;
  return { box: h("figure", { class: "chart", "data-chart": title }, h("figcaption", {}, h("span", { class: "chart-title" }, title), exportButtons(plot, title)), plot), plot };
}

// Axis labels are never cut short: they wrap at spaces (long words break), in a column as wide as the
// longest label needs, up to a cap; the chart grows to fit the lines. Widths are measured in the axis font.
const LINE_PX = 15;
const FONT = "12px system-ui, sans-serif";
let measure: CanvasRenderingContext2D | null | undefined;

function textWidth(text: string): number {
  if (measure === undefined) {
    measure = document.createElement("canvas").getContext("2d");
    if (measure) measure.font = FONT;
  }
  return measure ? measure.measureText(text).width : text.length * 7.5;
}

/** The width a column of labels gets, and how many lines the longest one wraps to (one more for word breaks). */
export function labelColumn(labels: string[], cap: number): { width: number; lines: number } {
  const widest = Math.max(1, ...labels.map(textWidth));
  const width = Math.ceil(Math.min(cap, Math.max(40, widest + 8)));
  const lines = widest + 8 <= width ? 1 : Math.ceil(widest / width) + 1;
  return { width, lines };
}

/** An axis label that wraps instead of truncating. */
function wrappedLabel(width: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { interval: 0, width, overflow: "break", lineHeight: LINE_PX, hideOverlap: false, ...extra };
}

export function mount(plot: HTMLElement, option: echarts.EChartsCoreOption): void {
  // Drawn once the element is in the document and has a width.
  requestAnimationFrame(() => {
    const chart = echarts.init(plot, undefined, { renderer: "svg" });
    chart.setOption({ animation: false, color: PALETTE, textStyle: { fontFamily: "system-ui, sans-serif" }, ...option });
    charts.add(chart);
    plot.dataset.rendered = "true";
  });
}

addEventListener("resize", () => charts.forEach((chart) => chart.resize()));

/** Tooltip text as a DOM node (text only). */
export function tooltipText(lines: string[]): HTMLElement {
  return h("div", { class: "tooltip" }, ...lines.flatMap((line, index) => (index ? [h("br"), line] : [line])));
}

export interface BarSeries {
  name: string;
  values: Array<EstimateLike | undefined>;
}

/**
 * Grouped bars with 95% interval whiskers, drawn by one custom series per group so that each whisker sits
 * on its own bar. `scale` 100 shows proportions as percentages.
 */
export function barsWithIntervals(title: string, categories: string[], series: BarSeries[], options: ChartScale & { horizontal?: boolean; symmetric?: boolean } = {}): HTMLElement {
  const scale = options.scale ?? 100;
  const unit = options.unit ?? "%";
  // Short labels fit under vertical bars; long ones (a headline's full name) read best beside horizontal bars.
  const horizontal = options.horizontal ?? (categories.length > 8 || categories.some((category) => category.length > 16));
  const labels = labelColumn(categories, horizontal ? 300 : 110);
  const band = Math.max(26 * Math.max(1, series.length * 0.6), labels.lines * LINE_PX + 10);
  const height = horizontal ? Math.max(160, band * categories.length + 70) : 300 + (labels.lines - 1) * LINE_PX;
  const { box, plot } = chartBox(title, height);
  // Rates from 0 to 100%, bounded means on their range, unbounded means on the data's own scale (never clipped).
  const bounds = options.symmetric
    ? {}
    : { ...(options.min !== undefined ? { min: options.min * scale } : options.unbounded ? {} : { min: 0 }), ...(options.max !== undefined ? { max: options.max * scale } : {}) };
  const valueAxis = { type: "value", name: unit, ...bounds };
  const categoryAxis = { type: "category", data: categories, axisLabel: wrappedLabel(labels.width, { rotate: horizontal ? 0 : categories.length > 4 ? 30 : 0 }) };
  const count = series.length;
  const option: echarts.EChartsCoreOption = {
    grid: { left: horizontal ? labels.width + 20 : 50, right: 24, top: count > 1 ? 36 : 16, bottom: horizontal ? 30 : 60 + labels.lines * LINE_PX },
    legend: count > 1 ? { top: 0 } : undefined,
    tooltip: {
      trigger: "item",
      formatter: (params: { seriesIndex: number; dataIndex: number }) => {
        const entry = series[params.seriesIndex]?.values[params.dataIndex];
        const digits = scale === 1 ? 3 : 1;
        const suffix = unit === "%" ? "%" : unit ? ` ${unit}` : "";
        const interval = entry?.ci95 ? ` [${(entry.ci95[0] * scale).toFixed(digits)}, ${(entry.ci95[1] * scale).toFixed(digits)}]` : "";
        const value = entry?.estimate === null || entry === undefined ? "—" : (entry.estimate * scale).toFixed(scale === 1 ? 3 : 1);
        return tooltipText([categories[params.dataIndex] ?? "", `${series[params.seriesIndex]?.name ?? ""}: ${value}${suffix}${interval}`, `n = ${entry?.n ?? 0}`]);
      },
    },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
    series: series.map((entry, seriesIndex) => ({
      type: "custom",
      name: entry.name,
      encode: horizontal ? { y: 0, x: [1, 2, 3] } : { x: 0, y: [1, 2, 3] },
      data: entry.values.map((value, index) =>
        value?.estimate === null || value === undefined
          ? [index, null, null, null]
          : [index, value.estimate * scale, (value.ci95?.[0] ?? value.estimate) * scale, (value.ci95?.[1] ?? value.estimate) * scale],
      ),
      renderItem: (params: { dataIndex: number }, api: CustomApi) => {
        const value = entry.values[params.dataIndex];
        if (!value || value.estimate === null) return null;
        const band = api.size([1, 1])[horizontal ? 1 : 0]!;
        const width = Math.min(36, (band * 0.8) / count);
        const shift = (seriesIndex - (count - 1) / 2) * width;
        const at = (amount: number) => api.coord(horizontal ? [amount, params.dataIndex] : [params.dataIndex, amount]);
        const zero = at(options.min !== undefined && !options.symmetric ? options.min * scale : 0);
        const top = at(value.estimate * scale);
        const color = api.visual("color");
        const children: unknown[] = [];
        if (horizontal) {
          const y = zero[1]! + shift;
          children.push({ type: "rect", shape: { x: Math.min(zero[0]!, top[0]!), y: y - width / 2 + 1, width: Math.abs(top[0]! - zero[0]!), height: width - 2 }, style: { fill: color } });
        } else {
          const x = zero[0]! + shift;
          children.push({ type: "rect", shape: { x: x - width / 2 + 1, y: Math.min(zero[1]!, top[1]!), width: width - 2, height: Math.abs(top[1]! - zero[1]!) }, style: { fill: color } });
        }
        if (value.ci95) {
          const low = at(value.ci95[0] * scale);
          const high = at(value.ci95[1] * scale);
          const cap = Math.max(2, Math.min(6, width / 4));
          const line = (x1: number, y1: number, x2: number, y2: number) => ({ type: "line", shape: { x1, y1, x2, y2 }, style: { stroke: "#222", lineWidth: 1.2 } });
          if (horizontal) {
            const y = zero[1]! + shift;
            children.push(line(low[0]!, y, high[0]!, y), line(low[0]!, y - cap, low[0]!, y + cap), line(high[0]!, y - cap, high[0]!, y + cap));
          } else {
            const x = zero[0]! + shift;
            children.push(line(x, low[1]!, x, high[1]!), line(x - cap, low[1]!, x + cap, low[1]!), line(x - cap, high[1]!, x + cap, high[1]!));
          }
        }
        return { type: "group", children };
      },
    })),
  };
  mount(plot, option);
  return box;
}

/** How a metric is drawn: `scale` 100 shows rates in %; `min`/`max` (unscaled) bound the axis; `unbounded` lets the data set it. */
export interface ChartScale {
  scale?: number;
  unit?: string;
  min?: number;
  max?: number;
  unbounded?: boolean;
  /** Colour ramps run towards the bad end: "low" when low values are the bad ones. */
  bad?: "high" | "low" | "none";
}

interface CustomApi {
  coord(value: number[]): number[];
  size(value: number[]): number[];
  visual(name: "color"): string;
}

/** A heatmap of a rate (in %) or a score on [0, 1] over two categorical axes (model × persona). */
export function heatmap(title: string, xs: string[], ys: string[], cells: Array<{ x: string; y: string; value: EstimateLike | undefined }>, options: ChartScale = {}): HTMLElement {
  const rows = labelColumn(ys, 240);
  const columns = labelColumn(xs, 140);
  const { box, plot } = chartBox(title, Math.max(180, Math.max(40, rows.lines * LINE_PX + 10) * ys.length + 60 + columns.lines * LINE_PX));
  const scale = options.scale ?? 100;
  const suffix = scale === 100 ? "%" : options.unit && options.unbounded ? ` ${options.unit}` : "";
  const digits = scale === 100 ? 1 : 3;
  const round = (value: number) => Number((value * scale).toFixed(digits));
  const data = cells.filter((cell) => cell.value?.estimate !== null && cell.value !== undefined).map((cell) => [xs.indexOf(cell.x), ys.indexOf(cell.y), round(cell.value!.estimate!)]);
  // The colour scale: the metric's range, or for an unbounded mean the data's own extent.
  const values = data.map((entry) => entry[2]!);
  const low = options.min !== undefined ? options.min * scale : options.unbounded ? Math.min(0, ...values) : 0;
  const high = options.max !== undefined ? options.max * scale : options.unbounded ? Math.max(low + 1e-9, ...values) : scale;
  mount(plot, {
    grid: { left: rows.width + 20, right: 80, top: 10, bottom: 30 + columns.lines * LINE_PX },
    tooltip: {
      formatter: (params: { value: [number, number, number] }) => {
        const cell = cells.find((entry) => entry.x === xs[params.value[0]] && entry.y === ys[params.value[1]]);
        const interval = cell?.value?.ci95 ? ` [${round(cell.value.ci95[0])}, ${round(cell.value.ci95[1])}]` : "";
        return tooltipText([`${ys[params.value[1]]} × ${xs[params.value[0]]}`, `${params.value[2]}${suffix}${interval}`, `n = ${cell?.value?.n ?? 0}`]);
      },
    },
    xAxis: { type: "category", data: xs, splitArea: { show: true }, axisLabel: wrappedLabel(columns.width) },
    yAxis: { type: "category", data: ys, splitArea: { show: true }, axisLabel: wrappedLabel(rows.width) },
    visualMap: {
      min: low,
      max: high,
      calculable: false,
      orient: "vertical",
      right: 0,
      top: "middle",
      text: [`${round(high / scale)}${suffix}`, `${round(low / scale)}${suffix}`],
      inRange: { color: options.bad === "low" ? ["#c0392b", "#f2c08f", "#f4f7fb"] : options.bad === "none" ? ["#f4f7fb", "#9fb8d9", "#3b6fb6"] : ["#f4f7fb", "#f2c08f", "#c0392b"] },
    },
    series: [{ type: "heatmap", data, label: { show: true, formatter: (params: { value: [number, number, number] }) => `${params.value[2]}${suffix}` } }],
  });
  return box;
}

/** How a histogram names its bins and axes: by default, severity in equal bins over [0, 1]. */
export interface HistogramAxes {
  labels?: string[];
  axis?: string;
  counted?: string;
}

/** Counts in equal bins (over [0, 1] unless `axes.labels` name them), one series per model. */
export function histogram(title: string, binCount: number, series: Array<{ name: string; counts: number[] }>, axes: HistogramAxes = {}): HTMLElement {
  const { box, plot } = chartBox(title, 260);
  const labels = axes.labels ?? Array.from({ length: binCount }, (_value, index) => `${(index / binCount).toFixed(2)}–${((index + 1) / binCount).toFixed(2)}`);
  const axis = axes.axis ?? "severity";
  const counted = axes.counted ?? "responses";
  box.dataset.counts = JSON.stringify(series);
  mount(plot, {
    grid: { left: 50, right: 20, top: series.length > 1 ? 36 : 16, bottom: 60 },
    legend: series.length > 1 ? { top: 0 } : undefined,
    tooltip: {
      trigger: "item",
      formatter: (params: { seriesName: string; dataIndex: number; value: number }) => tooltipText([params.seriesName, `${axis} ${labels[params.dataIndex]}`, `${params.value} ${counted}`]),
    },
    xAxis: { type: "category", data: labels, axisLabel: { rotate: 45 }, name: axis },
    yAxis: { type: "value", name: counted, minInterval: 1 },
    series: series.map((entry) => ({ type: "bar", name: entry.name, data: entry.counts })),
  });
  return box;
}
