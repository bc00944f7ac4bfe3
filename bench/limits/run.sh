#!/usr/bin/env bash
# Runs bench/limits pinned to one core, 5 repetitions, and prints medians (docs/benchmarks.md, Limits).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/release/bench/limits/limits_bench
[ -x "$bin" ] || cmake --build --preset release --target limits_bench
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
taskset -c "${CPU:-1}" "$bin" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.5 "$@"
