import { boardColumns, orderRuns, type RunOrder } from "../../shared/board-model.js";
import { append, clear, h, table } from "../../shared/dom.js";
import { byKind } from "../../shared/format.js";
import { trendChart } from "../../shared/trend-chart.js";
import type { BoardHeadline, RunListing } from "../../../src/viewer/run-index.js";
import { api, nav, show } from "../page-kit.js";

/**
 * One headline metric across chosen runs (#/trend?runs=a,b,c&metric=NAME&order=created|name), in creation
 * order or by name in natural order (ckpt-2 before ckpt-10), with 95% intervals.
 */
export async function trendPage(query: URLSearchParams): Promise<void> {
  clear(nav);
  append(nav, h("a", { href: "#/" }, "runs"));
  const wanted = (query.get("runs") ?? "").split(",").filter(Boolean);
  const all = await api<RunListing[]>("/api/runs");
  const missing = wanted.filter((id) => !all.some((run) => run.run_id === id));
  const order: RunOrder = query.get("order") === "name" ? "name" : "created";
  const runs = orderRuns(
    all.filter((run) => wanted.includes(run.run_id)),
    order,
  );
  const names = boardColumns(runs).map((column) => column.name);
  const metric = names.includes(query.get("metric") ?? "") ? query.get("metric")! : names[0];
  const go = (changes: Record<string, string>) => {
    const next = new URLSearchParams({ runs: wanted.join(","), metric: metric ?? "", order, ...changes });
    location.hash = `#/trend?${next.toString()}`;
  };
  const metricSelect = h(
    "select",
    { name: "metric", onchange: (event: Event) => go({ metric: (event.target as HTMLSelectElement).value }) },
    ...names.map((name) => h("option", { value: name, selected: name === metric }, name)),
  );
  const orderSelect = h(
    "select",
    { name: "order", onchange: (event: Event) => go({ order: (event.target as HTMLSelectElement).value }) },
    h("option", { value: "created", selected: order === "created" }, "by creation time"),
    h("option", { value: "name", selected: order === "name" }, "by name"),
  );
  const toolbar = h("div", { class: "toolbar" }, "metric", metricSelect, "order", orderSelect);
  if (!metric) {
    show(h("section", { class: "card", id: "trend" }, h("h2", {}, "Metric over runs"), toolbar, h("p", { class: "note" }, "None of these runs has a headline number yet.")));
    return;
  }
  const points = runs.map((run) => run.headlines.filter((headline) => headline.name === metric));
  // Each run one model (checkpoints of one fine-tune, each its own model): one line across the runs. A model
  // found in several runs: one line per model.
  const models = [...new Set(points.flat().map((headline) => headline.model))];
  const oneLine = points.every((found) => found.length <= 1);
  const series = oneLine
    ? [{ name: metric, values: points.map((found) => found[0]) }]
    : models.map((model) => ({ name: model, values: points.map((found) => found.find((headline) => headline.model === model)) }));
  const kind = points.flat()[0]?.kind;
  const rows = runs.flatMap((run, index): Array<[RunListing, BoardHeadline | undefined]> => (points[index]!.length ? points[index]!.map((found) => [run, found]) : [[run, undefined]]));
  show(
    h(
      "section",
      { class: "card", id: "trend" },
      h("h2", {}, `${metric} over ${runs.length} runs`),
      toolbar,
      trendChart(
        `${metric} by run, ${order === "name" ? "by name" : "in creation order"} (95% CI)`,
        runs.map((run) => run.run_id),
        series,
        kind,
      ),
      table(
        ["run", "created", "model", metric],
        rows.map(([run, found]) => [
          h("a", { href: `#/run/${encodeURIComponent(run.run_id)}` }, run.run_id),
          run.created_at.replace("T", " ").slice(0, 19),
          found?.model ?? "",
          found ? byKind(found.kind, found) : "not measured",
        ]),
        { class: "trend-table" },
      ),
      missing.length ? h("p", { class: "error" }, `Not found: ${missing.join(", ")}`) : null,
    ),
  );
}
