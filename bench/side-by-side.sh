#!/usr/bin/env bash
# Two builds of alignbench on the same work, alternating, so both see the same machine: a change's speed
# against the release before it. Each round runs bench/peer.sh (the bare client, promptfoo and alignbench
# on one mock) in each checkout; ratios within a round are what to compare.
# Usage: bench/side-by-side.sh BEFORE_CHECKOUT AFTER_CHECKOUT [ROUNDS=3] [N=10000] [LATENCY_MS=0] [CONCURRENCY=64]
#   e.g. git clone . /tmp/ab-before && (cd /tmp/ab-before && git checkout 41bea47 && npm ci)
#        bench/side-by-side.sh /tmp/ab-before "$PWD" 3
# Each checkout needs ../shared beside it (a link to this project's ../shared will do) and `npm ci` done.
set -uo pipefail
BEFORE=$1 AFTER=$2 ROUNDS=${3:-3} N=${4:-10000} LAT=${5:-0} J=${6:-64}
for round in $(seq 1 "$ROUNDS"); do
  for side in before after; do
    dir=$BEFORE; [ "$side" = after ] && dir=$AFTER
    echo "=== round $round: $side ($dir, $(git -C "$dir" log --oneline -1 | cut -c1-60))"
    (cd "$dir" && bench/peer.sh "$N" "$LAT" "$J") 2>&1 | grep -E "^(alignbench|bare-client|promptfoo|ratio)"
  done
done
