#!/usr/bin/env bash
# The viewer and the report on a large run: N items (default 400,000) run against the loopback mock, then
# the viewer's item-table queries timed over HTTP, and `alignbench report` timed with its file size.
# Usage: bench/viewer.sh [N=400000] [CONCURRENCY=64]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-400000}; J=${2:-64}
WORK=$(mktemp -d /tmp/alignbench-viewer.XXXXXX)
make_items "$N" "$WORK/items.jsonl"
start_mock 0 "$WORK/mock.log"
export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=dummy CI=true
$ALIGNBENCH run --dataset "$WORK/items.jsonl" --models mock-target --judge-model mock-judge --concurrency "$J" --output-dir "$WORK/results" --run-id big > "$WORK/run.log" 2>&1 || { echo "run failed"; tail "$WORK/run.log"; exit 1; }
stop_mock
echo "run: $N items, results.parquet $(du -h "$WORK/results/big/results.parquet" | cut -f1)"
node "$(dirname "$0")/viewer-queries.mjs" "$WORK/results" big
/usr/bin/time -f "%e %M" -o "$WORK/report.time" $ALIGNBENCH report big --output-dir "$WORK/results" > "$WORK/report.log" 2>&1 || { echo "report failed"; cat "$WORK/report.log"; exit 1; }
read -r wall rss < "$WORK/report.time"
echo "alignbench report: ${wall}s, peak RSS $((rss / 1024)) MB, $(cat "$WORK/report.log")"
rm -rf "$WORK"
