#!/usr/bin/env bash
# Concurrency efficiency under latency: N items (target + judge call each) against a mock answering after
# LATENCY_MS, with CONCURRENCY items in flight. Ideal calls/s = CONCURRENCY / latency.
# Usage: bench/latency.sh [N=20000] [LATENCY_MS=200] [CONCURRENCY=256]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-20000}; LAT=${2:-200}; J=${3:-256}
WORK=$(mktemp -d /tmp/alignbench-latency.XXXXXX)
make_items "$N" "$WORK/items.jsonl"
start_mock "$LAT" "$WORK/mock.log"
OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=dummy CI=true /usr/bin/time -f "%e %M" -o "$WORK/time" \
  $ALIGNBENCH run --dataset "$WORK/items.jsonl" --models mock-target --judge-model mock-judge --concurrency "$J" \
  --run-id bench --output-dir "$WORK/results" > "$WORK/run.log" 2>&1 || { echo "alignbench failed: $WORK/run.log"; tail "$WORK/run.log"; exit 1; }
stats > "$WORK/stats.json"; stop_mock
node -e '
const fs = require("fs"); const [dir, n, lat, j] = process.argv.slice(1);
const [wall, rss] = fs.readFileSync(dir + "/time", "utf8").trim().split(" ").map(Number);
const s = JSON.parse(fs.readFileSync(dir + "/stats.json", "utf8"));
const ideal = +j / (+lat / 1000);
const calls = s.target + s.judge;
const window = (s.lastAt - s.firstAt) / 1000 + +lat / 1000;
console.log(`latency ${lat} ms, concurrency ${j}: ${n} items = ${calls} calls`);
console.log(`  whole command: ${wall.toFixed(1)} s → ${(calls / wall).toFixed(0)} calls/s = ${(100 * calls / wall / ideal).toFixed(1)}% of ideal ${ideal.toFixed(0)} (start-up and final files included)`);
console.log(`  while calling: ${(calls / window).toFixed(0)} calls/s = ${(100 * calls / window / ideal).toFixed(1)}% of ideal; max in flight at the server ${s.maxInflight}; peak RSS ${(rss / 1024).toFixed(0)} MB`);
' "$WORK" "$N" "$LAT" "$J"
rm -rf "$WORK"
