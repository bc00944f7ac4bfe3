#!/usr/bin/env bash
# Simulator throughput (issue 21): `tollway sim` on examples/sim/fleet-10000.yaml — 10,000 agents, one hour at 100
# requests per second per agent (3.6 billion requests), a leased budget held by all 10,000 sidecars — pinned to one
# core (taskset -c 1), REPS times: wall and CPU seconds and peak RSS (/usr/bin/time), requests represented per
# second, events simulated one by one per second. Reference, same run, same core: the same graph with every task
# sampled one by one (1,000,000 tasks, no budget), i.e. what simulating each request would cost; its rate
# extrapolates to the hour.
# Prints a markdown table; raw output in build/bench/sim/.
# Usage: bench/sim/run.sh   env: TOLLWAY_BIN, REPS (3), CORE (1), REFERENCE_TASKS (1000000)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/build/bench/sim"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
REPS="${REPS:-3}"
CORE="${CORE:-1}"
REFERENCE_TASKS="${REFERENCE_TASKS:-1000000}"
SCENARIO="$ROOT/examples/sim/fleet-10000.yaml"
for tool in taskset node /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.time

# The reference scenario: the fleet's graph and load, every task sampled one by one, no leased budget.
sed -e "s/latency_samples: [0-9]*/latency_samples: $REFERENCE_TASKS/" -e '/^budget:/,$d' "$SCENARIO" \
  > "$OUT/reference.yaml"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"
for rep in $(seq 1 "$REPS"); do
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/fleet-$rep.time" taskset -c "$CORE" "$TOLLWAY_BIN" sim "$SCENARIO" --json \
    > "$OUT/fleet-$rep.json"
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/reference-$rep.time" taskset -c "$CORE" "$TOLLWAY_BIN" sim \
    "$OUT/reference.yaml" --json > "$OUT/reference-$rep.json"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
node "$ROOT/bench/sim/report.mjs" "$OUT" "$REPS"
