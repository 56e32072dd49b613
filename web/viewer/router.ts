// The viewer's pages by their hash path (#/run/ID/items?…). A page is one file under pages/ and one line here.
import { boardPage } from "./pages/board.js";
import { comparePage } from "./pages/compare.js";
import { gridPage } from "./pages/grid.js";
import { itemPage } from "./pages/item.js";
import { itemsPage } from "./pages/items.js";
import { runPage } from "./pages/run.js";
import { runsPage } from "./pages/runs.js";
import { trendPage } from "./pages/trend.js";
import { failure, show, timers } from "./page-kit.js";

interface Route {
  /** Path segments after "#/", decoded; `:name` matches any one segment. */
  pattern: string[];
  render: (params: Record<string, string>, query: URLSearchParams) => Promise<void>;
}

const ROUTES: Route[] = [
  { pattern: ["run", ":run", "items"], render: (params, query) => itemsPage(params.run!, query) },
  { pattern: ["run", ":run", "grid"], render: (params, query) => gridPage(params.run!, query) },
  { pattern: ["run", ":run", "item", ":index"], render: (params, query) => itemPage(params.run!, params.index!, query) },
  { pattern: ["run", ":run"], render: (params) => runPage(params.run!) },
  { pattern: ["compare", ":a", ":b"], render: (params) => comparePage(params.a!, params.b!) },
  { pattern: ["board"], render: (_params, query) => boardPage(query) },
  { pattern: ["trend"], render: (_params, query) => trendPage(query) },
  { pattern: [], render: (_params, query) => runsPage(query) },
];

function match(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const segment = pattern[index]!;
    if (segment.startsWith(":")) params[segment.slice(1)] = parts[index]!;
    else if (segment !== parts[index]) return undefined;
  }
  return params;
}

export async function route(): Promise<void> {
  for (const timer of timers) clearInterval(timer);
  timers.length = 0;
  const [path, search] = (location.hash.slice(1) || "/").split("?") as [string, string | undefined];
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search ?? "");
  document.body.dataset.ready = "false";
  try {
    const found = ROUTES.map((entry) => ({ entry, params: match(entry.pattern, parts) })).find((candidate) => candidate.params !== undefined);
    if (found) await found.entry.render(found.params!, query);
    else await runsPage();
  } catch (error) {
    show(failure(error));
  }
  document.body.dataset.ready = "true";
}
