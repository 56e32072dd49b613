#!/usr/bin/env bash
# alignbench against promptfoo and a bare HTTP client, on the same items and the same mock, in one run.
# Usage: bench/peer.sh [N=10000] [LATENCY_MS=0] [CONCURRENCY=64]   (runs ../shared/bench/peer-compare.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
exec ../shared/bench/peer-compare.sh "${1:-10000}" "${2:-0}" "${3:-64}"
