import { LineChart } from "echarts/charts";
import * as echarts from "echarts/core";
import { chartBox, mount, tooltipText, type BarSeries } from "./charts.js";
import type { KindLike } from "./format.js";

// A metric across an ordered set of runs (checkpoints of one fine-tune, the same model over time): one line
// per series, each point with its 95% interval as a whisker. Drawn with the charts' shared box and mount
// (SVG, text labels), so any view of a metric over runs (drift across checkpoints) can reuse it.
echarts.use([LineChart]);

interface CustomApi {
  coord(value: number[]): number[];
  value(dimension: number): number;
}

/** How a metric's kind is drawn (bounds in drawn units): rates in % on [0, 100], bounded means on their range, unbounded ones on the data's scale. */
function axisOf(kind: KindLike | undefined): { scale: number; unit: string; min?: number; max?: number } {
  if (!kind || kind.type === "rate") return { scale: 100, unit: "%", min: 0, max: 100 };
  if (kind.type === "bounded" && kind.range) return { scale: 1, unit: "", min: kind.range[0], max: kind.range[1] };
  return { scale: 1, unit: kind.unit ?? "" };
}

export function trendChart(title: string, runs: string[], series: BarSeries[], kind: KindLike | undefined): HTMLElement {
  const { box, plot } = chartBox(title, 340);
  // The points as drawn, in order, for whoever reads the figure without seeing it (tests, scripts).
  box.dataset.points = JSON.stringify(
    series.map((entry) => ({ name: entry.name, points: entry.values.map((value, index) => ({ run: runs[index], estimate: value?.estimate ?? null, ci95: value?.ci95 ?? null })) })),
  );
  const axis = axisOf(kind);
  const digits = axis.scale === 100 ? 1 : 3;
  const shown = (value: number) => (value * axis.scale).toFixed(digits);
  const suffix = axis.unit === "%" ? "%" : axis.unit ? ` ${axis.unit}` : "";
  mount(plot, {
    grid: { left: 60, right: 24, top: series.length > 1 ? 36 : 16, bottom: runs.length > 4 ? 90 : 50 },
    legend: series.length > 1 ? { top: 0 } : undefined,
    tooltip: {
      trigger: "item",
      formatter: (params: { seriesIndex: number; dataIndex: number }) => {
        const entry = series[Math.floor(params.seriesIndex / 2)];
        const value = entry?.values[params.dataIndex];
        const interval = value?.ci95 ? ` [${shown(value.ci95[0])}, ${shown(value.ci95[1])}]` : "";
        const estimate = value?.estimate === null || value === undefined ? "—" : `${shown(value.estimate)}${suffix}`;
        return tooltipText([runs[params.dataIndex] ?? "", `${entry?.name ?? ""}: ${estimate}${interval}`, `n = ${value?.n ?? 0}`]);
      },
    },
    xAxis: { type: "category", data: runs, axisLabel: { interval: 0, width: 140, overflow: "truncate", rotate: runs.length > 4 ? 30 : 0 } },
    yAxis: { type: "value", name: axis.unit, ...(axis.min !== undefined ? { min: axis.min } : {}), ...(axis.max !== undefined ? { max: axis.max } : {}) },
    series: series.flatMap((entry) => [
      {
        type: "line",
        name: entry.name,
        symbol: "circle",
        symbolSize: 8,
        // A run without the metric breaks the line rather than joining its neighbours across it.
        connectNulls: false,
        data: entry.values.map((value) => (value?.estimate === null || value === undefined ? null : value.estimate * axis.scale)),
      },
      {
        type: "custom",
        name: entry.name,
        silent: true,
        data: entry.values.map((value, index) => (value?.ci95 ? [index, value.ci95[0] * axis.scale, value.ci95[1] * axis.scale] : [index, null, null])),
        renderItem: (params: { dataIndex: number }, api: CustomApi) => {
          const value = entry.values[params.dataIndex];
          if (!value?.ci95) return null;
          const low = api.coord([params.dataIndex, value.ci95[0] * axis.scale]);
          const high = api.coord([params.dataIndex, value.ci95[1] * axis.scale]);
          const x = low[0]!;
          const line = (x1: number, y1: number, x2: number, y2: number) => ({ type: "line", shape: { x1, y1, x2, y2 }, style: { stroke: "#222", lineWidth: 1.2 } });
          return { type: "group", children: [line(x, low[1]!, x, high[1]!), line(x - 4, low[1]!, x + 4, low[1]!), line(x - 4, high[1]!, x + 4, high[1]!)] };
        },
      },
    ]),
  });
  return box;
}
