#!/usr/bin/env bash
# What keeping each judge call's prompt on its score costs: a run of N items (default 10,000) with the
# default verdict judge, then the bytes the scores' recorded calls take in partials.jsonl, and the sizes of
# the final files. Usage: bench/judge-calls-size.sh [N=10000]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-10000}
WORK=$(mktemp -d /tmp/alignbench-judge-calls.XXXXXX)
make_items "$N" "$WORK/items.jsonl"
start_mock 0 "$WORK/mock.log"
export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=dummy CI=true
$ALIGNBENCH run --dataset "$WORK/items.jsonl" --models mock-target --judge-model mock-judge --concurrency 32 --output-dir "$WORK/results" --run-id size > "$WORK/run.log" 2>&1 || { echo "run failed"; tail "$WORK/run.log"; exit 1; }
stop_mock
node -e '
const fs = require("fs"); const dir = process.argv[1];
let calls = 0, total = 0;
for (const line of fs.readFileSync(dir + "/partials.jsonl", "utf8").split("\n")) {
  if (!line) continue;
  total += Buffer.byteLength(line) + 1;
  for (const score of Object.values(JSON.parse(line).scores ?? {})) if (score.transcript) calls += Buffer.byteLength(`,"transcript":${JSON.stringify(score.transcript)}`);
}
const mb = (bytes) => (bytes / 1e6).toFixed(1) + " MB";
console.log(`partials.jsonl ${mb(total)}, of which the scores\x27 recorded calls ${mb(calls)} (without them ${mb(total - calls)})`);
for (const file of ["results.parquet", "results.csv"]) console.log(`${file} ${mb(fs.statSync(dir + "/" + file).size)}`);
' "$WORK/results/size"
rm -rf "$WORK"
