#!/usr/bin/env bash
# Scale: N items (default 400,000, the size of the largest seed dataset) run with flat memory, and the
# resume of a run killed half-way starts calling again quickly.
# Usage: bench/scale.sh [N=400000] [CONCURRENCY=64]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-400000}; J=${2:-64}
WORK=$(mktemp -d /tmp/alignbench-scale.XXXXXX)
make_items "$N" "$WORK/items.jsonl"
echo "dataset: $N items, $(du -h "$WORK/items.jsonl" | cut -f1)"
start_mock 0 "$WORK/mock.log"
export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=dummy CI=true
RUN=($ALIGNBENCH run --dataset "$WORK/items.jsonl" --models mock-target --judge-model mock-judge --concurrency "$J" --output-dir "$WORK/results")

# 1. The whole run, once, for peak memory.
/usr/bin/time -f "%e %M" -o "$WORK/full.time" "${RUN[@]}" --run-id full > "$WORK/full.log" 2>&1 || { echo "full run failed"; tail "$WORK/full.log"; exit 1; }
read -r wall rss < "$WORK/full.time"
echo "full run: $N items in ${wall}s = $(node -e "console.log(($N/$wall).toFixed(0))") items/s, peak RSS $((rss / 1024)) MB"

# 2. A run killed (SIGKILL) once half its items are done, then resumed.
"${RUN[@]}" --run-id half > "$WORK/half.log" 2>&1 &
PID=$!
HALF=$((N / 2))
while kill -0 $PID 2>/dev/null; do
  lines=0; [ -f "$WORK/results/half/partials.jsonl" ] && lines=$(wc -l < "$WORK/results/half/partials.jsonl")
  [ "$lines" -ge "$HALF" ] && { kill -9 $PID; break; }
  sleep 0.2
done
wait $PID 2>/dev/null
done_before=$(wc -l < "$WORK/results/half/partials.jsonl")
curl -sf -X POST "http://127.0.0.1:$PORT/reset" > /dev/null
start=$(date +%s.%N)
/usr/bin/time -f "%e %M" -o "$WORK/resume.time" "${RUN[@]}" --run-id half > "$WORK/resume.log" 2>&1 &
PID=$!
first=""
while kill -0 $PID 2>/dev/null; do
  # The preflight's two calls (one per model and judge) come first: the first item's call is the third.
  if [ -z "$first" ] && [ "$(stats | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests))')" -gt 2 ]; then
    first=$(date +%s.%N)
  fi
  sleep 0.05
done
wait $PID
read -r rwall rrss < "$WORK/resume.time"
echo "resume: killed with $done_before of $N done; first call $(node -e "console.log(($first - $start).toFixed(2))") s after the command started; finished in ${rwall}s, peak RSS $((rrss / 1024)) MB"
node -e '
// Streamed: with judge calls stored on each row, a 400,000-row partials.jsonl passes 512 MB (too long for one string).
const fs = require("fs"); const readline = require("readline"); const file = process.argv[1];
const keys = new Map(); let lines = 0;
const input = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
input.on("line", (line) => { if (!line) return; lines++; const r = JSON.parse(line); if (r.status === "ok") keys.set(r.key, (keys.get(r.key) ?? 0) + 1); });
input.on("close", () => {
  const dup = [...keys.values()].filter((n) => n > 1).length;
  console.log(`resumed run: ${lines} rows, ${keys.size} distinct done keys, ${dup} duplicated`);
});' "$WORK/results/half/partials.jsonl"
stop_mock
rm -rf "$WORK"
