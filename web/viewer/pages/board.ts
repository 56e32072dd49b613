import { boardColumns, orderRuns } from "../../shared/board-model.js";
import { barsWithIntervals } from "../../shared/charts.js";
import { append, clear, h, table } from "../../shared/dom.js";
import { byKind } from "../../shared/format.js";
import type { RunListing } from "../../../src/viewer/run-index.js";
import { api, nav, show } from "../page-kit.js";

/**
 * Several runs' headline tables side by side (#/board?runs=a,b,c): one row per headline and model, one
 * column per run, and a chart of each headline across the runs. Two runs get the paired comparison instead.
 */
export async function boardPage(query: URLSearchParams): Promise<void> {
  clear(nav);
  append(nav, h("a", { href: "#/" }, "runs"));
  const wanted = (query.get("runs") ?? "").split(",").filter(Boolean);
  const all = await api<RunListing[]>("/api/runs");
  const runs = orderRuns(
    all.filter((run) => wanted.includes(run.run_id)),
    "created",
  );
  const missing = wanted.filter((id) => !runs.some((run) => run.run_id === id));
  const columns = boardColumns(runs);
  // A row per headline; per headline and model only where one run measured a headline on several models
  // (runs of one model each, such as checkpoints, share one row whatever their models are called).
  const perModel = runs.some((run) => new Set(run.headlines.map((headline) => headline.name)).size < run.headlines.length);
  const lines = columns.flatMap((column) => {
    const models = perModel ? [...new Set(runs.flatMap((run) => run.headlines.filter((headline) => headline.name === column.name).map((headline) => headline.model)))] : [undefined];
    return models.map((model) => ({ column, model }));
  });
  const value = (run: RunListing, name: string, model: string | undefined) => run.headlines.find((headline) => headline.name === name && (model === undefined || headline.model === model));
  const direction = (higher: string | null) => (higher === "better" ? "higher is better" : higher === "worse" ? "higher is worse" : "");
  show(
    h(
      "section",
      { class: "card", id: "board" },
      h("h2", {}, `${runs.length} runs side by side`),
      table(
        ["metric", ...(perModel ? ["model"] : []), "direction", ...runs.map((run) => run.run_id)],
        lines.map((line) => [
          line.column.name,
          ...(perModel ? [line.model ?? ""] : []),
          direction(line.column.higher_is),
          ...runs.map((run) => {
            const found = value(run, line.column.name, line.model);
            return found ? h("span", { title: `${found.model}, n = ${found.n}` }, byKind(found.kind, found)) : "";
          }),
        ]),
        { class: "board-side-table" },
      ),
      h("p", { class: "note" }, "Runs in creation order; headline numbers with 95% intervals; an empty cell: the run does not measure it."),
      missing.length ? h("p", { class: "error" }, `Not found: ${missing.join(", ")}`) : null,
      ...columns.map((column) => {
        const kind = runs.flatMap((run) => run.headlines).find((headline) => headline.name === column.name)?.kind;
        const models = [...new Set(lines.filter((line) => line.column === column).map((line) => line.model))];
        const scale =
          !kind || kind.type === "rate"
            ? { scale: 100, unit: "%", min: 0, max: 1 }
            : kind.type === "bounded"
              ? { scale: 1, unit: "", min: kind.range[0], max: kind.range[1] }
              : { scale: 1, unit: kind.unit ?? "", unbounded: true };
        return barsWithIntervals(
          `${column.name} by run (95% CI)`,
          runs.map((run) => run.run_id),
          models.map((model) => ({ name: model ?? column.name, values: runs.map((run) => value(run, column.name, model)) })),
          scale,
        );
      }),
    ),
  );
}
