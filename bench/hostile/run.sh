#!/usr/bin/env bash
# Hostile-clients benchmark (issue 22, part 2): runs tests/integration/hostile/ with each attack held for
# HOSTILE_ATTACK_MS (default 10 s, the CI test holds 2 s) and prints the control client's quiet and under-attack p99
# as a markdown table, plus the other figures the tests print (RSS, provider bytes, CPU while paused). The tests'
# own assertions still apply; a failed one fails the run.
# Raw output: build/bench/hostile/tests.txt (the runner) and figures.txt.
# Usage: bench/hostile/run.sh   env: TOLLWAY_BIN (build/release/tollway), HOSTILE_ATTACK_MS (10000)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/build/bench/hostile"
mkdir -p "$OUT"
export TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
export TOLLWAY_SOURCE_DIR="$ROOT"
export HOSTILE_ATTACK_MS="${HOSTILE_ATTACK_MS:-10000}"
ulimit -n "$(ulimit -Hn)"  # 2,000 idle connections and their peers

cd "$ROOT"
# The tests' figure lines ("hostile: ...") arrive in the runner's output as TAP comments.
node --test --test-concurrency=1 tests/integration/hostile/attacks.test.mjs tests/integration/hostile/limits.test.mjs \
  >"$OUT/tests.txt" 2>&1 || { cat "$OUT/tests.txt"; exit 1; }
sed -n 's/^# hostile: /hostile: /p' "$OUT/tests.txt" >"$OUT/figures.txt"

echo "Control client p99 (one keep-alive connection, sequential chat completions through the mock provider),"
echo "each attack held ${HOSTILE_ATTACK_MS} ms; $(nproc) cores, $(uname -r)."
echo
echo "| attack | quiet p99 (ms) | under attack p99 (ms) | ratio |"
echo "|---|---|---|---|"
sed -n 's/^hostile: \(.*\): control p99 quiet \([0-9.]*\) ms (n=[0-9]*), under attack \([0-9.]*\) ms (n=[0-9]*), ratio \([0-9.]*\)$/| \1 | \2 | \3 | \4 |/p' \
  "$OUT/figures.txt"
echo
grep '^hostile: ' "$OUT/figures.txt" | grep -v 'control p99' | sed 's/^hostile: /- /'
