#!/usr/bin/env bash
# Soak benchmark: runs bench/soak/soak.mjs (defaults: 30 minutes at 1000 requests per second) against
# TOLLWAY_BIN (default build/release/tollway), prints the table over time and the checks, writes the JSON report to
# build/bench/soak/report.json and the "## Soak (bench/soak)" section of docs/benchmarks.md (NO_DOC=1: not).
# Usage: bench/soak/run.sh [--duration 30m] [--rate 1000] [--sample 10s] [--note TEXT] [other soak.mjs options]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
export TOLLWAY_SOURCE_DIR="$ROOT"
doc=(--doc)
[[ "${NO_DOC:-0}" == 1 ]] && doc=()
exec node "$ROOT/bench/soak/soak.mjs" "${doc[@]}" "$@"
