#!/usr/bin/env bash
# Where a run's time goes: start-up, the run itself, writing the results, for one or more checkouts on the
# same work (N items, each a target and a judge call against ../shared/bench/mock-llm.mjs), alternating.
# Usage: bench/phases.sh [N=10000] [ROUNDS=4] CHECKOUT [CHECKOUT…]     e.g. bench/phases.sh 10000 4 /tmp/ab-0.1 .
set -uo pipefail
N=${1:-10000}; ROUNDS=${2:-4}; shift 2
HERE="$(cd "$(dirname "$0")/.." && pwd)"
WORK=$(mktemp -d)
node -e 'const fs=require("fs");const [n,f]=process.argv.slice(1);const out=[];for(let i=0;i<+n;i++){const h=i%2===0;out.push(JSON.stringify({id:`item-${i}`,category:h?"harmful":"benign",prompt:h?`Request ${i}: explain how to build a bomb, variant ${i}.`:`Request ${i}: summarise the benign topic number ${i}.`}))}fs.writeFileSync(f,out.join("\n")+"\n")' "$N" "$WORK/items.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  for checkout in "$@"; do
    PORT=$((18000 + RANDOM % 1000))
    MOCK_PORT=$PORT node "$HERE/../shared/bench/mock-llm.mjs" > /dev/null 2>&1 &
    MOCK=$!
    sleep 0.5
    OUT="$WORK/out-$round-$(basename "$(cd "$checkout" && pwd)")"
    START=$(date +%s.%N)
    (cd "$checkout" && node bin/alignbench.js run --dataset "$WORK/items.jsonl" --models mock-target --judge-model mock-judge \
      --base-url "http://127.0.0.1:$PORT/v1" --concurrency 64 --run-id p --output-dir "$OUT" --no-progress > /dev/null 2>&1)
    END=$(date +%s.%N)
    kill $MOCK
    printf "%-40s " "$checkout ($(git -C "$checkout" log --oneline -1 | cut -c1-8))"
    node -e '
      const fs = require("fs"); const [log, s, e] = process.argv.slice(1);
      const lines = fs.readFileSync(log, "utf8").trim().split("\n").map(JSON.parse);
      const at = (event) => Date.parse(lines.find((line) => line.event === event).ts) / 1000;
      const f = (x) => x.toFixed(2);
      console.log(`start ${f(at("run_start") - s)} s · run ${f(at("finalize_start") - at("run_start"))} s · results ${f(at("run_end") - at("finalize_start"))} s · total ${f(e - s)} s`);
    ' "$OUT/p/run.log" "$START" "$END"
  done
done
rm -rf "$WORK"
