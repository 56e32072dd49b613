import { latestRows } from "./dist/results/partials-reader.js";
import { ResultColumns } from "./dist/results/result-columns.js";
import { writeResultFiles } from "./dist/results/result-files.js";
import { StateStore } from "./dist/results/state-store.js";
import { runFiles } from "./dist/results/run-folder.js";
const f = runFiles("/tmp/benchres", "bench");
const store = new StateStore(f.state);
const cols = new ResultColumns();
for await (const r of latestRows(f.partials, store)) cols.observe(r);
f.csv = "/tmp/y.csv"; f.parquet = "/tmp/y.parquet";
for (let i=0;i<3;i++){ const t = performance.now(); await writeResultFiles(f, latestRows(f.partials, store), cols.columns()); console.log("write", Math.round(performance.now() - t)); }
