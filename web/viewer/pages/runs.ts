import { clear, h, table } from "../../shared/dom.js";
import { number } from "../../shared/format.js";
import type { RunListing } from "../../../src/viewer/run-index.js";
import { api, nav, show } from "../page-kit.js";

export async function runsPage(): Promise<void> {
  clear(nav);
  const runs = await api<RunListing[]>("/api/runs");
  const pick = (name: string) => h("select", { name }, ...runs.map((run) => h("option", { value: run.run_id }, run.run_id)));
  const a = pick("a") as HTMLSelectElement;
  const b = pick("b") as HTMLSelectElement;
  // Newest first: by default compare the newest run (B) against the one before it (A).
  if (runs.length > 1) a.selectedIndex = 1;
  show(
    h(
      "section",
      { class: "card" },
      h("h2", {}, `Runs (${runs.length})`),
      table(
        ["run", "created", "models", "personas", "dataset", "state", "done"],
        runs.map((run) => [
          h("a", { href: `#/run/${encodeURIComponent(run.run_id)}`, class: "run-link" }, run.run_id),
          run.created_at,
          run.models.join(", "),
          run.personas.join(", ") || "none",
          run.dataset,
          run.state,
          `${number(run.progress.ok + run.progress.error)} / ${number(run.progress.total)}`,
        ]),
        { class: "runs-table" },
      ),
    ),
    runs.length > 1
      ? h(
          "section",
          { class: "card" },
          h("h2", {}, "Compare two runs"),
          h(
            "div",
            { class: "toolbar" },
            "A",
            a,
            "B",
            b,
            h("button", { type: "button", id: "compare", onclick: () => (location.hash = `#/compare/${encodeURIComponent(a.value)}/${encodeURIComponent(b.value)}`) }, "compare B against A"),
          ),
        )
      : null,
  );
}
